"""Every metric on the hand-made company (test_metrics_company.py), with values worked out by hand.

April 2025 unless said otherwise. The arithmetic is written out so a reader can check it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from eigyo.base.periods import Period, business_days, parse_period
from eigyo.metrics import REGISTRY, compare, compute, compute_series, same_period_last_year
from eigyo.workspace import Workspace
from tests.test_metrics_company import build

APRIL = parse_period("2025-04")
BD = 21  # business days in April 2025: 22 weekdays less Showa Day (Tue 29 April)
CYCLES = (68.5, 10.0, 60.75)  # o1 Feb 1 → Apr 10 12:00; o2 Apr 2 → Apr 12; o3 Mar 1 → Apr 30 18:00
QUOTA_APRIL = 4_000_000 + 1_000_000 + 1_500_000 + 600_000  # r1, r2, r3 (two rows) pro-rated

#: Every metric of the registry for April 2025 (the organization), computed by hand.
EXPECTED_APRIL: dict[str, float | None] = {
    "bookings": 1_000_000 + 3_000_000 + 2_000_000,  # o1, o2, o3 won in April
    "won_deals": 3,
    "lost_deals": 2,  # o4, o5
    "win_rate": 3 / 5,
    "win_rate_by_value": 6_000_000 / (6_000_000 + 500_000 + 800_000),
    "avg_deal_size": 2_000_000,
    "sales_cycle_days": 60.75,  # median of 10, 60.75, 68.5
    # created in April: o2, o5, o7 → 3 × 3/5 × 2,000,000 ÷ mean(cycles)
    "pipeline_velocity": 3 * 0.6 * 2_000_000 / (sum(CYCLES) / 3),
    "avg_revenue_per_rep": 6_000_000 / 3,  # r1, r2, r3 have quotas overlapping April
    # r1 4,000,000 ≥ 4,000,000 (exactly); r2 0 < 1,000,000; r3 2,000,000 < 2,100,000
    "quota_attainment_rate": 1 / 3,
    "opportunities_created": 3,
    # first dates in April: o2 (closed on it), o3 (04-20, closed 04-30), o4 (04-25, closed
    # 04-20), o7 (04-30, closed May), o8 (04-15, open) → o3, o7, o8 slipped
    "slippage_rate": 3 / 5,
    # open on 1 April and due in April as of then: o1 1.0M, o3 2.0M (04-20), o4 0.5M (04-25),
    # o8 0.7M; o6 was due 05-31 on 1 April; o9 closed 31 March
    "pipeline_coverage": 4_200_000 / QUOTA_APRIL,
    "lead_response_minutes": (30 + 60) / 2,  # answered L1 30, L2 90, L3 60, L7 10 → 10 30 60 90
    "lead_response_p90_minutes": 60 + 0.7 * (90 - 60),  # position 0.9 × 3 = 2.7
    # MQL leads L1 ✓ (30), L2 ✗ (90), L3 ✓ (60 = SLA), L4 ✗ (unanswered), L7 ✓ (10)
    "lead_response_sla_rate": 3 / 5,
    "untouched_lead_rate": 1 / 5,  # L4 of the MQL leads L1, L2, L3, L4, L7 was never answered
    "mql_to_sql_rate": 2 / 5,  # L1, L3; L5 has no mql_at and is left out
    # L1..L5, L7 created in April; won by now: L1 (o1), L2 (o2.lead_id), L3 (o7 won in May)
    "lead_conversion_rate": 3 / 6,
    "lead_to_opportunity_rate": 4 / 6,  # L1, L2, L3, L5
    # 6 calls; reps with calls or time entries: r1, r2 (calls), r3 (time entries)
    "calls_per_rep_day": 6 / (3 * BD),
    "emails_per_rep_day": 2 / (2 * BD),  # e1 r1, e2 r3; reps r1, r3
    "meetings_per_rep_day": 1 / (2 * BD),  # m1 r1; reps r1, r3
    "call_connect_rate": 4 / 6,  # c1, c3, c4, c7 connected; c5 has no outcome
    "activities_per_won_deal": 9 / 3,
    "admin_time_share": (2 + 1 + 1) / 17,
    "selling_time_share": (6 + 5) / 17,
    "selling_hours": 11,
    "selling_hours_per_win": 11 / 3,  # 11 selling hours ÷ o1, o2, o3 won
    "order_revenue": 150_000 + 300_000,
    # accounts that ordered 2025-03-02..03-31: a1 (100,000), a2 (200,000); in April a1 150,000
    "nrr": 150_000 / 300_000,
    "repeat_customer_rate": 3 / 4,  # a1, a3, a4 of a1..a4
    "churned_accounts": 1,  # a2
}


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    w = build(tmp_path_factory.mktemp("metrics") / "w")
    yield w
    w.close()


def values(ws: Workspace, p: Period, ids: list[str], by: str | None = None) -> dict[str, object]:
    out: dict[str, object] = {}
    for v in compute(ws, p, ids, by):
        out[v.by[by] if by else v.id] = v.value
    return out


def test_every_metric_has_a_hand_computed_value() -> None:
    assert set(EXPECTED_APRIL) == set(REGISTRY)


def test_business_days_of_april_2025() -> None:
    assert business_days(date(2025, 4, 1), date(2025, 4, 30)) == BD


@pytest.mark.parametrize("metric_id", sorted(EXPECTED_APRIL))
def test_april_value(ws: Workspace, metric_id: str) -> None:
    [v] = compute(ws, APRIL, [metric_id])
    expected = EXPECTED_APRIL[metric_id]
    assert v.by == {}
    assert v.unit == REGISTRY[metric_id].unit
    assert v.value == (None if expected is None else pytest.approx(expected, rel=1e-12))


@pytest.mark.parametrize(
    ("metric_id", "by", "expected"),
    [
        ("bookings", "team", {"A": 4_000_000, "B": 2_000_000}),
        ("bookings", "rep_id", {"r1": 4_000_000, "r3": 2_000_000}),
        ("bookings", "role", {"closer": 4_000_000, "generalist": 2_000_000}),
        ("bookings", "source", {"web": 4_000_000, "(none)": 2_000_000}),
        ("bookings", "campaign", {"c1": 4_000_000, "(none)": 2_000_000}),
        ("bookings", "industry", {"IT": 3_000_000, "Mfg": 3_000_000}),
        ("bookings", "size_band", {"<50": 1_000_000, "300-999": 3_000_000, "(none)": 2_000_000}),
        ("bookings", "product", {"X": 3_000_000, "Y": 3_000_000}),
        ("bookings", "type", {"new": 3_000_000, "expansion": 3_000_000}),
        ("lost_deals", "deal_size_band", {"<1M": 2}),
        ("won_deals", "deal_size_band", {"1M-5M": 3}),  # 1,000,000 is the band's lower bound
        ("win_rate", "team", {"A": 2 / 3, "B": 1 / 2}),
        ("sales_cycle_days", "team", {"A": (68.5 + 10) / 2, "B": 60.75}),  # even count: mean
        ("pipeline_velocity", "team", {"A": 2 * (2 / 3) * 2e6 / 39.25, "B": 0.5 * 2e6 / 60.75}),
        ("avg_revenue_per_rep", "team", {"A": 4_000_000 / 2, "B": 2_000_000 / 1}),
        ("quota_attainment_rate", "rep_id", {"r1": 1.0, "r2": 0.0, "r3": 0.0}),
        ("quota_attainment_rate", "team", {"A": 0.5, "B": 0.0}),
        ("pipeline_coverage", "rep_id", {"r1": 0.25, "r2": 0.7, "r3": 2.5 / 2.1}),
        ("slippage_rate", "team", {"A": 1 / 2, "B": 2 / 3}),
        ("lead_response_minutes", "team", {"A": 60.0, "B": 35.0}),  # A: 30, 90; B: 10, 60
        ("lead_response_sla_rate", "team", {"A": 1 / 2, "B": 2 / 3}),
        ("lead_response_sla_rate", "source", {"web": 2 / 3, "event": 1 / 2}),
        ("mql_to_sql_rate", "rep_id", {"r2": 1 / 2, "r3": 1 / 3}),
        ("lead_conversion_rate", "team", {"A": 2 / 3, "B": 1 / 3}),
        ("calls_per_rep_day", "team", {"A": 6 / (2 * BD), "B": 0.0}),
        ("calls_per_rep_day", "rep_id", {"r1": 3 / BD, "r2": 3 / BD, "r3": 0.0}),
        ("call_connect_rate", "rep_id", {"r1": 2 / 3, "r2": 2 / 3}),
        ("admin_time_share", "team", {"A": 3 / 9, "B": 1 / 8}),
        ("nrr", "industry", {"IT": 1.5, "Mfg": 0.0}),
        ("repeat_customer_rate", "region", {"Tokyo": 1.0, "Osaka": 1 / 2}),
        ("order_revenue", "product", {"X": 450_000}),
    ],
)
def test_grouped_value(ws: Workspace, metric_id: str, by: str, expected: dict[str, float]) -> None:
    got = values(ws, APRIL, [metric_id], by)
    assert got == {k: pytest.approx(v, rel=1e-12) for k, v in expected.items()}


ADDITIVE = ["bookings", "won_deals", "lost_deals", "opportunities_created", "selling_hours"]
ADDITIVE += ["order_revenue", "churned_accounts"]


@pytest.mark.parametrize("metric_id", ADDITIVE)
@pytest.mark.parametrize("period", ["2025-04", "2025-Q2", "FY2024"])
def test_groups_sum_to_the_total(ws: Workspace, metric_id: str, period: str) -> None:
    p = parse_period(period)
    [total] = compute(ws, p, [metric_id])
    for dim in REGISTRY[metric_id].dims:
        if metric_id == "churned_accounts" and dim == "month":
            continue  # each month's churn is against the month before it, not against P's start
        parts = compute(ws, p, [metric_id], dim)
        assert sum(v.value or 0 for v in parts) == pytest.approx(total.value), dim


def test_month_grouping_splits_the_period(ws: Workspace) -> None:
    q2 = parse_period("2025-Q2")
    assert values(ws, q2, ["bookings"], "month") == {
        "2025-04": 6_000_000,
        "2025-05": 4_600_000,  # o6 (05-02), o7 (05-15)
        "2025-06": 0,
    }


@pytest.mark.parametrize(
    ("period", "fy_start", "expected"),
    [
        ("FY2024", 4, 250_000),  # o10 won 2025-03-31 23:59:59: the last second of FY2024
        ("FY2025", 4, 6_000_000 + 4_600_000),
        ("FY2025", 1, 250_000 + 6_000_000 + 4_600_000),  # calendar fiscal year
        ("2025-03", 4, 250_000),
        ("2025-04-10..2025-04-12", 4, 1_000_000 + 3_000_000),  # o1 04-10 12:00, o2 04-12 00:00
    ],
)
def test_period_boundaries(ws: Workspace, period: str, fy_start: int, expected: float) -> None:
    [v] = compute(ws, parse_period(period, fy_start), ["bookings"])
    assert v.value == expected


def test_an_empty_period_gives_zero_counts_and_undefined_rates(ws: Workspace) -> None:
    got = values(ws, parse_period("2030-01"), list(REGISTRY))
    assert got["bookings"] == 0 and got["won_deals"] == 0 and got["selling_hours"] == 0
    for mid in ("win_rate", "avg_deal_size", "sales_cycle_days", "pipeline_velocity", "nrr"):
        assert got[mid] is None, mid
    assert compute(ws, parse_period("2030-01"), ["bookings"], "team") == []


def test_golden_week_business_days(ws: Workspace) -> None:
    # 1-7 May 2025: weekdays 1, 2, 5, 6, 7 less Children's Day (5) and its substitute (6).
    gw = parse_period("2025-05-01..2025-05-07")
    assert business_days(gw.start, gw.end) == 3
    # c6 (r4, 1 May); reps r4 (call) and r3 (time entry 1 May)
    assert values(ws, gw, ["calls_per_rep_day"]) == {"calls_per_rep_day": 1 / (2 * 3)}


def test_sla_comes_from_the_settings(tmp_path: Path) -> None:
    w = build(tmp_path / "w")
    w.settings = replace(w.settings, lead_sla_minutes=30)
    assert values(w, APRIL, ["lead_response_sla_rate"]) == {"lead_response_sla_rate": 2 / 5}
    w.close()


def test_series_per_month(ws: Workspace) -> None:
    series = compute_series(ws, parse_period("2025-Q2"), ["bookings", "won_deals"])
    assert [(m, v.id, v.value) for m, v in series] == [
        ("2025-04", "bookings", 6_000_000),
        ("2025-04", "won_deals", 3),
        ("2025-05", "bookings", 4_600_000),
        ("2025-05", "won_deals", 2),
        ("2025-06", "bookings", 0),
        ("2025-06", "won_deals", 0),
    ]


def test_compare_with_previous_period_and_last_year(ws: Workspace) -> None:
    [c] = compare(ws, APRIL, ["bookings"])
    # previous: 2025-03-02..2025-03-31 (o10, 250,000); April 2024: nothing
    assert (c.value, c.previous, c.last_year) == (6_000_000, 250_000, 0)
    assert c.change == pytest.approx(23.0)
    assert c.change_last_year is None
    by_team = {c.by["team"]: c.previous for c in compare(ws, APRIL, ["bookings"], "team")}
    assert by_team == {"A": 250_000, "B": None}


@pytest.mark.parametrize(
    ("period", "start", "end"),
    [
        ("2025-02", date(2024, 2, 1), date(2024, 2, 29)),  # leap year keeps the month whole
        ("2024-02", date(2023, 2, 1), date(2023, 2, 28)),
        ("2024-02-29..2024-03-10", date(2023, 2, 28), date(2023, 3, 10)),
        ("FY2025", date(2024, 4, 1), date(2025, 3, 31)),
    ],
)
def test_same_period_last_year(period: str, start: date, end: date) -> None:
    ly = same_period_last_year(parse_period(period))
    assert (ly.start, ly.end) == (start, end)
