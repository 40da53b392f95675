"""One sync: fetch what changed since the committed cursors, stage it, import it as an export.

Why through the importer: a synced record must become exactly the row the same record becomes
when a person exports the CRM to a file and runs ``eigyo import --preset <crm>`` — same mapping,
same rejects, same warnings. So each connector writes its staged records as that CRM's export
files, and :func:`eigyo.ingest.import_path` loads them with the CRM's preset.

Why it is safe to kill: pages are staged and journalled one by one (:mod:`eigyo.sync.staging`);
the workspace changes only when the writer publishes its generation, after the import *and* the
new cursors (``_sync_state``), the removals of deleted records and each connector's own
bookkeeping (:meth:`Connector.publish`) are written. A process that dies before that leaves the
workspace as it was and the staged pages for the re-run. Should the second transaction fail
after the import, the published import holds no new cursor, so the next run imports the same
staged pages again: replacing rows by id makes that a no-op.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from eigyo.i18n import t
from eigyo.ingest import ImportReport, import_path
from eigyo.sync.http import Http
from eigyo.sync.staging import Staging
from eigyo.workspace import open_workspace

#: ``progress(stream, rows, requests)`` after every staged page.
Progress = Callable[[str, int, int], None]
Record = dict[str, Any]

STATE_DDL = """CREATE TABLE IF NOT EXISTS _sync_state (
    crm VARCHAR, stream VARCHAR, cursor VARCHAR, synced_at TIMESTAMP DEFAULT current_timestamp)"""


@dataclass(frozen=True)
class Page:
    """One answer of the API: its records and where the next page starts (None: stream done)."""

    records: list[Record]
    resume: dict[str, Any] | None


class Connector(Protocol):
    """What a CRM brings: its streams, how to page them, and how to write them as its export."""

    crm: str
    http: Http
    #: A mapping file to import with instead of the CRM's preset (``[sync.<crm>] mapping``).
    mapping: Path | None

    def streams(self) -> list[str]: ...

    def prepare(self) -> dict[str, Any]:
        """Metadata fetched once per run (field labels, pipelines, owners), staged."""
        ...

    def pages(
        self, stream: str, since: dict[str, Any] | None, resume: dict[str, Any] | None, meta: Any
    ) -> Iterator[Page]: ...

    def key(self, stream: str, record: Record) -> str:
        """The record's id (the last staged version of an id wins)."""
        ...

    def stamp(self, stream: str, record: Record) -> tuple[str, str]:
        """(last-modified as a sortable UTC text, version): the incremental cursor."""
        ...

    def removed(self, stream: str, record: Record) -> list[tuple[str, str]] | None:
        """None while the record lives; once the CRM deleted it, the (table, key column) pairs
        whose rows with its id go too (``[]``: none, the record is only left out)."""
        ...

    def write(self, stream: str, records: Iterator[Record], out: Path, meta: Any) -> int:
        """Write ``records`` as the CRM's export file(s) under ``out``; return rows written."""
        ...

    def publish(self, con: Any) -> None:
        """The connector's own bookkeeping, inside the sync's transaction after the removals:
        kintone's synced ids (its deletion scan compares with them), Salesforce's campaign
        members (each lead's campaign). Nothing for a connector that keeps none."""
        ...

    def notes(self, con: Any) -> list[tuple[str, dict[str, object]]]:
        """What the synced workspace (``con``, inside the sync's writer) says a person should
        know about this CRM's data: catalogue keys and their values."""
        ...


@dataclass
class SyncReport:
    """What one sync did (``--format json`` prints it)."""

    crm: str
    fetched: dict[str, int] = field(default_factory=dict)
    written: dict[str, int] = field(default_factory=dict)
    removed: int = 0
    requests: int = 0
    rate_wait_s: float = 0.0
    resumed: bool = False
    changed: bool = False
    imported: ImportReport | None = None
    #: (catalogue key, values): things to know about the data (:meth:`Connector.notes`).
    notes: list[tuple[str, dict[str, object]]] = field(default_factory=list)

    def note_texts(self, lang: str) -> list[str]:
        return [t(key, lang, **values) for key, values in self.notes]

    def as_json(self) -> dict[str, Any]:
        return {
            "crm": self.crm,
            "fetched": self.fetched,
            "written": self.written,
            "removed": self.removed,
            "requests": self.requests,
            "rate_wait_s": round(self.rate_wait_s, 3),
            "resumed": self.resumed,
            "changed": self.changed,
            "import_id": self.imported.import_id if self.imported else None,
            "loaded": self.imported.loaded if self.imported else 0,
            "rejected": self.imported.rejected if self.imported else 0,
            "notes": [{"code": k.rsplit(".", 1)[-1], **v} for k, v in self.notes],
        }


def committed_state(workspace: Path, crm: str) -> dict[str, dict[str, Any]]:
    """The cursors of the last sync that reached the workspace, by stream."""
    with open_workspace(workspace, read_only=True) as ws:
        have = ws.raw.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = '_sync_state'"
        ).fetchall()[0][0]
        if not have:
            return {}
        rows = ws.raw.execute(
            "SELECT stream, cursor FROM _sync_state WHERE crm = ?", [crm]
        ).fetchall()
    return {str(s): json.loads(c) for s, c in rows}


def _digest(state: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()[:16]


class _Cursor:
    """Where a stream stands: the latest stamp seen and the versions of the ids stamped then.

    CRMs stamp in seconds or minutes, so the next run asks from that stamp *inclusive* and skips
    the (id, version) pairs it already has: nothing is missed, nothing is loaded twice.
    """

    def __init__(self, since: dict[str, Any] | None) -> None:
        self.at: str = (since or {}).get("at", "")
        self.seen: dict[str, str] = dict((since or {}).get("seen", {}))
        self.old_at, self.old_seen = self.at, dict(self.seen)

    def known(self, key: str, stamp: tuple[str, str]) -> bool:
        at, version = stamp
        return at < self.old_at or (at == self.old_at and self.old_seen.get(key) == version)

    def advance(self, key: str, stamp: tuple[str, str]) -> None:
        at, version = stamp
        if at > self.at:
            self.at, self.seen = at, {}
        if at == self.at:
            self.seen[key] = version

    def state(self) -> dict[str, Any]:
        return {"at": self.at, "seen": dict(sorted(self.seen.items()))}


def _latest(
    conn: Connector,
    stage: Staging,
    stream: str,
    cursor: _Cursor,
    removals: dict[tuple[str, str], set[str]],
) -> Iterator[Record]:
    """The staged records of ``stream``, last version of each id only, new to the cursor;
    deleted ones go to ``removals`` instead."""
    last: dict[str, int] = {}
    for i, rec in enumerate(stage.records(stream)):
        last[conn.key(stream, rec)] = i
    for i, rec in enumerate(stage.records(stream)):
        key = conn.key(stream, rec)
        if last[key] != i:
            continue
        stamp = conn.stamp(stream, rec)
        if cursor.known(key, stamp):
            continue
        cursor.advance(key, stamp)
        gone = conn.removed(stream, rec)
        if gone is not None:
            for target in gone:
                removals.setdefault(target, set()).add(key)
            continue
        yield rec


def run_sync(
    workspace: Path,
    conn: Connector,
    *,
    lang: str = "ja",
    progress: Progress | None = None,
    full: bool = False,
) -> SyncReport:
    """Sync ``conn``'s CRM into ``workspace``: all of it or nothing, resumable, idempotent."""
    report = SyncReport(conn.crm)
    committed = {} if full else committed_state(workspace, conn.crm)
    stage = Staging(workspace, conn.crm)
    report.resumed = stage.open(_digest({"state": committed, "full": full}))
    if stage.journal.meta is None:
        stage.journal.meta = conn.prepare()
        stage.save()
    meta = stage.journal.meta
    for stream in conn.streams():
        st = stage.stream(stream)
        if not st.done:
            for page in conn.pages(stream, committed.get(stream), st.resume, meta):
                stage.add_page(stream, page.records, page.resume, page.resume is None)
                if progress:
                    progress(stream, stage.stream(stream).rows, conn.http.stats.requests)
            stage.stream(stream).done = True
            stage.save()
        report.fetched[stream] = stage.stream(stream).rows
    out = stage.path / "export"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    removals: dict[tuple[str, str], set[str]] = {}
    new_state: dict[str, dict[str, Any]] = {}
    for stream in conn.streams():
        cursor = _Cursor(committed.get(stream))
        records = _latest(conn, stage, stream, cursor, removals)
        report.written[stream] = conn.write(stream, records, out, meta)
        new_state[stream] = cursor.state()
    report.requests = conn.http.stats.requests
    report.rate_wait_s = conn.http.stats.rate_wait_s
    report.removed = len(set().union(*removals.values()))  # records, not rows per table
    if not any(report.written.values()) and not removals and new_state == committed:
        stage.clear()  # nothing new: the workspace is not touched at all
        return report
    with open_workspace(workspace) as ws:
        if any(report.written.values()):
            preset = None if conn.mapping else conn.crm
            report.imported = import_path(ws, out, preset=preset, mapping=conn.mapping, lang=lang)
        with ws.transaction() as con:
            con.execute(STATE_DDL)
            for (table, column), keys in sorted(removals.items()):
                con.executemany(
                    f'DELETE FROM "{table}" WHERE "{column}" = ?', [[k] for k in sorted(keys)]
                )
            con.execute("DELETE FROM _sync_state WHERE crm = ?", [conn.crm])
            con.executemany(
                "INSERT INTO _sync_state (crm, stream, cursor) VALUES (?, ?, ?)",
                [[conn.crm, s, json.dumps(c)] for s, c in new_state.items()],
            )
            conn.publish(con)
            report.notes = conn.notes(con)
    report.changed = True
    stage.clear()
    return report
