"""The process map's fast path (issue 20) gives the numbers of the plain definitions.

- each stage's distinct deals, summed over the grouped paths, equal a distinct count of the
  opportunities over every entry (what ``stage_stats`` computes without them);
- ranking stages with a CASE on the name equals joining the catalogue table (the path taken
  for catalogues over :data:`~eigyo.analysis.process.stages.CASE_RANKS` names);
- ``eigyo process`` loads no pandas (Ibis's ``to_pyarrow`` converter would, for nothing);
- the whole-process benchmark compares the contenders' outputs as it says.

The hand-made history is :mod:`tests.test_process_data`; its hand-computed numbers are pinned in
``tests/test_process.py``.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from eigyo.analysis.process import stages
from eigyo.analysis.process.process_map import process_map, stage_stats
from eigyo.analysis.process.stages import stage_catalog, stage_entries
from eigyo.base.periods import Period, parse_period
from eigyo.workspace import open_workspace
from tests.test_process_data import company

MAY = parse_period("2025-05")
ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("period", [MAY, None])
def test_deals_from_paths_equal_a_distinct_count(tmp_path: Path, period: Period | None) -> None:
    with company(tmp_path) as ws:
        catalog = stage_catalog(ws)
        counted = stage_stats(stage_entries(ws, period, attrs=catalog.table), catalog)
        pm = process_map(ws, period)
    assert [(s.stage, s.deals) for s in pm.stages] == [(s.stage, s.deals) for s in counted]
    assert pm.stages == counted
    deals = {s.stage: s.deals for s in pm.stages}
    if period is MAY:  # as tests/test_process.py pins them
        assert deals["商談"] == 4 and deals["提案"] == 1


def test_case_ranks_equal_the_joined_catalogue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with company(tmp_path) as ws:
        by_case = [process_map(ws, p, top_variants=3).to_json() for p in (MAY, None)]
        monkeypatch.setattr(stages, "CASE_RANKS", 0)  # every catalogue joined
        by_join = [process_map(ws, p, top_variants=3).to_json() for p in (MAY, None)]
    assert by_case == by_join
    assert by_case[0]["variants"] and by_case[1]["transitions"]


def test_process_command_loads_no_pandas(tmp_path: Path) -> None:
    company(tmp_path).close()
    ws = tmp_path / "w"
    code = (
        "import sys\n"
        "from eigyo.cli import main\n"
        f"sys.argv = ['eigyo', 'process', '--workspace', {str(ws)!r}, '--format', 'json']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('\\nPANDAS', 'pandas' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    doc, flag = out.stdout.rsplit("\nPANDAS ", 1)
    assert flag.strip() == "False"
    with open_workspace(ws, read_only=True) as w:
        assert json.loads(doc) == process_map(w).to_json()


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "_process_whole", ROOT / "bench/_process_whole.py"
    )
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_whole_bench_reads_each_contender_alike() -> None:
    b = _bench()
    eigyo = {"transitions": [{"from": "A", "to": "B", "count": 2, "median_days": 0.5}]}
    duck = {"edges": [["A", "B", 2, 0.5]]}
    pm4py = {"edges": [["A", "B", 2, 43_200.0]]}  # seconds
    rows = [b.edges("eigyo", eigyo), b.edges("duckdb", duck), b.edges("pm4py", pm4py)]
    assert rows == [[["A", "B", 2, 0.5]]] * 3
    assert b.same(rows[0], [["A", "B", 2, 0.5 + 1e-7]])
    assert not b.same(rows[0], [["A", "B", 3, 0.5]])
    assert not b.same(rows[0], [["A", "B", 2, 0.5 + 1e-5]])
    assert not b.same(rows[0], [])
