"""The whole runbook on PostgreSQL and Spark: the demo company's diagnosis equals DuckDB's, and
the report renders from the published copy.

Metrics are compared engine by engine in ``test_engines_conformance.py``; the analyses behind the
diagnosis and the report use more of SQL (flags cast to numbers, sums of integers, windows over
sums, ordered arrays), where PostgreSQL and Spark differ from DuckDB. Every finding must come out
with the same check, scope and severity, its evidence and ¥ impact within relative 1e-9.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from eigyo import engines
from eigyo.base.periods import parse_period
from eigyo.diagnose import diagnose
from eigyo.runbook import RunResult, build_report
from eigyo.workspace import open_workspace
from tests.conftest import Demo, PgServer

REL = 1e-9


def _close(a: Any, b: Any, where: str = "") -> list[str]:
    """Where two JSON values differ (numbers within ``REL``)."""
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return [f"{where}: keys {sorted(a)} vs {sorted(b)}"]
        return [d for k in a for d in _close(a[k], b[k], f"{where}.{k}")]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{where}: {len(a)} vs {len(b)} items"]
        return [
            d
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for d in _close(x, y, f"{where}[{i}]")
        ]
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        ok = math.isclose(a, b, rel_tol=REL, abs_tol=1e-12)
        return [] if ok else [f"{where}: {a!r} vs {b!r}"]
    return [] if a == b else [f"{where}: {a!r} vs {b!r}"]


@pytest.fixture(scope="module")
def demo(
    demo_company: Demo, demo_runbook: RunResult, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, RunResult]:
    """A copy of the session's small demo company with its DuckDB diagnosis: pushing to Spark
    writes the published tables into the workspace folder (``spark-tables``), and the shared
    workspace must stay as imported."""
    return demo_company.copy(tmp_path_factory.mktemp("engines-demo")), demo_runbook


def _same_runbook(demo: tuple[Path, RunResult], url: str, tmp_path: Path) -> None:
    path, duck = demo
    with open_workspace(path, read_only=True) as ws:
        engines.push(ws, engines.parse_engine(url))
    with open_workspace(path, read_only=True, engine=url) as ws:
        period = parse_period("FY2025", ws.settings.fiscal_year_start_month)
        findings = diagnose(ws, period)
        out = build_report(ws, period, tmp_path / "report.html", lang="en")
    assert sum(f.is_alarm for f in duck.findings) >= 11  # the planted problems, on DuckDB
    want = [f.to_json("en") for f in duck.findings]
    got = [f.to_json("en") for f in findings]
    assert [(f["check"], f["scope"], f["severity"]) for f in got] == [
        (f["check"], f["scope"], f["severity"]) for f in want
    ]
    assert not _close(want, got), "\n".join(_close(want, got)[:20])
    html = out.report.read_text(encoding="utf-8")
    assert len(out.findings) == len(findings) and "plotly" in html.lower()


def test_demo_runbook_on_postgresql(
    demo: tuple[Path, RunResult], pg_server: PgServer, tmp_path: Path
) -> None:
    _same_runbook(demo, pg_server.url("runbook"), tmp_path)


@pytest.mark.slow
# pyspark 4.0 passes copy=False to pandas 3 when ibis reads results through pandas; it leaves
# the sockets of its result transfers to the garbage collector (a pyspark issue).
@pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_demo_runbook_on_spark(
    demo: tuple[Path, RunResult], spark_session: Any, tmp_path: Path
) -> None:
    _same_runbook(demo, "spark", tmp_path)
