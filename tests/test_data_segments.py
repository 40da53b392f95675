"""Segment performance: hand-made deals whose rates, intervals and verdicts are known."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from eigyo.analysis.data.segments import segments
from eigyo.base.periods import parse_period
from eigyo.base.stats import wilson
from eigyo.errors import InputError
from tests._rows import insert, new_ws

FY = parse_period("FY2025")


def _deals(prefix: str, account: str, n: int, won: int, days: int) -> list[dict[str, Any]]:
    return [
        {"opportunity_id": f"{prefix}{i:03d}", "account_id": account, "owner_rep_id": "R1",
         "amount": 1_000_000, "type": "new", "created_at": "2025-05-01 09:00",
         "closed_at": f"2025-05-{1 + days:02d} 09:00", "status": "won" if i < won else "lost"}
        for i in range(n)
    ]  # fmt: skip


@pytest.fixture(scope="module")
def doc(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    ws = new_ws(tmp_path_factory.mktemp("seg"))
    insert(ws, "reps", [{"rep_id": "R1", "role": "generalist", "hire_date": "2024-01-01"}])
    insert(ws, "accounts", [
        {"account_id": "A", "industry": "製造業", "employees": 40, "region": "関東"},
        {"account_id": "B", "industry": "小売", "employees": 500, "region": "関東"},
        {"account_id": "C", "industry": "金融", "employees": 2000, "region": "関東"},
    ])  # fmt: skip
    rows = _deals("A", "A", 30, 25, 10) + _deals("B", "B", 30, 5, 20) + _deals("C", "C", 3, 1, 5)
    rows.append({**rows[0], "opportunity_id": "OUT", "closed_at": "2024-12-01 09:00"})
    insert(ws, "opportunities", rows)
    out = segments(ws, FY, ("industry", "size_band", "region"))
    ws.close()
    return out


def _seg(doc: dict[str, Any], dim: str, value: str) -> dict[str, Any]:
    return next(s for s in doc["segments"] if s["dimension"] == dim and s["value"] == value)


def test_totals_and_rates(doc: dict[str, Any]) -> None:
    assert doc["closed"] == 63 and doc["won"] == 31  # the 2024 close is outside FY2025
    a = _seg(doc, "industry", "製造業")
    assert (a["closed"], a["won"], a["win_rate"]) == (30, 25, pytest.approx(25 / 30))
    assert (a["low"], a["high"]) == pytest.approx(wilson(25, 30))
    assert a["median_cycle_days"] == 10.0 and a["avg_deal_size"] == 1_000_000
    assert a["velocity_jpy_per_day"] == pytest.approx(25 / 30 * 1_000_000 / 10)


def test_verdicts_after_benjamini_hochberg(doc: dict[str, Any]) -> None:
    assert _seg(doc, "industry", "製造業")["verdict"] == "better"
    assert _seg(doc, "industry", "小売")["verdict"] == "worse"
    assert _seg(doc, "size_band", "<50")["verdict"] == "better"
    tiny = _seg(doc, "industry", "金融")
    assert tiny["verdict"] == "not_enough_data" and tiny["p_value"] is None
    # one region holds every deal: nothing to compare it with
    assert _seg(doc, "region", "関東")["verdict"] == "not_enough_data"
    q = [s["q_value"] for s in doc["segments"] if s["q_value"] is not None]
    assert all(0 <= x <= 1 for x in q)


def test_unknown_dimension_says_what_exists(tmp_path: Path) -> None:
    ws = new_ws(tmp_path)
    with pytest.raises(InputError, match="industry, size_band"):
        segments(ws, FY, ("colour",))
