"""Conformance: every metric of the registry on one company gives the same values on DuckDB,
PostgreSQL and Spark (relative 1e-9), for the organization and grouped by team.

The company is the hand-made one of test_metrics_company.py, whose DuckDB values are checked
by hand in test_metrics_values.py; here the other engines must agree with DuckDB. Spark runs
everything in one session and one pass per grouping, because each Spark query costs ~0.1-1 s.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import pytest

from eigyo import engines
from eigyo.base.periods import parse_period
from eigyo.metrics import REGISTRY, MetricValue, compute
from eigyo.workspace import open_workspace
from tests.conftest import STARTUP, PgServer
from tests.test_metrics_company import build
from tests.test_metrics_registry import CONTRACT

APRIL = parse_period("2025-04")
#: pyspark 4.0 passes copy=False to pandas 3 when ibis reads results through pandas.
pytestmark = pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")
REL = 1e-9

Values = dict[tuple[str, tuple[tuple[str, str], ...]], float | None]
#: The company's workspace and its DuckDB values, for the organization and by team.
Company = tuple[Path, dict[str | None, Values]]


def _values(vs: list[MetricValue]) -> Values:
    return {(v.id, tuple(sorted(v.by.items()))): v.value for v in vs}


def _compute_all(ws_path: Path, engine: str, by: str | None) -> Values:
    ws = open_workspace(ws_path, read_only=True, engine=engine)
    try:
        return _values(compute(ws, APRIL, None, by))
    finally:
        ws.close()


def _assert_same(expected: Values, got: Values, engine: str) -> None:
    assert set(got) == set(expected), f"{engine}: groups differ"
    wrong = []
    for key, want in expected.items():
        have = got[key]
        same = (want is None and have is None) or (
            want is not None and have is not None and math.isclose(have, want, rel_tol=REL)
        )
        if not same:
            wrong.append(f"{key}: duckdb {want!r}, {engine} {have!r}")
    assert not wrong, f"{engine} disagrees with DuckDB:\n" + "\n".join(wrong)


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> Company:
    path = tmp_path_factory.mktemp("conformance") / "w"
    build(path).close()
    duck = {by: _compute_all(path, "duckdb", by) for by in (None, "team")}
    return path, duck


def test_every_contract_metric_is_in_the_comparison(company: Company) -> None:
    ids = {key[0] for key in company[1][None]}
    assert ids == set(REGISTRY) and ids >= CONTRACT


def _push(path: Path, url: str) -> Any:
    ws = open_workspace(path, read_only=True)
    try:
        return engines.push(ws, engines.parse_engine(url))
    finally:
        ws.close()


def _conform(company: Company, url: str, name: str) -> None:
    path, duck = company
    _push(path, url)
    for by in (None, "team"):
        started = time.perf_counter()
        _assert_same(duck[by], _compute_all(path, url, by), name)
        STARTUP[f"{name} conformance (by {by or 'organization'})"] = time.perf_counter() - started


def test_postgresql_agrees_with_duckdb(company: Company, pg_server: PgServer) -> None:
    _conform(company, pg_server.url("conformance"), "PostgreSQL")


@pytest.mark.slow
# pyspark leaves the sockets of its result transfers to the garbage collector (a pyspark issue).
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_spark_agrees_with_duckdb(company: Company, spark_session: Any) -> None:
    _conform(company, "spark", "Spark")
