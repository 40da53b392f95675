"""Issue 17 item 3: findings roll up to the level the problem lives at (rep → team → organization).

Hand-made companies of three teams × four reps, 40 deals each with a first expected close date in
FY2025; each deal slips (not closed by that date) or not, deterministically, so every figure below
is counted by hand.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from eigyo.base.periods import parse_period
from eigyo.diagnose import diagnose
from eigyo.diagnose.checks import parse_checks
from eigyo.diagnose.model import Finding
from eigyo.errors import DeclarationError
from eigyo.runbook import RunResult
from tests._rows import insert, new_ws

FY = parse_period("FY2025")
TEAMS = ("東京", "大阪", "名古屋")
DEALS = 40


def _company(tmp_path: Path, slipped: dict[str, int]) -> list[Finding]:
    """Twelve reps (R01–R12, dealt round-robin to the teams); ``slipped[rep]`` of each rep's 40
    deals slip (default 4). Returns the slippage check's findings."""
    ws = new_ws(tmp_path)
    reps = [
        {"rep_id": f"R{i + 1:02d}", "name": f"担当{i + 1:02d}", "team": TEAMS[i % 3],
         "role": "closer"}
        for i in range(12)
    ]  # fmt: skip
    insert(ws, "reps", reps)
    opps = []
    due = date(2025, 6, 30)
    for r in reps:
        rid = str(r["rep_id"])
        for j in range(DEALS):
            slips = j < slipped.get(rid, 4)
            closed = due + timedelta(days=20 if slips else -5)
            opps.append(
                {
                    "opportunity_id": f"{rid}-{j:03d}",
                    "owner_rep_id": rid,
                    "amount": 1_000_000,
                    "created_at": "2025-04-10T09:00:00",
                    "closed_at": f"{closed.isoformat()}T12:00:00",
                    "status": "won",
                    "expected_close_date": due.isoformat(),
                }
            )
    insert(ws, "opportunities", opps)
    return diagnose(ws, FY, check_ids=["slippage_by_rep"])


def _alarms(found: list[Finding]) -> list[Finding]:
    return [f for f in found if f.is_alarm]


def test_most_reps_of_a_team_slipping_is_one_team_finding(tmp_path: Path) -> None:
    # 大阪 = R02, R05, R08, R11: three of its four reps slip 28 of 40; everyone else 4 of 40.
    found = _alarms(_company(tmp_path, {"R02": 28, "R05": 28, "R08": 28}))
    assert [(f.check, f.scope) for f in found] == [("slippage_by_rep", {"team": "大阪"})]
    team = found[0]
    ev = team.evidence
    assert ev["level"] == "team"
    assert (ev["members_count"], ev["members_tested"]) == (3, 4)
    assert sorted(m["rep_id"] for m in ev["members"]) == ["R02", "R05", "R08"]
    assert {m["rep_name"] for m in ev["members"]} == {"担当02", "担当05", "担当08"}
    # Pooled over the three members: 84 of 120 slipped. Each member's baseline is the other
    # eleven reps: (2 × 28 + 9 × 4) / 440 = 92 / 440; record-weighted, the same.
    assert ev["n"] == 120
    assert ev["value"] == pytest.approx(84 / 120, abs=1e-4)
    assert ev["baseline"] == pytest.approx(round(92 / 440, 4), abs=1e-4)
    assert ev["baseline_kind"] == "peers"
    assert team.severity == "error"  # 0.70 against 0.21: twice the 0.20 effect, q far below 0.01
    assert "大阪" in team.title["ja"] and "3" in team.title["ja"]
    assert "Osaka" not in team.title["en"] and "大阪" in team.title["en"]
    assert "担当02" in team.cause["ja"]


def test_one_rep_of_a_team_stays_a_rep_finding(tmp_path: Path) -> None:
    found = _alarms(_company(tmp_path, {"R05": 30}))
    assert [f.scope for f in found] == [{"rep_id": "R05"}]
    assert found[0].evidence["rep_name"] == "担当05"
    assert "level" not in found[0].evidence


def test_half_of_a_team_is_not_most(tmp_path: Path) -> None:
    # Two of 大阪's four reps: not more than half, so two rep findings.
    found = _alarms(_company(tmp_path, {"R02": 30, "R05": 30}))
    assert sorted(f.scope["rep_id"] for f in found) == ["R02", "R05"]


def test_every_team_sharing_it_is_one_organization_finding(tmp_path: Path) -> None:
    # Three of four reps slip 36 of 40 in every team; R01 (東京), R02 (大阪), R03 (名古屋) none.
    # Each slipper's peers: (8 × 36 + 3 × 0) / 440 = 65%, so 90% is 25 points worse.
    slipping = {f"R{i:02d}": 36 for i in range(4, 13)} | {f"R{i:02d}": 0 for i in (1, 2, 3)}
    found = _alarms(_company(tmp_path, slipping))
    assert [f.scope for f in found] == [{}]
    org = found[0]
    ev = org.evidence
    assert ev["level"] == "organization"
    assert (ev["members_count"], ev["members_tested"]) == (3, 3)
    assert sorted(m["team"] for m in ev["members"]) == sorted(TEAMS)
    assert all(len(m["members"]) == 3 for m in ev["members"])  # each team keeps its reps
    assert ev["n"] == 9 * DEALS and ev["value"] == pytest.approx(0.9)
    assert ev["baseline"] == pytest.approx(round(288 / 440, 4), abs=1e-4)


def test_a_rollup_level_without_its_texts_is_refused() -> None:
    text = """
[[check]]
id = "lead_response_sla"
step = "alignment"
kind = "proportion"
sample = "mql_leads"
metric = "lead_response_sla_rate"
group = ["team"]
value = "in_sla"
better = "higher"
min_n = 30
min_effect = 0.1
rollup = ["organization"]
"""
    with pytest.raises(DeclarationError) as e:
        parse_checks(text)
    assert "rollup" in str(e.value)


def test_a_year_ago_is_the_same_dates_whole_months_whole() -> None:
    from eigyo.base.periods import Period

    q = parse_period("2025-Q1").year_ago()
    assert (q.start, q.end) == (date(2024, 1, 1), date(2024, 3, 31))
    feb = parse_period("2025-02").year_ago()
    assert (feb.start, feb.end) == (date(2024, 2, 1), date(2024, 2, 29))
    odd = Period(date(2024, 2, 29), date(2024, 3, 10), "x").year_ago()
    assert (odd.start, odd.end) == (date(2023, 2, 28), date(2023, 3, 10))


def test_a_team_weak_in_both_deal_types_is_one_finding_with_two_parts(tmp_path: Path) -> None:
    """A wins 10 of 50 new-business and 10 of 50 expansion deals; B and C 30 of 50 of each. The
    team check compares within deal type: two gaps of 40 points, one finding for 東京 (one id)."""
    ws = new_ws(tmp_path)
    insert(
        ws,
        "reps",
        [
            {"rep_id": f"{t}{i}", "name": f"{t}{i}", "team": t, "role": "closer"}
            for t in "ABC"
            for i in range(3)
        ],
    )
    opps = []
    for team, won in (("A", 10), ("B", 30), ("C", 30)):
        for kind in ("new", "expansion"):
            for j in range(50):
                opps.append(
                    {
                        "opportunity_id": f"{team}-{kind}-{j}",
                        "owner_rep_id": f"{team}{j % 3}",
                        "type": kind,
                        "amount": 1_000_000,
                        "created_at": "2025-05-01T09:00:00",
                        "closed_at": "2025-07-01T09:00:00",
                        "status": "won" if j < won else "lost",
                    }
                )
    insert(ws, "opportunities", opps)
    found = _alarms(diagnose(ws, FY, check_ids=["kpi_gap_by_team"]))
    assert [(f.scope, f.severity) for f in found] == [({"team": "A"}, "error")]
    parts = found[0].evidence["parts"]
    assert sorted((p["part"]["type"], p["n"], p["value"], p["baseline"]) for p in parts) == [
        ("expansion", 50, 0.2, 0.6),
        ("new", 50, 0.2, 0.6),
    ]
    # lost wins: (0.6 − 0.2) × 50 deals × ¥1,000,000 per part
    assert found[0].impact_jpy == pytest.approx(2 * 0.4 * 50 * 1_000_000)
    assert len({f.id for f in found}) == len(found)


def test_every_finding_of_the_demo_has_its_own_id(demo_runbook: RunResult) -> None:
    """An id opens a finding's records (eigyo diagnose --records, /findings/<id>): two findings
    of one check on one scope would share it."""
    ids = [f.id for f in demo_runbook.findings]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
