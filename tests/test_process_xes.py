"""Event logs through ``eigyo import --preset xes``: a small XES written here (values by hand),
a generic event-log CSV, and the real BPI Challenge 2012 log checked against an independent
reading of the zip with Python's xml module."""

from __future__ import annotations

import gzip
import json
import statistics
import zipfile
from collections import Counter, defaultdict
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from eigyo.analysis.process.process_map import process_map
from eigyo.cli import main
from eigyo.ingest import import_path, stream
from eigyo.workspace import Workspace
from tests._data import DATA, needs_data
from tests._rows import new_ws

BPI_FILE = "bpi-challenge-2012/BPI_Challenge_2012.xes.zip"
BPI = DATA / BPI_FILE

SMALL_XES = """<?xml version="1.0" encoding="UTF-8" ?>
<log xes.version="1.0" xmlns="http://www.xes-standard.org/">
  <global scope="event"><string key="concept:name" value="UNKNOWN"/></global>
  <trace>
    <string key="concept:name" value="c1"/>
    <string key="AMOUNT_REQ" value="5000"/>
    <event>
      <string key="org:resource" value="alice"/>
      <string key="concept:name" value="Lead"/>
      <string key="lifecycle:transition" value="COMPLETE"/>
      <date key="time:timestamp" value="2025-05-01T09:00:00.000+09:00"/>
    </event>
    <event>
      <string key="concept:name" value="Offer"/>
      <date key="time:timestamp" value="2025-05-01T02:00:00.000+02:00"/>
    </event>
    <event>
      <string key="org:resource" value="bob"/>
      <string key="concept:name" value="Closed Won"/>
      <date key="time:timestamp" value="2025-05-03T12:00:00.000+09:00"/>
    </event>
  </trace>
  <trace>
    <string key="concept:name" value="c2"/>
    <event>
      <string key="concept:name" value="Lead"/>
      <date key="time:timestamp" value="2025-05-02T00:00:00+09:00"/>
    </event>
    <event>
      <string key="concept:name" value="Lead"/>
      <date key="time:timestamp" value="2025-05-02T00:00:00+09:00"/>
    </event>
  </trace>
</log>
"""


def _import(tmp_path: Path, name: str, data: bytes) -> tuple[Workspace, dict[str, tuple[int, int]]]:
    src = tmp_path / name
    src.write_bytes(data)
    ws = new_ws(tmp_path)
    rep = import_path(ws, src, preset="xes")
    return ws, {f.table: (f.loaded, f.rejected) for f in rep.files}


@pytest.mark.parametrize("name", ["log.xes", "log.xes.gz"])
def test_small_xes(tmp_path: Path, name: str) -> None:
    data = SMALL_XES.encode()
    ws, counts = _import(tmp_path, name, gzip.compress(data) if name.endswith(".gz") else data)
    # c2's second Lead repeats (case, activity, timestamp): rejected as a duplicate, with reason
    assert counts == {"stage_history": (4, 1), "opportunities": (2, 0), "reps": (3, 0)}
    opps = ws.raw.execute(
        "SELECT opportunity_id, owner_rep_id, amount, created_at, status, closed_at"
        " FROM opportunities ORDER BY 1"
    ).fetchall()
    assert opps == [
        # Offer at 02:00+02:00 is 09:00 in Tokyo like Lead; Closed Won (a won stage) ends c1;
        # c2 reached no won or lost activity: outcome unknown, ended at its last event, and no
        # amount in the log is a blank amount, not 0
        ("c1", "alice", 5000.0, datetime(2025, 5, 1, 9), "won", datetime(2025, 5, 3, 12)),
        ("c2", "(unknown)", None, datetime(2025, 5, 2), "unknown", datetime(2025, 5, 2)),
    ]
    reps = ws.raw.execute("SELECT rep_id, role, hire_date::VARCHAR FROM reps ORDER BY 1").fetchall()
    assert reps == [
        ("(unknown)", "generalist", "2025-05-02"),
        ("alice", "generalist", "2025-05-01"),
        ("bob", "generalist", "2025-05-03"),
    ]
    extra = ws.raw.execute(
        "SELECT extra FROM stage_history WHERE opportunity_id = 'c1' AND stage = 'Lead'"
    ).fetchall()
    assert json.loads(extra[0][0]) == {"lifecycle:transition": "COMPLETE"}
    doc = process_map(ws).to_json()
    # Lead and Offer tie at 09:00 Tokyo: unlisted stages, so the name decides (Lead < Offer)
    got = {(t["from"], t["to"]): (t["count"], t["median_days"]) for t in doc["transitions"]}
    assert got == {("Lead", "Offer"): (1, 0.0), ("Offer", "Closed Won"): (1, 2.125)}
    ws.close()


def test_generic_event_log_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv = (
        "Case ID,Activity,Timestamp,Resource,amount\n"
        "A,見込み,2025-05-01 09:00,r1,\n"
        "A,評価,2025-05-02 21:00,r1,\n"
        "A,失注,2025-05-04 09:00,r2,\n"
        "B,見込み,2025-05-01 09:00,r2,\n"
    )
    ws, counts = _import(tmp_path, "events.csv", csv.encode())
    assert counts == {"stage_history": (4, 0), "opportunities": (2, 0), "reps": (2, 0)}
    status = ws.raw.execute(
        "SELECT opportunity_id, status FROM opportunities ORDER BY 1"
    ).fetchall()
    assert status == [("A", "lost"), ("B", "unknown")]  # 失注 is a lost stage; B reached none
    ws.close()
    main(["process", "-w", str(tmp_path / "w"), "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert {s["stage"]: s["median_days"] for s in doc["stages"]} == {
        "見込み": 1.5,
        "評価": 1.5,
        "失注": None,
    }


EVENTS = (
    "Case ID,Activity,Timestamp,Resource\n"
    "A,見込み,2025-05-01 09:00,r1\n"
    "A,評価,2025-05-02 21:00,r1\n"
    "B,見込み,2025-05-01 09:00,r2\n"
    "A,失注,2025-05-04 09:00,r2\n"
    "C,見込み,2025-13-01 09:00,r3\n"  # no such month: rejected
    "B,評価,2025-05-03 09:00,\n"
    "A,評価,2025-05-02 21:00,r1\n"  # the same event again, two blocks later: rejected
    "C,評価,2025-05-05 09:00,r3\n"
    "B,受注,2025-05-06 09:00,r2\n"
)


def _tables(ws: Workspace) -> dict[str, list[tuple[object, ...]]]:
    q = {
        "stage_history": "SELECT opportunity_id, stage, entered_at, rep_id FROM stage_history",
        "opportunities": "SELECT opportunity_id, owner_rep_id, created_at, status, closed_at "
        "FROM opportunities",
        "reps": "SELECT rep_id, hire_date FROM reps",
        "_rejects": 'SELECT "table", "row", "column", value, code FROM _rejects',
    }
    return {k: sorted(ws.raw.execute(v).fetchall(), key=str) for k, v in q.items()}


def test_big_event_log_is_validated_in_blocks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the same log imported whole and in blocks of 3 events gives the same rows and rejects
    for sub in ("whole", "blocks"):
        (tmp_path / sub).mkdir()
    whole, _ = _import(tmp_path / "whole", "events.csv", EVENTS.encode())
    want = _tables(whole)
    whole.close()
    monkeypatch.setattr(stream, "FRAME_BLOCK_ROWS", 3)
    ws, counts = _import(tmp_path / "blocks", "events.csv", EVENTS.encode())
    got = _tables(ws)
    # a repeat found across blocks is found in SQL on the spooled typed values, so its value
    # shows the key as stored (seconds added) rather than as written
    dup = ("stage_history", 8, "opportunity_id,stage,entered_at")
    assert (*dup, "A, 評価, 2025-05-02 21:00:00", "duplicate") in got["_rejects"]
    got["_rejects"] = [
        (*dup, "A, 評価, 2025-05-02 21:00", r[4]) if r[:3] == dup else r for r in got["_rejects"]
    ]
    assert got == want
    assert counts == {"stage_history": (7, 2), "opportunities": (3, 0), "reps": (3, 0)}
    assert want["_rejects"] == [
        ("stage_history", 6, "entered_at", "2025-13-01 09:00", "type"),
        (*dup, "A, 評価, 2025-05-02 21:00", "duplicate"),
    ]
    assert not list((tmp_path / "blocks").glob("**/.eigyo-stage-*"))
    ws.close()


def test_xes_errors_name_the_problem(tmp_path: Path) -> None:
    ws = new_ws(tmp_path)
    bad = tmp_path / "bad.xes"
    bad.write_text("<log><trace><event>", encoding="utf-8")
    with pytest.raises(ValueError, match="not a readable XES"):
        import_path(ws, bad, preset="xes")
    nocase = tmp_path / "x.csv"
    nocase.write_text("Activity,Timestamp\nA,2025-05-01\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no column for opportunity_id"):
        import_path(ws, nocase, preset="xes")
    assert ws.count("stage_history") == 0
    ws.close()


def _independent_bpi() -> tuple[
    int, int, int, Counter[tuple[str, str]], dict[tuple[str, str], list[float]]
]:
    """Traces, events, complete events and the directly-follows counts of the BPI log's complete
    events (the default ``event_log.lifecycle``), with ElementTree alone."""
    ns = "{http://www.xes-standard.org/}"
    traces = events = complete = 0
    dfg: Counter[tuple[str, str]] = Counter()
    gaps: dict[tuple[str, str], list[float]] = defaultdict(list)
    with zipfile.ZipFile(BPI) as z, z.open(z.namelist()[1]) as f:
        for _, el in ET.iterparse(f):
            if el.tag != ns + "trace":
                continue
            traces += 1
            evs = []
            for e in el.iter(ns + "event"):
                a = {c.get("key"): c.get("value") for c in e}
                events += 1
                if a["lifecycle:transition"] == "COMPLETE":
                    evs.append((datetime.fromisoformat(a["time:timestamp"]), a["concept:name"]))
            complete += len(evs)
            evs.sort()
            for (t1, a1), (t2, a2) in pairwise(evs):
                dfg[(a1, a2)] += 1
                gaps[(a1, a2)].append((t2 - t1).total_seconds() / 86400)
            el.clear()
    return traces, events, complete, dfg, gaps


@needs_data(BPI_FILE)
def test_bpi_challenge_2012(tmp_path: Path) -> None:
    ws = new_ws(tmp_path)
    rep = import_path(ws, BPI, preset="xes")
    counts = {f.table: (f.rows, f.loaded, f.rejected) for f in rep.files}
    traces, events, complete, dfg, gaps = _independent_bpi()
    assert (traces, events, complete) == (13_087, 262_200, 164_506)
    assert counts["opportunities"] == (traces, traces, 0)
    # schedule and start transitions are not stage entries: a work item is entered once
    assert counts["stage_history"] == (complete, complete, 0)
    doc = process_map(ws).to_json()
    assert doc["opportunities"] == traces
    assert sum(s["entered"] for s in doc["stages"]) == complete
    got = {(t["from"], t["to"]): t for t in doc["transitions"]}
    assert {k: t["count"] for k, t in got.items()} == dict(dfg)
    for key, _ in dfg.most_common(5):
        assert got[key]["median_days"] == pytest.approx(statistics.median(gaps[key]), abs=1e-6)
    ws.close()
