"""Pipeline as of a day, the change waterfall and close-date pushes, on the hand-made company of
:mod:`tests.test_process_data` plus these field changes (all values worked out by hand):

- O1 amount 50 → 100 on 05-10; close date 05-31 → 06-15 on 05-02, 06-15 → 07-15 on 05-12
- O3 close date 06-30 → 06-10 on 05-03 (pulled in)
- O5 close date 05-01 → 05-20 on 04-20 (a push outside May)
- current close dates: O1 07-15, O3 06-10, O4 05-10, O5 05-20, O8 06-20
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from eigyo.analysis.process.pipeline import pipeline_by_stage, waterfall
from eigyo.analysis.process.process_map import process_map
from eigyo.analysis.process.sankey import process_figure
from eigyo.analysis.process.slippage import pushes
from eigyo.base.periods import parse_period
from eigyo.cli import main
from eigyo.workspace import Workspace
from tests._rows import insert
from tests.test_process_data import company

MAY = parse_period("2025-05")
CHANGES = [
    ("O1", "2025-05-10", "amount", "50", "100"),
    ("O1", "2025-05-02", "expected_close_date", "2025-05-31", "2025-06-15"),
    ("O1", "2025-05-12", "expected_close_date", "2025-06-15", "2025-07-15"),
    ("O3", "2025-05-03", "expected_close_date", "2025-06-30", "2025-06-10"),
    ("O5", "2025-04-20", "expected_close_date", "2025-05-01", "2025-05-20"),
]
CLOSE = {
    "O1": "2025-07-15",
    "O3": "2025-06-10",
    "O4": "2025-05-10",
    "O5": "2025-05-20",
    "O8": "2025-06-20",
}


def _company(tmp_path: Path) -> Workspace:
    ws = company(tmp_path)
    insert(
        ws,
        "opportunity_changes",
        [
            {
                "opportunity_id": o,
                "changed_at": f"{at} 09:00:00",
                "field": f,
                "old_value": old,
                "new_value": new,
            }
            for o, at, f, old, new in CHANGES
        ],
    )
    for oid, d in CLOSE.items():
        ws.raw.execute(
            "UPDATE opportunities SET expected_close_date = ? WHERE opportunity_id = ?", [d, oid]
        )
    return ws


def test_pipeline_by_stage_as_of_a_day(tmp_path: Path) -> None:
    with _company(tmp_path) as ws:
        got = pipeline_by_stage(ws, date(2025, 5, 5))
    # open at the end of 05-05: O1 (¥50 then) O3 O4 (closes 05-10) O5 O6 O7 O8; O2 closed 05-05
    assert [(r["stage"], r["deals"], r["amount"]) for r in got] == [
        ("商談", 4, 1650.0),  # O1 50 + O3 300 + O5 500 + O8 800 (back in 商談 on 05-05)
        ("評価", 1, 700.0),  # O7
        ("(none)", 1, 600.0),  # O6 has no history
        ("失注", 1, 400.0),  # O4 sat in 失注 on 05-05 before being reopened
    ]


def test_waterfall_reconciles_to_the_yen(tmp_path: Path) -> None:
    with _company(tmp_path) as ws:
        w = waterfall(ws, date(2025, 5, 5), date(2025, 5, 31))
    assert w.start == (7, 3350.0) and w.end == (6, 3000.0)
    moved = {k: v for k, v in w.steps.items() if v != (0, 0.0)}
    assert moved == {"won": (1, -400.0), "amount_up": (1, 50.0)}  # O4 won, O1 50 → 100
    assert w.start[1] + sum(a for _, a in w.steps.values()) == w.end[1]


def test_waterfall_in_a_close_window(tmp_path: Path) -> None:
    with _company(tmp_path) as ws:
        w = waterfall(ws, date(2025, 5, 5), date(2025, 5, 31), parse_period("2025-06"))
    # June closers on 05-05: O1 (06-15) O3 (06-10) O8 (06-20); O1 pushed to 07-15 on 05-12
    assert w.start == (3, 1150.0) and w.end == (2, 1100.0)
    assert {k: v for k, v in w.steps.items() if v != (0, 0.0)} == {"pushed_out": (1, -50.0)}


def test_close_date_pushes_by_rep_and_team(tmp_path: Path) -> None:
    with _company(tmp_path) as ws:
        reps = pushes(ws, MAY)
        teams = pushes(ws, MAY, "team")
    assert reps == [
        {
            "rep_id": "R1",
            "pushes": 2,
            "deals_pushed": 1,
            "days_pushed": 45.0,
            "median_push_days": 22.5,
            "pull_ins": 0,
            "amount_pushed": 100.0,
            "deals_without_amount": 0,
            "amount_reason": None,
        },
        {
            "rep_id": "R2",
            "pushes": 0,
            "deals_pushed": 0,
            "days_pushed": 0.0,
            "median_push_days": None,
            "pull_ins": 1,
            "amount_pushed": 0.0,  # no deal pushed: ¥0 is a fact
            "deals_without_amount": 0,
            "amount_reason": None,
        },
    ]
    assert [(t["team"], t["pushes"]) for t in teams] == [("A", 2), ("B", 0)]


def test_pushed_amounts_sum_the_known_and_count_the_unknown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # O1 (R1, pushed twice) and O6 (R2) have no amount; O6 06-01 → 06-30 on 05-20 (29 days)
    # and O8 (R2, ¥800) 06-10 → 06-20 on 05-15 (10 days) are pushed in May too
    with _company(tmp_path) as ws:
        ws.raw.execute("UPDATE opportunities SET amount = NULL WHERE opportunity_id IN ('O1','O6')")
        insert(ws, "opportunity_changes", [
            {"opportunity_id": o, "changed_at": f"{at} 09:00:00",
             "field": "expected_close_date", "old_value": old, "new_value": new}
            for o, at, old, new in (("O6", "2025-05-20", "2025-06-01", "2025-06-30"),
                                    ("O8", "2025-05-15", "2025-06-10", "2025-06-20"))
        ])  # fmt: skip
        reps = pushes(ws, MAY)
        teams = pushes(ws, MAY, "team")
        # independent: each pushed deal once, its amount today (NULL when unknown)
        known, without = ws.raw.execute(
            "SELECT sum(o.amount), count(*) - count(o.amount) FROM opportunities o WHERE"
            " o.opportunity_id IN (SELECT opportunity_id FROM opportunity_changes WHERE field ="
            " 'expected_close_date' AND changed_at >= '2025-05-01' AND changed_at < '2025-06-01'"
            " AND try_cast(new_value AS DATE) > try_cast(old_value AS DATE))"
        ).fetchone() or (None, None)
    keys = ("pushes", "deals_pushed", "days_pushed", "pull_ins", "amount_pushed",
            "deals_without_amount", "amount_reason")  # fmt: skip
    assert [(r["rep_id"], *(r[k] for k in keys)) for r in reps] == [
        ("R1", 2, 1, 45.0, 0, None, 1, "no_amounts"),  # O1 alone, no amount: not ¥0
        ("R2", 2, 2, 39.0, 1, 800.0, 1, None),  # O8 ¥800 + O6 unknown
    ]
    assert [(r["team"], r["amount_pushed"], r["deals_without_amount"]) for r in teams] == [
        ("A", None, 1), ("B", 800.0, 1),
    ]  # fmt: skip
    assert (known, without) == (800.0, 2)
    args = ["pipeline", "-w", str(tmp_path / "w"), "--as-of", "2025-05-31", "-p", "2025-05"]
    main([*args, "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert doc["slippage"]["rep_id"][0]["amount_reason"] == "no_amounts"
    for lang, na in (("ja", "利用できません（金額なし）"), ("en", "Not available (no amounts)")):
        main([*args, "--lang", lang])
        out = capsys.readouterr().out
        r1 = next(r for r in out.splitlines() if "R1" in r and "45" in r)
        r2 = next(r for r in out.splitlines() if "R2" in r and "39" in r)
        assert na in r1 and "¥0" not in r1 and "¥800" in r2


def test_cli_pipeline_and_funnel_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _company(tmp_path).close()
    w = str(tmp_path / "w")
    main(
        [
            "pipeline",
            "-w",
            w,
            "--as-of",
            "2025-05-31",
            "--from",
            "2025-05-05",
            "--period",
            "2025-05",
            "--format",
            "json",
        ]
    )
    doc = json.loads(capsys.readouterr().out)
    assert doc["waterfall"]["end"] == {
        "deals": 6, "amount": 3000.0, "deals_without_amount": 0, "amount_reason": None,
    }  # fmt: skip
    assert doc["slippage"]["rep_id"][0]["days_pushed"] == 45.0
    main(["funnel", "-w", w, "-p", "2025-05", "--by", "team", "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert doc["created"] == {"A": 3, "B": 4}
    assert {"funnel", "leakage", "time_in_stage", "bottlenecks", "rework"} <= set(doc)
    with pytest.raises(SystemExit) as e:
        main(["pipeline", "-w", w, "--as-of", "31/05/2025"])
    assert e.value.code == 2
    with pytest.raises(SystemExit) as e:
        main(["funnel", "-w", w, "-p", "2025-05", "--by", "colour"])
    assert e.value.code == 1


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_cli_text_tables(tmp_path: Path, capsys: pytest.CaptureFixture[str], lang: str) -> None:
    _company(tmp_path).close()
    w = str(tmp_path / "w")
    main(["funnel", "-w", w, "-p", "2025-05", "--lang", lang])
    main(
        [
            "pipeline",
            "-w",
            w,
            "--as-of",
            "2025-05-31",
            "--from",
            "2025-05-05",
            "-p",
            "2025-05",
            "--lang",
            lang,
        ]
    )
    out = capsys.readouterr().out
    assert ("受注" if lang == "ja" else "Won") in out and "¥3,000" in out


def test_sankey_figure_has_counts_and_durations(tmp_path: Path) -> None:
    with company(tmp_path) as ws:
        pm = process_map(ws, MAY)
    fig = process_figure(pm, "en")
    link = fig.data[0].link
    # the 9 transitions; none is a self-loop here
    assert sum(link.value) == 13 and len(link.value) == 9
    assert any("median 1.8" in h or "median 2.0" in h for h in link.customdata)
    assert "Process map" in fig.layout.title.text
