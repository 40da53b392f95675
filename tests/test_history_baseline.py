"""Issue 17 item 1: a history check compares with the same dates a year before when the data
covers them, so a seasonal company (a quarter-end push every quarter) raises no false "decline"
in the month after each quarter's end; without a year of history it falls back to the previous
calendar month, and says which.

Hand-made company: three teams, 40 new-business deals closed per team per month from April 2024
to March 2026; in the last month of each quarter 32 of 40 are won (80%), in the month after 20 of
40 (50%), otherwise 26 of 40 (65%).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from eigyo.base.periods import parse_period
from eigyo.diagnose import diagnose
from eigyo.workspace import Workspace
from tests._rows import insert, new_ws

TEAMS = ("東京", "大阪", "名古屋")


def _won_of(month: int) -> int:
    if month % 3 == 0:
        return 32  # a quarter's last month (March, June, September, December)
    return 20 if month % 3 == 1 else 26


def _company(tmp_path: Path, first: date) -> Workspace:
    ws = new_ws(tmp_path)
    insert(
        ws,
        "reps",
        [
            {"rep_id": f"R{i}", "name": f"担当{i}", "team": TEAMS[i % 3], "role": "closer"}
            for i in range(9)
        ],
    )
    opps = []
    y, m = first.year, first.month
    while (y, m) <= (2026, 3):
        for team_index in range(3):
            for j in range(40):
                rep = f"R{team_index + 3 * (j % 3)}"
                opps.append(
                    {
                        "opportunity_id": f"{y}{m:02d}-{team_index}-{j}",
                        "owner_rep_id": rep,
                        "type": "new",
                        "amount": 1_000_000,
                        "created_at": f"{y}-{m:02d}-01T09:00:00",
                        "closed_at": f"{y}-{m:02d}-15T12:00:00",
                        "status": "won" if j < _won_of(m) else "lost",
                    }
                )
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    insert(ws, "opportunities", opps)
    return ws


def test_the_month_after_a_quarter_end_is_compared_with_a_year_before(tmp_path: Path) -> None:
    ws = _company(tmp_path, date(2024, 4, 1))
    found = diagnose(ws, parse_period("2025-07"), check_ids=["kpi_trend_by_team"])
    assert [f.severity for f in found] == ["ok"]  # July 2025 (50%) against July 2024 (50%)


def test_without_a_year_of_history_the_previous_month_is_the_baseline(tmp_path: Path) -> None:
    ws = _company(tmp_path, date(2025, 1, 1))
    found = diagnose(ws, parse_period("2025-07"), check_ids=["kpi_trend_by_team"])
    # July 2025 (20 of 40 per team) against June 2025 (32 of 40): every team declines → one
    # organization finding (roll-up), stating the baseline it used.
    assert [(f.severity, f.scope) for f in found] == [("error", {})]
    ev = found[0].evidence
    assert ev["baseline_which"] == "previous"
    assert ev["baseline_period"] == "2025-06-01..2025-06-30"
    assert (ev["n"], ev["value"], ev["baseline"]) == (120, 0.5, 0.8)
    assert "前期" in found[0].title["ja"] and "the previous period" in found[0].title["en"]
