"""PM4Py's side of ``bench/process_map.py``; runs ONLY in ``bench/.venv-pm4py``.

PM4Py is AGPL-licensed: it is a benchmark peer, never imported by eigyo and never installed in
the project's environment. This script is started as a subprocess by ``bench/process_map.py``
with ``bench/.venv-pm4py/bin/python`` and prints one JSON document on standard output.

It reads one event log — an XES file with ``pm4py.read_xes`` or an event-log CSV with pandas +
``pm4py.format_dataframe`` — and times, separately:

- ``parse_s``: reading the log into a DataFrame (and ``format_s``: ``format_dataframe``, CSV only);
- ``dfg_s``: ``pm4py.discover_dfg`` (directly-follows frequencies), ``repeat`` times;
- ``perf_s``: ``pm4py.discover_performance_dfg(perf_aggregation_key="median")``, ``repeat`` times.

PM4Py orders each case's events by timestamp with a stable sort, so events with the same timestamp
keep their order in the file. eigyo orders such ties by configured stage order, then stage name.
When the log has ties, the script also computes (untimed) the DFG with ties ordered by activity
name — eigyo's rule for stages its settings do not list — under ``name_tied``.

Whole-process mode (``bench/process_map.py --whole``): ``--pickle FILE --whole`` reads a
DataFrame that ``--csv FILE --save-pickle FILE`` wrote once (already through ``format_dataframe``:
PM4Py's fastest way to get the same event data back), computes both DFGs once and prints the
edges, with no tie count and nothing else, so that the process's wall time is import + read +
discovery + output.

Usage: ``_pm4py_dfg.py --xes FILE [--repeat 3]`` or
``_pm4py_dfg.py --csv FILE --case COL --activity COL --timestamp COL [--repeat 3]``,
``_pm4py_dfg.py --csv FILE --save-pickle OUT`` (untimed preparation) and
``_pm4py_dfg.py --pickle FILE --whole``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
import warnings
from typing import Any

os.environ.setdefault("PM4PY_SHOW_PROGRESS_BAR", "False")
warnings.filterwarnings("ignore")

import pandas as pd  # noqa: E402
import pm4py  # noqa: E402

CASE, ACT, TS = "case:concept:name", "concept:name", "time:timestamp"


def _rss_mb() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def _edges(freq: dict[Any, int], perf: dict[Any, float]) -> list[list[Any]]:
    """[from, to, count, median seconds] sorted by (from, to)."""
    return [[a, b, int(n), float(perf[(a, b)])] for (a, b), n in sorted(freq.items())]


def _ties(df: pd.DataFrame) -> tuple[int, int]:
    """Consecutive event pairs of one case with equal timestamps, and cases having any."""
    s = df.sort_values([CASE, TS], kind="stable")
    same = (s[CASE].to_numpy()[1:] == s[CASE].to_numpy()[:-1]) & (
        s[TS].to_numpy()[1:] == s[TS].to_numpy()[:-1]
    )
    cases = s[CASE].to_numpy()[1:][same]
    return int(same.sum()), int(pd.unique(cases).size)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--xes")
    ap.add_argument("--csv")
    ap.add_argument("--case", default="case_id")
    ap.add_argument("--activity", default="activity")
    ap.add_argument("--timestamp", default="timestamp")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--pickle", help="read a DataFrame written by --save-pickle")
    ap.add_argument("--save-pickle", help="write the formatted DataFrame here and stop")
    ap.add_argument("--whole", action="store_true", help="one discovery, edges only")
    a = ap.parse_args()

    out: dict[str, Any] = {"pm4py": pm4py.__version__, "pandas": pd.__version__}
    t0 = time.perf_counter()
    if a.pickle:
        df = pd.read_pickle(a.pickle)
        out["parse_s"] = time.perf_counter() - t0
        out["format_s"] = 0.0
    elif a.xes:
        df = pm4py.read_xes(a.xes)
        out["parse_s"] = time.perf_counter() - t0
        out["format_s"] = 0.0
    else:
        df = pd.read_csv(a.csv)
        out["parse_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        df = pm4py.format_dataframe(
            df, case_id=a.case, activity_key=a.activity, timestamp_key=a.timestamp
        )
        out["format_s"] = time.perf_counter() - t0
    if a.save_pickle:
        df.to_pickle(a.save_pickle)
        json.dump(out, sys.stdout)
        return
    out["rss_after_load_mb"] = _rss_mb()
    if not a.whole:  # extra work the whole-process timing must not include
        out["events"], out["cases"] = len(df), int(df[CASE].nunique())

    dfg_s, perf_s = [], []
    for _ in range(a.repeat):
        t0 = time.perf_counter()
        freq, _start, _end = pm4py.discover_dfg(
            df, activity_key=ACT, timestamp_key=TS, case_id_key=CASE
        )
        dfg_s.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        perf, _start, _end = pm4py.discover_performance_dfg(
            df, activity_key=ACT, timestamp_key=TS, case_id_key=CASE, perf_aggregation_key="median"
        )
        perf_s.append(time.perf_counter() - t0)
    out["dfg_s"], out["perf_s"] = dfg_s, perf_s
    out["peak_rss_mb"] = _rss_mb()
    out["edges"] = _edges(freq, perf)
    if a.whole:
        json.dump(out, sys.stdout)
        return

    out["tie_pairs"], out["tie_cases"] = _ties(df)
    if out["tie_pairs"]:
        # untimed: the same discovery with ties in time ordered by activity name (eigyo's rule);
        # discover_* sort by (case, timestamp) stably, so this pre-order decides the ties
        named = df.sort_values([CASE, TS, ACT], kind="stable").reset_index(drop=True)
        freq, _s, _e = pm4py.discover_dfg(
            named, activity_key=ACT, timestamp_key=TS, case_id_key=CASE
        )
        perf, _s, _e = pm4py.discover_performance_dfg(
            named,
            activity_key=ACT,
            timestamp_key=TS,
            case_id_key=CASE,
            perf_aggregation_key="median",
        )
        out["name_tied"] = _edges(freq, perf)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
