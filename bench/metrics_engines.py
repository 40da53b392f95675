"""Benchmark: every contract metric for FY2025 grouped by team on the large demo. It compares
eigyo (Ibis on DuckDB) with (a) one hand-written DuckDB SQL and (b) a straightforward pandas
implementation of the same definitions (``bench/_metrics_peers.py``).

Run: ``.venv/bin/python bench/metrics_engines.py [--workspace W] [--scale large] [--repeat 3]``.
Without ``--workspace`` it generates the demo at that scale and imports it into a temporary
workspace. Each contender runs in a child process of its own, so the peak RSS reported is its
own. The script first checks that the three implementations agree (relative 1e-9) and fails
otherwise. It then writes ``bench/RESULTS-metrics.md``; ``bench/RESULTS.md`` links there.

Targets (issue 4): eigyo within 2× of the hand-written SQL, and at least 5× faster than pandas.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
PERIOD = "FY2025"
OUT = HERE / "RESULTS-metrics.md"


def _peak_mb() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def _child(kind: str, ws_path: Path, repeat: int) -> None:
    """Run one contender ``repeat`` times; print its values, best seconds and peak RSS."""
    sys.path.insert(0, str(HERE))
    from _metrics_peers import METRICS, SQL, pandas_metrics, sql_params

    from eigyo.base.periods import business_days, parse_period
    from eigyo.metrics import compute
    from eigyo.workspace import open_workspace

    ws = open_workspace(ws_path, read_only=True)
    p = parse_period(PERIOD, ws.settings.fiscal_year_start_month)
    days, sla = business_days(p.start, p.end), ws.settings.lead_sla_minutes
    load = 0.0
    if kind == "pandas":
        t0 = time.perf_counter()
        frames = _load_frames(ws)
        load = time.perf_counter() - t0
    best, rows = math.inf, []
    for _ in range(repeat):
        t0 = time.perf_counter()
        if kind == "eigyo":
            vals = compute(ws, p, list(METRICS), by="team")
            rows = [(v.id, v.by["team"], v.value) for v in vals]
        elif kind == "sql":
            rows = ws.raw.execute(SQL, sql_params(p, days, sla)).fetchall()
        else:
            rows = pandas_metrics(frames, p, days, sla)
        best = min(best, time.perf_counter() - t0)
    ws.close()
    doc = {"kind": kind, "seconds": best, "load_seconds": load, "peak_rss_mb": _peak_mb()}
    print(json.dumps({**doc, "values": [[i, g, _clean(v)] for i, g, v in rows]}))


def _clean(v: Any) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


def _load_frames(ws: Any) -> dict[str, Any]:
    """The tables pandas needs, as DataFrames (dates as timestamps, like pandas users keep them)."""
    import pandas as pd

    frames = {}
    for t in ("reps", "quotas", "opportunities", "opportunity_changes", "leads", "activities",
              "time_entries"):  # fmt: skip
        df = ws.raw.sql(f'SELECT * EXCLUDE (extra) FROM "{t}"').df()
        for col in df.columns:
            if col in ("date", "period_start", "period_end", "expected_close_date"):
                df[col] = pd.to_datetime(df[col])
        frames[t] = df
    return frames


def _run(kind: str, ws_path: Path, repeat: int) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", kind, "--workspace", str(ws_path),
           "--repeat", str(repeat)]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    doc: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return doc


def _compare(base: dict[str, Any], other: dict[str, Any]) -> list[str]:
    """Differences between two contenders' values (missing groups and values off by > 1e-9)."""
    a = {(i, g): v for i, g, v in base["values"]}
    b = {(i, g): v for i, g, v in other["values"]}
    wrong = [f"{k}: only in {base['kind']}" for k in a.keys() - b.keys()]
    wrong += [f"{k}: only in {other['kind']}" for k in b.keys() - a.keys()]
    for k in a.keys() & b.keys():
        x, y = a[k], b[k]
        if (x is None) != (y is None) or (x is not None and not math.isclose(x, y, rel_tol=1e-9)):
            wrong.append(f"{k}: {base['kind']} {x!r}, {other['kind']} {y!r}")
    return wrong


def _prepare(scale: str, tmp: Path) -> tuple[Path, dict[str, int]]:
    from eigyo import workspace
    from eigyo.demo import generate
    from eigyo.ingest import import_path

    gen = generate(tmp / "data", scale=scale, seed=0)
    ws = workspace.init(tmp / "ws")
    import_path(ws, gen.out_dir)
    ws.close()
    return tmp / "ws", dict(gen.counts)


def _counts(ws_path: Path) -> dict[str, int]:
    from eigyo.workspace import open_workspace

    ws = open_workspace(ws_path, read_only=True)
    try:
        return {t: ws.count(t) for t in ("opportunities", "leads", "activities", "time_entries")}
    finally:
        ws.close()


def _report(results: dict[str, dict[str, Any]], counts: dict[str, int], argv: list[str]) -> str:
    e, s, p = results["eigyo"], results["sql"], results["pandas"]
    n_metrics = len({i for i, _, _ in e["values"]})
    sizes = ", ".join(f"{v:,} {k}" for k, v in counts.items())
    lines = [
        "# Benchmark: contract metrics by team (eigyo vs hand-written SQL vs pandas)",
        "",
        f"Produced by `.venv/bin/python bench/metrics_engines.py {' '.join(argv)}` on "
        f"{datetime.now():%Y-%m-%d %H:%M}, {platform.machine()}, Python "
        f"{platform.python_version()}. The run covers the {n_metrics} contract metrics that "
        "can be grouped by team (nrr and repeat_customer_rate are per account), for "
        f"{PERIOD} by team, on {sizes}. "
        "Seconds are the best of the repeats, and memory is each contender's own peak RSS "
        "(a separate process). All three agree on every value (relative 1e-9).",
        "",
        "| contender | seconds | peak RSS (MB) | ratio to eigyo |",
        "|---|---:|---:|---:|",
        f"| eigyo (Ibis → DuckDB, the metrics in one UNION ALL query) | {e['seconds']:.2f} | "
        f"{e['peak_rss_mb']} | 1.0 |",
        f"| (a) one hand-written DuckDB SQL | {s['seconds']:.2f} | {s['peak_rss_mb']} | "
        f"{s['seconds'] / e['seconds']:.2f} |",
        f"| (b) pandas (load {p['load_seconds']:.1f} s not included) | {p['seconds']:.2f} | "
        f"{p['peak_rss_mb']} | {p['seconds'] / e['seconds']:.1f} |",
        "",
        f"Targets: eigyo within 2× of (a): **{e['seconds'] / s['seconds']:.2f}×** "
        f"({'met' if e['seconds'] <= 2 * s['seconds'] else 'NOT met'}); at least 5× faster "
        f"than (b): **{p['seconds'] / e['seconds']:.1f}×** "
        f"({'met' if p['seconds'] >= 5 * e['seconds'] else 'NOT met'}).",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--child")
    ap.add_argument("--workspace", type=Path)
    ap.add_argument("--scale", default="large")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    if args.child:
        _child(args.child, args.workspace, args.repeat)
        return
    with tempfile.TemporaryDirectory() as tmp:
        ws_path = args.workspace or _prepare(args.scale, Path(tmp))[0]
        counts = _counts(ws_path)
        results = {k: _run(k, ws_path, args.repeat) for k in ("eigyo", "sql", "pandas")}
    wrong = [w for k in ("sql", "pandas") for w in _compare(results["eigyo"], results[k])]
    if wrong:
        sys.exit("contenders disagree:\n" + "\n".join(sorted(wrong)[:40]))
    OUT.write_text(_report(results, counts, argv), encoding="utf-8")
    print(OUT.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main(sys.argv[1:])
