"""HubSpot, CRM v3 API, private-app token: deals with stage history, contacts, companies, and the
engagements that are sales activities: calls, meetings, e-mails and tasks.

Incremental through the search API on ``hs_lastmodifieddate`` (contacts: ``lastmodifieddate``).
The search API returns at most 10,000 results per query, so the connector never pages with a
growing offset: every request is a time window ``[lo, hi)`` sorted by the modification time, and
the next window starts at the last time seen (``after`` only skips the few records of that same
millisecond already taken). ``hi`` is fixed when the run starts, so records edited during the
sync are taken by the next one. Pipelines (stage labels), owners (names) and the
``hs_date_entered_<stage>`` properties make the deals export's columns, which the ``hubspot``
preset reads exactly as a file exported from HubSpot.

Deletions: the search API never returns archived (deleted) records, so each object also has an
``archived_<object>`` stream read from the objects API's ``archived=true`` list (``archivedAt``
the cursor); each archived record removes its rows (a deal with its stage history, a contact's
lead, a company's account, an engagement's activity). A task counts as an activity once it is
completed: a task that is not (or no longer) completed removes its activity, so a reopened task
leaves the workspace as it leaves a fresh export's import.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from eigyo.sync.credentials import mapping_file, secret, settings
from eigyo.sync.engine import Page, Record
from eigyo.sync.http import Http

TOKEN_ENV = "EIGYO_HUBSPOT_TOKEN"
PAGE = 200  # the search API's largest page
#: The search API's documented pace (per private app); all of this connector's requests keep it.
SEARCH_PER_S = 4.0
_DEAL_PROPS = {  # property → the column of HubSpot's deals export
    "dealname": "Deal Name",
    "dealstage": "Deal Stage",
    "pipeline": "Pipeline",
    "hubspot_owner_id": "Deal owner",
    "amount": "Amount",
    "createdate": "Create Date",
    "closedate": "Close Date",
    "dealtype": "Deal Type",
    "closed_lost_reason": "Closed Lost Reason",
    "hs_is_closed_won": "Is Closed Won",
    "hs_is_closed": "Is Deal Closed?",
    # written as the export's column, so the preset's value map (COMMIT, BEST_CASE, …) applies
    "hs_manual_forecast_category": "Forecast category",
}
_CONTACT_PROPS = {  # property → the column of HubSpot's contacts export
    "createdate": "Create Date",
    "lifecyclestage": "Lifecycle Stage",
    "hubspot_owner_id": "Contact owner",
    "jobtitle": "Job Title",
    "hs_analytics_source": "Original Source",
    "hs_lead_status": "Lead Status",
    "hs_lifecyclestage_marketingqualifiedlead_date": "Became a Marketing Qualified Lead Date",
    "hs_lifecyclestage_salesqualifiedlead_date": "Became a Sales Qualified Lead Date",
}
_COMPANY_PROPS = {  # property → the column of HubSpot's companies export
    "name": "Company name",
    "industry": "Industry",
    "numberofemployees": "Number of Employees",
    "annualrevenue": "Annual Revenue",
    "state": "State/Region",
    "createdate": "Create Date",
    "hubspot_owner_id": "Company owner",
}
_CALL_PROPS = {  # engagements: calls, as the calls export names them
    "hs_timestamp": "Activity date",
    "hubspot_owner_id": "Activity assigned to",
    "hs_call_title": "Call title",
    "hs_call_direction": "Call direction",
    "hs_call_disposition": "Call outcome",
}
_MEETING_PROPS = {  # engagements: meetings
    "hs_timestamp": "Activity date",
    "hubspot_owner_id": "Activity assigned to",
    "hs_meeting_title": "Meeting name",
    "hs_meeting_start_time": "Meeting start time",
    "hs_meeting_outcome": "Meeting outcome",
}
_EMAIL_PROPS = {  # engagements: e-mails logged or sent from HubSpot
    "hs_timestamp": "Activity date",
    "hubspot_owner_id": "Activity assigned to",
    "hs_email_subject": "Email subject",
    "hs_email_direction": "Email direction",
    "hs_email_status": "Email send status",
}
_TASK_PROPS = {  # engagements: tasks (to-dos, call and e-mail tasks)
    "hs_timestamp": "Due date",
    "hubspot_owner_id": "Activity assigned to",
    "hs_task_subject": "Task title",
    "hs_task_type": "Task type",
    "hs_task_status": "Task status",
    "hs_task_completion_date": "Completed at",
}
#: The streams in the order their files are imported: a rep named first by a company, a
#: contact or a deal is hired on that record's day, as when the exports are imported by name.
_PROPS = {
    "companies": _COMPANY_PROPS,
    "contacts": _CONTACT_PROPS,
    "deals": _DEAL_PROPS,
    "calls": _CALL_PROPS,
    "meetings": _MEETING_PROPS,
    "emails": _EMAIL_PROPS,
    "tasks": _TASK_PROPS,
}
_MODIFIED = {s: "hs_lastmodifieddate" for s in _PROPS} | {"contacts": "lastmodifieddate"}
#: The streams of records archived (deleted) in HubSpot: ``archived_<object>``.
ARCHIVED = "archived_"
_ACTIVITY = [("activities", "activity_id")]
#: The rows an archived record takes with it, by object.
_GONE: dict[str, list[tuple[str, str]]] = {
    "deals": [("opportunities", "opportunity_id"), ("stage_history", "opportunity_id")],
    "contacts": [("leads", "lead_id")],
    "companies": [("accounts", "account_id")],
    "calls": _ACTIVITY,
    "meetings": _ACTIVITY,
    "emails": _ACTIVITY,
    "tasks": _ACTIVITY,
}
#: The task status that makes a task an activity (HubSpot: ``NOT_STARTED`` … ``COMPLETED``).
DONE = "COMPLETED"
#: Records linked to another object (v4 associations): (object, the export's column of its ids).
_LINKS = {
    "deals": ("companies", "Associated Company IDs"),
    "calls": ("deals", "Associated Deal IDs"),
    "meetings": ("deals", "Associated Deal IDs"),
    "emails": ("deals", "Associated Deal IDs"),
    "tasks": ("deals", "Associated Deal IDs"),
}
_TIMES = {"createdate", "hs_lifecyclestage_marketingqualifiedlead_date"}
_TIMES |= {"hs_lifecyclestage_salesqualifiedlead_date", "hs_timestamp", "hs_meeting_start_time"}
_TIMES |= {"hs_task_completion_date"}


def _ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


def _iso(ms: int) -> str:
    at = datetime.fromtimestamp(ms / 1000, UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


class HubSpot:
    """``eigyo sync hubspot``; settings ``[sync.hubspot]``: ``base_url`` (optional), ``objects``."""

    crm = "hubspot"

    def __init__(self, workspace: Path, timezone: str, **http: Any) -> None:
        cfg = settings(workspace, self.crm)
        self.mapping = mapping_file(workspace, cfg, self.crm)
        base = str(cfg.get("base_url", "https://api.hubapi.com"))
        objects = cfg.get("objects", list(_PROPS))
        self.objects = [o for o in _PROPS if isinstance(objects, list) and o in objects]
        token = secret(TOKEN_ENV, self.crm) or ""
        http.setdefault("max_per_s", SEARCH_PER_S)
        auth = {"Authorization": f"Bearer {token}"}
        self.http = Http(self.crm, base, auth, secrets=(token,), **http)
        self.tz = ZoneInfo(timezone)

    def streams(self) -> list[str]:
        return list(self.objects) + [ARCHIVED + o for o in self.objects]

    def prepare(self) -> dict[str, Any]:
        """Pipelines and stages (labels), owners (names), and the run's upper time bound."""
        pipelines = self.http.request("GET", "/crm/v3/pipelines/deals")["results"]
        stages = {
            s["id"]: {"label": s["label"], "pipeline": p["label"]}
            for p in pipelines
            for s in p.get("stages", [])
        }
        owners: dict[str, str] = {}
        after: str | None = None
        while True:
            params: dict[str, object] = {"limit": 100, **({"after": after} if after else {})}
            body = self.http.request("GET", "/crm/v3/owners", params=params)
            for o in body.get("results", []):
                name = f"{o.get('lastName') or ''} {o.get('firstName') or ''}".strip()
                owners[str(o["id"])] = name or str(o.get("email") or o["id"])
            after = body.get("paging", {}).get("next", {}).get("after")
            if not after:
                break
        outcomes: dict[str, str] = {}
        if "calls" in self.objects:  # call outcomes are GUIDs; the export writes their labels
            got = self.http.request("GET", "/calling/v1/dispositions")
            outcomes = {str(d["id"]): str(d["label"]) for d in got or []}
        hi = int(time.time() * 1000) + 1
        return {"stages": stages, "owners": owners, "outcomes": outcomes, "hi": hi}

    def _props(self, stream: str, meta: Any) -> list[str]:
        if stream != "deals":
            return [*_PROPS[stream], _MODIFIED[stream]]
        return [*_DEAL_PROPS, _MODIFIED[stream], *(f"hs_date_entered_{s}" for s in meta["stages"])]

    def _link(self, stream: str, records: list[Record]) -> None:
        """Each record's associated records (a deal's companies, a call's deals) from the v4
        associations API, one batch per page, kept on the record as ``linked``."""
        if not records or stream not in _LINKS:
            return
        body = {"inputs": [{"id": str(r["id"])} for r in records]}
        other = _LINKS[stream][0]
        path = f"/crm/v4/associations/{stream}/{other}/batch/read"
        answer = self.http.request("POST", path, body=body)
        found = {
            str(a["from"]["id"]): [str(t["toObjectId"]) for t in a.get("to", [])]
            for a in answer.get("results", [])
        }
        for r in records:
            r["linked"] = found.get(str(r["id"]), [])

    def _archived(self, obj: str, resume: dict[str, Any] | None) -> Iterator[Page]:
        """Records of ``obj`` archived (deleted) in HubSpot: the objects API's ``archived=true``
        list, paged by ``after``. The search API never returns them; the cursor
        (``archivedAt``) skips the ones already removed."""
        after = (resume or {}).get("after")
        while True:
            params: dict[str, object] = {"archived": "true", "limit": 100}
            if after:
                params["after"] = after
            answer = self.http.request("GET", f"/crm/v3/objects/{obj}", params=params)
            after = answer.get("paging", {}).get("next", {}).get("after")
            records = [r for r in answer.get("results", []) if r.get("archivedAt")]
            yield Page(records, {"after": after} if after else None)
            if not after:
                return

    def pages(
        self, stream: str, since: dict[str, Any] | None, resume: dict[str, Any] | None, meta: Any
    ) -> Iterator[Page]:
        if stream.startswith(ARCHIVED):
            yield from self._archived(stream.removeprefix(ARCHIVED), resume)
            return
        prop = _MODIFIED[stream]
        lo = int((resume or {}).get("lo", _ms(since["at"]) if since and since.get("at") else 0))
        skip = int((resume or {}).get("skip", 0))
        hi = int(meta["hi"])
        while True:
            body = {
                "filterGroups": [
                    {
                        "filters": [
                            {"propertyName": prop, "operator": "GTE", "value": str(lo)},
                            {"propertyName": prop, "operator": "LT", "value": str(hi)},
                        ]
                    }
                ],
                "sorts": [{"propertyName": prop, "direction": "ASCENDING"}],
                "properties": self._props(stream, meta),
                "limit": PAGE,
                **({"after": str(skip)} if skip else {}),
            }
            answer = self.http.request("POST", f"/crm/v3/objects/{stream}/search", body=body)
            records: list[Record] = answer.get("results", [])
            self._link(stream, records)
            if len(records) < PAGE:
                yield Page(records, None)
                return
            last = _ms(records[-1]["properties"][prop])
            same = sum(1 for r in records if _ms(r["properties"][prop]) == last)
            skip = skip + same if last == lo else same
            lo = last
            yield Page(records, {"lo": lo, "skip": skip})

    def key(self, stream: str, record: Record) -> str:
        return str(record["id"])

    def stamp(self, stream: str, record: Record) -> tuple[str, str]:
        if stream.startswith(ARCHIVED):
            value = record["archivedAt"]
        else:
            value = record["properties"][_MODIFIED[stream]]
        at = _iso(_ms(value))
        return at, at

    def removed(self, stream: str, record: Record) -> list[tuple[str, str]] | None:
        if stream.startswith(ARCHIVED):
            return _GONE[stream.removeprefix(ARCHIVED)]
        if stream == "tasks" and (record["properties"].get("hs_task_status") or "") != DONE:
            return _ACTIVITY  # not done: no activity (one that was done and reopened goes)
        return None

    def _time(self, value: str | None, date: bool = False) -> str:
        if not value:
            return ""
        at = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(self.tz)
        return at.strftime("%Y-%m-%d" if date else "%Y-%m-%d %H:%M:%S")

    def write(self, stream: str, records: Iterator[Record], out: Path, meta: Any) -> int:
        if stream.startswith(ARCHIVED):  # removals only: nothing to import
            return sum(1 for _ in records)
        stages, owners = meta["stages"], meta["owners"]
        cols = _PROPS[stream]
        entered = list(stages) if stream == "deals" else []
        linked = [_LINKS[stream][1]] if stream in _LINKS else []
        header = ["Record ID", *cols.values(), *linked]
        header += [
            f'Date entered "{stages[s]["label"]} ({stages[s]["pipeline"]})"' for s in entered
        ]
        path, n = out / f"hubspot-{list(_PROPS).index(stream)}-{stream}.csv", 0
        with path.open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(header)
            for rec in records:
                p = rec["properties"]
                row = [str(rec["id"])]
                for prop in cols:
                    v = p.get(prop) or ""
                    if prop == "dealstage":
                        v = stages.get(v, {}).get("label", v)
                    elif prop == "hs_call_disposition":
                        v = meta.get("outcomes", {}).get(v, v)
                    elif prop == "hubspot_owner_id":
                        v = owners.get(v, v)
                    elif prop in _TIMES:
                        v = self._time(v)
                    elif prop == "closedate":
                        v = self._time(v, date=True)
                    row.append(v)
                row += [(rec.get("linked") or [""])[0]] if linked else []
                row += [self._time(p.get(f"hs_date_entered_{s}")) for s in entered]
                w.writerow(row)
                n += 1
        if not n:
            path.unlink()
        return n

    def publish(self, con: Any) -> None:
        """Nothing of its own to keep: archived records come back from HubSpot's own list."""

    def notes(self, con: Any) -> list[tuple[str, dict[str, object]]]:
        return []
