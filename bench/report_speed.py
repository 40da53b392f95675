"""Report files and ``eigyo simulate --compare`` on the small demo, before and after (issue 20).

Targets: the HTML report in at most 3 s *after the diagnosis*, ``simulate --compare`` in at most
15 s. Each measurement is a fresh process (``wait4``: wall seconds, CPU seconds, peak RSS), so
start-up and imports are counted where a user pays them:

* ``diagnose`` — ``eigyo diagnose --period FY2025 --format json``;
* ``report html|pdf|xlsx|pptx`` — ``eigyo report --period FY2025 --format F`` (metrics, diagnosis
  and the file: what the command does);
* ``simulate --compare`` — ``eigyo simulate --compare --format json`` (10 replications, seed 0);
  its JSON of each source tree is kept and compared (the largest relative difference of any
  number), so a speed-up that changed the results would show;
* ``stage F`` — the report stage alone: one process computes the KPI tiles and the diagnosis,
  then times what ``eigyo report`` does after them (``report_input`` → ``report_model`` →
  ``write_format``) for F. This is "after the diagnosis": the report's own work given the
  diagnosis already computed, imports of the report's libraries included (first format in the
  process), the diagnosis not.

Every command runs for each source tree given (``--src``: e.g. ``src`` and a ``git archive`` of
the commit before, run through ``PYTHONPATH``), rounds alternating the trees so that load from
other work on the machine falls on both alike. Prints a Markdown table (medians of the rounds;
CPU seconds are less sensitive to load than wall seconds) and one JSON line.

Run: ``.venv/bin/python bench/report_speed.py --src /tmp/eigyo-before/src --src src
[--rounds 3] [--only html,simulate]``. The small demo workspace is generated fresh (seed 0)
with the first tree's eigyo, in a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STAGE = """
import json, sys, time
from pathlib import Path
from eigyo.base.periods import parse_period
from eigyo.diagnose import diagnose
from eigyo.report import report_model, write_format
from eigyo.runbook import kpi_tiles, report_input
from eigyo.workspace import open_workspace

ws = open_workspace(Path(sys.argv[1]), read_only=True)
p, fmt = parse_period("FY2025"), sys.argv[2]
tiles = kpi_tiles(ws, p)
findings = diagnose(ws, p)
t0, c0 = time.perf_counter(), time.process_time()
model = report_model(ws, report_input(ws, p, findings, tiles), "ja", formats=(fmt,))
t1 = time.perf_counter()
write_format(fmt, model, Path(sys.argv[3]))
t2, c2 = time.perf_counter(), time.process_time()
print(json.dumps({"stage": t2 - t0, "model": t1 - t0, "write": t2 - t1, "cpu": c2 - c0}))
"""


def _run(
    cmd: list[str], env: dict[str, str], out: Path | None = None, *, stage: bool = False
) -> dict[str, float]:
    """Wall and CPU seconds and peak RSS (MiB) of one command in its own process; its standard
    output goes to ``out`` (or nowhere), its JSON last line (the stage) is merged in."""
    with tempfile.TemporaryFile() as err, tempfile.TemporaryFile() as so:
        t0 = time.perf_counter()
        pid = subprocess.Popen(cmd, env=env, stdout=so, stderr=err)
        _, status, usage = os.wait4(pid.pid, 0)
        wall = time.perf_counter() - t0
        if status != 0:
            err.seek(0)
            tail = err.read().decode(errors="replace")[-2000:]
            raise SystemExit(f"{' '.join(cmd)} failed: {tail}")
        so.seek(0)
        text = so.read()
    if out is not None:
        out.write_bytes(text)
    res = {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss": usage.ru_maxrss / 1024}
    if stage:  # the stage script reports its own timings
        res |= {f"stage_{k}": v for k, v in json.loads(text.decode().splitlines()[-1]).items()}
    return res


def _commands(ws: Path, tmp: Path, tag: str) -> dict[str, tuple[list[str], Path | None]]:
    """Each measured command (argv after the interpreter) and where its output is kept."""
    eig = ["-c", "import sys; from eigyo.cli import main; sys.argv[0] = 'eigyo'; sys.exit(main())"]
    p = ["--period", "FY2025", "--workspace", str(ws)]
    cmds: dict[str, tuple[list[str], Path | None]] = {
        "diagnose": ([*eig, "diagnose", *p, "--format", "json"], None),
    }
    for f in ("html", "pdf", "xlsx", "pptx"):
        cmds[f] = ([*eig, "report", *p, "--format", f, "--out", str(tmp / f"{tag}.{f}")], None)
    cmds["simulate"] = (
        [*eig, "simulate", "--compare", "--workspace", str(ws), "--format", "json"],
        tmp / f"{tag}.simulate.json",
    )
    for f in ("html", "pdf", "xlsx", "pptx"):
        cmds[f"stage_{f}"] = (["-c", STAGE, str(ws), f, str(tmp / f"{tag}.stage.{f}")], None)
    return cmds


def _workspace(root: Path, src: str) -> Path:
    """The small demo (seed 0) generated and imported by the eigyo of ``src``."""
    code = (
        "import sys; from pathlib import Path; from eigyo import workspace;"
        "from eigyo.demo import generate; from eigyo.ingest import import_path;"
        "r = Path(sys.argv[1]); g = generate(r / 'csv', scale='small', seed=0);"
        "ws = workspace.init(r / 'ws', name=g.company); import_path(ws, g.out_dir); ws.close()"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(src).resolve())}
    subprocess.run([sys.executable, "-c", code, str(root)], env=env, check=True)
    return root / "ws"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", action="append", default=[], help="an eigyo source tree (repeat)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", default="", help="comma-separated names (default: all)")
    a = ap.parse_args()
    srcs = a.src or ["src"]
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        ws = _workspace(tmp / "demo", srcs[0])
        only = [x for x in a.only.split(",") if x]
        runs: dict[tuple[str, str], list[dict[str, float]]] = {}
        for r in range(a.rounds):
            order = srcs if r % 2 == 0 else srcs[::-1]  # alternate: load falls on both alike
            for name in _commands(ws, tmp, "x"):
                if only and name not in only:
                    continue
                for src in order:
                    env = {**os.environ, "PYTHONPATH": str(Path(src).resolve())}
                    tag = f"s{srcs.index(src)}"
                    cmd, out = _commands(ws, tmp, tag)[name]
                    runs.setdefault((name, src), []).append(
                        _run([sys.executable, *cmd], env, out, stage=name.startswith("stage"))
                    )
                    print(f"round {r + 1} {name} {src}: {runs[name, src][-1]}", file=sys.stderr)
        same = None
        sims = [tmp / f"s{k}.simulate.json" for k in range(len(srcs))]
        if all(s.exists() for s in sims) and len(sims) > 1:
            docs = [json.loads(s.read_text()) for s in sims]
            same = max(_gap(docs[0], d) for d in docs[1:])
    _print(runs, srcs, same, a.rounds)


def _gap(a: object, b: object) -> float:
    """The largest relative difference between two JSON documents' numbers (inf where their
    shapes or texts differ). Not 0 between two runs of one tree either: the calibration's
    engine sums of floats come out in the last bits in the order threads finish."""
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return float("inf")
        return max((_gap(a[k], b[k]) for k in a), default=0.0)
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return float("inf")
        return max((_gap(x, y) for x, y in zip(a, b, strict=True)), default=0.0)
    if isinstance(a, int | float) and isinstance(b, int | float):
        return abs(a - b) / max(abs(a), abs(b)) if a != b else 0.0
    return 0.0 if a == b else float("inf")


def _print(
    runs: dict[tuple[str, str], list[dict[str, float]]],
    srcs: list[str],
    same: float | None,
    n: int,
) -> None:
    """The Markdown table (medians; peak RSS is the maximum) and the JSON line."""
    load = os.getloadavg()
    print(f"rounds: {n}; load average at the end: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    print("| command | " + " | ".join(f"{s}: wall s / CPU s / peak MiB" for s in srcs) + " |")
    print("|---" * (len(srcs) + 1) + "|")
    table: dict[str, dict[str, dict[str, float]]] = {}
    for name in dict.fromkeys(k for k, _ in runs):
        cells = []
        for src in srcs:
            rs = runs.get((name, src), [])
            if not rs:
                cells.append("-")
                continue
            med = {k: statistics.median(r[k] for r in rs) for k in rs[0]}
            med["rss"] = max(r["rss"] for r in rs)
            table.setdefault(name, {})[src] = med
            cell = f"{med['wall']:.1f} / {med['cpu']:.1f} / {med['rss']:.0f}"
            if "stage_stage" in med:
                cell += f" (stage {med['stage_stage']:.2f} s, CPU {med['stage_cpu']:.2f} s)"
            cells.append(cell)
        print(f"| {name} | " + " | ".join(cells) + " |")
    if same is not None:
        print(f"simulate --compare JSON, largest relative difference across trees: {same:.1e}")
    print(json.dumps({"load": load, "same_simulation": same, "medians": table}))


if __name__ == "__main__":
    main()
