"""Event logs: outcome from the configured end activities, lifecycle filter and owner rules.

A small XES log written here by hand (every expected value worked out on paper, in the comments),
a CSV log, the ``[event_log]`` settings, and the real BPI Challenge 2012 log checked against an
independent reading: ElementTree for the XML and a DuckDB query for the outcomes and owners, not
eigyo's import path.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from xml.etree import ElementTree as ET

import duckdb
import polars as pl
import pytest

from eigyo import workspace
from eigyo.analysis.deals import open_deals_at_end
from eigyo.base.periods import parse_period
from eigyo.errors import InputError, WorkspaceError
from eigyo.ingest import import_path, xes
from eigyo.ingest.mapping import load_preset
from eigyo.metrics import compute
from eigyo.settings import EventLogSettings, Settings, event_log_settings, load, template
from eigyo.workspace import Workspace
from tests._data import DATA, ROOT, needs_data

BPI_FILE = "bpi-challenge-2012/BPI_Challenge_2012.xes.zip"
BPI = DATA / BPI_FILE
BPI_SETTINGS = ROOT / "examples" / "bpi2012.eigyo.toml"

CONFIGURED = """
[event_log]
won_activities = ["A_APPROVED"]
lost_activities = ["A_DECLINED"]
"""


def _ev(act: str, ts: str, res: str | None = None, lc: str | None = "complete") -> str:
    out = f'<event><string key="concept:name" value="{act}"/>'
    if res:
        out += f'<string key="org:resource" value="{res}"/>'
    if lc:
        out += f'<string key="lifecycle:transition" value="{lc}"/>'
    return out + f'<date key="time:timestamp" value="2025-05-{ts}:00.000+09:00"/></event>'


def _trace(case: str, events: list[str], **attrs: str) -> str:
    a = "".join(f'<string key="{k}" value="{v}"/>' for k, v in attrs.items())
    return f'<trace><string key="concept:name" value="{case}"/>{a}{"".join(events)}</trace>'


# 22 events, 7 of them start/schedule transitions (5 start, 2 schedule): 15 stage entries.
LOG = (
    '<?xml version="1.0" encoding="UTF-8" ?>\n<log xes.version="1.0" '
    'xmlns="http://www.xes-standard.org/">'
    + _trace(  # won at A_APPROVED (02 09:00); kept: SUBMITTED, work, APPROVED, call = 4
        "c1",
        [
            _ev("A_SUBMITTED", "01T09:00", "sys"),
            _ev("W_work", "01T09:10", None, "schedule"),
            _ev("W_work", "01T10:00", "alice", "start"),
            _ev("W_work", "01T11:00", "alice"),
            _ev("A_APPROVED", "02T09:00", "bob"),
            _ev("W_call", "03T09:00", "alice", "start"),
            _ev("W_call", "03T10:00", "alice"),
        ],
        salesRep="dana",
        AMOUNT_REQ="1000",
    )
    + _trace(  # lost at A_DECLINED (02 12:00); kept 3
        "c2",
        [
            _ev("A_SUBMITTED", "01T12:00", "sys"),
            _ev("W_work", "01T13:00", "bob", "start"),
            _ev("W_work", "01T14:00", "bob"),
            _ev("A_DECLINED", "02T12:00", "bob"),
        ],
    )
    + _trace(  # no end activity: unknown, ends at its last event (a schedule, 04 09:00); kept 2
        "c3",
        [
            _ev("A_SUBMITTED", "02T09:00", "sys"),
            _ev("W_work", "02T10:00", "carol", "start"),
            _ev("W_work", "02T11:00", "carol"),
            _ev("W_work", "04T09:00", None, "schedule"),
        ],
        salesRep="erin",
    )
    + _trace(  # declined (04 09:00) before approved (05 09:00): the earlier decides, lost; kept 3
        "c4",
        [
            _ev("A_SUBMITTED", "03T09:00", "sys"),
            _ev("A_DECLINED", "04T09:00", "bob"),
            _ev("A_APPROVED", "05T09:00", "alice"),
        ],
    )
    + _trace(  # no resource at all; no lifecycle on one event (kept); unknown; kept 2
        "c5",
        [_ev("A_SUBMITTED", "03T12:00", None), _ev("W_work", "03T13:00", None, None)],
    )
    + _trace(  # A_APPROVED only as a start transition: not kept, so unknown; kept 1
        "c6",
        [_ev("A_SUBMITTED", "04T12:00", "sys"), _ev("A_APPROVED", "05T12:00", "alice", "start")],
    )
    + "</log>"
)
CASES = ["c1", "c2", "c3", "c4", "c5", "c6"]


def _t(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 5, day, hour, minute)


def _ws(tmp_path: Path, extra: str = "") -> Workspace:
    """A workspace whose eigyo.toml is the default template plus ``extra`` sections."""
    path = tmp_path / "w"
    workspace.init(path).close()
    cfg = path / "eigyo.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8") + extra, encoding="utf-8")
    return workspace.open_workspace(path)


def _log(tmp_path: Path) -> Path:
    src = tmp_path / "log.xes"
    src.write_text(LOG, encoding="utf-8")
    return src


def _plan(tmp_path: Path, **event_log: object) -> xes.Plan:
    settings = replace(Settings(), event_log=EventLogSettings(**event_log))
    return xes.plan(_log(tmp_path), load_preset("xes"), settings, None, None)


def _frame(plan: xes.Plan, table: str) -> pl.DataFrame:
    return next(raw.frame for spec, raw in plan if spec.table == table)


def test_outcomes_closing_times_and_stage_entries(tmp_path: Path) -> None:
    ws = _ws(tmp_path, CONFIGURED)
    rep = import_path(ws, _log(tmp_path), preset="xes")
    assert {f.table: (f.loaded, f.rejected) for f in rep.files} == {
        "stage_history": (15, 0),
        "opportunities": (6, 0),
        "reps": (5, 0),  # sys, alice, bob, carol and (unknown) for c5
    }
    opps = ws.raw.execute(
        "SELECT opportunity_id, status, created_at, closed_at, amount, owner_rep_id"
        " FROM opportunities ORDER BY 1"
    ).fetchall()
    assert opps == [
        ("c1", "won", _t(1, 9), _t(2, 9), 1000.0, "sys"),
        ("c2", "lost", _t(1, 12), _t(2, 12), None, "sys"),
        ("c3", "unknown", _t(2, 9), _t(4, 9), None, "sys"),
        ("c4", "lost", _t(3, 9), _t(4, 9), None, "sys"),
        ("c5", "unknown", _t(3, 12), _t(3, 13), None, "(unknown)"),
        ("c6", "unknown", _t(4, 12), _t(5, 12), None, "sys"),
    ]
    entries = ws.raw.execute(
        "SELECT opportunity_id, count(*) FROM stage_history GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert entries == [("c1", 4), ("c2", 3), ("c3", 2), ("c4", 3), ("c5", 2), ("c6", 1)]
    # one entry per completed work item: c1's W_work (schedule, start, complete) at 11:00 only
    work = ws.raw.execute(
        "SELECT entered_at, rep_id, extra FROM stage_history"
        " WHERE opportunity_id = 'c1' AND stage = 'W_work'"
    ).fetchall()
    assert [(at, rep, json.loads(x)) for at, rep, x in work] == [
        (_t(1, 11), "alice", {"lifecycle:transition": "complete"})
    ]
    # win rate = won / (won + lost): 1 / 3, the 3 unknown cases left out (not 1 / 6)
    (win,) = compute(ws, parse_period("2025-05"), ["win_rate"])
    assert win.value == pytest.approx(1 / 3)

    # an unknown case is in progress while its events run and gone after its last one:
    # at the end of 05-03, c3 (ends 04 09:00) and c4 (lost 04 09:00) are open, c5 (ended
    # 03 13:00) is not; at the end of May nothing is open, so nothing is a stale deal
    def open_ids(period: str) -> list[str]:
        t = open_deals_at_end(ws, parse_period(period))
        return sorted(t.to_pyarrow().column("opportunity_id").to_pylist())

    assert open_ids("2025-05-01..2025-05-03") == ["c3", "c4"]
    assert open_ids("2025-05") == []
    ws.close()


def test_no_end_activities_means_unknown_not_lost(tmp_path: Path) -> None:
    plan = _plan(tmp_path)  # nothing configured; no activity is a won or lost stage
    opps = _frame(plan, "opportunities")
    assert opps.get_column("eigyo:status").to_list() == ["unknown"] * 6
    # closed_at = each case's last event, of any lifecycle
    assert opps.get_column("eigyo:closed_at").to_list() == [
        "2025-05-03 10:00:00",
        "2025-05-02 12:00:00",
        "2025-05-04 09:00:00",
        "2025-05-05 09:00:00",
        "2025-05-03 13:00:00",
        "2025-05-05 12:00:00",
    ]
    keys = [n.key for n in plan.notes]
    assert keys == ["lifecycle_skipped", "no_end_activities", "outcomes", "unowned"]
    assert plan.summary == {
        "events": 22,
        "events_kept": 15,
        "events_skipped": 7,
        "cases": 6,
        "won": 0,
        "lost": 0,
        "unknown": 6,
        "unowned": 1,
    }


def test_stages_of_kind_won_and_lost_are_end_activities(tmp_path: Path) -> None:
    stages = '\n[[stages]]\nname = "A_APPROVED"\nkind = "won"\n'
    stages += '\n[[stages]]\nname = "A_DECLINED"\nkind = "lost"\n'
    ws = _ws(tmp_path, stages)
    import_path(ws, _log(tmp_path), preset="xes")
    got = ws.raw.execute("SELECT status, count(*) FROM opportunities GROUP BY 1 ORDER BY 1")
    assert got.fetchall() == [("lost", 2), ("unknown", 3), ("won", 1)]
    ws.close()


def test_lifecycle_setting(tmp_path: Path) -> None:
    # every transition kept: 22 entries, and c6's A_APPROVED (a start) now wins it
    plan = _plan(tmp_path, won_activities=("A_APPROVED",), lost_activities=("A_DECLINED",),
                 lifecycle=())  # fmt: skip
    assert _frame(plan, "stage_history").height == 22
    opps = _frame(plan, "opportunities")
    assert opps.get_column("eigyo:status").to_list() == [
        "won", "lost", "unknown", "lost", "unknown", "won",
    ]  # fmt: skip
    assert opps.get_column("eigyo:closed_at").to_list()[5] == "2025-05-05 12:00:00"
    # only starts (case-insensitive), plus the event without a transition (c5's W_work)
    plan = _plan(tmp_path, lifecycle=("START",))
    assert _frame(plan, "stage_history").height == 6
    (note,) = [n for n in plan.notes if n.key == "lifecycle_skipped"]
    assert note.message("en") == (
        "16 events with lifecycle complete 14, schedule 2 were not imported as stage entries"
        " (event_log.lifecycle = [START])"
    )
    assert note.message("ja").startswith(
        "ライフサイクルが complete 14, schedule 2 のイベント 16 件"
    )


UNK = "(unknown)"


@pytest.mark.parametrize(
    ("owner", "exclude", "expected"),
    [
        ("first_resource", (), ["sys", "sys", "sys", "sys", UNK, "sys"]),
        # without the system user: c6's only other resource is on a start event (not kept)
        ("first_resource", ("sys",), ["alice", "bob", "carol", "bob", UNK, UNK]),
        # c1 alice 2 (sys 1, bob 1); c2 bob 2; c3 sys/carol 1 each, c4 sys/bob/alice 1 each:
        # ties go to the resource seen first
        ("most_frequent_resource", (), ["alice", "bob", "sys", "sys", UNK, "sys"]),
        ("most_frequent_resource", ("sys",), ["alice", "bob", "carol", "bob", UNK, UNK]),
        ("case:salesRep", (), ["dana", UNK, "erin", UNK, UNK, UNK]),
        ("case:salesrep", ("dana",), [UNK, UNK, "erin", UNK, UNK, UNK]),
    ],
)
def test_owner_rules(
    tmp_path: Path, owner: str, exclude: tuple[str, ...], expected: list[str]
) -> None:
    plan = _plan(tmp_path, owner=owner, exclude_resources=exclude)
    opps = _frame(plan, "opportunities")
    assert opps.get_column("eigyo:case").to_list() == CASES
    assert opps.get_column("eigyo:owner").to_list() == expected
    # every owner is a rep (resources of kept events, attribute owners, the placeholder)
    assert set(expected) <= set(_frame(plan, "reps").get_column("eigyo:rep").to_list())
    assert plan.summary["unowned"] == expected.count(UNK)


def test_owner_from_a_case_attribute_becomes_a_rep(tmp_path: Path) -> None:
    ws = _ws(tmp_path, CONFIGURED + 'owner = "case:salesRep"\n')
    import_path(ws, _log(tmp_path), preset="xes")
    reps = ws.raw.execute("SELECT rep_id, role, hire_date::VARCHAR FROM reps ORDER BY 1")
    # resources hired the day of their first kept event; owners the day of their first case
    assert reps.fetchall() == [
        (UNK, "generalist", "2025-05-01"),
        ("alice", "generalist", "2025-05-01"),
        ("bob", "generalist", "2025-05-01"),
        ("carol", "generalist", "2025-05-02"),
        ("dana", "generalist", "2025-05-01"),
        ("erin", "generalist", "2025-05-02"),
        ("sys", "generalist", "2025-05-01"),
    ]
    # every owner and resource is a known rep: no unknown-reference warning
    got = ws.raw.execute("SELECT count(*) FROM _warnings WHERE code = 'unknown_reference'")
    assert got.fetchone() == (0,)
    ws.close()


def test_owner_attribute_missing_names_the_attributes(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no case attribute region") as err:
        _plan(tmp_path, owner="case:region")
    assert "case:salesRep" in str(err.value) and "case:AMOUNT_REQ" in str(err.value)
    assert "ケース属性 region" in err.value.localized("ja")


def test_notes_name_outcomes_typos_and_unowned_cases(tmp_path: Path) -> None:
    plan = _plan(tmp_path, won_activities=("A_APPROVED", "A_ACTIVATED"),
                 lost_activities=("A_DECLINED",))  # fmt: skip
    notes = {n.key: n for n in plan.notes}
    assert notes["outcomes"].message("en") == (
        "6 cases: 1 won, 2 lost, 3 outcome unknown (win rate 33.3%;"
        " unknown cases are left out of win rates and pipelines)"
    )
    assert notes["outcomes"].message("ja").startswith("6 ケース: 受注 1、失注 2、結果不明 3")
    assert notes["outcomes"].as_notice() == {
        "code": "eventlog.note.outcomes",
        "level": "info",
        **{"cases": "6", "won": "1", "lost": "2", "unknown": "3", "rate": "33.3%"},
    }
    assert notes["activities_absent"].level == "warn"
    assert "A_ACTIVATED" in notes["activities_absent"].message("en")
    assert notes["unowned"].message("en") == (
        "1 cases have no owner (owner = first_resource): owned by (unknown)"
    )


def test_csv_log_with_lifecycle_and_owner_columns(tmp_path: Path) -> None:
    csv = (
        "case,activity,timestamp,resource,lifecycle,Owner\n"
        "A,Lead,2025-05-01 09:00,r1,start,o1\n"
        "A,Lead,2025-05-01 10:00,r1,complete,o1\n"
        "A,Closed Won,2025-05-02 09:00,r2,complete,o1\n"
        "B,Lead,2025-05-01 09:00,r2,complete,\n"
    )
    src = tmp_path / "events.csv"
    src.write_text(csv, encoding="utf-8")
    ws = _ws(tmp_path, '\n[event_log]\nowner = "case:Owner"\n')
    rep = import_path(ws, src, preset="xes")
    assert {f.table: f.loaded for f in rep.files} == {
        "stage_history": 3,
        "opportunities": 2,
        "reps": 4,
    }
    got = ws.raw.execute(
        "SELECT opportunity_id, status, closed_at, owner_rep_id FROM opportunities ORDER BY 1"
    ).fetchall()
    # "Closed Won" is a known won stage; B reached nothing
    assert got == [("A", "won", _t(2, 9), "o1"), ("B", "unknown", _t(1, 9), UNK)]
    ws.close()


def test_event_log_settings_parse_and_validate(tmp_path: Path) -> None:
    # the commented template loads to the defaults; a written section is read as given
    cfg = tmp_path / "eigyo.toml"
    cfg.write_text(template(), encoding="utf-8")
    assert load(cfg).event_log == EventLogSettings()
    assert "# [event_log]" in template() and '# owner = "first_resource"' in template()
    cfg.write_text(BPI_SETTINGS.read_text(encoding="utf-8"), encoding="utf-8")
    assert load(cfg).event_log == EventLogSettings(
        won_activities=("A_APPROVED",),
        lost_activities=("A_DECLINED", "A_CANCELLED"),
        lifecycle=("complete",),
        owner="most_frequent_resource",
        exclude_resources=("112",),
    )
    bad = (
        '[event_log]\nwon_activity = ["X"]\nwon_activities = ["A", "B"]\n'
        'lost_activities = ["B"]\nlifecycle = "complete"\nowner = "boss"\n'
    )
    cfg.write_text(bad, encoding="utf-8")
    with pytest.raises(WorkspaceError) as err:
        load(cfg)
    msg = str(err.value)
    assert "4 problem(s)" in msg
    assert "event_log.won_activity: unknown setting (did you mean won_activities?)" in msg
    assert "event_log: B listed as both won and lost activities" in msg
    assert "event_log.lifecycle: 'complete' must be a list of texts" in msg
    assert "event_log.owner: 'boss' must be first_resource, most_frequent_resource" in msg
    _, ja = event_log_settings({"owner": "boss", "lifecycle": [1]}, "ja")
    assert ja == [
        'event_log.lifecycle: [1] は文字列のリストでなければなりません（例: ["A_APPROVED"]）',
        "event_log.owner: 'boss' は first_resource、most_frequent_resource、case:属性名"
        " のいずれかでなければなりません",
    ]
    _, problems = event_log_settings(["x"])
    assert problems == ["event_log: must be a table ([event_log]), got ['x']"]


def _independent_bpi() -> duckdb.DuckDBPyConnection:
    """The BPI events read with ElementTree alone, as a DuckDB table ``e`` (file order ``n``)."""
    ns = "{http://www.xes-standard.org/}"
    rows: list[tuple[str, str, str, str, str | None]] = []
    with zipfile.ZipFile(BPI) as z, z.open(z.namelist()[1]) as f:
        for _, el in ET.iterparse(f):
            if el.tag != ns + "trace":
                continue
            case = next(c.get("value") for c in el if c.get("key") == "concept:name")
            for e in el.iter(ns + "event"):
                a = {c.get("key"): c.get("value") for c in e}
                rows.append(
                    (case, a["concept:name"], a["lifecycle:transition"], a["time:timestamp"],
                     a.get("org:resource"))
                )  # fmt: skip
            el.clear()
    events = pl.DataFrame(rows, schema=["c", "act", "lc", "ts", "res"], orient="row")
    con = duckdb.connect()
    con.register("raw_events", events.with_row_index("n"))
    con.execute(
        "CREATE TABLE e AS SELECT n, c, act, lc, res,"
        " timezone('Asia/Tokyo', ts::TIMESTAMPTZ) AS ts FROM raw_events"
    )
    return con


@pytest.mark.slow
@needs_data(BPI_FILE)
def test_bpi_2012_win_rate_against_an_independent_query(tmp_path: Path) -> None:
    con = _independent_bpi()
    # outcome: the first completed end activity of each case (A_APPROVED won; A_DECLINED,
    # A_CANCELLED lost); no end activity: unknown
    con.execute("""
        CREATE TABLE truth AS
        WITH ends AS (
            SELECT c, arg_min(act, (ts, n)) AS act, min(ts) AS at FROM e
            WHERE lc = 'COMPLETE' AND act IN ('A_APPROVED', 'A_DECLINED', 'A_CANCELLED')
            GROUP BY c),
        counts AS (
            SELECT c, res, count(*) AS k, min(n) AS first_n FROM e
            WHERE lc = 'COMPLETE' AND res IS NOT NULL AND res <> '112' GROUP BY c, res),
        owners AS (SELECT c, arg_min(res, (-k, first_n)) AS owner FROM counts GROUP BY c)
        SELECT cases.c,
               CASE WHEN ends.act = 'A_APPROVED' THEN 'won'
                    WHEN ends.act IS NOT NULL THEN 'lost' ELSE 'unknown' END AS status,
               coalesce(ends.at, cases.last_at) AS closed_at,
               coalesce(owners.owner, '(unknown)') AS owner
        FROM (SELECT c, max(ts) AS last_at FROM e GROUP BY c) AS cases
        LEFT JOIN ends USING (c) LEFT JOIN owners USING (c)
    """)
    truth = dict(con.execute("SELECT status, count(*) FROM truth GROUP BY 1").fetchall())
    assert truth == {"won": 2_246, "lost": 10_442, "unknown": 399}
    expected_rate = truth["won"] / (truth["won"] + truth["lost"])
    assert round(expected_rate, 4) == 0.1770
    complete = con.execute("SELECT count(*) FROM e WHERE lc = 'COMPLETE'").fetchone()

    ws = _ws(tmp_path, "")
    ws.close()
    (tmp_path / "w" / "eigyo.toml").write_text(BPI_SETTINGS.read_text(encoding="utf-8"))
    ws = workspace.open_workspace(tmp_path / "w")
    rep = import_path(ws, BPI, preset="xes")
    counts = {f.table: (f.loaded, f.rejected) for f in rep.files}
    assert complete == (164_506,)
    assert counts["stage_history"] == (164_506, 0)  # complete events only
    assert counts["opportunities"] == (13_087, 0)
    (win,) = compute(ws, parse_period("2011-01-01..2012-12-31"), ["win_rate"])
    assert win.value == pytest.approx(expected_rate, abs=1e-12)
    got = ws.raw.execute(
        "SELECT opportunity_id, status, closed_at, owner_rep_id FROM opportunities"
    ).fetchall()
    want = con.execute("SELECT c, status, closed_at, owner FROM truth").fetchall()
    assert sorted(got) == sorted(want)
    ws.close()
