"""The large-demo diagnosis on Spark ``local[2]`` with a small driver, against DuckDB's (issue 20).

Two modes, each run in its own process so Spark's driver settings are the command's own:

* ``overlap WORKSPACE FINDINGS.json`` — only the step that ran out of a 1 GB driver's memory:
  the findings of a diagnosis already made (DuckDB's ``eigyo diagnose --format json``) are
  rebuilt and :func:`eigyo.diagnose.overlap.pairs` runs on the workspace's engine (its
  ``eigyo.toml``, or ``--engine``). Prints its seconds and whether its pairs are exactly the
  ``overlaps`` of the JSON. Minutes, not the 25 of a whole diagnosis: the loop to iterate on.
* ``compare A.json B.json`` — two ``eigyo diagnose --format json`` outputs: the same findings
  in the same order (up to ties), the same severity, scope and overlaps, evidence numbers and
  impact within relative 1e-9 (what ``tests/test_engines_diagnose.py`` requires on the small
  demo). Prints the differences, one a line, and exits 1 when there are any.

The driver's memory is Spark's usual setting, e.g.
``PYSPARK_SUBMIT_ARGS="--driver-memory 1g pyspark-shell"``. Results: bench/RESULTS.md, section
"Spark large".
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

from eigyo.base.periods import parse_period
from eigyo.diagnose import overlap
from eigyo.diagnose.context import Context
from eigyo.diagnose.model import Finding
from eigyo.workspace import open_workspace

REL = 1e-9


def _finding(d: dict[str, Any]) -> Finding:
    """A finding of the JSON contract back as a :class:`Finding` (what a population needs: its
    check, severity, scope, evidence and impact; texts are not needed)."""
    return Finding(
        step=d["step"],
        check=d["check"],
        severity=d["severity"],
        metric=d["metric"],
        scope=d["scope"],
        evidence=d["evidence"],
        cause={},
        actions=[],
        impact_jpy=d["impact_jpy"],
    )


def run_overlap(workspace: Path, findings: Path, period: str, engine: str | None) -> int:
    """Time :func:`overlap.pairs` on ``findings``' alarms; 0 when its pairs equal the JSON's."""
    doc = json.loads(findings.read_text("utf-8"))
    rows = doc["findings"]
    weighed = overlap._weighed([_finding(d) for d in rows])
    by_id = {d["id"]: d for d in rows}
    expected = {
        (i, j)
        for i, a in enumerate(weighed)
        for j, b in enumerate(weighed)
        if i < j and a.id != b.id and b.id in by_id[a.id]["overlaps"]
    }
    with open_workspace(workspace, read_only=True, engine=engine) as ws:
        ctx = Context(ws, parse_period(period, ws.settings.fiscal_year_start_month))
        started = time.perf_counter()
        got = overlap.pairs(weighed, ctx)
        took = time.perf_counter() - started
    got = {(i, j) for i, j in got if weighed[i].id != weighed[j].id}
    same = got == expected
    print(
        f"overlap.pairs: {len(weighed)} alarms with an impact, {len(got)} pairs in {took:.1f} s; "
        f"{'the same pairs as' if same else 'NOT the same pairs as'} {findings.name} "
        f"({len(expected)}; missing {len(expected - got)}, extra {len(got - expected)})"
    )
    return 0 if same else 1


def _diff(path: str, a: Any, b: Any, out: list[str]) -> None:
    """Differences between two JSON values; numbers within relative :data:`REL` are equal."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                out.append(f"{path}.{k}: only in {'B' if k not in a else 'A'}")
            else:
                _diff(f"{path}.{k}", a[k], b[k], out)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append(f"{path}: {len(a)} items vs {len(b)}")
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            _diff(f"{path}[{i}]", x, y, out)
    elif isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        if not math.isclose(a, b, rel_tol=REL, abs_tol=1e-12) and not (
            isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)
        ):
            out.append(f"{path}: {a!r} vs {b!r}")
    elif a != b:
        out.append(f"{path}: {a!r} vs {b!r}")


def _rank(f: dict[str, Any]) -> tuple[int, float, str]:
    """What orders findings (:meth:`Finding.sort_key`): findings equal in it are ties, whose
    order follows the engine's group order and may differ from run to run on one engine."""
    tier = 0 if f["severity"] in ("warn", "error") else (1 if f["severity"] == "info" else 2)
    return tier, -(f["impact_jpy"] or 0), f["severity"]


def run_compare(a_path: Path, b_path: Path) -> int:
    """Print every difference between two diagnoses' JSON; 0 when there is none. The order of
    tied findings and of the ids in ``overlaps`` and ``at_stake`` lists is not compared (it
    follows the engine's group order: two DuckDB runs of one tree differ in it)."""
    a = json.loads(a_path.read_text("utf-8"))
    b = json.loads(b_path.read_text("utf-8"))
    fa, fb = a["findings"], b["findings"]
    ids_a, ids_b = [f["id"] for f in fa], [f["id"] for f in fb]
    out: list[str] = []
    if set(ids_a) != set(ids_b):
        out += [f"only in A: {i}" for i in sorted(set(ids_a) - set(ids_b))]
        out += [f"only in B: {i}" for i in sorted(set(ids_b) - set(ids_a))]
    ranks = [(_rank(x), _rank(y)) for x, y in zip(fa, fb, strict=False)]
    if any(
        x[0] != y[0] or x[2] != y[2] or not math.isclose(x[1], y[1], rel_tol=REL) for x, y in ranks
    ):
        out.append("the findings in another order (beyond ties)")
    by_b = {f["id"]: f for f in fb}
    for f in fa:
        if f["id"] in by_b:
            g = by_b[f["id"]]
            _diff(
                f["id"],
                {**f, "overlaps": sorted(f["overlaps"])},
                {**g, "overlaps": sorted(g["overlaps"])},
                out,
            )
    sa, sb = a.get("at_stake") or {}, b.get("at_stake") or {}
    _diff(
        "at_stake",
        {k: sorted(v) if isinstance(v, list) else v for k, v in sa.items()},
        {k: sorted(v) if isinstance(v, list) else v for k, v in sb.items()},
        out,
    )
    for line in out:
        print(line)
    pairs = sum(len(f["overlaps"]) for f in fa) // 2
    print(
        f"{a_path.name}: {len(fa)} findings ({pairs} overlapping pairs), {b_path.name}: "
        f"{len(fb)}; {len(out)} difference(s)"
    )
    return 1 if out else 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="mode", required=True)
    o = sub.add_parser("overlap", help="time overlap.pairs on a diagnosis's findings")
    o.add_argument("workspace", type=Path)
    o.add_argument("findings", type=Path)
    o.add_argument("--period", default="FY2025")
    o.add_argument("--engine", default=None)
    c = sub.add_parser("compare", help="differences between two diagnoses' JSON")
    c.add_argument("a", type=Path)
    c.add_argument("b", type=Path)
    args = ap.parse_args()
    if args.mode == "overlap":
        sys.exit(run_overlap(args.workspace, args.findings, args.period, args.engine))
    sys.exit(run_compare(args.a, args.b))


if __name__ == "__main__":
    main()
