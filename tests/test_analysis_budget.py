"""Issue 19 item 1: analysis work runs with a time and memory budget and can be cancelled.

The dashboard's heavy computations run one at a time in the fair gate; one that runs past
``analysis_seconds`` has its engine query interrupted (DuckDB's ``interrupt``) and the request
ends with one sentence (503), and the slot is free for the next person at once. The engine's
memory is held to ``analysis_memory_mib``: a query beyond it is stopped, one sentence too.
Real DuckDB files, a real app (TestClient), no mocks.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi")

from eigyo.app._budget import TooLong
from eigyo.app._limits import ServerLimits
from eigyo.app._state import AppState
from tests.test_server_limits import _signed_in, ws_path  # noqa: F401 (fixture)

#: A query that takes minutes: counting ten billion rows.
ENDLESS = "SELECT count(*) FROM range(10000000000) a"


def test_a_query_past_the_time_budget_is_interrupted_and_frees_the_slot(
    ws_path: Path,  # noqa: F811 (the fixture imported above)
) -> None:
    st = AppState(ws_path, ServerLimits(analysis_seconds=0.3))
    t0 = time.perf_counter()
    with pytest.raises(TooLong) as err:
        st.exclusive(lambda: st.ws().raw.sql(ENDLESS).fetchall())
    assert time.perf_counter() - t0 < 5
    assert "0.3 seconds" in str(err.value) and "0.3 秒" in err.value.localized("ja")
    assert st.exclusive(lambda: st.ws().raw.sql("SELECT 42").fetchall()) == [(42,)]


def test_a_computation_between_queries_is_stopped_at_its_next_query(
    ws_path: Path,  # noqa: F811
) -> None:
    """An interrupt that lands while Python works between two queries must not be lost."""
    st = AppState(ws_path, ServerLimits(analysis_seconds=0.2))

    def slow_then_query() -> object:
        time.sleep(0.5)  # Python work past the budget, no query running
        return st.ws().raw.sql(ENDLESS).fetchall()

    with pytest.raises(TooLong):
        st.exclusive(slow_then_query)


def test_a_query_past_the_memory_budget_is_one_sentence(ws_path: Path) -> None:  # noqa: F811
    st = AppState(ws_path, ServerLimits(analysis_memory_mib=32))
    with pytest.raises(TooLong) as err:
        st.exclusive(lambda: st.ws().raw.sql("SELECT list(range) FROM range(50000000)").fetchall())
    assert "memory" in str(err.value) and "メモリ" in err.value.localized("ja")
    setting = st.exclusive(lambda: st.ws().raw.sql("SELECT current_setting('memory_limit')"))
    assert setting.fetchall() == [("32.0 MiB",)]


def test_the_dashboard_answers_a_too_long_analysis_in_one_sentence(
    ws_path: Path,  # noqa: F811
) -> None:
    """A budget no diagnosis can meet: the findings API says so (503), in the reader's
    language, and the light pages still answer."""
    with _signed_in(ws_path, "admin", ServerLimits(analysis_seconds=0.001)) as c:
        r = c.get("/api/findings", params={"period": "FY2025"})
        assert r.status_code == 503 and r.headers["retry-after"] == "60"
        assert r.json() == {
            "detail": "この分析は上限の 0.001 秒を超えたため中止しました。"
            "期間や絞り込みを狭めるか、時間をおいてもう一度お試しください。"
        }
        assert c.get("/api/me").status_code == 200
