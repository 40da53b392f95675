"""The PM4Py benchmark's own parts that run without PM4Py (``bench/process_map.py``): the
synthetic event log is deterministic and tie-free, eigyo's process map of it equals an
independent polars directly-follows graph, and the comparison catches any difference."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import polars as pl

from eigyo.analysis.process.process_map import process_map
from eigyo.ingest import import_path
from tests._rows import new_ws

BENCH = Path(__file__).resolve().parents[1] / "bench"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


synth = _load("_synthetic_log")
bench = _load("process_map")


def test_synthetic_log_is_deterministic_and_tie_free() -> None:
    a, b = synth.generate(5_000, seed=7), synth.generate(5_000, seed=7)
    assert a.equals(b)
    assert not a.equals(synth.generate(5_000, seed=8))
    assert a.height == 5_000
    assert set(a["activity"].unique()) <= set(synth.ACTIVITIES)
    assert a["timestamp"].is_sorted()  # listed by time, as an export would
    per_case = (
        a.sort("case_id", "timestamp")
        .group_by("case_id", maintain_order=True)
        .agg(
            pl.col("activity").first().alias("first"),
            pl.col("timestamp").diff().min().alias("min_gap"),
        )
    )
    assert (per_case["first"] == "Lead").all()
    assert per_case.height > 500
    gaps = per_case["min_gap"].drop_nulls().dt.total_seconds()
    assert gaps.min() >= 1  # strictly increasing: no ties in a case
    dfg = synth.directly_follows(a)
    loops = dfg.filter(pl.col("from") == pl.col("to"))
    assert loops.height >= 3 and loops["count"].sum() > 0  # self-loops: Call, Email, Meeting


def test_process_map_of_synthetic_log_matches_reference(tmp_path: Path) -> None:
    csv = tmp_path / "events.csv"
    frame = synth.write_csv(csv, 5_000, seed=3)
    ws = new_ws(tmp_path)
    rep = import_path(ws, csv, preset="xes")
    assert {f.table: f.rejected for f in rep.files}["stage_history"] == 0
    edges = sorted(
        [t.source, t.target, t.count, t.median_days] for t in process_map(ws).transitions
    )
    ws.close()
    ref = [[f, t, n, d * 86_400] for f, t, n, d in synth.directly_follows(frame).rows()]
    check = bench.compare(edges, ref)
    assert check["identical"], check
    assert check["transitions"] == len(ref) > 20


def test_compare_reports_every_kind_of_difference() -> None:
    eigyo = [["A", "B", 3, 1.0], ["B", "B", 2, 0.5]]
    same = [["A", "B", 3, 86_400.0], ["B", "B", 2, 43_200.0]]
    assert bench.compare(eigyo, same)["identical"]
    c = bench.compare(eigyo, [["A", "B", 4, 86_400.0], ["B", "B", 2, 43_300.0], ["B", "A", 1, 0]])
    assert not c["identical"]
    assert (c["only_pm4py"], c["count_diffs"], c["median_diffs"]) == (1, 1, 1)
