"""The process map on PostgreSQL and Spark equals DuckDB's on the hand-made stage histories.

The map runs the ordered window once into a cached table (a temporary table on DuckDB and
PostgreSQL, a cached DataFrame on Spark), ranks stages with a CASE on the name, builds variants
as sorted arrays of ``seq * base + rank``, sums each stage's deals over the grouped paths and
keeps the ties at the top-th count with a rank window: each of those must mean the same on every
engine. DuckDB's own values are pinned by hand in ``test_process.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from eigyo import engines
from eigyo.analysis.process.process_map import ProcessMap, directly_follows, process_map
from eigyo.base.periods import parse_period
from eigyo.workspace import open_workspace
from tests.conftest import PgServer
from tests.test_process_data import company

MAY = parse_period("2025-05")
pytestmark = pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")


def _maps(path: Path, engine: str) -> list[Any]:
    ws = open_workspace(path, read_only=True, engine=engine)
    try:
        out: list[Any] = []
        for period in (MAY, None):
            pm: ProcessMap = process_map(ws, period, top_variants=3)
            out += [pm.to_json(), directly_follows(ws, period)]
        return out
    finally:
        ws.close()


def _same_on(tmp_path: Path, url: str) -> None:
    company(tmp_path).close()
    path = tmp_path / "w"
    with open_workspace(path, read_only=True) as ws:
        engines.push(ws, engines.parse_engine(url))
    duck = _maps(path, "duckdb")
    assert duck[0]["transitions"] and duck[0]["variants"]
    assert _maps(path, url) == duck


def test_postgresql_process_map_equals_duckdb(tmp_path: Path, pg_server: PgServer) -> None:
    _same_on(tmp_path, pg_server.url("process"))


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_spark_process_map_equals_duckdb(tmp_path: Path, spark_session: Any) -> None:
    _same_on(tmp_path, "spark")
