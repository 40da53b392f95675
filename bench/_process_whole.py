"""Whole-process timing for ``bench/process_map.py --whole`` (issue 20): each contender a fresh
OS process, timed from start to exit, start-up, imports and output included.

Three contenders on the same synthetic log:

- ``eigyo process --workspace WS --format json`` on the imported workspace (the JSON goes to a
  file: writing it is part of the command);
- the hand-written DuckDB directly-follows query (``bench/_duckdb_dfg.py``): Python, ``import
  duckdb``, open the same workspace file, one window + group-by (counts and median durations);
- PM4Py (``bench/_pm4py_dfg.py --pickle F --whole``, in ``bench/.venv-pm4py``): ``import pm4py``,
  read the event data (a pickle of the formatted DataFrame, written once, untimed), then
  ``discover_dfg`` and ``discover_performance_dfg(median)``.

Reading the log stays outside eigyo's time (the workspace is imported once, before); PM4Py's read
of the pickle is inside its process, so its seconds are also given without it (``read_s``, timed
by the script itself). Each round runs the three one after the other, the order rotated from one
round to the next, so that each sees the same (noisy) machine; seconds are medians over rounds,
CPU seconds (user + system, from ``wait4``) medians too, peak RSS the largest of the rounds.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PM4PY_PY = HERE / ".venv-pm4py/bin/python"
NAMES = ("eigyo", "duckdb", "pm4py")
#: ``--before SRC``: the same command run from an older copy of eigyo's sources (``git archive``
#: of a commit), as a fourth contender of the same rounds.
BEFORE = "eigyo_before"


def commands(ws: Path, pickle: Path) -> dict[str, list[str]]:
    """The command line of each contender."""
    eigyo = Path(sys.executable).parent / "eigyo"
    mine = [str(eigyo), "process", "--workspace", str(ws), "--format", "json"]
    return {
        "eigyo": mine,
        "duckdb": [sys.executable, str(HERE / "_duckdb_dfg.py"), str(ws)],
        "pm4py": [str(PM4PY_PY), str(HERE / "_pm4py_dfg.py"), "--pickle", str(pickle), "--whole"],
        BEFORE: mine,
    }


def run_once(cmd: list[str], src: Path | None = None) -> dict[str, Any]:
    """One fresh process: wall seconds (start to exit), CPU seconds, peak RSS MB, its stdout.
    ``src``: eigyo's sources to run instead of the installed ones (PYTHONPATH)."""
    env = dict(os.environ, PYTHONPATH=str(src)) if src else None
    with tempfile.TemporaryFile() as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE, env=env)
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        err = proc.stderr.read().decode() if proc.stderr else ""
        if proc.returncode:
            sys.stderr.write(err)
            raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}")
        out.seek(0)
        text = out.read().decode()
    return {
        "wall_s": wall,
        "cpu_s": ru.ru_utime + ru.ru_stime,
        "peak_rss_mb": round(ru.ru_maxrss / 1024),
        "doc": json.loads(text),
    }


def edges(name: str, doc: dict[str, Any]) -> list[list[Any]]:
    """[from, to, count, median days] sorted, whatever the contender printed."""
    if name in ("eigyo", BEFORE):
        rows = [[t["from"], t["to"], t["count"], t["median_days"]] for t in doc["transitions"]]
    elif name == "duckdb":
        rows = [list(e) for e in doc["edges"]]
    else:  # PM4Py's medians are seconds
        rows = [[a, b, n, s / 86_400] for a, b, n, s in doc["edges"]]
    return sorted(rows)


def same(a: list[list[Any]], b: list[list[Any]], tol: float = 1e-6) -> bool:
    """Same transitions and counts, medians within ``tol`` days."""
    return len(a) == len(b) and all(
        x[:3] == y[:3] and abs(x[3] - y[3]) <= tol for x, y in zip(a, b, strict=True)
    )


def bench(ws: Path, pickle: Path, rounds: int, before: Path | None = None) -> dict[str, Any]:
    """``rounds`` rounds of the contenders, the order rotated each round."""
    cmds = commands(ws, pickle)
    names = NAMES + ((BEFORE,) if before else ())
    runs: dict[str, list[dict[str, Any]]] = {n: [] for n in names}
    load = [os.getloadavg()[0]]
    for i in range(rounds):
        k = i % len(names)
        for name in names[k:] + names[:k]:
            print(f"[whole] round {i + 1}/{rounds}: {name}", file=sys.stderr)
            runs[name].append(run_once(cmds[name], before if name == BEFORE else None))
        load.append(os.getloadavg()[0])
    med = statistics.median
    out: dict[str, Any] = {"rounds": rounds, "load": load, "commands": cmds, "names": names}
    for name in names:
        r = runs[name]
        out[name] = {
            "wall_s": med(x["wall_s"] for x in r),
            "walls": [x["wall_s"] for x in r],
            "cpu_s": med(x["cpu_s"] for x in r),
            "peak_rss_mb": max(x["peak_rss_mb"] for x in r),
            "edges": edges(name, r[-1]["doc"]),
        }
    pm = runs["pm4py"]
    out["pm4py"]["read_s"] = med(x["doc"]["parse_s"] for x in pm)
    out["pm4py"]["wall_less_read_s"] = med(x["wall_s"] - x["doc"]["parse_s"] for x in pm)
    out["duckdb"]["query_s"] = med(x["doc"]["query_s"] for x in runs["duckdb"])
    e = out["eigyo"]
    out["ratio_pm4py"] = out["pm4py"]["wall_s"] / e["wall_s"]
    ours = runs["eigyo"]
    out["per_round_pm4py"] = [
        (p["wall_s"] - p["doc"]["parse_s"]) / x["wall_s"] for p, x in zip(pm, ours, strict=True)
    ]
    out["per_round_duckdb"] = [
        x["wall_s"] / d["wall_s"] for x, d in zip(ours, runs["duckdb"], strict=True)
    ]
    # headline ratios: the median of each round's own ratio (contenders of one round saw the
    # same machine; medians of separate medians may pair a quiet run with a loaded one)
    out["ratio_pm4py_less_read"] = med(out["per_round_pm4py"])
    out["ratio_duckdb"] = med(out["per_round_duckdb"])
    out["cpu_pm4py"] = out["pm4py"]["cpu_s"] / e["cpu_s"]
    out["cpu_duckdb"] = e["cpu_s"] / out["duckdb"]["cpu_s"]
    if before:
        b, old = out[BEFORE], runs[BEFORE]
        b["per_round_pm4py"] = [
            (p["wall_s"] - p["doc"]["parse_s"]) / x["wall_s"] for p, x in zip(pm, old, strict=True)
        ]
        b["per_round_duckdb"] = [
            x["wall_s"] / d["wall_s"] for x, d in zip(old, runs["duckdb"], strict=True)
        ]
        b["ratio_pm4py"] = med(b["per_round_pm4py"])
        b["ratio_duckdb"] = med(b["per_round_duckdb"])
        b["cpu_pm4py"] = out["pm4py"]["cpu_s"] / b["cpu_s"]
        b["cpu_duckdb"] = b["cpu_s"] / out["duckdb"]["cpu_s"]
        b["same"] = same(e["edges"], b["edges"])
    out["same_duckdb"] = same(e["edges"], out["duckdb"]["edges"])
    out["same_pm4py"] = same(e["edges"], out["pm4py"]["edges"])
    return out


def report(r: dict[str, Any], label: str) -> str:
    """A markdown section: one row per contender, ratios of the same run."""
    e, d, p = r["eigyo"], r["duckdb"], r["pm4py"]

    def row(name: str, x: dict[str, Any], note: str) -> str:
        walls = ", ".join(f"{w:.2f}" for w in x["walls"])
        return (
            f"| {name} | {x['wall_s']:.2f} ({walls}) | {x['cpu_s']:.2f} | "
            f"{x['peak_rss_mb']:,} | {note} |"
        )

    lines = [
        f"Log: {label}. {r['rounds']} rounds, order rotated; 1-minute load average "
        + ", ".join(f"{x:.1f}" for x in r["load"])
        + " (before, and after each round).",
        "",
        "| contender (fresh process) | wall s, median (per round) | CPU s | peak RSS MB | notes |",
        "|---|---:|---:|---:|---|",
        row("`eigyo process --format json`", e, "start-up, workspace open, map, JSON"),
        row("hand-written DuckDB DFG", d, f"query alone {d['query_s']:.2f} s"),
        row(
            "PM4Py DFG (freq + median perf)",
            p,
            f"of which reading the pickle {p['read_s']:.2f} s; "
            f"without it {p['wall_less_read_s']:.2f} s",
        ),
    ]
    if BEFORE in r:
        b = r[BEFORE]
        lines.append(
            row(
                "`eigyo process` before (`--before`)",
                b,
                f"PM4Py ÷ it {b['ratio_pm4py']:.1f}× (read left out; per round "
                + ", ".join(f"{x:.1f}" for x in b["per_round_pm4py"])
                + f"), it ÷ DuckDB {b['ratio_duckdb']:.2f}× ("
                + ", ".join(f"{x:.2f}" for x in b["per_round_duckdb"])
                + f"); CPU: PM4Py ÷ it {b['cpu_pm4py']:.1f}×, it ÷ DuckDB "
                f"{b['cpu_duckdb']:.2f}×; same transitions: {'yes' if b['same'] else 'NO'}",
            )
        )
    lines += [
        "",
        f"- PM4Py ÷ eigyo, whole process, PM4Py's read left out, median of the rounds' ratios: "
        f"**{r['ratio_pm4py_less_read']:.1f}×** (per round "
        + ", ".join(f"{x:.1f}" for x in r["per_round_pm4py"])
        + f"); ratio of median walls with its read: {r['ratio_pm4py']:.1f}×; of CPU seconds "
        f"{r['cpu_pm4py']:.1f}×. Target ≥ 10×.",
        f"- eigyo ÷ hand-written DuckDB, whole process, median of the rounds' ratios: "
        f"**{r['ratio_duckdb']:.2f}×** (per round "
        + ", ".join(f"{x:.2f}" for x in r["per_round_duckdb"])
        + f"); of CPU seconds {r['cpu_duckdb']:.2f}×. Target ≤ 3×.",
        f"- Same transitions, counts and median days (1e-6 d): DuckDB "
        f"{'yes' if r['same_duckdb'] else 'NO'}, PM4Py {'yes' if r['same_pm4py'] else 'NO'} "
        f"({len(e['edges'])} transitions).",
    ]
    return "\n".join(lines)
