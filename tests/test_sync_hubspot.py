"""eigyo sync hubspot against a HubSpot API on the loopback interface (tests/_sync_hubspot.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from eigyo import workspace
from eigyo.sync import SyncError
from tests._sync_hubspot import TOKEN, Portal, export_csv
from tests._sync_server import Server
from tests._sync_util import forecast_categories, imported, make_ws, rejects, sync, tables

OBJECTS = ("companies", "contacts", "deals", "calls", "meetings", "emails", "tasks")

FAST = {"max_per_s": 200.0}


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EIGYO_HUBSPOT_TOKEN", TOKEN)


def _ws(tmp: Path, url: str, name: str = "ws") -> Path:
    return make_ws(tmp / name, "hubspot", f'base_url = "{url}"')


def test_synced_equals_csv_import_under_the_search_cap(tmp_path: Path, token: None) -> None:
    portal = Portal(2500, 700, cap=1000)  # 2,500 deals through a search API capped at 1,000
    with Server(portal.handle) as s:
        ws = _ws(tmp_path, s.url)
        first = sync(ws, "hubspot", http=FAST)
        assert first.fetched == {
            "deals": 2500,
            "contacts": 700,
            "companies": 40,
            "calls": 500,
            "meetings": 250,
            "emails": 250,
            "tasks": 250,
            **{f"archived_{o}": 0 for o in OBJECTS},
        }
        ref = imported(tmp_path / "csv1", export_csv(portal, tmp_path / "exp1"), "hubspot")
        got, want = tables(ws), tables(ref)
        assert got == want and len(got["stage_history"]) > 2500 and len(got["leads"]) == 700
        assert rejects(ws) == rejects(ref)
        # hs_manual_forecast_category COMMIT, BEST_CASE, PIPELINE, OMIT, CLOSED, unset in turn
        turn = ["commit", "best_case", "pipeline", "omitted", "closed", None]
        assert forecast_categories(ws) == {str(i): turn[i % 6] for i in range(1, 2501)}
        done = sum(
            1 for t in portal.objects["tasks"].values() if t["hs_task_status"] == "COMPLETED"
        )
        assert len(got["accounts"]) == 40 and len(got["activities"]) == 750 + 250 + done
        assert {a[2] for a in got["activities"]} == {"call", "meeting", "email", "other"}
        assert sum(1 for a in got["activities"] if a[5] == "replied") == 84  # incoming e-mails
        assert sum(1 for o in got["opportunities"] if o[1]) == 2250  # account_id of 9 in 10
        gen = workspace.generation(ws)
        assert not sync(ws, "hubspot", http=FAST).changed
        assert workspace.generation(ws) == gen
        portal.edit(
            "deals",
            "10",
            dealstage="closedwon",
            hs_is_closed_won="true",
            hs_is_closed="true",
            hs_date_entered_closedwon="2025-09-01T00:00:00.000Z",
        )
        portal.edit("contacts", "3", hs_lead_status="OPEN_DEAL")
        portal.archive("20")
        portal.archive("5", "contacts")
        portal.archive("1007", "companies")
        portal.archive("50001", "calls")
        portal.archive("60002", "emails")
        portal.edit("tasks", "70001", hs_task_status="NOT_STARTED", hs_task_completion_date=None)
        done_at = "2025-09-02T01:00:00.000Z"
        portal.edit("tasks", "70003", hs_task_status="COMPLETED", hs_task_completion_date=done_at)
        third = sync(ws, "hubspot", http=FAST)
        assert third.written == {
            "deals": 1,
            "contacts": 1,
            "companies": 0,
            "calls": 0,
            "meetings": 0,
            "emails": 0,
            "tasks": 1,
            **{f"archived_{o}": 0 for o in OBJECTS},  # removals: nothing to import
        }
        assert third.removed == 6  # five archived records, one task reopened
        ref2 = imported(tmp_path / "csv2", export_csv(portal, tmp_path / "exp2"), "hubspot")
        assert tables(ws) == tables(ref2)
        assert not sync(ws, "hubspot", http=FAST).changed  # the archived deal is known now


def test_search_pace_and_429(tmp_path: Path, token: None) -> None:
    portal = Portal(450, 10)
    with Server(portal.handle) as s:
        s.faults.throttle, s.faults.only = 1, "/search"
        report = sync(_ws(tmp_path, s.url), "hubspot")  # the default pace: 4 requests/s
        searches = [r for r in s.log if r.path.endswith("/search")]
        assert len(searches) == 10  # 3 deal pages (one retried after 429), 1 of each other
        assert report.fetched["archived_deals"] == 0
        assert report.rate_wait_s >= 1.0 + 0.25 * 3


def test_auth_and_scope_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    portal = Portal(5, 5)
    with Server(portal.handle) as s:
        monkeypatch.setenv("EIGYO_HUBSPOT_TOKEN", "pat-na1-wrong-000000")
        with pytest.raises(SyncError) as e:
            sync(_ws(tmp_path, s.url), "hubspot", http=FAST)
        assert e.value.key == "sync.error.auth" and "wrong-0000" not in e.value.localized("ja")


def test_a_quoted_date_entered_header_becomes_stage_history(tmp_path: Path) -> None:
    """HubSpot quotes the ``Date entered "<stage>"`` headers (RFC 4180: ``""`` inside quotes);
    Polars kept the doubled quotes, so no stage history came from a real deals export."""
    f = tmp_path / "deals.csv"
    f.write_text(
        "Record ID,Deal Name,Deal Stage,Amount,Close Date,Create Date,Deal owner,"
        '"Date entered ""Appointment Scheduled (Sales Pipeline)"""\n'
        "1,A,Closed won,100,2025-04-30,2025-04-01 10:00,X,2025-04-01 10:00\n",
        encoding="utf-8",
    )
    ws = imported(tmp_path / "ws", f, "hubspot")
    assert [r[:2] for r in tables(ws)["stage_history"]] == [("1", "Appointment Scheduled")]
