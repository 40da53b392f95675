"""Benchmark (issue 5): eigyo's process map against PM4Py's directly-follows graph, same run.

Two logs: the real BPI Challenge 2012 log (``../shared/data``, XES in a zip) and a synthetic
sales event log of 5M events (``bench/_synthetic_log.py``, written as an event-log CSV). For each:

- eigyo (this venv): ``eigyo import LOG --preset xes`` into a temporary workspace (timed on its
  own), then, in a fresh process, the DFG part of the process map —
  ``directly_follows(ws)``: transitions with counts and median days — and the
  whole ``process_map(ws)`` (also stages, p90 and top variants).
- PM4Py (``bench/.venv-pm4py``, a separate venv: PM4Py is AGPL, a benchmark peer only, never a
  dependency of eigyo): ``bench/_pm4py_dfg.py`` reads the same log (``pm4py.read_xes`` on the
  unzipped XES; pandas + ``pm4py.format_dataframe`` for the CSV), then times
  ``pm4py.discover_dfg`` (frequencies) and ``pm4py.discover_performance_dfg`` (median durations),
  Reading the log is timed separately and not counted.

Every contender runs in a process of its own, so each peak RSS is its own. The log is imported
into eigyo once; then ``--repeat`` rounds, each a fresh eigyo process (a first warm-up call, shown
apart, then the timed calls) followed by a fresh PM4Py process, so both see the same noisy machine;
seconds are medians over the rounds. The script then checks that both DFGs hold the same
transitions with the same counts (exactly) and the same median durations (within 1e-6 days), and
prints a markdown section; it exits non-zero when they differ.

Definitions: a transition is two consecutive events of one case, self-loops included, in both
tools; every lifecycle transition counts as an event (eigyo with ``[event_log] lifecycle = []``).
Ties in time are ordered differently: PM4Py sorts each case's events by timestamp with a
stable sort (file order decides ties); eigyo orders ties by configured stage order, then stage
name (deterministic whatever the row order of the export). BPI 2012 has ties, so its PM4Py DFG is
also computed (untimed) with ties ordered by activity name, which must equal eigyo's exactly; the
synthetic log is tie-free by construction and must be identical as PM4Py computes it.

Whole process (issue 20), ``--whole``: the synthetic log only; ``eigyo process``, a hand-written
DuckDB query and PM4Py each timed as a fresh OS process, start-up to exit
(``bench/_process_whole.py``). With ``--keep DIR``, a log, workspace and pickle already there are
reused (generating and importing 5M events takes minutes on a busy machine).

Run: ``.venv/bin/python bench/process_map.py [--events 5000000] [--repeat 3] [--keep DIR]``
or ``.venv/bin/python bench/process_map.py --whole [--repeat 3] [--keep DIR]``.
Needs ``python3 -m venv bench/.venv-pm4py && bench/.venv-pm4py/bin/pip install pm4py`` once.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BPI = ROOT.parent / "shared/data/bpi-challenge-2012/BPI_Challenge_2012.xes.zip"
PM4PY_PY = HERE / ".venv-pm4py/bin/python"
TOL_DAYS = 1e-6


def _peak_mb() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


# --- children (eigyo side), each in its own process -------------------------------------------


def _child_import(ws_path: Path, log: Path) -> dict[str, Any]:
    from eigyo import workspace
    from eigyo.ingest import import_path

    workspace.init(ws_path).close()
    # every lifecycle transition is an event here, as PM4Py reads the log (eigyo's default
    # keeps only complete events as stage entries)
    cfg = ws_path / "eigyo.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8") + "\n[event_log]\nlifecycle = []\n")
    ws = workspace.open_workspace(ws_path)
    t0 = time.perf_counter()
    rep = import_path(ws, log, preset="xes")
    secs = time.perf_counter() - t0
    ws.close()
    files = {
        f.table: {"rows": f.rows, "loaded": f.loaded, "rejected": f.rejected} for f in rep.files
    }
    return {"import_s": secs, "files": files, "peak_rss_mb": _peak_mb()}


def _child_map(ws_path: Path, repeat: int) -> dict[str, Any]:
    from eigyo.analysis.process.process_map import directly_follows, process_map
    from eigyo.workspace import open_workspace

    ws = open_workspace(ws_path, read_only=True)
    t0 = time.perf_counter()
    edges = directly_follows(ws)  # first call: Ibis/DuckDB warm-up included
    first_s = time.perf_counter() - t0
    dfg_s, full_s = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        edges = directly_follows(ws)
        dfg_s.append(time.perf_counter() - t0)
    for _ in range(repeat):
        t0 = time.perf_counter()
        pm = process_map(ws)
        full_s.append(time.perf_counter() - t0)
    ws.close()
    assert pm.transitions == edges, "process_map and directly_follows disagree"
    return {
        "first_s": first_s,
        "dfg_s": dfg_s,
        "full_s": full_s,
        "peak_rss_mb": _peak_mb(),
        "events": sum(s.entered for s in pm.stages),
        "cases": pm.opportunities,
        "edges": sorted([t.source, t.target, t.count, t.median_days] for t in edges),
    }


def _spawn(args: list[str]) -> dict[str, Any]:
    proc = subprocess.run(args, capture_output=True, text=True)
    if proc.returncode:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"failed: {' '.join(args)}")
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def _eigyo(*args: str) -> dict[str, Any]:
    return _spawn([sys.executable, str(Path(__file__).resolve()), "--child", *args])


def _pm4py(*args: str, repeat: int) -> dict[str, Any]:
    return _spawn([str(PM4PY_PY), str(HERE / "_pm4py_dfg.py"), *args, "--repeat", str(repeat)])


# --- comparison ---------------------------------------------------------------------------------


def compare(eigyo: list[list[Any]], peer: list[list[Any]]) -> dict[str, Any]:
    """Transitions and counts must be equal; medians (eigyo days, PM4Py seconds) within 1e-6 d."""
    e = {(a, b): (n, d) for a, b, n, d in eigyo}
    p = {(a, b): (n, s / 86_400) for a, b, n, s in peer}
    only_e, only_p = sorted(e.keys() - p.keys()), sorted(p.keys() - e.keys())
    counts = sorted(k for k in e.keys() & p.keys() if e[k][0] != p[k][0])
    worst = max((abs(e[k][1] - p[k][1]) for k in e.keys() & p.keys()), default=0.0)
    medians = sorted(k for k in e.keys() & p.keys() if not abs(e[k][1] - p[k][1]) <= TOL_DAYS)
    return {
        "transitions": len(e),
        "peer_transitions": len(p),
        "only_eigyo": len(only_e),
        "only_pm4py": len(only_p),
        "count_diffs": len(counts),
        "median_diffs": len(medians),
        "max_median_diff_days": worst,
        "identical": not (only_e or only_p or counts or medians),
        "examples": [list(k) for k in (only_e + only_p + counts + medians)[:3]],
    }


# --- one log ------------------------------------------------------------------------------------


def bench_log(name: str, ws: Path, log: Path, pm_args: list[str], rounds: int) -> dict[str, Any]:
    """Import once; then ``rounds`` rounds, each a fresh eigyo process and a fresh PM4Py process,
    one after the other, so that both see the same (noisy) machine; medians over the rounds."""
    print(f"[{name}] eigyo import", file=sys.stderr)
    imp = _eigyo("import", str(ws), str(log))
    ems, pms = [], []
    for i in range(rounds):
        print(f"[{name}] round {i + 1}/{rounds}: eigyo process map, PM4Py DFG", file=sys.stderr)
        ems.append(_eigyo("map", str(ws), "1"))
        pms.append(_pm4py(*pm_args, repeat=1))
    em, pm = ems[-1], pms[-1]
    for key in ("first_s", "dfg_s", "full_s"):
        em[key] = [x for e in ems for x in (e[key] if isinstance(e[key], list) else [e[key]])]
    for key in ("parse_s", "format_s", "dfg_s", "perf_s"):
        pm[key] = [x for p in pms for x in (p[key] if isinstance(p[key], list) else [p[key]])]
    em["peak_rss_mb"] = max(e["peak_rss_mb"] for e in ems)
    pm["peak_rss_mb"] = max(p["peak_rss_mb"] for p in pms)
    pm["rss_after_load_mb"] = max(p["rss_after_load_mb"] for p in pms)
    assert all(e["edges"] == em["edges"] for e in ems) and all(
        p["edges"] == pm["edges"] for p in pms
    )
    pm_dfg = [a + b for a, b in zip(pm["dfg_s"], pm["perf_s"], strict=True)]
    med = statistics.median
    out = {
        "name": name,
        "import": imp,
        "eigyo": em,
        "pm4py": pm,
        "eigyo_first_s": med(em["first_s"]),
        "eigyo_dfg_s": med(em["dfg_s"]),
        "eigyo_full_s": med(em["full_s"]),
        "pm4py_dfg_s": med(pm_dfg),
        "pm4py_freq_s": med(pm["dfg_s"]),
        "pm4py_perf_s": med(pm["perf_s"]),
        "pm4py_parse_s": med(pm["parse_s"]),
        "pm4py_format_s": med(pm["format_s"]),
        "ratios": sorted(p / e for p, e in zip(pm_dfg, em["dfg_s"], strict=True)),
        "check": compare(em["edges"], pm["edges"]),
    }
    if "name_tied" in pm:
        out["check_name_tied"] = compare(em["edges"], pm["name_tied"])
    return out


# --- report -------------------------------------------------------------------------------------


def _f(x: float) -> str:
    return f"{x:.2f}" if x >= 0.1 else f"{x:.3f}"


def _verdict(c: dict[str, Any]) -> str:
    if c["identical"]:
        return (
            f"**yes** — {c['transitions']} transitions, counts equal, medians within "
            f"{c['max_median_diff_days']:.1e} d"
        )
    return (
        f"**no** — eigyo {c['transitions']} / PM4Py {c['peer_transitions']} transitions; "
        f"{c['only_eigyo']} only in eigyo, {c['only_pm4py']} only in PM4Py, "
        f"{c['count_diffs']} counts and {c['median_diffs']} medians differ"
    )


def report(runs: list[dict[str, Any]], argv: list[str], repeat: int, gen: dict[str, Any]) -> str:
    pm_ver = runs[0]["pm4py"]["pm4py"] if runs else "?"
    lines = [
        "## Process map vs PM4Py's directly-follows graph (issue 5)",
        "",
        f"`.venv/bin/python bench/process_map.py {' '.join(argv)}`".replace(" `", "`"),
        f"— PM4Py {pm_ver} (pandas {runs[0]['pm4py']['pandas'] if runs else '?'}) in its own "
        f"venv `bench/.venv-pm4py`, eigyo in `.venv`; {platform.machine()}, Python "
        f"{platform.python_version()}, {os.cpu_count()} cores shared with other work (noisy). "
        f"{repeat} rounds, each a fresh eigyo process then a fresh PM4Py process on the same log; "
        "seconds are medians over the rounds (eigyo: after a first, warm-up call, shown apart), "
        "peak RSS the largest of the rounds. The DFG = transitions with "
        "counts and median durations: eigyo `directly_follows(ws)`; PM4Py "
        '`discover_dfg` + `discover_performance_dfg(perf_aggregation_key="median")`. '
        "Reading/importing the log is timed apart and not in the ratio.",
        "",
        "| log | events | cases | eigyo DFG s (first call) | eigyo whole `process_map` s "
        "| PM4Py DFG s (freq + perf) | PM4Py ÷ eigyo DFG (per round) | PM4Py ÷ eigyo whole map "
        "| peak RSS eigyo / PM4Py MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        e, p = r["eigyo"], r["pm4py"]
        lines.append(
            f"| {r['name']} | {e['events']:,} | {e['cases']:,} | {_f(r['eigyo_dfg_s'])} "
            f"({_f(r['eigyo_first_s'])}) | {_f(r['eigyo_full_s'])} | {_f(r['pm4py_dfg_s'])} "
            f"({_f(r['pm4py_freq_s'])} + {_f(r['pm4py_perf_s'])}) | "
            f"**{r['pm4py_dfg_s'] / r['eigyo_dfg_s']:.1f}×** "
            f"({', '.join(f'{x:.1f}' for x in r['ratios'])}) | "
            f"{r['pm4py_dfg_s'] / r['eigyo_full_s']:.1f}× | {e['peak_rss_mb']:,} / "
            f"{p['peak_rss_mb']:,} |"
        )
    lines += [
        "",
        "Reading the log (not in the ratio; eigyo imports once, PM4Py reads once per round):",
        "",
        "| log | eigyo `import --preset xes` s (peak RSS MB) "
        "| PM4Py read s (+ `format_dataframe` s) (RSS after read MB) |",
        "|---|---:|---:|",
    ]
    for r in runs:
        i, p = r["import"], r["pm4py"]
        fmt = f" + {_f(r['pm4py_format_s'])}" if r["pm4py_format_s"] else ""
        lines.append(
            f"| {r['name']} | {_f(i['import_s'])} ({i['peak_rss_mb']:,}) | "
            f"{_f(r['pm4py_parse_s'])}{fmt} ({p['rss_after_load_mb']:,}) |"
        )
    if gen:
        lines += [
            "",
            f"Synthetic log: {gen['events']:,} events generated in {_f(gen['generate_s'])} s "
            f"(seed {gen['seed']}), CSV {gen['csv_mb']:,} MB; polars reference DFG "
            f"agrees with eigyo: {'yes' if gen['reference']['identical'] else 'NO'}.",
        ]
    lines += ["", "Identity check (transitions and counts exact, median days within 1e-6):", ""]
    for r in runs:
        p = r["pm4py"]
        lines.append(f"- {r['name']}, PM4Py as it computes it: {_verdict(r['check'])}.")
        if "check_name_tied" in r:
            lines.append(
                f"  The log has {p['tie_pairs']:,} pairs of consecutive events with the same "
                f"timestamp in {p['tie_cases']:,} cases: PM4Py keeps file order on ties, eigyo "
                "orders them by stage order, then name. With PM4Py's ties ordered by activity "
                f"name (same data, untimed): {_verdict(r['check_name_tied'])}."
            )
        else:
            lines.append("  The log has no ties in time within a case.")
    return "\n".join(lines)


def whole(
    keep: Path | None,
    events: int,
    seed: int,
    rounds: int,
    argv: list[str],
    before: Path | None = None,
) -> None:
    """``--whole``: prepare (or reuse) the synthetic log, its workspace and PM4Py's pickle, then
    time the three contenders as whole processes and print a markdown section."""
    from _process_whole import bench, report
    from _synthetic_log import write_csv

    with tempfile.TemporaryDirectory(prefix="eigyo-pmwhole-") as tmp:
        base = keep or Path(tmp)
        base.mkdir(parents=True, exist_ok=True)
        csv, ws, pkl = base / "synthetic.csv", base / "ws-synthetic", base / "synthetic.pkl"
        if not csv.exists():
            print(f"[whole] generating {events:,} events", file=sys.stderr)
            write_csv(csv, events, seed)
        if not (ws / "eigyo.duckdb").exists():
            print("[whole] eigyo import", file=sys.stderr)
            _eigyo("import", str(ws), str(csv))
        if not pkl.exists():
            print("[whole] PM4Py: CSV → formatted DataFrame pickle", file=sys.stderr)
            prep = ["--csv", str(csv), "--save-pickle", str(pkl)]
            _spawn([str(PM4PY_PY), str(HERE / "_pm4py_dfg.py"), *prep])
        r = bench(ws, pkl, rounds, before)
    cmd = f"`.venv/bin/python bench/process_map.py {' '.join(argv)}`"
    print(
        f"{cmd} — {platform.machine()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} cores shared with other work.\n"
    )
    print(report(r, f"synthetic, {events:,} events (seed {seed})"))
    if not (r["same_duckdb"] and r["same_pm4py"]):
        raise SystemExit("the DFGs differ (see above)")


def main(argv: list[str]) -> None:
    if argv[:1] == ["--child"]:
        kind, ws = argv[1], Path(argv[2])
        doc = _child_import(ws, Path(argv[3])) if kind == "import" else _child_map(ws, int(argv[3]))
        json.dump(doc, sys.stdout)
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=5_000_000, help="synthetic log size")
    ap.add_argument("--seed", type=int, default=2012)
    ap.add_argument("--repeat", type=int, default=3, help="rounds (fresh processes each)")
    ap.add_argument("--skip-bpi", action="store_true")
    ap.add_argument("--skip-synthetic", action="store_true")
    ap.add_argument("--keep", type=Path, help="write logs and workspaces here (kept)")
    ap.add_argument("--whole", action="store_true", help="whole-process timing (issue 20)")
    ap.add_argument("--before", type=Path, help="--whole: also time eigyo from these sources")
    a = ap.parse_args(argv)
    if not PM4PY_PY.exists():
        raise SystemExit(
            f"{PM4PY_PY} not found. Create PM4Py's own venv (never eigyo's):\n"
            "  python3 -m venv bench/.venv-pm4py && bench/.venv-pm4py/bin/pip install pm4py"
        )
    sys.path.insert(0, str(HERE))
    if a.whole:
        whole(a.keep, a.events, a.seed, a.repeat, argv, a.before)
        return
    runs: list[dict[str, Any]] = []
    gen: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="eigyo-pmbench-") as tmp:
        base = a.keep or Path(tmp)
        base.mkdir(parents=True, exist_ok=True)
        if not a.skip_bpi and BPI.exists():
            with zipfile.ZipFile(BPI) as z:
                member = next(n for n in z.namelist() if n.lower().endswith(".xes"))
                xes = Path(z.extract(member, base / "bpi"))
            runs.append(
                bench_log("BPI Challenge 2012", base / "ws-bpi", BPI, ["--xes", str(xes)], a.repeat)
            )
        elif not a.skip_bpi:
            print(f"skipping BPI 2012: {BPI} not found", file=sys.stderr)
        if not a.skip_synthetic:
            from _synthetic_log import directly_follows, write_csv

            csv = base / "synthetic.csv"
            print(f"[synthetic] generating {a.events:,} events", file=sys.stderr)
            t0 = time.perf_counter()
            frame = write_csv(csv, a.events, a.seed)
            gen = {"events": a.events, "seed": a.seed, "generate_s": time.perf_counter() - t0}
            gen["csv_mb"] = round(csv.stat().st_size / 2**20)
            ref = directly_follows(frame).rows()
            del frame
            label = f"synthetic, {a.events / 1e6:g}M events"
            run = bench_log(label, base / "ws-synthetic", csv, ["--csv", str(csv)], a.repeat)
            # the reference's medians are days; compare() wants the peer's in seconds
            gen["reference"] = compare(
                run["eigyo"]["edges"], [[f, t, n, d * 86_400] for f, t, n, d in ref]
            )
            runs.append(run)
    print(report(runs, argv, a.repeat, gen))
    ok = all(
        r["check"]["identical"] or r.get("check_name_tied", {}).get("identical") for r in runs
    ) and (not gen or gen["reference"]["identical"])
    if not ok or any(math.isnan(r["eigyo_dfg_s"]) for r in runs):
        raise SystemExit("the DFGs differ (see above)")


if __name__ == "__main__":
    main(sys.argv[1:])
