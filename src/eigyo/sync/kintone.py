"""kintone over its REST API with an API token: the apps' records as the app's CSV export.

Paging is kintone's *seek method* (``$id > last order by $id asc limit 500``): unlike ``offset``
it has no 10,000-record cap, and unlike a cursor (which expires after 10 minutes and dies with
the process) the last ``$id`` is a checkpoint a re-run resumes from. The app's 更新日時
(the field of type ``UPDATED_TIME``) is the incremental cursor. Records are written with the
field *names* as headers and values as kintone's CSV export writes them, so the ``kintone``
preset (or the workspace's mapping) maps them exactly as an exported file.

Deleted records: kintone's API lists no deletions (no recycle bin, no ``IsDeleted``). With
``detect_deletions`` the connector scans every ``$id`` of the app (``fields[0]=$id`` only, seek
by ``$id``, 500 per call: 200 light requests for 100,000 records) and compares them with the ids
it synced before (``_sync_ids``, written in the sync's own transaction); each id gone from
kintone becomes a removal of its row, published with the rest of the sync or not at all.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from eigyo.ingest.mapping import MappingSpec, load_mapping, load_preset
from eigyo.schema import table
from eigyo.sync.credentials import mapping_file, secret, settings
from eigyo.sync.engine import Page, Record
from eigyo.sync.http import Http, SyncError
from eigyo.workspace import open_workspace

PAGE = 500
#: Apps with fewer records than this scan their ``$id`` values for deletions unless
#: ``detect_deletions`` says otherwise: below it the scan costs at most 200 light requests a run
#: (seconds); a million-record app would spend 2,000 of its 10,000 daily requests on every run.
DETECT_BELOW = 100_000
#: The stream of an app's deleted records (``deleted-app-<id>``), after the app's own stream.
DELETED = "deleted-app-"
IDS_DDL = """CREATE TABLE IF NOT EXISTS _sync_ids (
    crm VARCHAR, stream VARCHAR, id VARCHAR, key VARCHAR, tbl VARCHAR, col VARCHAR)"""
TOKEN_ENV = "EIGYO_KINTONE_TOKEN"
#: Field types with no column in a CSV export (layout, tables, references).
_SKIPPED = {"SUBTABLE", "GROUP", "REFERENCE_TABLE", "LABEL", "SPACER", "HR", "STATUS_ASSIGNEE"}
_TIMES = {"CREATED_TIME", "UPDATED_TIME", "DATETIME"}


class Kintone:
    """``eigyo sync kintone``; settings ``[sync.kintone]``: ``base_url``, ``apps``,
    ``detect_deletions`` (true / false; unset: true for apps under :data:`DETECT_BELOW`)."""

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
        self.workspace = workspace
        detect = cfg.get("detect_deletions")
        self.detect: bool | None = None if detect is None else bool(detect)
        #: Per app: $id → (key value, table, key column) of the records written this run.
        self.tracked: dict[str, dict[str, tuple[str, str, str]]] = {}
        self.gone: dict[str, set[str]] = {}

    def streams(self) -> list[str]:
        return [f"app-{a}" for a in self.apps] + [f"{DELETED}{a}" for a in self.apps]

    def _spec(self) -> MappingSpec:
        return load_mapping(self.mapping) if self.mapping else load_preset(self.crm)

    def _count(self, app: str) -> int:
        """The app's record count (``totalCount=true`` on a one-record page)."""
        body = self.http.request(
            "GET",
            "/k/v1/records.json",
            params={
                "app": app,
                "query": "$id > 0 order by $id asc limit 1",
                "fields[0]": "$id",
                "totalCount": "true",
            },
        )
        return int(body.get("totalCount") or 0)

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

    def _known(self, app: str) -> dict[str, tuple[str, str, str]]:
        """The ids synced from ``app`` before, with the row each became."""
        with open_workspace(self.workspace, read_only=True) as ws:
            have = ws.raw.execute(
                "SELECT count(*) FROM duckdb_tables() WHERE table_name = '_sync_ids'"
            ).fetchall()[0][0]
            if not have:
                return {}
            rows = ws.raw.execute(
                "SELECT id, key, tbl, col FROM _sync_ids WHERE crm = ? AND stream = ?",
                [self.crm, f"app-{app}"],
            ).fetchall()
        return {str(i): (str(k), str(t), str(c)) for i, k, t, c in rows}

    def _deleted(self, app: str, meta: Any) -> Iterator[Page]:
        """Records synced before whose ``$id`` kintone no longer has: one scan of ids only,
        yielded as one page (cheap enough to redo whole after a crash). Nothing synced before:
        nothing to compare, not even the app's size is asked."""
        known = self._known(app) if self.detect is not False else {}
        if known and self.detect is None and self._count(app) >= DETECT_BELOW:
            known = {}
        if not known:
            yield Page([], None)
            return
        alive: set[str] = set()
        last = 0
        while True:
            query = f"$id > {last} order by $id asc limit {PAGE}"
            params = {"app": app, "query": query, "fields[0]": "$id"}
            got = self.http.request("GET", "/k/v1/records.json", params=params)["records"]
            alive.update(str(r["$id"]["value"]) for r in got)
            if got:
                last = max(int(r["$id"]["value"]) for r in got)
            if len(got) < PAGE:
                break
        at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        gone = [
            {"$id": i, "key": k, "table": t, "column": c, "at": at}
            for i, (k, t, c) in sorted(known.items(), key=lambda x: int(x[0]))
            if i not in alive
        ]
        yield Page(gone, None)

    def pages(
        self, stream: str, since: dict[str, Any] | None, resume: dict[str, Any] | None, meta: Any
    ) -> Iterator[Page]:
        if stream.startswith(DELETED):
            yield from self._deleted(stream.removeprefix(DELETED), meta)
            return
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
        if stream.startswith(DELETED):  # a removal: the key of the row the record became
            return str(record["key"])
        return str(record["$id"]["value"])

    def stamp(self, stream: str, record: Record) -> tuple[str, str]:
        if stream.startswith(DELETED):  # the scan's time: later than any earlier removal's
            return str(record["at"]), str(record["$id"])
        upd = next((v["value"] for v in record.values() if v.get("type") == "UPDATED_TIME"), "")
        return str(upd), str(record.get("$revision", {}).get("value", ""))

    def removed(self, stream: str, record: Record) -> list[tuple[str, str]] | None:
        if stream.startswith(DELETED):
            self.gone.setdefault(stream.removeprefix(DELETED), set()).add(str(record["$id"]))
            return [(str(record["table"]), str(record["column"]))]
        return None

    def _target(self, header: list[str], name: str) -> tuple[str, str, int] | None:
        """(table, key column, index of its header) the file ``name`` is imported into, when its
        key is one of the app's fields (an id made from several fields cannot be tracked)."""
        spec = self._spec().for_file(Path(name), header)
        keys = table(spec.table).key if spec else ()
        if spec is None or len(keys) != 1:
            return None
        norm = [h.strip().lower() for h in header]
        for src in spec.accepted(keys[0]):
            if src.strip().lower() in norm:
                return spec.table, keys[0], norm.index(src.strip().lower())
        return None

    def write(self, stream: str, records: Iterator[Record], out: Path, meta: Any) -> int:
        if stream.startswith(DELETED):  # removals only: nothing to import
            return sum(1 for _ in records)
        app = stream.removeprefix("app-")
        fields = meta[app]["fields"]
        n = 0
        name = f"kintone-app-{app}.csv"
        header = [fd["label"] for fd in fields]
        target = self._target(header, name)
        tracked = self.tracked.setdefault(app, {})
        path = out / name
        with path.open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(header)
            for rec in records:
                row = [self._cell(fd["type"], rec.get(fd["code"])) for fd in fields]
                w.writerow(row)
                if target and row[target[2]]:
                    tracked[str(rec["$id"]["value"])] = (row[target[2]], target[0], target[1])
                n += 1
        if not n:
            path.unlink()
        return n

    def publish(self, con: Any) -> None:
        """Inside the sync's transaction: remember the ids written (what a later deletion scan
        compares with) and forget the ones removed."""
        con.execute(IDS_DDL)
        for app in self.apps:
            stream = f"app-{app}"
            drop = sorted(set(self.tracked.get(app, {})) | self.gone.get(app, set()))
            con.execute(  # lists, not a row per call: an app's first sync tracks all of it
                "DELETE FROM _sync_ids WHERE crm = ? AND stream = ? AND id IN (SELECT unnest(?))",
                [self.crm, stream, drop],
            )
            rows = sorted(self.tracked.get(app, {}).items())
            if rows:
                ids = [i for i, _ in rows]
                keys, tables, cols = (list(c) for c in zip(*(v for _, v in rows), strict=True))
                con.execute(
                    "INSERT INTO _sync_ids SELECT ?, ?, unnest(?), unnest(?), unnest(?), unnest(?)",
                    [self.crm, stream, ids, keys, tables, cols],
                )

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
