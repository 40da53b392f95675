"""Issue 17, measured: synthetic companies with problems planted at known levels, written as
canonical CSVs with a seeded NumPy generator (tests/_companies.py) and imported with eigyo's own
importer.

On the small fixed company (three teams, twelve reps, five stages):
(a) every team converts 40 points less at 提案 and waits 3.5 times longer there → the
    organization's constraint;
(b) one rep wins a fifth of the team's others' rate → the per-rep finding, by name;
(c) e-mail leads convert a quarter of the others' rate → the lead-source finding;
(d) a fifth of the deals abandoned open in every team (most of the open pipeline idle over 60
    days) and 70% of open deals without a close date → the org-wide stale and close-date findings;
(e) clean companies (ten seeds) → no warning or error from any check.
On drawn companies (random shape, problems at the organization, a team, a rep and a source — the
slice of bench/recall.py's measurement that keeps the generator honest):
(f) each planted problem is reported at its own level, and nothing else raises an alarm.

The thresholds are the declared ones (checks.toml), never tuned here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from eigyo import settings, workspace
from eigyo.base.periods import parse_period
from eigyo.diagnose import diagnose
from eigyo.diagnose.model import Finding
from tests._companies import FY, STAGES, Plan, Planted, diagnose_plan, draw, fixed, score
from tests._rows import insert, new_ws

TEAMS = ("東京", "大阪", "名古屋")
WEAK_REP = "R05"  # in 大阪 (reps are dealt round-robin to the teams)
WEAK_REP_NAME = "伊藤 翔"


def _diagnose(tmp_path: Path, plan: Plan) -> list[Finding]:
    return diagnose_plan(tmp_path, plan)


def _alarms(findings: list[Finding], check: str | None = None) -> list[Finding]:
    return [f for f in findings if f.is_alarm and (check is None or f.check == check)]


def _describe(findings: list[Finding]) -> list[tuple[str, dict[str, str], object, object]]:
    return [
        (f.check, f.scope, f.evidence.get("value"), f.evidence.get("q_value"))
        for f in _alarms(findings)
    ]


def test_a_proposal_stage_every_team_shares_is_the_organizations_constraint(
    tmp_path: Path,
) -> None:
    findings = _diagnose(tmp_path, fixed(11, Planted("org_constraint", stage="提案")))
    found = _alarms(findings, "process_constraint")
    assert [f.scope for f in found] == [{"stage": "提案"}], _describe(findings)
    f = found[0]
    assert f.severity == "error"  # 40 points below the typical stage: twice the effect
    assert f.evidence["baseline_kind"] == "typical_stage"
    assert f.evidence["value"] < f.evidence["baseline"] - 0.3
    assert f.evidence["dwell_days"] > 2 * f.evidence["typical_dwell_days"]
    assert set(f.evidence["teams_below"]) == set(TEAMS)
    assert f.impact_jpy and f.impact_jpy > 0 and f.impact_formula["en"]
    assert "提案" in f.title["ja"] and "提案" in f.title["en"]
    # every team shares it, so no team stands out against the others
    assert not _alarms(findings, "stage_bottleneck")


def test_b_a_rep_winning_far_less_than_the_team_is_named(tmp_path: Path) -> None:
    findings = _diagnose(tmp_path, fixed(12, Planted("rep_win_rate", WEAK_REP, team="大阪")))
    found = _alarms(findings, "rep_win_rate")
    assert [f.scope for f in found] == [{"rep_id": WEAK_REP}], _describe(findings)
    f = found[0]
    assert f.evidence["rep_name"] == WEAK_REP_NAME
    assert WEAK_REP_NAME in f.title["ja"] and WEAK_REP_NAME in f.title["en"]
    assert f.evidence["value"] < 0.5 * f.evidence["baseline"]  # a fifth of the team's rate
    assert f.evidence["shrunk_value"] > f.evidence["value"]  # shrunk toward the team
    assert f.evidence["baseline_kind"] == "peers"


def test_c_a_lead_source_converting_far_less_is_found(tmp_path: Path) -> None:
    findings = _diagnose(tmp_path, fixed(13, Planted("source_conversion", "メール")))
    found = _alarms(findings, "lead_source_conversion")
    assert [f.scope for f in found] == [{"source": "メール"}], _describe(findings)
    assert found[0].evidence["value"] < 0.5 * found[0].evidence["baseline"]


def test_d_an_idle_pipeline_in_every_team_is_an_organization_finding(tmp_path: Path) -> None:
    findings = _diagnose(tmp_path, fixed(14, Planted("org_stale"), Planted("org_no_close_dates")))
    stale = _alarms(findings, "stale_pipeline")
    assert len(stale) == 1 and stale[0].scope == {}, _describe(findings)
    assert stale[0].severity == "error"
    assert stale[0].evidence["baseline_kind"] == "target"
    assert stale[0].evidence["baseline"] == 0.20  # the documented default target
    assert stale[0].evidence["value"] > 0.5
    dates = _alarms(findings, "close_date_coverage")
    assert len(dates) == 1 and dates[0].evidence["value"] > 0.5  # 70% of open deals


@pytest.mark.parametrize("seed", range(21, 31))
def test_e_a_clean_company_raises_no_alarm(tmp_path: Path, seed: int) -> None:
    findings = _diagnose(tmp_path, fixed(seed))
    assert not _alarms(findings), _describe(findings)
    # the constraint is still named, as information
    constraint = next(f for f in findings if f.check == "process_constraint")
    assert constraint.severity == "ok" and constraint.evidence["constraint_stage"] in STAGES
    # the organization-wide checks against targets did judge (enough open deals), and passed
    for check in ("stale_pipeline", "close_date_coverage", "lead_source_conversion"):
        assert next(f for f in findings if f.check == check).severity == "ok", check
    # checks that could not judge are listed, not "ok"
    coverage = next(f for f in findings if f.check == "data_coverage")
    not_checked = {m["check"] for m in coverage.evidence["not_checked"]}
    assert "handoff_delay" in not_checked and "admin_time" in not_checked


# --- drawn companies: a slice of bench/recall.py ------------------------------------------------


@pytest.mark.parametrize(
    ("seed", "levels"),
    [
        (8, {"rep", "organization", "team"}),  # a rep slipping, idle pipeline, a team bottleneck
        (7, {"rep", "team", "source"}),  # a weak rep, a team slipping as a whole, a weak source
        (10, {"organization", "team", "source"}),  # the constraint, a team bottleneck, a source
    ],
)
def test_f_drawn_problems_are_reported_at_their_own_level(
    tmp_path: Path, seed: int, levels: set[str]
) -> None:
    plan = draw(seed)
    assert {p.level for p in plan.planted} == levels  # the generator still draws these plans
    findings = _diagnose(tmp_path, plan)
    result = score(plan, findings)
    for p, verdict in result.verdicts:
        if p.kind == "org_win_rate":  # no check judges the organization's win rate against its
            continue  # target yet: measured (bench/RESULTS.md), not asserted
        assert verdict == "own", (p.describe(), _describe(findings))
    assert not result.false_alarms, _describe(findings)
    if plan.has("team_slipping"):  # one team finding listing the members, not one per rep
        (team,) = plan.has("team_slipping")
        slips = _alarms(findings, "slippage_by_rep")
        assert [f.scope for f in slips] == [{"team": team.value}], _describe(findings)


@pytest.mark.parametrize("seed", [1001, 1002])
def test_f_drawn_clean_companies_raise_no_alarm(tmp_path: Path, seed: int) -> None:
    plan = draw(seed, clean=True)
    assert not plan.planted
    findings = _diagnose(tmp_path, plan)
    assert not _alarms(findings), _describe(findings)
    assert score(plan, findings).judged  # the checks did judge


# --- the baselines, on hand-made rows ----------------------------------------------------------


def test_history_is_the_previous_calendar_period() -> None:
    month, quarter, year = (
        parse_period(p).previous_aligned() for p in ("2025-03", "2025-Q1", "FY2025")
    )
    assert (month.start.isoformat(), month.end.isoformat()) == ("2025-02-01", "2025-02-28")
    assert (quarter.start.isoformat(), quarter.end.isoformat()) == ("2024-10-01", "2024-12-31")
    assert (year.start.isoformat(), year.end.isoformat()) == ("2024-04-01", "2025-03-31")
    odd = parse_period("2025-03-05..2025-03-20").previous_aligned()  # not whole months
    assert (odd.start.isoformat(), odd.end.isoformat()) == ("2025-02-17", "2025-03-04")


def _closed(
    ws: workspace.Workspace, created: str, closed: str, n: int, won: int, team: str
) -> None:
    insert(
        ws,
        "opportunities",
        [
            {"opportunity_id": f"{team}{created}{i}", "owner_rep_id": f"{team}0", "amount": 100,
             "type": "new", "created_at": f"{created} 10:00:00", "closed_at": f"{closed} 10:00:00",
             "status": "won" if i < won else "lost"}
            for i in range(n)
        ],
    )  # fmt: skip


def test_a_partly_covered_previous_period_is_no_baseline(tmp_path: Path) -> None:
    ws = new_ws(tmp_path)
    insert(ws, "reps", [{"rep_id": f"{t}0", "team": t, "role": "closer",
                         "hire_date": "2020-04-01"} for t in "AB"])  # fmt: skip
    # data from mid-May: the quarter before 2025-Q3 (April–June) is half missing
    for team, before, now in (("A", 20, 4), ("B", 12, 12)):
        _closed(ws, "2025-05-15", "2025-06-10", 40, before, team)
        _closed(ws, "2025-07-01", "2025-08-10", 40, now, team)
    (f,) = diagnose(ws, parse_period("2025-Q3"), check_ids=["kpi_trend_by_team"])
    assert (f.severity, f.evidence["status"]) == ("info", "partial_baseline")
    assert f.evidence["data_start"] == "2025-05-15"
    assert f.evidence["baseline_period"] == "2025-04-01..2025-06-30"
    assert "2025-05-15" in f.title["ja"] and "2025-05-15" in f.title["en"]


def test_one_customer_dominating_bookings_is_a_concentration(tmp_path: Path) -> None:
    ws = new_ws(tmp_path)
    insert(ws, "reps", [{"rep_id": "R1", "name": "田中", "team": "A", "role": "closer",
                         "hire_date": "2020-04-01"}])  # fmt: skip
    insert(ws, "accounts", [{"account_id": f"C{i}", "name": f"顧客{i}"} for i in range(30)])
    rows = [
        {"opportunity_id": f"O{i}", "account_id": f"C{i}", "owner_rep_id": "R1",
         "amount": 6_000_000 if i == 0 else 100_000, "created_at": "2025-05-01 10:00:00",
         "closed_at": "2025-06-01 10:00:00", "status": "won"}
        for i in range(30)
    ]  # fmt: skip
    insert(ws, "opportunities", rows)
    (f,) = diagnose(ws, FY, check_ids=["revenue_concentration"])
    assert f.severity == "error" and f.scope == {"account": "顧客0"}  # 6M of 8.9M: 67%
    assert f.evidence["value"] == pytest.approx(6 / 8.9, abs=1e-3)
    assert "顧客0" in f.title["ja"]
    ws.raw.execute("UPDATE opportunities SET amount = 100000")
    (ok,) = diagnose(ws, FY, check_ids=["revenue_concentration"])
    assert ok.severity == "ok"


def test_an_organization_within_its_target_reads_so(tmp_path: Path) -> None:
    findings = _diagnose(tmp_path, fixed(31, leads=200))
    (f,) = [f for f in findings if f.check == "stale_pipeline"]
    assert f.severity == "ok" and f.evidence["target"] == 0.20 and f.evidence["value"] < 0.2
    assert "20.0%" in f.title["en"]


def test_stage_targets_nest_per_stage(tmp_path: Path) -> None:
    (tmp_path / "eigyo.toml").write_text(
        '[targets]\nstale_open_deals = 0.3\n[targets.conversion]\n"提案" = 0.6\n', encoding="utf-8"
    )
    targets = settings.load(tmp_path / "eigyo.toml").targets
    assert targets["conversion.提案"] == 0.6 and targets["stale_open_deals"] == 0.3
    assert targets["missing_close_date_rate"] == 0.05  # the defaults stay
    assert "stale_open_deals: share of open deals idle" in settings.template()
