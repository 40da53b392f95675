"""A HubSpot portal on the loopback server, as HubSpot's CRM v3 API documents it.

Search (``POST /crm/v3/objects/{object}/search``): ``filterGroups`` of ``filters`` (GTE / LT on a
property, epoch milliseconds for dates), ``sorts``, ``properties``, ``limit`` at most 200, ``after``
an offset; at most 10,000 results per query (past that: 400); the answer ``{"total", "results":
[{"id", "properties", "createdAt", "updatedAt", "archived"}], "paging": {"next": {"after"}}}``.
Pipelines (``/crm/v3/pipelines/deals``) carry the default sales pipeline's stages; owners
(``/crm/v3/owners``) page with ``after``. A bad token answers 401 ``INVALID_AUTHENTICATION``, a
token without the scope 403 ``MISSING_SCOPES``. Archiving a record (``DELETE``,
:meth:`Portal.archive`) takes it out of search; the objects API lists it with
``GET /crm/v3/objects/{object}?archived=true`` (``limit`` at most 100; ``{"results": [{"id",
"properties", "archived": true, "archivedAt"}], "paging": {"next": {"after"}}}``). E-mails
(``hs_email_direction`` ``EMAIL`` / ``INCOMING_EMAIL`` / ``FORWARDED_EMAIL``) and tasks
(``hs_task_status`` ``NOT_STARTED`` … ``COMPLETED``, ``hs_task_type`` ``CALL`` / ``EMAIL`` /
``TODO``) are engagements like calls. :func:`export_csv` writes the exports ("properties as
labels") independently of eigyo.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from tests._sync_server import Reply, Request

TOKEN = "pat-na1-11111111-2222-3333-4444-555555555555"
STAGES = [  # the default sales pipeline (id, label, isClosed)
    ("appointmentscheduled", "Appointment Scheduled", False),
    ("qualifiedtobuy", "Qualified To Buy", False),
    ("presentationscheduled", "Presentation Scheduled", False),
    ("decisionmakerboughtin", "Decision Maker Bought-In", False),
    ("contractsent", "Contract Sent", False),
    ("closedwon", "Closed Won", True),
    ("closedlost", "Closed Lost", True),
]
DISPOSITIONS = [  # the default call outcomes (GET /calling/v1/dispositions)
    ("f240bbac-87c9-4f6e-bf70-924b57d47db7", "Connected"),
    ("73a0d17f-1163-4015-bdd5-ec830791da20", "No answer"),
    ("b2cf5968-551e-4856-9783-52b3da59a7d0", "Left voicemail"),
    ("9d9162e7-6cf3-4944-bf63-4dff82258764", "Busy"),
]
OWNERS = [("101", "一郎", "佐藤"), ("102", "花子", "鈴木"), ("103", "次郎", "田中")]
T0 = datetime(2025, 4, 1, tzinfo=UTC)


def _iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def _ms(v: str) -> int:
    return int(datetime.fromisoformat(v.replace("Z", "+00:00")).timestamp() * 1000)


class Portal:
    def __init__(self, deals: int, contacts: int, cap: int = 10_000) -> None:
        self.cap = cap
        self.objects: dict[str, dict[str, dict[str, Any]]] = {
            "deals": {},
            "contacts": {},
            "companies": {},
            "calls": {},
            "meetings": {},
            "emails": {},
            "tasks": {},
        }
        for i in range(1, deals // 5 + 1):  # calls and meetings, ids apart from the deals'
            at = T0 + timedelta(minutes=37 * i)  # in the past even for the benchmark sizes
            self.objects["calls"][str(50_000 + i)] = {
                "hs_timestamp": _iso(at),
                "hubspot_owner_id": OWNERS[i % 3][0],
                "hs_call_title": f"架電 {i}",
                "hs_call_direction": "OUTBOUND",
                "hs_call_disposition": DISPOSITIONS[i % len(DISPOSITIONS)][0],
                "hs_lastmodifieddate": _iso(at + timedelta(minutes=5)),
            }
            if i % 2 == 0:
                self.objects["meetings"][str(80_000 + i)] = {
                    "hs_timestamp": _iso(at),
                    "hubspot_owner_id": OWNERS[i % 3][0],
                    "hs_meeting_title": f"商談 {i}",
                    "hs_meeting_start_time": _iso(at + timedelta(days=2)),
                    "hs_meeting_outcome": ["COMPLETED", "NO_SHOW", "SCHEDULED"][i % 3],
                    "hs_lastmodifieddate": _iso(at + timedelta(minutes=9)),
                }
        for i in range(1, deals // 10 + 1):  # e-mails and tasks
            at = T0 + timedelta(minutes=53 * i)
            self.objects["emails"][str(60_000 + i)] = {
                "hs_timestamp": _iso(at),
                "hubspot_owner_id": OWNERS[i % 3][0],
                "hs_email_subject": f"ご提案 {i}",
                "hs_email_direction": ["EMAIL", "INCOMING_EMAIL", "FORWARDED_EMAIL"][i % 3],
                "hs_email_status": "SENT",
                "hs_lastmodifieddate": _iso(at + timedelta(minutes=1)),
            }
            done = i % 3 != 0
            self.objects["tasks"][str(70_000 + i)] = {
                "hs_timestamp": _iso(at + timedelta(days=1)),
                "hubspot_owner_id": OWNERS[i % 3][0],
                "hs_task_subject": f"フォロー {i}",
                "hs_task_type": ["CALL", "EMAIL", "TODO"][i % 3],
                "hs_task_status": "COMPLETED" if done else "NOT_STARTED",
                "hs_task_completion_date": _iso(at + timedelta(hours=20)) if done else None,
                "hs_lastmodifieddate": _iso(at + timedelta(hours=21)),
            }
        for c in range(1, 41):
            self.objects["companies"][str(1000 + c)] = {
                "name": f"株式会社{c}",
                "industry": "COMPUTER_SOFTWARE" if c % 2 else None,
                "numberofemployees": str(10 * c),
                "annualrevenue": str(1_000_000 * c),
                "state": "東京都",
                "createdate": _iso(T0 - timedelta(days=c)),
                "hubspot_owner_id": OWNERS[c % 3][0],
                "hs_lastmodifieddate": _iso(T0 - timedelta(days=c) + timedelta(hours=1)),
            }
        for i in range(1, deals + 1):
            self._deal(i)
        for i in range(1, contacts + 1):
            self._contact(i)
        self.clock = T0 + timedelta(days=400)
        self.archived: dict[str, dict[str, str]] = {o: {} for o in self.objects}  # → archivedAt

    def _deal(self, i: int) -> None:
        created = T0 + timedelta(hours=5 * i, seconds=i % 60)
        reached = i % 7
        stage = STAGES[reached]
        props: dict[str, str | None] = {
            "dealname": f"Deal {i}",
            "dealstage": stage[0],
            "pipeline": "default",
            "amount": None if i % 17 == 0 else str(50000 * (i % 40 + 1)),
            "createdate": _iso(created),
            "closedate": _iso(created + timedelta(days=45)),
            "hubspot_owner_id": OWNERS[i % 3][0],
            "dealtype": "newbusiness" if i % 2 else "existingbusiness",
            "closed_lost_reason": "価格" if stage[0] == "closedlost" else None,
            "hs_is_closed_won": str(stage[0] == "closedwon").lower(),
            "hs_is_closed": str(stage[2]).lower(),
            "hs_manual_forecast_category": FORECAST[i % len(FORECAST)],
            # groups of 300 deals share one modification time: paging must not lose any
            "hs_lastmodifieddate": _iso(T0 + timedelta(days=1 + i // 300)),
        }
        for k in range(min(reached, 4) + 1 if reached < 5 else 5):
            props[f"hs_date_entered_{STAGES[k][0]}"] = _iso(created + timedelta(days=3 * k))
        if reached >= 5:
            props[f"hs_date_entered_{stage[0]}"] = _iso(created + timedelta(days=40))
        self.objects["deals"][str(i)] = props

    def _contact(self, i: int) -> None:
        created = T0 + timedelta(hours=3 * i)
        props: dict[str, str | None] = {
            "createdate": _iso(created),
            "lifecyclestage": ["lead", "marketingqualifiedlead", "salesqualifiedlead"][i % 3],
            "hubspot_owner_id": OWNERS[i % 3][0],
            "jobtitle": "部長" if i % 2 else None,
            "hs_analytics_source": ["ORGANIC_SEARCH", "PAID_SEARCH", "OFFLINE"][i % 3],
            "hs_lead_status": ["NEW", "IN_PROGRESS", "OPEN_DEAL", "UNQUALIFIED"][i % 4],
            "hs_lifecyclestage_marketingqualifiedlead_date": _iso(created + timedelta(hours=2))
            if i % 3
            else None,
            "hs_lifecyclestage_salesqualifiedlead_date": _iso(created + timedelta(days=2))
            if i % 3 == 2
            else None,
            "lastmodifieddate": _iso(created + timedelta(days=1)),
        }
        self.objects["contacts"][str(i)] = props

    @staticmethod
    def company_of(deal: str) -> str:
        """Deal → its company (every tenth deal has none)."""
        return "" if int(deal) % 10 == 0 else str(1000 + int(deal) % 40 + 1)

    def archive(self, oid: str, obj: str = "deals") -> None:
        """Delete a record as HubSpot does: it leaves search and lists, and is listed archived."""
        self.clock += timedelta(seconds=1)
        self.archived[obj][oid] = _iso(self.clock)
        del self.objects[obj][oid]

    def edit(self, obj: str, oid: str, **values: str | None) -> None:
        self.clock += timedelta(seconds=1)
        p = self.objects[obj][oid]
        p.update(values)
        p["lastmodifieddate" if obj == "contacts" else "hs_lastmodifieddate"] = _iso(self.clock)

    def handle(self, req: Request) -> Reply:
        if req.headers.get("authorization") != f"Bearer {TOKEN}":
            return Reply(
                401,
                {
                    "status": "error",
                    "category": "INVALID_AUTHENTICATION",
                    "message": "Authentication credentials not found.",
                },
            )
        if req.path == "/crm/v3/pipelines/deals":
            stages = [
                {"id": s, "label": lab, "displayOrder": n, "metadata": {"isClosed": str(c).lower()}}
                for n, (s, lab, c) in enumerate(STAGES)
            ]
            return Reply(
                200, {"results": [{"id": "default", "label": "Sales Pipeline", "stages": stages}]}
            )
        obj = req.path.removeprefix("/crm/v3/objects/")
        if obj in self.archived and req.arg("archived") == "true":
            start, limit = int(req.arg("after", "0")), int(req.arg("limit", "10"))
            if limit > 100:
                return Reply(400, {"status": "error", "category": "VALIDATION_ERROR"})
            rows = sorted(self.archived[obj].items())
            page = [
                {"id": d, "properties": {"hs_object_id": d}, "archived": True, "archivedAt": at}
                for d, at in rows[start : start + limit]
            ]
            more = start + limit < len(rows)
            nxt = {"paging": {"next": {"after": str(start + limit)}}} if more else {}
            return Reply(200, {"results": page, **nxt})
        if req.path == "/calling/v1/dispositions":
            return Reply(
                200, [{"id": g, "label": lab, "deleted": False} for g, lab in DISPOSITIONS]
            )
        if req.path in tuple(
            f"/crm/v4/associations/{e}/deals/batch/read"
            for e in ("calls", "meetings", "emails", "tasks")
        ):
            results = [
                {"from": {"id": i["id"]}, "to": [{"toObjectId": int(i["id"]) % 1000 + 1}]}
                for i in req.json()["inputs"]
            ]
            return Reply(200, {"status": "COMPLETE", "results": results})
        if req.path == "/crm/v4/associations/deals/companies/batch/read":
            results = [
                {
                    "from": {"id": i["id"]},
                    "to": [
                        {
                            "toObjectId": int(self.company_of(i["id"])),
                            "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": 5}],
                        }
                    ],
                }
                for i in req.json()["inputs"]
                if self.company_of(i["id"])
            ]
            return Reply(200, {"status": "COMPLETE", "results": results})
        if req.path == "/crm/v3/owners":
            start = int(req.arg("after", "0"))
            rows = [
                {"id": o, "firstName": f, "lastName": la, "email": f"{o}@example.com"}
                for o, f, la in OWNERS
            ]
            page = rows[start : start + 2]
            more = {"paging": {"next": {"after": str(start + 2)}}} if start + 2 < len(rows) else {}
            return Reply(200, {"results": page, **more})
        for obj in self.objects:
            if req.path == f"/crm/v3/objects/{obj}/search":
                return self._search(obj, req.json())
        return Reply(404, {"status": "error", "message": "not found"})

    def _search(self, obj: str, body: dict[str, Any]) -> Reply:
        limit, after = int(body.get("limit", 10)), int(body.get("after", 0))
        if limit > 200:
            return Reply(400, {"status": "error", "category": "VALIDATION_ERROR"})
        if after + limit > self.cap:
            return Reply(
                400,
                {
                    "status": "error",
                    "category": "VALIDATION_ERROR",
                    "message": "search is limited to 10,000 results",
                },
            )
        rows = list(self.objects[obj].items())
        for f in body["filterGroups"][0]["filters"]:
            op, name, value = f["operator"], f["propertyName"], int(f["value"])
            if op == "GTE":
                rows = [r for r in rows if _ms(r[1][name]) >= value]
            elif op == "LT":
                rows = [r for r in rows if _ms(r[1][name]) < value]
        sort = body["sorts"][0]["propertyName"]
        rows.sort(key=lambda r: (_ms(r[1][sort]), int(r[0])))
        page = rows[after : after + limit]
        wanted = set(body["properties"]) | {"createdate", "hs_object_id"}
        results = [
            {
                "id": oid,
                "properties": {k: v for k, v in {**p, "hs_object_id": oid}.items() if k in wanted},
                "createdAt": p.get("createdate") or p[sort],
                "updatedAt": p[sort],
                "archived": False,
            }
            for oid, p in page
        ]
        more = after + limit < len(rows)
        return Reply(
            200,
            {
                "total": len(rows),
                "results": results,
                **({"paging": {"next": {"after": str(after + limit)}}} if more else {}),
            },
        )


def _t(v: str | None, zone: ZoneInfo, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    return (
        datetime.fromisoformat(v.replace("Z", "+00:00")).astimezone(zone).strftime(fmt) if v else ""
    )


#: The deals' ``hs_manual_forecast_category`` in turn (internal values; None: not set).
FORECAST = ["COMMIT", "BEST_CASE", "PIPELINE", "OMIT", "CLOSED", None]


def export_csv(portal: Portal, folder: Path, tz: str = "Asia/Tokyo") -> Path:
    """The deals and contacts exports, "properties as labels", as HubSpot writes them."""
    zone = ZoneInfo(tz)
    folder.mkdir(parents=True, exist_ok=True)
    owners = {o: f"{la} {f}" for o, f, la in OWNERS}
    labels = {s: lab for s, lab, _ in STAGES}
    with (folder / "all-deals.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(
            [
                "Record ID",
                "Deal Name",
                "Deal Stage",
                "Pipeline",
                "Deal owner",
                "Amount",
                "Create Date",
                "Close Date",
                "Deal Type",
                "Closed Lost Reason",
                "Is Closed Won",
                "Is Deal Closed?",
                "Forecast category",
                "Associated Company IDs",
                *(f'Date entered "{lab} (Sales Pipeline)"' for _, lab, _ in STAGES),
            ]
        )
        for oid, p in sorted(portal.objects["deals"].items(), key=lambda x: int(x[0])):
            w.writerow(
                [
                    oid,
                    p["dealname"],
                    labels[p["dealstage"] or ""],
                    p["pipeline"],
                    owners[p["hubspot_owner_id"] or ""],
                    p["amount"] or "",
                    _t(p["createdate"], zone),
                    _t(p["closedate"], zone, "%Y-%m-%d"),
                    p["dealtype"],
                    p["closed_lost_reason"] or "",
                    p["hs_is_closed_won"],
                    p["hs_is_closed"],
                    p.get("hs_manual_forecast_category") or "",
                    portal.company_of(oid),
                    *(_t(p.get(f"hs_date_entered_{s}"), zone) for s, _, _ in STAGES),
                ]
            )
    with (folder / "all-contacts.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(
            [
                "Record ID",
                "Create Date",
                "Lifecycle Stage",
                "Contact owner",
                "Job Title",
                "Original Source",
                "Lead Status",
                "Became a Marketing Qualified Lead Date",
                "Became a Sales Qualified Lead Date",
            ]
        )
        for oid, p in sorted(portal.objects["contacts"].items(), key=lambda x: int(x[0])):
            w.writerow(
                [
                    oid,
                    _t(p["createdate"], zone),
                    p["lifecyclestage"],
                    owners[p["hubspot_owner_id"] or ""],
                    p["jobtitle"] or "",
                    p["hs_analytics_source"],
                    p["hs_lead_status"],
                    _t(p["hs_lifecyclestage_marketingqualifiedlead_date"], zone),
                    _t(p["hs_lifecyclestage_salesqualifiedlead_date"], zone),
                ]
            )
    with (folder / "all-companies.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(
            [
                "Record ID",
                "Company name",
                "Industry",
                "Number of Employees",
                "Annual Revenue",
                "State/Region",
                "Create Date",
                "Company owner",
            ]
        )
        for oid, p in sorted(portal.objects["companies"].items()):
            w.writerow(
                [
                    oid,
                    p["name"],
                    p["industry"] or "",
                    p["numberofemployees"],
                    p["annualrevenue"],
                    p["state"],
                    _t(p["createdate"], zone),
                    owners[p["hubspot_owner_id"]],
                ]
            )
    outcome = dict(DISPOSITIONS)
    with (folder / "calls.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(
            [
                "Record ID",
                "Activity date",
                "Activity assigned to",
                "Call title",
                "Call direction",
                "Call outcome",
                "Associated Deal IDs",
            ]
        )
        for oid, p in sorted(portal.objects["calls"].items()):
            w.writerow(
                [
                    oid,
                    _t(p["hs_timestamp"], zone),
                    owners[p["hubspot_owner_id"]],
                    p["hs_call_title"],
                    p["hs_call_direction"],
                    outcome[p["hs_call_disposition"]],
                    int(oid) % 1000 + 1,
                ]
            )
    with (folder / "meetings.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(
            [
                "Record ID",
                "Activity date",
                "Activity assigned to",
                "Meeting name",
                "Meeting start time",
                "Meeting outcome",
                "Associated Deal IDs",
            ]
        )
        for oid, p in sorted(portal.objects["meetings"].items()):
            w.writerow(
                [
                    oid,
                    _t(p["hs_timestamp"], zone),
                    owners[p["hubspot_owner_id"]],
                    p["hs_meeting_title"],
                    _t(p["hs_meeting_start_time"], zone),
                    p["hs_meeting_outcome"],
                    int(oid) % 1000 + 1,
                ]
            )
    with (folder / "emails.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(
            [
                "Record ID",
                "Activity date",
                "Activity assigned to",
                "Email subject",
                "Email direction",
                "Email send status",
                "Associated Deal IDs",
            ]
        )
        for oid, p in sorted(portal.objects["emails"].items()):
            w.writerow(
                [
                    oid,
                    _t(p["hs_timestamp"], zone),
                    owners[p["hubspot_owner_id"]],
                    p["hs_email_subject"],
                    p["hs_email_direction"],
                    p["hs_email_status"],
                    int(oid) % 1000 + 1,
                ]
            )
    with (folder / "tasks.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(
            [
                "Record ID",
                "Due date",
                "Activity assigned to",
                "Task title",
                "Task type",
                "Task status",
                "Completed at",
                "Associated Deal IDs",
            ]
        )
        for oid, p in sorted(portal.objects["tasks"].items()):
            w.writerow(
                [
                    oid,
                    _t(p["hs_timestamp"], zone),
                    owners[p["hubspot_owner_id"]],
                    p["hs_task_subject"],
                    p["hs_task_type"],
                    p["hs_task_status"],
                    _t(p["hs_task_completion_date"], zone),
                    int(oid) % 1000 + 1,
                ]
            )
    return folder
