"""Time use (step 7): shares, per-win figures, call windows, reclaimable ¥; demo end to end."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from eigyo.analysis.organization import time_use as tu
from eigyo.base.periods import parse_period
from eigyo.workspace import Workspace
from tests._rows import insert, new_ws
from tests.conftest import Demo

MAY = parse_period("2025-05")


@pytest.fixture()
def ws(tmp_path: Path) -> Workspace:
    w = new_ws(tmp_path)
    insert(w, "reps", [
        {"rep_id": "R1", "team": "A", "role": "generalist", "hire_date": "2020-04-01"},
        {"rep_id": "R2", "team": "A", "role": "generalist", "hire_date": "2020-04-01"},
    ])  # fmt: skip
    te = [("R1", "2025-05-07", "selling", 5), ("R1", "2025-05-07", "admin", 2),
          ("R1", "2025-05-07", "travel", 1), ("R1", "2025-05-08", "selling", 4),
          ("R1", "2025-05-08", "admin", 4), ("R2", "2025-05-07", "selling", 6),
          ("R2", "2025-05-07", "admin", 2), ("R2", "2025-04-30", "admin", 8)]  # fmt: skip
    insert(w, "time_entries", [dict(zip(("rep_id", "date", "category", "hours"), r, strict=True))
                               for r in te])  # fmt: skip
    insert(w, "opportunities", [
        {"opportunity_id": o, "owner_rep_id": "R1", "amount": a, "status": "won",
         "created_at": "2025-04-01 10:00:00", "closed_at": "2025-05-20 10:00:00"}
        for o, a in (("O1", 100), ("O2", 200))
    ])  # fmt: skip
    insert(w, "activities", [
        {"activity_id": "A1", "rep_id": "R1", "type": "call", "outcome": "connected",
         "occurred_at": "2025-05-07 09:30:00"},
        {"activity_id": "A2", "rep_id": "R1", "type": "call", "outcome": "no_answer",
         "occurred_at": "2025-05-07 09:45:00"},
        {"activity_id": "A3", "rep_id": "R1", "type": "call", "outcome": "connected",
         "occurred_at": "2025-05-09 14:00:00"},
        {"activity_id": "A4", "rep_id": "R1", "type": "email",
         "occurred_at": "2025-05-09 15:00:00"},
    ])  # fmt: skip
    return w


def test_shares_by_team_and_rep(ws: Workspace) -> None:
    team = tu.time_shares(ws, MAY, "team").row(0, named=True)
    assert (team["hours"], team["selling_hours"], team["admin_hours"]) == (24.0, 15.0, 8.0)
    assert team["selling_share"] == pytest.approx(15 / 24)
    assert team["admin_share"] == pytest.approx(8 / 24)
    assert team["other_share"] == pytest.approx(1 / 24)
    reps = tu.time_shares(ws, MAY, "rep_id")
    assert reps["admin_share"].to_list() == pytest.approx([6 / 16, 2 / 8])
    trend = tu.time_trend(ws, parse_period("2025-04-01..2025-05-31"), "team")
    assert trend["month"].to_list() == ["2025-04", "2025-05"]
    assert trend["admin_share"].to_list() == pytest.approx([1.0, 8 / 24])


def test_efficiency_per_won_deal(ws: Workspace) -> None:
    r1 = tu.efficiency(ws, MAY, "rep_id").row(0, named=True)
    assert (r1["rep_id"], r1["won_deals"], r1["activities"]) == ("R1", 2, 4)
    assert r1["selling_hours_per_won"] == 4.5 and r1["activities_per_won"] == 2.0
    team = tu.efficiency(ws, MAY, "team").row(0, named=True)
    assert team["revenue_per_selling_hour"] == pytest.approx(300 / 15)


def test_call_windows_by_hour_and_weekday(ws: Workspace) -> None:
    by_hour = tu.call_windows(ws, MAY, "hour")
    assert by_hour.select("hour", "calls", "connected").rows() == [(9, 2, 1), (14, 1, 1)]
    assert by_hour["overall_rate"][0] == pytest.approx(2 / 3)
    assert by_hour["connect_rate_low"][0] < 0.5 < by_hour["connect_rate_high"][0]
    by_day = tu.call_windows(ws, MAY, "weekday")
    assert by_day.select("weekday", "calls").rows() == [(2, 2), (4, 1)]  # Wed, Fri
    assert tu.call_windows(ws, MAY)["best"].sum() == 0  # too few calls to call any window best


def test_reclaimable_time(ws: Workspace) -> None:
    df = tu.reclaimable_time(ws, MAY, "rep_id")
    # R1: 6 admin of 16 h, target 25% → 2 h above; R2: 2 of 8 → none. Team rate 300 / 15 = ¥20/h
    assert df.select("rep_id", "excess_admin_hours", "reclaimable_jpy").rows() == [
        ("R1", 2.0, 40.0), ("R2", 0.0, 0.0)]  # fmt: skip
    team = tu.reclaimable_time(ws, MAY, "team").row(0, named=True)
    assert (team["excess_admin_hours"], team["reclaimable_jpy"]) == (2.0, 40.0)


def test_demo_nagoya_admin_time(demo_company: Demo) -> None:
    with demo_company.open() as w:
        p = parse_period("FY2025")
        sh = tu.time_shares(w, p, "team")
        nagoya = sh.filter(pl.col("team") == "名古屋営業部")["admin_share"].item()
        assert (
            nagoya > 0.4 and sh.filter(pl.col("team") != "名古屋営業部")["admin_share"].max() < 0.25
        )
        rc = tu.reclaimable_time(w, p, "team")
        assert (
            rc["team"][0] == "名古屋営業部"
            and rc["reclaimable_jpy"][0] > 50 * rc["reclaimable_jpy"][1]
        )


def test_clean_demo_has_no_admin_problem(clean_demo_company: Demo) -> None:
    with clean_demo_company.open() as w:
        sh = tu.time_shares(w, parse_period("FY2025"), "team")
        assert sh["admin_share"].max() < 0.25
