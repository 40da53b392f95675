"""Salesforce over its REST API: queryAll paged by ``nextRecordsUrl``; Bulk API 2.0 for big objects.

Each object is fetched in ``SystemModstamp`` order (history objects, which have none, by
``CreatedDate``) from the committed cursor, through ``queryAll`` so that deleted records arrive
with ``IsDeleted = true`` and are removed from the workspace. A crash resumes from the last
stamp staged (a query locator dies with its session; a stamp does not). Objects named in
``bulk`` go through a Bulk API 2.0 query job (create → poll until ``JobComplete`` → results by
``Sforce-Locator``), whose id and locator are the checkpoint. Records are written with API names
as headers, as Data Loader and the weekly Data Export write them, so the ``salesforce`` preset
maps Opportunity, OpportunityHistory (stage history), OpportunityFieldHistory (opportunity
changes), User, Account, Lead, Task and Event exactly as it maps those files.

Campaign and CampaignMember have no table of their own: they decide each lead's campaign (the
preset's ``lookups``: first responded, else first joined). A file import sees every member of a
lead at once; a sync sees only the members that changed, often of leads that did not. So the sync
keeps both objects in the workspace (``_sf_campaigns``, ``_sf_campaign_members``, written in the
sync's transaction) and sets ``leads.campaign`` from them by the same rule (:data:`CAMPAIGN_SQL`)
after every import — a new membership of an old lead changes that lead, as a fresh export would.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from eigyo.sync.campaigns import CampaignBook
from eigyo.sync.credentials import mapping_file, settings
from eigyo.sync.engine import Page, Record
from eigyo.sync.http import Http, SyncError
from eigyo.sync.sf_auth import sign_in

API_VERSION = "v60.0"
#: Object → (fields as Data Loader exports them, cursor field, rows a deletion removes by its id).
OBJECTS: dict[str, tuple[tuple[str, ...], str, list[tuple[str, str]]]] = {
    "User": (
        ("Id", "Username", "Name", "Department", "ManagerId", "UserRoleId", "IsActive",
         "CreatedDate"),
        "SystemModstamp",
        [],
    ),
    "Account": (
        ("Id", "Name", "Industry", "NumberOfEmployees", "AnnualRevenue", "BillingState",
         "OwnerId", "CreatedDate"),
        "SystemModstamp",
        [("accounts", "account_id")],
    ),
    "Opportunity": (
        ("Id", "AccountId", "OwnerId", "Name", "Amount", "CloseDate", "CreatedDate", "StageName",
         "IsClosed", "IsWon", "LeadSource", "Type", "Probability", "ForecastCategoryName"),
        "SystemModstamp",
        [  # its history goes with it (Salesforce deletes both)
            ("opportunities", "opportunity_id"),
            ("stage_history", "opportunity_id"),
            ("opportunity_changes", "opportunity_id"),
        ],
    ),
    "OpportunityHistory": (
        ("Id", "OpportunityId", "CreatedById", "CreatedDate", "StageName", "Amount", "CloseDate",
         "Probability", "ForecastCategory"),
        "SystemModstamp",
        [],
    ),
    "OpportunityFieldHistory": (
        ("Id", "OpportunityId", "CreatedDate", "Field", "OldValue", "NewValue"),
        "CreatedDate",
        [],
    ),
    "Lead": (
        ("Id", "CreatedDate", "LeadSource", "OwnerId", "Title", "Status", "IsConverted",
         "ConvertedOpportunityId"),
        "SystemModstamp",
        [("leads", "lead_id")],
    ),
    "Task": (
        ("Id", "OwnerId", "TaskSubtype", "Type", "CreatedDate", "WhoId", "WhatId",
         "CallDurationInSeconds", "IsHighPriority"),
        "SystemModstamp",
        [("activities", "activity_id")],
    ),
    "Event": (
        ("Id", "OwnerId", "Type", "StartDateTime", "DurationInMinutes", "EventSubtype", "WhoId",
         "WhatId", "CreatedDate"),
        "SystemModstamp",
        [("activities", "activity_id")],
    ),
    "Campaign": (
        ("Id", "Name", "Type", "Status", "StartDate", "EndDate", "IsActive", "ParentId",
         "CreatedDate"),
        "SystemModstamp",
        [],
    ),
    "CampaignMember": (
        ("Id", "CampaignId", "LeadId", "ContactId", "Status", "HasResponded",
         "FirstRespondedDate", "CreatedDate"),
        "SystemModstamp",
        [],
    ),
}  # fmt: skip
#: Objects kept for the leads' campaigns, not imported as a file (:mod:`eigyo.sync.campaigns`).
_CAMPAIGN_OBJECTS = ("Campaign", "CampaignMember")
#: Objects without ``IsDeleted`` (users are deactivated, never deleted).
_NO_DELETE = {"User"}
BATCH = 2000  # REST query batch size (Sforce-Query-Options), Salesforce's default and maximum
BULK_PAGE = 50_000  # Bulk API 2.0 results per request (maxRecords)
#: Days between the first opportunity and the first field-history row that mean a gap.
HISTORY_GAP_DAYS = 31


def stamp_text(value: str) -> str:
    """``2025-04-01T09:00:00.000+0000`` (REST) or ``…Z`` (Bulk) → one sortable UTC text."""
    return value.replace("+0000", "Z") if value else ""


def _text(value: object) -> str:
    """A REST value as Bulk API 2.0 and Data Loader write it in CSV."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return stamp_text(value) if value.endswith("+0000") else value
    return str(value)


class Salesforce:
    """``eigyo sync salesforce``; settings ``[sync.salesforce]``: ``instance_url``, ``objects``,
    ``bulk`` (objects read through Bulk API 2.0), ``api_version``, ``login_url``, ``client_id``,
    ``username`` (JWT)."""

    crm = "salesforce"

    def __init__(self, workspace: Path, timezone: str, **http: Any) -> None:
        cfg = settings(workspace, self.crm)
        self.mapping = mapping_file(workspace, cfg, self.crm)
        wanted = cfg.get("objects", list(OBJECTS))
        self.objects = [o for o in OBJECTS if isinstance(wanted, list) and o in wanted]
        bulk = cfg.get("bulk", [])
        self.bulk = set(bulk) if isinstance(bulk, list) else set()
        self.version = str(cfg.get("api_version", API_VERSION))
        self.poll_s = float(str(cfg.get("bulk_poll_seconds", 2)))
        token, instance = sign_in(cfg, **http)
        headers = {
            "Authorization": f"Bearer {token}",
            "Sforce-Query-Options": f"batchSize={BATCH}",
        }
        self.http = Http(self.crm, instance, headers, secrets=(token,), **http)
        self.book = CampaignBook()

    def streams(self) -> list[str]:
        return list(self.objects)

    def prepare(self) -> dict[str, Any]:
        return {}

    def _soql(self, obj: str, since: str) -> str:
        fields, stamp, _ = OBJECTS[obj]
        cols = [*fields, stamp] if stamp not in fields else list(fields)
        if obj not in _NO_DELETE:
            cols.append("IsDeleted")
        where = f" WHERE {stamp} >= {since[:19]}Z" if since else ""
        return f"SELECT {', '.join(cols)} FROM {obj}{where} ORDER BY {stamp}, Id"

    def pages(
        self, stream: str, since: dict[str, Any] | None, resume: dict[str, Any] | None, meta: Any
    ) -> Iterator[Page]:
        start = str((resume or {}).get("from") or (since or {}).get("at") or "")
        if stream in self.bulk:
            yield from self._bulk(stream, start, resume or {})
            return
        base = f"/services/data/{self.version}"
        answer = self.http.request(
            "GET", f"{base}/queryAll", params={"q": self._soql(stream, start)}
        )
        stamp = OBJECTS[stream][1]
        while True:
            records = [
                {k: _text(v) for k, v in r.items() if k != "attributes"}
                for r in answer.get("records", [])
            ]
            nxt = answer.get("nextRecordsUrl")
            if answer.get("done", True) or not nxt:
                yield Page(records, None)
                return
            yield Page(records, {"from": records[-1][stamp] if records else start})
            answer = self.http.request("GET", nxt)

    def _bulk(self, obj: str, start: str, resume: dict[str, Any]) -> Iterator[Page]:
        """A Bulk API 2.0 query job: created once (its id checkpointed), polled, read by locator."""
        jobs = f"/services/data/{self.version}/jobs/query"
        job = resume.get("job")
        if not job:
            body = {"operation": "queryAll", "query": self._soql(obj, start), "contentType": "CSV"}
            job = str(self.http.request("POST", jobs, body=body)["id"])
            yield Page([], {"job": job, "from": start})
        wait = 0.0
        while True:
            state = self.http.request("GET", f"{jobs}/{job}").get("state")
            if state == "JobComplete":
                break
            if state in ("Failed", "Aborted"):
                raise SyncError(key="sync.error.bad_answer", crm=self.crm, detail=f"job {state}")
            wait = min(max(wait * 2, self.poll_s / 4), self.poll_s * 8)
            time.sleep(wait)
        locator = resume.get("locator")
        while True:
            params: dict[str, object] = {"maxRecords": BULK_PAGE}
            if locator:
                params["locator"] = locator
            got: dict[str, str] = {}
            text = self.http.request(
                "GET", f"{jobs}/{job}/results", params=params, accept_text=True, headers_out=got
            )
            records: list[Record] = list(csv.DictReader(io.StringIO(text)))
            nxt = {k.lower(): v for k, v in got.items()}.get("sforce-locator", "null")
            if not nxt or nxt == "null":
                yield Page(records, None)
                return
            locator = nxt
            yield Page(records, {"job": job, "locator": locator, "from": start})

    def key(self, stream: str, record: Record) -> str:
        return str(record["Id"])

    def stamp(self, stream: str, record: Record) -> tuple[str, str]:
        at = stamp_text(str(record.get(OBJECTS[stream][1], "")))
        return at, at

    def removed(self, stream: str, record: Record) -> list[tuple[str, str]] | None:
        if record.get("IsDeleted") != "true":
            return None
        if stream in _CAMPAIGN_OBJECTS:
            self.book.delete(stream, str(record["Id"]))
        return OBJECTS[stream][2]

    def write(self, stream: str, records: Iterator[Record], out: Path, meta: Any) -> int:
        if stream in _CAMPAIGN_OBJECTS:  # kept in the workspace by publish(), no file
            return self.book.keep(stream, records)
        fields = list(OBJECTS[stream][0])
        path, n = out / f"salesforce-{stream}.csv", 0
        with path.open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(fields)
            for rec in records:
                w.writerow([rec.get(c, "") for c in fields])
                n += 1
        if not n:
            path.unlink()
        return n

    def publish(self, con: Any) -> None:
        """Inside the sync's transaction: the campaigns and members that changed, and every
        lead's campaign set again from them (when Campaign or CampaignMember is synced)."""
        if any(o in self.objects for o in _CAMPAIGN_OBJECTS):
            self.book.publish(con)

    def notes(self, con: Any) -> list[tuple[str, dict[str, object]]]:
        """Field history is kept for a limited time (18 months by default): when the first
        close-date / amount change is long after the first opportunity, the earlier ones are
        gone, and slippage and coverage before that date are measured without them."""
        if "OpportunityFieldHistory" not in self.objects:
            return []
        first_opp, first_change = con.execute(
            "SELECT (SELECT min(created_at) FROM opportunities),"
            " (SELECT min(changed_at) FROM opportunity_changes)"
        ).fetchall()[0]
        if first_opp is None:
            return []
        if first_change is None:
            return [("sync.note.no_field_history", {})]
        if (first_change - first_opp).days > HISTORY_GAP_DAYS:
            since = f"{first_change:%Y-%m-%d}"
            return [("sync.note.history_gap", {"since": since, "first": f"{first_opp:%Y-%m-%d}"})]
        return []
