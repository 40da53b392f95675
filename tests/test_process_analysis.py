"""Funnel, leakage, time in stage, stuck deals, rework and bottlenecks on the hand-made
histories of :mod:`tests.test_process_data`, every expected value worked out by hand."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from eigyo.analysis.process.bottleneck import bottlenecks
from eigyo.analysis.process.dwell import stuck_deals, time_in_stage
from eigyo.analysis.process.funnel import funnel, leakage
from eigyo.analysis.process.rework import (
    lead_to_opportunity,
    move_summary,
    rework_by_rep,
    skipped_stages,
)
from eigyo.base.periods import parse_period
from eigyo.errors import InputError
from eigyo.workspace import Workspace, open_workspace
from tests._rows import insert
from tests.test_process_data import company

MAY = parse_period("2025-05")


def _steps(ws: Workspace, by: str | None = None) -> dict[tuple[str, str], tuple[object, ...]]:
    f = funnel(ws, MAY, by)
    return {(s.group, s.stage): (s.reached, s.next_rate, s.cumulative) for s in f.steps}


def test_cohort_funnel_counts_skipped_stages_as_passed(tmp_path: Path) -> None:
    with company(tmp_path) as ws:
        f = funnel(ws, MAY)
        steps = _steps(ws)
    # furthest listed, non-lost stage: O1 O3 O5 O8 商談, O2 評価, O4 受注 (skipping 交渉), O6 none
    assert f.created == {"(all)": 7}
    assert steps == {
        ("(all)", "見込み"): (6, None, 1.0),
        ("(all)", "評価"): (6, 1.0, 1.0),
        ("(all)", "商談"): (5, 5 / 6, 5 / 6),
        ("(all)", "提案"): (1, 1 / 5, 1 / 6),
        ("(all)", "交渉"): (1, 1.0, 1 / 6),
        ("(all)", "受注"): (1, 1.0, 1 / 6),
    }


def test_funnel_by_team(tmp_path: Path) -> None:
    with company(tmp_path) as ws:
        f = funnel(ws, MAY, "team")
        steps = _steps(ws, "team")
    assert f.created == {"A": 3, "B": 4}
    assert steps[("A", "商談")] == (2, 2 / 3, 2 / 3)
    assert steps[("A", "提案")] == (0, 0.0, 0.0)
    assert steps[("A", "交渉")] == (0, None, 0.0)  # nothing reached the step before
    assert steps[("B", "提案")] == (1, 1 / 3, 1 / 3)
    with pytest.raises(InputError, match="Use one of team"):
        funnel(ws, MAY, "colour")


def test_leakage_in_count_yen_and_reasons(tmp_path: Path) -> None:
    with company(tmp_path) as ws:
        insert(  # lost without any history and without a reason
            ws,
            "opportunities",
            [
                {
                    "opportunity_id": "O9",
                    "owner_rep_id": "R2",
                    "amount": 900,
                    "status": "lost",
                    "created_at": "2025-05-02 00:00:00",
                    "closed_at": "2025-05-09 00:00:00",
                }
            ],
        )
        leaks = leakage(ws, MAY)
    got = {(x.stage, x.lost, x.lost_jpy): x.reasons for x in leaks}
    # O2 dropped from 評価 to 失注; O4 also dropped from 提案 once but was won in the end
    assert got == {("(none)", 1, 900.0): {"(unknown)": 1}, ("評価", 1, 200.0): {"価格": 1}}


def test_time_in_stage_median_and_p90(tmp_path: Path) -> None:
    with company(tmp_path) as ws:
        got = {d.stage: (d.stays, d.median_days, d.p90_days) for d in time_in_stage(ws, MAY)}
    # p90 is continuous: position 0.9 × (n − 1) between the sorted stays
    assert got == {
        "見込み": (4, 1.5, pytest.approx(2.7)),  # 0 1 2 3
        "評価": (4, 1.75, pytest.approx(2.7)),  # 1 1.5 2 3
        "商談": (1, 1.0, 1.0),
        "提案": (2, 3.0, pytest.approx(3.8)),  # 2 4
        "Demo": (1, 1.0, 1.0),
    }
    assert list(got) == ["見込み", "評価", "商談", "提案", "Demo"]


def test_stuck_deals_exceed_the_stages_p90(tmp_path: Path) -> None:
    with company(tmp_path) as ws:
        stuck = stuck_deals(ws, datetime(2025, 5, 20), min_stays=1)
    got = [(s["opportunity_id"], s["stage"], s["days_in_stage"]) for s in stuck]
    # open on 05-20: O1 O3 O5 O6 O7 O8 (O2 and O4 closed); O6 has no stage
    assert got == [
        ("O7", "評価", 78.0),  # since 03-03; 評価's p90 2.7
        ("O3", "商談", 17.5),  # 商談's p90 is 1 (its only finished stay, O8's)
        ("O1", "商談", 16.0),
        ("O5", "商談", 16.0),
        ("O8", "商談", 15.0),
    ]
    assert stuck[0]["over_days"] == pytest.approx(78 - 2.7)
    with company(tmp_path / "again") as ws:
        assert stuck_deals(ws, datetime(2025, 5, 20)) == []  # fewer than 5 stays: no threshold


def test_moves_backward_reopened_skipped(tmp_path: Path) -> None:
    with company(tmp_path) as ws:
        summary = move_summary(ws, MAY)
        skipped = skipped_stages(ws, MAY)
        reps = rework_by_rep(ws, MAY)
    head = [(m["from_stage"], m["to_stage"], m["move"], m["count"]) for m in summary[:3]]
    assert head == [
        ("商談", "評価", "backward", 1),
        ("失注", "提案", "reopened", 1),
        ("提案", "受注", "skip", 1),
    ]
    moves = {(m["from_stage"], m["to_stage"]): m["move"] for m in summary}
    assert moves[("見込み", "Demo")] == moves[("Demo", "商談")] == "unlisted"
    assert moves[("評価", "失注")] == "lost" and moves[("見込み", "評価")] == "forward"
    assert skipped == {"交渉": 1}
    assert [(r["rep_id"], r["deals"], r["backward"], r["reopened"]) for r in reps] == [
        ("R2", 3, 1, 1),
        ("R1", 3, 0, 0),
    ]
    assert reps[0]["rework_rate"] == 2 / 3


def test_lead_to_opportunity_delay(tmp_path: Path) -> None:
    with company(tmp_path) as ws:
        insert(
            ws,
            "leads",
            [
                {
                    "lead_id": "L1",
                    "created_at": "2025-04-29 00:00:00",
                    "source": "Web",
                    "opportunity_id": "O1",
                },
                {"lead_id": "L2", "created_at": "2025-04-30 12:00:00", "source": "紹介"},
            ],
        )
        ws.raw.execute("UPDATE opportunities SET lead_id = 'L2' WHERE opportunity_id = 'O3'")
        got = {r["source"]: (r["n"], r["median_days"]) for r in lead_to_opportunity(ws, MAY)}
    assert got == {"Web": (1, 2.0), "紹介": (1, 0.5)}


def test_bottleneck_against_target_in_yen(tmp_path: Path) -> None:
    company(tmp_path).close()
    cfg = tmp_path / "w" / "eigyo.toml"
    cfg.write_text(
        cfg.read_text(encoding="utf-8") + '"conversion.提案" = 0.75\n"dwell_days.提案" = 2\n',
        encoding="utf-8",
    )
    with open_workspace(tmp_path / "w") as ws:
        ranked = bottlenecks(ws, MAY, min_n=1)
    top = ranked[0]
    # 提案: O4 decided twice (dropped, then advanced after reopening): conversion 1/2; the
    # advanced stay took 4 days; deals advancing from 提案 won 1 of 1 closed; avg won ¥400.
    # target gap: 2 × (0.75 − 0.5) × ¥400 = ¥200, plus 1 × ¥400 × (4 − 2) days ÷ 31 days
    assert (top.stage, top.top, top.basis) == ("提案", True, "target")
    assert (top.decided, top.conversion, top.dwell_days, top.win_after) == (2, 0.5, 4.0, 1.0)
    assert top.impact_jpy == pytest.approx(200 + 800 / 31)
    assert top.gaps["peers"]["jpy"] == 0.0  # team B is the only team: no gap to itself
    assert top.gaps["history"]["conversion"] is None  # April has no cohort
    assert all(not b.top and b.impact_jpy == 0.0 for b in ranked[1:])  # nothing else closed
