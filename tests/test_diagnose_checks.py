"""Hand-made organizations pin each runbook check: the flagged scope and its exact evidence."""

from __future__ import annotations

from pathlib import Path

import pytest

from eigyo.base.periods import parse_period
from eigyo.diagnose import diagnose
from tests._rows import insert, new_ws

FY = parse_period("FY2025")


def _alarms(ws, check: str) -> list:
    return [f for f in diagnose(ws, FY, check_ids=[check]) if f.severity in ("warn", "error")]


def _teams(ws, teams: dict[str, int], role: str = "generalist", hired: str = "2020-04-01") -> None:
    insert(
        ws,
        "reps",
        [
            {"rep_id": f"{t}{i}", "team": t, "role": role, "hire_date": hired}
            for t, n in teams.items()
            for i in range(n)
        ],
    )


def _leads(
    ws, team: str, n: int, answered_within: int, untouched: int = 0, source: str = "Web"
) -> None:
    """n MQLs owned by the team: the first ``answered_within`` answered after 10 minutes,
    the last ``untouched`` never answered, the rest answered after 3 hours."""
    rows = []
    for i in range(n):
        minutes = 10 if i < answered_within else 180
        answered = i < n - untouched
        rows.append(
            {
                "lead_id": f"{team}-{source}-{i}",
                "created_at": "2025-06-02 09:00:00",
                "mql_at": "2025-06-02 09:00:00",
                "owner_rep_id": f"{team}0",
                "source": source,
                "first_response_at": f"2025-06-02 {9 + minutes // 60:02d}:{minutes % 60:02d}:00"
                if answered
                else None,
            }
        )
    insert(ws, "leads", rows)


def test_lead_response_sla_by_team(tmp_path: Path) -> None:
    ws = new_ws(tmp_path)
    _teams(ws, {"A": 1, "B": 1, "C": 1})
    _leads(ws, "A", 50, answered_within=10)  # 20% within SLA
    _leads(ws, "B", 50, answered_within=40)
    _leads(ws, "C", 50, answered_within=40)
    (f,) = _alarms(ws, "lead_response_sla")
    assert f.scope == {"team": "A"} and f.step == "alignment"
    assert (f.evidence["n"], f.evidence["value"], f.evidence["baseline"]) == (50, 0.2, 0.8)
    assert f.severity == "error"  # gap .6 ≥ 2 × .15


def test_untouched_leads_by_source(tmp_path: Path) -> None:
    ws = new_ws(tmp_path)
    _teams(ws, {"A": 1})
    _leads(ws, "A", 40, answered_within=40, untouched=16, source="展示会")  # 40% untouched
    _leads(ws, "A", 80, answered_within=80, untouched=4, source="Web")  # 5%
    (f,) = _alarms(ws, "untouched_leads")
    assert f.scope == {"source": "展示会"}
    assert (f.evidence["value"], f.evidence["baseline"]) == (0.4, 0.05)


def _opp_rows(team: str, n: int, prefix: str, **fields: object) -> list[dict[str, object]]:
    return [
        {
            "opportunity_id": f"{prefix}{team}-{i}",
            "owner_rep_id": f"{team}0",
            "amount": 100,
            "created_at": "2025-04-10 10:00:00",
            **fields,
        }
        for i in range(n)
    ]


def test_slippage_by_rep_uses_the_first_expected_close_date(tmp_path: Path) -> None:
    ws = new_ws(tmp_path)
    _teams(ws, {"A": 1, "B": 1})
    # A: 20 deals expected 2025-06-30, pushed once to 2025-09-30; 16 close after June 30.
    a = _opp_rows("A", 20, "o", expected_close_date="2025-09-30", status="won")
    for i, r in enumerate(a):
        r["closed_at"] = "2025-08-01 10:00:00" if i < 16 else "2025-06-15 10:00:00"
    insert(ws, "opportunities", a)
    insert(
        ws,
        "opportunity_changes",
        [
            {
                "opportunity_id": r["opportunity_id"],
                "changed_at": "2025-06-20 10:00:00",
                "field": "expected_close_date",
                "old_value": "2025-06-30",
                "new_value": "2025-09-30",
            }
            for r in a
        ],
    )
    b = _opp_rows(
        "B",
        40,
        "o",
        expected_close_date="2025-06-30",
        status="won",
        closed_at="2025-06-10 10:00:00",
    )
    insert(ws, "opportunities", b)
    (f,) = _alarms(ws, "slippage_by_rep")
    assert f.scope == {"rep_id": "A0"}
    assert (f.evidence["n"], f.evidence["value"], f.evidence["baseline"]) == (20, 0.8, 0.0)


def test_handoff_delay_compares_medians(tmp_path: Path) -> None:
    ws = new_ws(tmp_path)
    _teams(ws, {"A": 1, "B": 1}, role="closer")
    insert(ws, "reps", [{"rep_id": "S", "team": "IS", "role": "sdr", "hire_date": "2020-04-01"}])
    opps, acts = [], []
    for team, days in (("A", (6, 8)), ("B", (1, 2))):
        for i in range(20):
            oid = f"{team}-{i}"
            opps.append(
                {
                    "opportunity_id": oid,
                    "owner_rep_id": f"{team}0",
                    "sdr_rep_id": "S",
                    "amount": 100,
                    "created_at": "2025-05-01 10:00:00",
                    "status": "open",
                }
            )
            d = days[i % 2]
            acts.append(
                {
                    "activity_id": f"m{oid}",
                    "rep_id": f"{team}0",
                    "type": "meeting",
                    "occurred_at": f"2025-05-{1 + d:02d} 10:00:00",
                    "opportunity_id": oid,
                }
            )
    insert(ws, "opportunities", opps)
    insert(ws, "activities", acts)
    (f,) = _alarms(ws, "handoff_delay")
    # medians of an even count average the middle two: A (6+8)/2 = 7, B (1+2)/2 = 1.5
    assert f.scope == {"rep_id": "A0"}
    assert (f.evidence["value"], f.evidence["baseline"]) == (7.0, 1.5)


def test_admin_time_needs_a_gap_to_peers_and_a_missed_target(tmp_path: Path) -> None:
    ws = new_ws(tmp_path)
    _teams(ws, {"A": 4, "B": 4, "C": 4})
    rows = []
    for team, admin in (("A", 4.0), ("B", 1.5), ("C", 1.5)):
        for i in range(4):
            for cat, h in (("admin", admin + i * 0.1), ("selling", 8 - admin - i * 0.1)):
                rows.append(
                    {"rep_id": f"{team}{i}", "date": "2025-07-01", "category": cat, "hours": h}
                )
    insert(ws, "time_entries", rows)
    (f,) = _alarms(ws, "admin_time")
    assert f.scope == {"team": "A"}
    # A's shares 4.0/8 … 4.3/8 → median (4.1 + 4.2)/2 / 8; others' median (1.6 + 1.6)/2/8 …
    assert f.evidence["value"] == pytest.approx(4.15 / 8, abs=1e-4)
    assert f.evidence["baseline"] == pytest.approx(1.65 / 8, abs=1e-4)


def test_intervention_effect_verdict_and_interval(tmp_path: Path) -> None:
    ws = new_ws(tmp_path)
    _teams(ws, {"T": 1, "C": 1})
    rows = []
    for team, before, after in (("T", 120, 20), ("C", 120, 110)):
        for k, (day, minutes) in enumerate([("2024-10", before), ("2025-06", after)]):
            for i in range(60):
                m = minutes + (i % 7)
                rows.append(
                    {
                        "lead_id": f"{team}{k}-{i}",
                        "created_at": f"{day}-10 09:00:00",
                        "mql_at": f"{day}-10 09:00:00",
                        "owner_rep_id": f"{team}0",
                        "first_response_at": f"{day}-10 {9 + m // 60:02d}:{m % 60:02d}:00",
                    }
                )
    insert(ws, "leads", rows)
    insert(
        ws,
        "interventions",
        [
            {
                "intervention_id": "I1",
                "name": "SDR",
                "started_at": "2025-04-01 00:00:00",
                "scope": "T",
            }
        ],
    )
    (f,) = diagnose(ws, FY, check_ids=["intervention_effect"])
    # DiD of medians: (23 − 123) − (113 − 123) = −90 minutes, every resample the same sign
    assert f.evidence["verdict"] == "worked" and f.severity == "info"
    assert f.evidence["estimate"] == -90.0
    assert f.evidence["ci_high"] < 0


def test_missing_close_dates_and_stale_deals(tmp_path: Path) -> None:
    ws = new_ws(tmp_path)
    _teams(ws, {"A": 1, "B": 1})
    insert(
        ws,
        "opportunities",
        _opp_rows("A", 30, "o", status="open")
        + _opp_rows("B", 30, "o", status="open", expected_close_date="2026-06-30"),
    )
    insert(
        ws,
        "activities",
        [
            {
                "activity_id": f"a{i}",
                "rep_id": "B0",
                "type": "call",
                "occurred_at": "2026-03-01 10:00:00",
                "opportunity_id": f"oB-{i}",
            }
            for i in range(30)
        ],
    )
    (missing,) = _alarms(ws, "missing_close_dates")
    assert missing.scope == {"team": "A"} and missing.evidence["value"] == 1.0
    (stale,) = _alarms(ws, "stale_deals")
    assert stale.scope == {"team": "A"} and stale.evidence["baseline"] == 0.0


def test_win_rate_trend_against_the_teams_own_previous_period(tmp_path: Path) -> None:
    ws = new_ws(tmp_path)
    _teams(ws, {"A": 1, "B": 1})
    rows = []
    for team, before, now in (("A", 20, 6), ("B", 12, 12)):
        for year, won in (("2024", before), ("2025", now)):
            for i in range(40):
                rows.append(
                    {
                        "opportunity_id": f"{team}{year}-{i}",
                        "owner_rep_id": f"{team}0",
                        "amount": 100,
                        "type": "new",
                        "created_at": f"{year}-05-01 10:00:00",
                        "closed_at": f"{year}-06-01 10:00:00",
                        "status": "won" if i < won else "lost",
                    }
                )
    insert(ws, "opportunities", rows)
    (f,) = _alarms(ws, "kpi_trend_by_team")
    assert f.scope == {"team": "A"}
    assert (f.evidence["value"], f.evidence["baseline"], f.evidence["baseline_n"]) == (
        0.15,
        0.5,
        40,
    )


def test_handoff_loss_compares_closers_on_sdr_sourced_deals(tmp_path: Path) -> None:
    ws = new_ws(tmp_path)
    _teams(ws, {"A": 1, "B": 1, "C": 1}, role="closer")
    rows = []
    for team, won in (("A", 4), ("B", 16), ("C", 16)):
        rows += _opp_rows(
            team, 40, "h", sdr_rep_id="S1", closed_at="2025-06-01 10:00:00", status="lost"
        )
        for r in rows[-40:][:won]:
            r["status"] = "won"
    insert(ws, "opportunities", rows)
    (f,) = _alarms(ws, "handoff_loss")
    assert f.scope == {"rep_id": "A0"} and f.step == "specialization"
    assert (f.evidence["value"], f.evidence["baseline"]) == (0.1, 0.4)


def test_selling_hours_per_win_within_the_same_role(tmp_path: Path) -> None:
    ws = new_ws(tmp_path)
    _teams(ws, {"A": 3, "B": 3, "C": 3})
    _teams(ws, {"AM": 3}, role="account_manager")  # a different role: never A's baseline
    opps, hours = [], []
    for team, wins, selling in (
        ("A", 2, 200.0),
        ("B", 4, 100.0),
        ("C", 4, 100.0),
        ("AM", 10, 100.0),
    ):
        for i in range(3):
            rep = f"{team}{i}"
            hours.append(
                {"rep_id": rep, "date": "2025-07-01", "category": "selling", "hours": selling / 10}
            )
            for k in range(wins):
                opps.append(
                    {
                        "opportunity_id": f"{rep}-{k}",
                        "owner_rep_id": rep,
                        "amount": 1,
                        "created_at": "2025-05-01 10:00:00",
                        "closed_at": "2025-06-01 10:00:00",
                        "status": "won",
                    }
                )
    insert(ws, "time_entries", hours)
    insert(ws, "opportunities", opps)
    (f,) = _alarms(ws, "selling_hours_per_win")
    # A: 20 h ÷ 2 wins = 10 h per win; B and C: 10 h ÷ 4 = 2.5 (AM, 1 h per win, is another
    # role and never A's baseline). Relative gap (10 − 2.5) / 2.5 = 3 ≥ 2 × 0.4, but 3 reps
    # against 6 cannot reach q < .01 with Mann–Whitney: a warning, not an error.
    assert f.scope == {"team": "A"} and f.evidence["role"] == "generalist"
    assert (f.evidence["value"], f.evidence["baseline"]) == (10.0, 2.5)
    assert f.severity == "warn"


def test_kpi_regression_reads_the_latest_monitoring_snapshot(tmp_path: Path) -> None:
    from eigyo import workspace
    from eigyo.ingest import import_path
    from eigyo.monitor import take_snapshot
    from tests.test_monitor import MONITOR, _write_inputs

    ws = workspace.init(tmp_path / "w")
    cfg = ws.path / "eigyo.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8") + MONITOR, encoding="utf-8")
    import_path(ws, _write_inputs(tmp_path / "in"))  # team A's response slows by 40 min
    period = parse_period("FY2025")
    (before,) = diagnose(ws, period, check_ids=["kpi_regression"])
    assert (before.severity, before.evidence["status"]) == ("info", "no_snapshot")
    take_snapshot(ws, period)
    found = diagnose(ws, period, check_ids=["kpi_regression"])
    assert {json_key(f.scope) for f in found} == {"team=A", ""}
    team_a = next(f for f in found if f.scope == {"team": "A"})
    assert team_a.metric == "lead_response_minutes" and team_a.step == "monitor"
    assert team_a.evidence["z"] >= 3 and team_a.severity in ("warn", "error")
    assert "分" in team_a.title["ja"] and "min" in team_a.title["en"]


def json_key(scope: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(scope.items()))


def _closed_for(ws, rep: str, won: int, lost: int, **fields: object) -> None:
    insert(
        ws,
        "opportunities",
        [
            {
                "opportunity_id": f"{rep}-{i}",
                "owner_rep_id": rep,
                "amount": 100,
                "type": "new",
                "created_at": "2025-05-01 10:00:00",
                "closed_at": "2025-09-01 10:00:00",
                "status": "won" if i < won else "lost",
                **fields,
            }
            for i in range(won + lost)
        ],
    )


def test_untrained_new_reps_against_trained_new_reps(tmp_path: Path) -> None:
    ws = new_ws(tmp_path)
    insert(
        ws,
        "reps",
        [
            {"rep_id": r, "team": t, "role": "generalist", "hire_date": "2025-04-01"}
            for r, t in (("u1", "F"), ("u2", "F"), ("t1", "T"), ("t2", "T"), ("old", "T"))
        ],
    )
    insert(
        ws,
        "reps",
        [{"rep_id": "vet", "team": "T", "role": "generalist", "hire_date": "2015-04-01"}],
    )
    # t1, t2 finished a training within 90 days of hire: they are the baseline.
    insert(
        ws,
        "trainings",
        [
            {
                "rep_id": r,
                "program": "新人オンボーディング研修",
                "completed_at": "2025-05-15 10:00:00",
            }
            for r in ("t1", "t2")
        ],
    )
    for rep, won in (("u1", 3), ("u2", 3), ("t1", 12), ("t2", 12)):
        _closed_for(ws, rep, won=won, lost=30 - won)
    _closed_for(ws, "vet", won=2, lost=28)  # not new: never in either group
    (f,) = _alarms(ws, "untrained_new_reps")
    assert f.scope == {"team": "F"} and f.step == "enablement"
    assert (f.evidence["n"], f.evidence["value"], f.evidence["baseline"]) == (60, 0.1, 0.4)
    assert f.evidence["baseline_n"] == 60


def test_capability_gap_against_the_role_profile(tmp_path: Path) -> None:
    ws = new_ws(tmp_path)
    _teams(ws, {"A": 4, "B": 4, "C": 4})
    rows = []
    for team, level in (("A", 1), ("B", 3), ("C", 3)):
        for i in range(4):
            for cap in ("ヒアリング", "提案力"):
                rows.append(
                    {
                        "rep_id": f"{team}{i}",
                        "capability": cap,
                        "level": level,
                        "assessed_at": "2025-10-01 10:00:00",
                    }
                )
    insert(ws, "assessments", rows)
    (f,) = _alarms(ws, "capability_gap")
    # default required level 3: A's reps miss 2 points on each of 2 capabilities = 4
    assert f.scope == {"team": "A"}
    assert (f.evidence["value"], f.evidence["baseline"]) == (4.0, 0.0)


def test_underserved_segment_wins_more_with_few_deals(tmp_path: Path) -> None:
    ws = new_ws(tmp_path)
    _teams(ws, {"A": 1})
    insert(
        ws,
        "accounts",
        [
            {"account_id": "m", "industry": "製造業"},
            {"account_id": "r", "industry": "小売"},
            {"account_id": "s", "industry": "サービス"},
        ],
    )
    rows = []
    for ind, acc, n, won in (("m", "m", 40, 24), ("r", "r", 300, 75), ("s", "s", 300, 75)):
        for i in range(n):
            rows.append(
                {
                    "opportunity_id": f"{ind}{i}",
                    "owner_rep_id": "A0",
                    "account_id": acc,
                    "amount": 100,
                    "type": "new",
                    "created_at": "2025-05-01 10:00:00",
                    "closed_at": "2025-06-01 10:00:00",
                    "status": "won" if i < won else "lost",
                }
            )
    insert(ws, "opportunities", rows)
    (f,) = _alarms(ws, "underserved_segment")
    # 製造業 wins 24/40 = 60% against 150/600 = 25%, with 40/640 = 6.25% of the deals (< 10%)
    assert f.scope == {"industry": "製造業"} and f.severity == "warn"
    assert (f.evidence["value"], f.evidence["baseline"], f.evidence["share"]) == (0.6, 0.25, 0.0625)


def test_two_warnings_of_one_column_are_two_findings_with_two_ids(tmp_path: Path) -> None:
    """A blank amount and an outlier amount in the same column (as the public Maven CRM data
    gives) are two findings of the import check, with two ids: the records page and the
    overlaps read a finding by its id."""
    from eigyo import workspace
    from eigyo.ingest import import_path

    src = tmp_path / "in"
    src.mkdir()
    (src / "reps.csv").write_text(
        "rep_id,team,role,hire_date\nr1,A,generalist,2020-04-01\n", encoding="utf-8"
    )
    amounts = ["", "", "", *(["1000"] * 16), "9000000000000"]  # 3 blank, 1 outlier
    rows = ["opportunity_id,owner_rep_id,amount,created_at,status"]
    rows += [f"o{i},r1,{a},2025-05-01,open" for i, a in enumerate(amounts)]
    (src / "opportunities.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    ws = workspace.init(tmp_path / "w")
    import_path(ws, src)
    found = [f for f in diagnose(ws, FY, check_ids=["import_quality"])]
    amount = [f for f in found if f.scope == {"table": "opportunities", "column": "amount"}]
    assert sorted(f.evidence["code"] for f in amount) == ["blank", "outlier"]
    assert len({f.id for f in found}) == len(found)


def test_import_quality_reports_warnings_recorded_by_the_importer(tmp_path: Path) -> None:
    from eigyo import workspace
    from eigyo.ingest import import_path

    src = tmp_path / "in"
    src.mkdir()
    (src / "reps.csv").write_text(
        "rep_id,team,role,hire_date\nr1,A,generalist,2020-04-01\n", encoding="utf-8"
    )
    rows = ["opportunity_id,owner_rep_id,amount,created_at,status"]
    rows += [f"o{i},{'ghost' if i < 2 else 'r1'},1000,2025-05-01,open" for i in range(10)]
    (src / "opportunities.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    ws = workspace.init(tmp_path / "w")
    import_path(ws, src)
    (f,) = [f for f in diagnose(ws, FY, check_ids=["import_quality"])]
    assert f.scope == {"table": "opportunities", "column": "owner_rep_id"}
    assert f.severity == "warn" and f.step == "data"
    assert (f.evidence["n"], f.evidence["rows"], f.evidence["value"]) == (2, 10, 0.2)
    assert f.evidence["code"] == "unknown_reference"
