"""kintone over its REST API with an API token: the apps' records as the app's CSV export.

Paging is kintone's *seek method* (``$id > last order by $id asc limit 500``): unlike ``offset``
it has no 10,000-record cap, and unlike a cursor (which expires after 10 minutes and dies with
the process) the last ``$id`` is a checkpoint a re-run resumes from. The app's 更新日時
(the field of type ``UPDATED_TIME``) is the incremental cursor. Records are written with the
field *names* as headers and values as kintone's CSV export writes them, so the ``kintone``
preset (or the workspace's mapping) maps them exactly as an exported file.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from eigyo.sync.credentials import mapping_file, secret, settings
from eigyo.sync.engine import Page, Record
from eigyo.sync.http import Http, SyncError

PAGE = 500
TOKEN_ENV = "EIGYO_KINTONE_TOKEN"
#: Field types with no column in a CSV export (layout, tables, references).
_SKIPPED = {"SUBTABLE", "GROUP", "REFERENCE_TABLE", "LABEL", "SPACER", "HR", "STATUS_ASSIGNEE"}
_TIMES = {"CREATED_TIME", "UPDATED_TIME", "DATETIME"}


class Kintone:
    """``eigyo sync kintone``; settings ``[sync.kintone]``: ``base_url``, ``apps``."""

    crm = "kintone"

    def __init__(self, workspace: Path, timezone: str, **http: Any) -> None:
        cfg = settings(workspace, self.crm)
        self.mapping = mapping_file(workspace, cfg, self.crm)
        base = str(cfg.get("base_url", "")).rstrip("/")
        apps = cfg.get("apps", [])
        if not base or not isinstance(apps, list) or not apps:
            raise SyncError(
                key="sync.error.settings", crm=self.crm, detail="base_url and apps = [APP_ID, ...]"
            )
        self.apps = [str(a) for a in apps]
        token = secret(TOKEN_ENV, self.crm) or ""
        self.http = Http(
            self.crm, base, {"X-Cybozu-API-Token": token}, secrets=tuple(token.split(",")), **http
        )
        self.tz = ZoneInfo(timezone)

    def streams(self) -> list[str]:
        return [f"app-{a}" for a in self.apps]

    def prepare(self) -> dict[str, Any]:
        """Each app's fields in form order: code, type, label (the CSV header)."""
        meta: dict[str, Any] = {}
        for app in self.apps:
            props = self.http.request("GET", "/k/v1/app/form/fields.json", params={"app": app})
            fields = [
                {"code": p["code"], "type": p["type"], "label": p.get("label", p["code"])}
                for p in props["properties"].values()
                if p["type"] not in _SKIPPED
            ]
            updated = [f["code"] for f in fields if f["type"] == "UPDATED_TIME"]
            meta[app] = {"fields": fields, "updated": updated[0] if updated else None}
        return meta

    def pages(
        self, stream: str, since: dict[str, Any] | None, resume: dict[str, Any] | None, meta: Any
    ) -> Iterator[Page]:
        app = stream.removeprefix("app-")
        updated = meta[app]["updated"]
        last = int((resume or {}).get("last_id", 0))
        while True:
            cond = [f"$id > {last}"]
            if since and since.get("at") and updated:
                cond.insert(0, f'{updated} >= "{since["at"]}"')
            query = " and ".join(cond) + f" order by $id asc limit {PAGE}"
            body = self.http.request(
                "GET", "/k/v1/records.json", params={"app": app, "query": query}
            )
            records: list[Record] = body["records"]
            if records:
                last = max(int(r["$id"]["value"]) for r in records)
            more = len(records) == PAGE
            yield Page(records, {"last_id": last} if more else None)
            if not more:
                return

    def key(self, stream: str, record: Record) -> str:
        return str(record["$id"]["value"])

    def stamp(self, stream: str, record: Record) -> tuple[str, str]:
        upd = next((v["value"] for v in record.values() if v.get("type") == "UPDATED_TIME"), "")
        return str(upd), str(record.get("$revision", {}).get("value", ""))

    def removed(self, stream: str, record: Record) -> list[tuple[str, str]] | None:
        return None  # kintone's API does not list deleted records

    def write(self, stream: str, records: Iterator[Record], out: Path, meta: Any) -> int:
        app = stream.removeprefix("app-")
        fields = meta[app]["fields"]
        n = 0
        path = out / f"kintone-app-{app}.csv"
        with path.open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow([fd["label"] for fd in fields])
            for rec in records:
                w.writerow([self._cell(fd["type"], rec.get(fd["code"])) for fd in fields])
                n += 1
        if not n:
            path.unlink()
        return n

    def _cell(self, kind: str, field: dict[str, Any] | None) -> str:
        """A value as kintone's CSV export writes it."""
        if field is None:
            return ""
        value = field.get("value")
        if value in (None, ""):
            return ""
        if kind in _TIMES:
            at = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            return at.astimezone(self.tz).strftime("%Y-%m-%d %H:%M")
        if isinstance(value, dict):  # CREATOR, MODIFIER
            return str(value.get("name") or value.get("code") or "")
        if isinstance(value, list):  # USER_SELECT, CHECK_BOX, MULTI_SELECT, FILE, ...
            return "\n".join(
                str(v.get("name") or v.get("code") or "") if isinstance(v, dict) else str(v)
                for v in value
            )
        return str(value)

    def notes(self, con: Any) -> list[tuple[str, dict[str, object]]]:
        return []
