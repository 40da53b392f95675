"""The forecast call (eigyo.analysis.data.forecast_calls) against independent SQL, the CRM's
forecast category through the presets, and workspaces made before the column existed.

The independent path is one plain DuckDB query per check, written from the rule in the module's
docstring (state as of a day from the change history, the stage's win rate, the thresholds), not
from the module's Ibis expressions.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from eigyo.analysis.data.forecast_calls import (
    BEST_CASE_RATE,
    COMMIT_RATE,
    MIN_STAGE_DEALS,
    accuracy_by_month,
    categorized,
    rollup,
)
from eigyo.base.periods import parse_period
from eigyo.engines._base import canonical_columns, select_sql, table_columns
from eigyo.ingest import import_path
from eigyo.workspace import open_workspace
from tests._forecast_rows import UNDATED_ROWS
from tests._ingest_util import rows, write
from tests._rows import insert, new_ws

#: The state of every deal at the end of day :day, from the change history (docs: "as of D").
STATE_SQL = """
WITH ch AS (SELECT * FROM opportunity_changes),
v AS (
  SELECT o.opportunity_id, o.owner_rep_id, o.status, o.closed_at, o.created_at,
    coalesce(
      (SELECT new_value FROM ch WHERE ch.opportunity_id = o.opportunity_id AND ch.field = 'amount'
         AND ch.changed_at < $end ORDER BY changed_at DESC LIMIT 1),
      (SELECT old_value FROM ch WHERE ch.opportunity_id = o.opportunity_id AND ch.field = 'amount'
         AND ch.changed_at >= $end ORDER BY changed_at LIMIT 1),
      CAST(o.amount AS VARCHAR))::DOUBLE AS amount,
    coalesce(
      (SELECT new_value FROM ch WHERE ch.opportunity_id = o.opportunity_id
         AND ch.field = 'expected_close_date' AND ch.changed_at < $end
         ORDER BY changed_at DESC LIMIT 1),
      (SELECT old_value FROM ch WHERE ch.opportunity_id = o.opportunity_id
         AND ch.field = 'expected_close_date' AND ch.changed_at >= $end
         ORDER BY changed_at LIMIT 1),
      CAST(o.expected_close_date AS VARCHAR))::DATE AS close_date,
    (SELECT stage FROM stage_history s WHERE s.opportunity_id = o.opportunity_id
       AND s.entered_at < $end ORDER BY entered_at DESC LIMIT 1) AS stage
  FROM opportunities o WHERE o.created_at < $end
),
rates AS (
  SELECT s.stage, count(*) AS closed, avg((o.status = 'won')::INT) AS rate
  FROM (SELECT DISTINCT opportunity_id, stage FROM stage_history WHERE entered_at < $end) s
  JOIN opportunities o USING (opportunity_id)
  WHERE o.status IN ('won', 'lost') AND o.closed_at < $end GROUP BY 1
)
SELECT v.*, coalesce(r.team, '(none)') AS team,
  CASE WHEN coalesce(q.closed, 0) >= $min AND q.rate >= $commit THEN 'commit'
       WHEN coalesce(q.closed, 0) >= $min AND q.rate >= $best THEN 'best_case'
       ELSE 'pipeline' END AS category
FROM v LEFT JOIN reps r ON r.rep_id = v.owner_rep_id LEFT JOIN rates q ON q.stage = v.stage
WHERE ((v.closed_at IS NULL AND v.status = 'open') OR v.closed_at >= $end)
  AND v.close_date BETWEEN $start AND $last
"""


def _params(start: date, last: date, day: date) -> dict[str, Any]:
    end = f"{date.fromordinal(day.toordinal() + 1).isoformat()} 00:00:00"
    return {"end": end, "start": start, "last": last, "min": MIN_STAGE_DEALS,
            "commit": COMMIT_RATE, "best": BEST_CASE_RATE}  # fmt: skip


def test_rollup_by_team_equals_independent_sql(demo_company: Any) -> None:
    day = date(2025, 11, 14)  # mid-quarter: won so far, and open deals of every category
    with demo_company.open() as ws:
        p = parse_period("FY2025-Q3", ws.settings.fiscal_year_start_month)
        got = rollup(ws, p, day)
        sql = f"SELECT team, category, sum(amount), count(*) FROM ({STATE_SQL}) GROUP BY 1, 2"
        want: dict[tuple[str, str], float] = {}
        for team, cat, amount, _ in ws.raw.execute(sql, _params(p.start, p.end, day)).fetchall():
            want[(team, cat)] = amount
        won = ws.raw.execute(
            "SELECT coalesce(r.team, '(none)'), sum(o.amount) FROM opportunities o "
            "LEFT JOIN reps r ON r.rep_id = o.owner_rep_id WHERE o.status = 'won' "
            "AND o.closed_at >= ? AND o.closed_at < ? GROUP BY 1",
            [p.start, "2025-11-15"],
        ).fetchall()
        for team, amount in won:
            want[(team, "won")] = amount
    lines = {(tm.key, k): v for tm in got.teams for k, v in tm.amounts.items() if v}
    assert lines == pytest.approx(want)
    assert {k for _, k in want} >= {"won", "commit", "best_case", "pipeline"}  # all exercised
    assert got.total.call == pytest.approx(got.total.amounts["won"] + got.total.amounts["commit"])
    assert got.crm_deals == 0 and got.stage_deals == sum(
        got.total.deals[k] for k in ("commit", "best_case", "pipeline")
    )


def test_accuracy_of_one_month_equals_independent_sql(demo_company: Any) -> None:
    with demo_company.open() as ws:
        acc = {r["month"]: r for r in accuracy_by_month(ws, date(2026, 3, 31), months=3)}
        assert list(acc) == ["2026-01", "2026-02", "2026-03"]
        sql = f"SELECT category, sum(amount) FROM ({STATE_SQL}) GROUP BY 1"
        call = dict(ws.raw.execute(
            sql, _params(date(2026, 2, 1), date(2026, 2, 28), date(2026, 1, 31))
        ).fetchall())  # fmt: skip
        actual = ws.raw.execute(
            "SELECT sum(amount) FROM opportunities WHERE status = 'won' "
            "AND closed_at >= '2026-02-01' AND closed_at < '2026-03-01'"
        ).fetchone()[0]
    row = acc["2026-02"]
    assert row["call"] == pytest.approx(call["commit"])
    assert row["upside"] == pytest.approx(call["commit"] + call["best_case"])
    assert row["actual"] == pytest.approx(actual)
    assert row["error"] == pytest.approx((call["commit"] - actual) / actual)


CRM_ROWS: dict[str, list[dict[str, Any]]] = {
    "reps": [
        {"rep_id": "r1", "name": "佐藤", "team": "A", "role": "closer", "hire_date": "2024-01-01"},
        {"rep_id": "r2", "name": "鈴木", "team": "B", "role": "closer", "hire_date": "2024-01-01"},
    ],
    "opportunities": [
        {"opportunity_id": f"o{i}", "owner_rep_id": rep, "amount": amount, "status": "open",
         "created_at": "2025-04-02 09:00:00", "expected_close_date": "2025-05-20",
         "forecast_category": cat}
        for i, (rep, amount, cat) in enumerate([
            ("r1", 100, "commit"), ("r1", 200, "best_case"), ("r1", 400, "pipeline"),
            ("r2", 800, "omitted"), ("r2", 1600, "closed"), ("r2", 3200, None),
        ])
    ] + [{"opportunity_id": "w1", "owner_rep_id": "r2", "amount": 6400, "status": "won",
          "created_at": "2025-04-01 09:00:00", "closed_at": "2025-04-10 10:00:00",
          "expected_close_date": "2025-04-10"}],
}  # fmt: skip


def test_crm_category_wins_over_the_stage_rule(tmp_path: Path) -> None:
    ws = new_ws(tmp_path)
    for table, data in CRM_ROWS.items():
        insert(ws, table, data)
    p = parse_period("2025-Q2", ws.settings.fiscal_year_start_month)
    got = rollup(ws, p, date(2025, 4, 30))
    by_rep = {ln.key: ln.amounts for ln in got.reps}
    # a CRM "closed" on an open deal is commit; o5 has no category and no stage: pipeline
    assert by_rep["r1"] == {"won": 0, "commit": 100, "best_case": 200, "pipeline": 400,
                            "omitted": 0}  # fmt: skip
    assert by_rep["r2"] == {"won": 6400, "commit": 1600, "best_case": 0, "pipeline": 3200,
                            "omitted": 800}  # fmt: skip
    assert (got.crm_deals, got.stage_deals) == (5, 1)
    assert got.total.call == 6400 + 100 + 1600
    assert got.total.upside == 6400 + 100 + 1600 + 200
    past = categorized(ws, p, date(2025, 4, 30), crm=False).to_pyarrow().to_pylist()
    assert {r["category"] for r in past} == {"pipeline"}  # the past never reads today's CRM value
    ws.close()


SF = (
    "Opportunity ID,Opportunity Name,Account Name,Stage,Amount,Close Date,Opportunity Owner,"
    "Created Date,Forecast Category\n"
    "006A,A,Acme,Negotiation/Review,500,5/31/2025,Jane Roe,4/2/2025,Commit\n"
    "006B,B,Beta,Prospecting,700,5/31/2025,Jane Roe,4/2/2025,Best Case\n"
    "006C,C,Gamma,Prospecting,900,5/31/2025,Jane Roe,4/2/2025,Omitted\n"
    "006D,D,Delta,Prospecting,300,5/31/2025,Jane Roe,4/2/2025,\n"
)
HUBSPOT = (
    "Record ID,Deal Name,Deal Stage,Amount,Close Date,Create Date,Deal owner,Forecast category\n"
    "101,A,Contract Sent,1000,2025-05-30,2025-04-01 10:00,Owner One,COMMIT\n"
    "102,B,Appointment Scheduled,2000,2025-05-30,2025-04-02 11:00,Owner Two,BEST_CASE\n"
    "103,C,Appointment Scheduled,3000,2025-05-30,2025-04-02 11:00,Owner Two,OMIT\n"
    "104,D,Appointment Scheduled,4000,2025-05-30,2025-04-02 11:00,Owner Two,PIPELINE\n"
)
KINTONE = (
    "レコード番号,案件名,会社名,担当者,見込み金額,受注予定日,ステータス,作成日時,確度\n"
    "1,案件A,A社,佐藤,100,2025-05-31,交渉中,2025-04-01T09:00:00+09:00,A\n"
    "2,案件B,B社,田中,200,2025-05-31,提案中,2025-04-02T09:00:00+09:00,B\n"
    "3,案件C,C社,田中,300,2025-05-31,提案中,2025-04-02T09:00:00+09:00,C\n"
)


@pytest.mark.parametrize(
    ("preset", "name", "text", "want"),
    [
        ("salesforce", "report.csv", SF,
         {"006A": "commit", "006B": "best_case", "006C": "omitted", "006D": None}),
        ("hubspot", "deals.csv", HUBSPOT,
         {"101": "commit", "102": "best_case", "103": "omitted", "104": "pipeline"}),
        ("kintone", "案件.csv", KINTONE, {"1": "commit", "2": "best_case", "3": "pipeline"}),
    ],
)  # fmt: skip
def test_presets_map_the_crm_forecast_category(
    tmp_path: Path, preset: str, name: str, text: str, want: dict[str, str | None]
) -> None:
    ws = new_ws(tmp_path)
    src = write(tmp_path / "in", {name: text})
    import_path(ws, src / name, preset=preset)
    got = dict(rows(ws, "SELECT opportunity_id, forecast_category FROM opportunities"))
    assert got == want
    ws.close()


def test_a_workspace_made_before_the_column_keeps_working(tmp_path: Path) -> None:
    """A workspace whose opportunities table lacks forecast_category (made by an older eigyo):
    the forecast derives every category from the stage, and the next import adds the column."""
    ws = new_ws(tmp_path)
    ws.raw.execute("ALTER TABLE opportunities DROP COLUMN forecast_category")
    insert(ws, "reps", CRM_ROWS["reps"])
    insert(ws, "opportunities",
           [{k: v for k, v in r.items() if k != "forecast_category"}
            for r in CRM_ROWS["opportunities"]])  # fmt: skip
    ws.close()
    with open_workspace(tmp_path / "w", read_only=True) as old:
        assert "forecast_category" not in old.table("opportunities").columns
        p = parse_period("2025-Q2", old.settings.fiscal_year_start_month)
        got = rollup(old, p, date(2025, 4, 30))
        assert got.total.amounts["pipeline"] == 100 + 200 + 400 + 800 + 1600 + 3200
        assert got.crm_deals == 0
        # an engine push reads every canonical column: the missing one as NULL
        cols = canonical_columns()["opportunities"]
        query = select_sql("opportunities", cols, table_columns(old, "opportunities"))
        pushed = old.raw.execute(query).fetchall()
        assert len(pushed) == 7 and {r[cols.index("forecast_category")] for r in pushed} == {None}
    with open_workspace(tmp_path / "w") as w:
        import_path(w, write(tmp_path / "in", {"report.csv": SF}) / "report.csv",
                    preset="salesforce")  # fmt: skip
    with open_workspace(tmp_path / "w", read_only=True) as new:
        assert dict(rows(new, "SELECT opportunity_id, forecast_category FROM opportunities "
                              "WHERE opportunity_id LIKE '006%'"))["006A"] == "commit"  # fmt: skip
        assert rows(new, "SELECT count(*) FROM opportunities WHERE opportunity_id LIKE 'o%'") == [
            (6,)
        ]


@pytest.fixture
def undated_ws(tmp_path: Path) -> Any:
    ws = new_ws(tmp_path)
    for table, data in UNDATED_ROWS.items():
        insert(ws, table, data)
    yield ws
    ws.close()


def test_no_close_dates_is_not_available_never_zero(undated_ws: Any) -> None:
    ws = undated_ws
    p = parse_period("2025-Q2", ws.settings.fiscal_year_start_month)
    got = rollup(ws, p, date(2025, 4, 30))
    reps = {ln.key: ln for ln in got.reps}
    # r1: two open deals, neither dated: its categories and call cannot be stated; won can
    r1 = reps["r1"]
    assert (r1.open_deals, r1.undated, r1.available) == (2, 2, False)
    values = [r1.value(k) for k in ("won", "commit", "best_case", "pipeline", "omitted")]
    assert values == [500, None, None, None, None]
    assert (r1.call, r1.upside) == (None, None)
    # r2: one undated deal of three open; w3 (won on 05-10) was open on 04-30: pipeline
    r2 = reps["r2"]
    assert (r2.open_deals, r2.undated, r2.available) == (3, 1, True)
    assert (r2.value("commit"), r2.value("pipeline"), r2.call) == (1000, 400, 1000)
    assert (reps["r3"].open_deals, reps["r3"].call) == (0, 700)  # nothing open: a true ¥0 commit
    teams = {tm.key: tm for tm in got.teams}
    assert (teams["A"].call, teams["B"].call, teams["B"].upside) == (None, 1700, 1700)
    t = got.total
    assert (t.open_deals, t.undated, t.call, t.value("commit")) == (5, 3, 2200, 1000)
    # on 04-03 only u1, u2, w1 and w2 were open, none dated: nothing in the view can be stated
    early = rollup(ws, p, date(2025, 4, 3)).total
    assert (early.open_deals, early.undated, early.available) == (4, 4, False)
    got_early = (early.value("won"), early.value("commit"), early.call, early.upside)
    assert got_early == (0, None, None, None)


def test_a_month_whose_call_cannot_be_rebuilt_has_no_error(undated_ws: Any) -> None:
    acc = {r["month"]: r for r in accuracy_by_month(undated_ws, date(2025, 5, 31), months=2)}
    # April: open on 03-31 were u1, u2, w1 and w2, none dated: the call cannot be rebuilt (its
    # ¥0 would read as a −100% miss against the 1,200 won)
    assert acc["2025-04"] == {
        "month": "2025-04", "start": date(2025, 4, 1), "actual": 1200, "open": 4, "dated": 0,
        "reason": "no_close_dates", "call": None, "upside": None, "pipeline": None,
        "error": None, "upside_error": None, "deals_without_amount": 0,
    }  # fmt: skip
    # May: d1 and w3 dated (stage rule in the past: no stage → pipeline): a call of ¥0 is stated
    may = acc["2025-05"]
    assert (may["open"], may["dated"], may["reason"]) == (5, 2, None)
    assert (may["call"], may["pipeline"], may["actual"], may["error"]) == (0, 1400, 400, -1.0)
