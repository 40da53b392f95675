"""A Salesforce org on the loopback server, as Salesforce's REST and Bulk API 2.0 document them.

OAuth (``POST /services/oauth2/token``, form-encoded: ``refresh_token`` or JWT bearer grants →
``access_token`` and ``instance_url``; a bad grant 400 ``invalid_grant``). REST ``queryAll``
(``GET /services/data/vXX.X/queryAll?q=SOQL``): ``{"totalSize", "done", "nextRecordsUrl",
"records": [{"attributes": {...}, field: value}]}`` in batches of the ``Sforce-Query-Options``
``batchSize``, deleted records with ``IsDeleted: true``; datetimes as ``…T09:00:00.000+0000``.
Bulk API 2.0 query jobs (``POST /jobs/query`` → ``UploadComplete``; ``GET /jobs/query/{id}`` →
``InProgress`` then ``JobComplete``; ``GET …/results?maxRecords=&locator=`` → CSV with the
``Sforce-Locator`` header, ``null`` on the last page). Campaign (``Name``, ``StartDate``,
``IsActive`` …) and CampaignMember (one row per lead or contact and campaign: ``CampaignId``,
``LeadId``, ``ContactId``, ``HasResponded``, ``FirstRespondedDate`` a date) as the object reference
describes them. A bad session answers 401
``INVALID_SESSION_ID``; an org out of API calls 403 ``REQUEST_LIMIT_EXCEEDED``.
:func:`export_csv` writes Data Loader's export of the live records, independently of eigyo.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from tests._sync_server import Reply, Request

REFRESH = "5Aep861refresh-token-value-xyz"
ACCESS = "00D000000000001!AQ0AQaccess-token-value"
T0 = datetime(2025, 4, 1, tzinfo=UTC)
COLUMNS = {  # Data Loader export columns per object
    "User": "Id,Username,Name,Department,ManagerId,UserRoleId,IsActive,CreatedDate",
    "Account": "Id,Name,Industry,NumberOfEmployees,AnnualRevenue,BillingState,OwnerId,CreatedDate",
    "Opportunity": "Id,AccountId,OwnerId,Name,Amount,CloseDate,CreatedDate,StageName,IsClosed,"
    "IsWon,LeadSource,Type,Probability,ForecastCategoryName",
    "OpportunityHistory": "Id,OpportunityId,CreatedById,CreatedDate,StageName,Amount,CloseDate,"
    "Probability,ForecastCategory",
    "OpportunityFieldHistory": "Id,OpportunityId,CreatedDate,Field,OldValue,NewValue",
    "Lead": "Id,CreatedDate,LeadSource,OwnerId,Title,Status,IsConverted,ConvertedOpportunityId",
    "Task": "Id,OwnerId,TaskSubtype,Type,CreatedDate,WhoId,WhatId,CallDurationInSeconds,"
    "IsHighPriority",
    "Event": "Id,OwnerId,Type,StartDateTime,DurationInMinutes,EventSubtype,WhoId,WhatId,"
    "CreatedDate",
    "Campaign": "Id,Name,Type,Status,StartDate,EndDate,IsActive,ParentId,CreatedDate",
    "CampaignMember": "Id,CampaignId,LeadId,ContactId,Status,HasResponded,FirstRespondedDate,"
    "CreatedDate",
}
STAGES = ["Prospecting", "Qualification", "Proposal/Price Quote", "Negotiation/Review"]


def dt(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def csv_value(v: object) -> str:
    """A value as Bulk API 2.0 and Data Loader write it."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str) and v.endswith("+0000"):
        return v.replace("+0000", "Z")
    return str(v)


class Org:
    def __init__(self, opps: int) -> None:
        self.limit_exceeded = False
        self.clock = T0 + timedelta(days=500)
        self.data: dict[str, dict[str, dict[str, Any]]] = {o: {} for o in COLUMNS}
        self.jobs: dict[str, dict[str, Any]] = {}
        self.cursors: dict[str, tuple[list[dict[str, Any]], int]] = {}
        for u in range(1, 4):
            self._put(
                "User",
                f"005U{u:04d}",
                Username=f"u{u}@example.com",
                Name=f"営業 {u}",
                Department=["東京", "大阪"][u % 2],
                ManagerId=None if u == 1 else "005U0001",
                UserRoleId=None,
                IsActive=True,
                CreatedDate=dt(T0 - timedelta(days=400)),
                at=T0,
            )
        for a in range(1, 41):
            self._put(
                "Account",
                f"001A{a:04d}",
                Name=f"株式会社{a}",
                Industry="製造",
                NumberOfEmployees=10 * a,
                AnnualRevenue=1e6 * a,
                BillingState="東京都",
                OwnerId=f"005U{a % 3 + 1:04d}",
                CreatedDate=dt(T0),
                at=T0,
            )
        for i in range(1, opps + 1):
            self._opportunity(i)
        for i in range(1, opps // 2 + 1):
            created = T0 + timedelta(hours=2 * i)
            self._put(
                "Lead",
                f"00QL{i:05d}",
                CreatedDate=dt(created),
                LeadSource="Web",
                OwnerId=f"005U{i % 3 + 1:04d}",
                Title=None,
                Status="Working - Contacted",
                IsConverted=False,
                ConvertedOpportunityId=None,
                at=created,
            )
            self._put(
                "Task",
                f"00TT{i:05d}",
                OwnerId=f"005U{i % 3 + 1:04d}",
                TaskSubtype="Call",
                Type="Call",
                CreatedDate=dt(created),
                WhoId=f"00QL{i:05d}",
                WhatId=None,
                CallDurationInSeconds=120,
                IsHighPriority=False,
                at=created,
            )
            self._put(
                "Event",
                f"00UE{i:05d}",
                OwnerId=f"005U{i % 3 + 1:04d}",
                Type="Meeting",
                StartDateTime=dt(created + timedelta(days=1)),
                DurationInMinutes=60,
                EventSubtype="Event",
                WhoId=None,
                WhatId=None,
                CreatedDate=dt(created),
                at=created,
            )
        self._campaigns(opps // 2)

    def _campaigns(self, leads: int) -> None:
        """Five campaigns; each lead joins one (half respond), every third lead a second one,
        which every sixth lead responded to before the first; some members are contacts."""
        for c in range(1, 6):
            self._put(
                "Campaign",
                f"701C{c:04d}",
                Name=f"キャンペーン {c}",
                Type=["Webinar", "Email", "Trade Show"][c % 3],
                Status="Completed",
                StartDate="2025-04-01",
                EndDate="2025-06-30",
                IsActive=c != 5,
                ParentId=None,
                CreatedDate=dt(T0 - timedelta(days=10)),
                at=T0,
            )
        for i in range(1, leads + 1):
            created = T0 + timedelta(hours=2 * i, minutes=30)
            self.member(
                i, 1, i % 5 + 1, created, responded=i % 2 == 1, on=created + timedelta(days=3)
            )
            if i % 3 == 0:
                later = created + timedelta(days=1)
                early = i % 6 == 0
                self.member(i, 2, (i + 2) % 5 + 1, later, responded=early, on=created)
            if i % 10 == 0:
                self._put(
                    "CampaignMember",
                    f"00vC{i:05d}",
                    CampaignId="701C0001",
                    LeadId=None,
                    ContactId=f"003C{i:05d}",
                    Status="Sent",
                    HasResponded=False,
                    FirstRespondedDate=None,
                    CreatedDate=dt(created),
                    at=created,
                )

    def member(
        self, lead: int, n: int, campaign: int, at: datetime, responded: bool, on: datetime
    ) -> str:
        """Lead ``lead`` joins campaign ``campaign`` at ``at`` (responded on ``on``)."""
        rid = f"00v{n}{lead:06d}"
        self._put(
            "CampaignMember",
            rid,
            CampaignId=f"701C{campaign:04d}",
            LeadId=f"00QL{lead:05d}",
            ContactId=None,
            Status="Responded" if responded else "Sent",
            HasResponded=responded,
            FirstRespondedDate=on.strftime("%Y-%m-%d") if responded else None,
            CreatedDate=dt(at),
            at=at,
        )
        return rid

    def _put(self, obj: str, rid: str, at: datetime, **fields: Any) -> None:
        stamp = "CreatedDate" if obj == "OpportunityFieldHistory" else "SystemModstamp"
        rec = {"Id": rid, **fields, "IsDeleted": False}
        rec.setdefault(stamp, dt(at))
        if stamp == "SystemModstamp":
            rec["SystemModstamp"] = dt(at)
        self.data[obj][rid] = rec

    def _opportunity(self, i: int) -> None:
        created = T0 + timedelta(hours=3 * i)
        reached = i % 6
        won, closed = reached == 4, reached >= 4
        stage = "Closed Won" if won else "Closed Lost" if closed else STAGES[reached]
        oid = f"006O{i:05d}"
        self._put(
            "Opportunity",
            oid,
            AccountId=f"001A{i % 40 + 1:04d}",
            OwnerId=f"005U{i % 3 + 1:04d}",
            Name=f"商談 {i}",
            Amount=None if i % 19 == 0 else 10000.0 * (i % 30 + 1),
            CloseDate=(created + timedelta(days=40)).strftime("%Y-%m-%d"),
            CreatedDate=dt(created),
            StageName=stage,
            IsClosed=closed,
            IsWon=won,
            LeadSource="Web",
            Type="New Business",
            Probability=50.0,
            ForecastCategoryName="Closed" if won else "Omitted" if closed else FORECAST[i % 4],
            at=created + timedelta(days=2),
        )
        for k in range(min(reached, 3) + 1):
            at = created + timedelta(days=k)
            name = stage if k == min(reached, 3) and closed else STAGES[k]
            self._put(
                "OpportunityHistory",
                f"008H{i:05d}{k}",
                OpportunityId=oid,
                CreatedById=f"005U{i % 3 + 1:04d}",
                CreatedDate=dt(at),
                StageName=name,
                Amount=10000.0,
                CloseDate=None,
                Probability=10.0 * k,
                ForecastCategory="Pipeline",
                at=at,
            )
        if i % 4 == 0:
            self._put(
                "OpportunityFieldHistory",
                f"017F{i:05d}",
                OpportunityId=oid,
                CreatedDate=dt(created + timedelta(days=1)),
                Field="CloseDate",
                OldValue="2025-12-31",
                NewValue="2026-01-31",
                at=created + timedelta(days=1),
            )

    def tick(self) -> str:
        self.clock += timedelta(seconds=1)
        return dt(self.clock)

    def edit(self, obj: str, rid: str, **fields: Any) -> None:
        self.data[obj][rid].update(fields, SystemModstamp=self.tick())

    def delete_opportunity(self, rid: str) -> None:
        """Delete as Salesforce does: the opportunity and its history go to the recycle bin."""
        self.edit("Opportunity", rid, IsDeleted=True)
        for h in self.data["OpportunityHistory"].values():
            if h["OpportunityId"] == rid:
                h.update(IsDeleted=True, SystemModstamp=self.tick())
        for h in self.data["OpportunityFieldHistory"].values():
            if h["OpportunityId"] == rid:
                h.update(IsDeleted=True)  # CreatedDate stays: queryAll from the cursor misses it

    def handle(self, req: Request) -> Reply:
        if req.path == "/services/oauth2/token":
            form = {k: v[0] for k, v in parse_qs(req.body.decode()).items()}
            ok = form.get("refresh_token") == REFRESH or (
                form.get("grant_type", "").endswith("jwt-bearer")
                and len(form.get("assertion", "").split(".")) == 3
            )
            if not ok:
                return Reply(400, {"error": "invalid_grant", "error_description": "expired"})
            return Reply(
                200,
                {
                    "access_token": ACCESS,
                    "instance_url": f"http://{req.headers['host']}",
                    "token_type": "Bearer",
                },
            )
        if req.headers.get("authorization") != f"Bearer {ACCESS}":
            return Reply(
                401, [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
            )
        if self.limit_exceeded:
            return Reply(
                403,
                [
                    {
                        "message": "TotalRequests Limit exceeded.",
                        "errorCode": "REQUEST_LIMIT_EXCEEDED",
                    }
                ],
            )
        m = re.fullmatch(r"/services/data/v\d+\.\d+/(.+)", req.path)
        rest = m.group(1) if m else ""
        if rest == "queryAll":
            batch = int(re.sub(r"\D", "", req.headers.get("sforce-query-options", "2000")))
            rows = self._select(req.arg("q"))
            return self._batch(req.path.rsplit("/", 1)[0], rows, 0, batch)
        if rest.startswith("query/"):
            loc, offset = rest.removeprefix("query/").rsplit("-", 1)
            base = req.path.rsplit("/", 2)[0]
            rows, size = self.cursors[loc]
            return self._batch(base, rows, int(offset), size)
        if rest == "jobs/query" and req.method == "POST":
            body = req.json()
            jid = f"750J{len(self.jobs) + 1:011d}"
            self.jobs[jid] = {
                "rows": self._select(body["query"]),
                "polls": 0,
                "soql": body["query"],
            }
            return Reply(
                200,
                {
                    "id": jid,
                    "operation": body["operation"],
                    "state": "UploadComplete",
                    "contentType": "CSV",
                    "apiVersion": 60.0,
                },
            )
        m = re.fullmatch(r"jobs/query/(\w+)(/results)?", rest)
        if m and m.group(1) in self.jobs:
            job = self.jobs[m.group(1)]
            if not m.group(2):
                job["polls"] += 1
                state = "InProgress" if job["polls"] < 2 else "JobComplete"
                return Reply(200, {"id": m.group(1), "state": state})
            return self._results(job, int(req.arg("maxRecords", "1000")), req.arg("locator", "0"))
        return Reply(404, [{"errorCode": "NOT_FOUND", "message": "not found"}])

    def _select(self, soql: str) -> list[dict[str, Any]]:
        m = re.fullmatch(
            r"SELECT (.+) FROM (\w+)(?: WHERE (\w+) >= (\S+))? ORDER BY (\w+), Id", soql
        )
        assert m, soql
        cols = [c.strip() for c in m.group(1).split(",")]
        obj, field, since, order = m.group(2), m.group(3), m.group(4), m.group(5)
        rows = list(self.data[obj].values())
        if field:
            lo = datetime.fromisoformat(since.replace("Z", "+00:00"))
            rows = [r for r in rows if datetime.strptime(r[field], "%Y-%m-%dT%H:%M:%S.000%z") >= lo]
        rows.sort(key=lambda r: (r[order], r["Id"]))
        return [{"attributes": {"type": obj}, **{c: r.get(c) for c in cols}} for r in rows]

    def _batch(self, base: str, rows: list[dict[str, Any]], offset: int, size: int) -> Reply:
        page = rows[offset : offset + size]
        body: dict[str, Any] = {
            "totalSize": len(rows),
            "done": offset + size >= len(rows),
            "records": page,
        }
        if not body["done"]:
            loc = f"01g{len(self.cursors):05d}"
            self.cursors[loc] = (rows, size)
            body["nextRecordsUrl"] = f"{base}/query/{loc}-{offset + size}"
        return Reply(200, body)

    def _results(self, job: dict[str, Any], n: int, locator: str) -> Reply:
        start = int(locator)
        page = job["rows"][start : start + n]
        cols = [c for c in page[0] if c != "attributes"] if page else []
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        w.writerow(cols)
        for r in page:
            w.writerow([csv_value(r[c]) for c in cols])
        nxt = str(start + n) if start + n < len(job["rows"]) else "null"
        return Reply(
            200,
            text=out.getvalue(),
            headers={"Sforce-Locator": nxt, "Sforce-NumberOfRecords": str(len(page))},
        )


#: An open opportunity's ForecastCategoryName in turn (labels, as the API returns them).
FORECAST = ["Pipeline", "Best Case", "Commit", "Omitted"]


def export_csv(org: Org, folder: Path) -> Path:
    """Data Loader's *Export* of every object (live records, API names as headers)."""
    folder.mkdir(parents=True, exist_ok=True)
    for obj, header in COLUMNS.items():
        cols = header.split(",")
        with (folder / f"{obj}.csv").open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(cols)
            for r in org.data[obj].values():
                if not r["IsDeleted"]:
                    w.writerow([csv_value(r.get(c)) for c in cols])
    return folder


__all__ = ["ACCESS", "REFRESH", "Org", "export_csv"]
