"""Fetched pages on disk, and the journal that says where each stream stopped.

Why a journal: a sync of a big CRM takes hours and may die (a laptop closed, ``kill -9``, the
network gone). Each page is written to its own file and made durable *before* the journal
records it and the cursor to resume from, so a re-run fetches only what no file holds yet. The
journal names the committed state it started from (``base``); once that state has moved on (the
staged data was imported), the staging is stale and starts over.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: The folder of a workspace where syncs stage their pages: ``<workspace>/.sync/<crm>``.
STAGING_DIR = ".sync"


def _durable_write(path: Path, data: bytes) -> None:
    """Write ``path`` whole or not at all: a temporary file, fsync, rename."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


@dataclass
class StreamState:
    """One stream's progress: pages staged, where the next page starts, rows fetched."""

    parts: int = 0
    resume: dict[str, Any] | None = None
    done: bool = False
    rows: int = 0


@dataclass
class Journal:
    base: str
    meta: dict[str, Any] | None = None
    streams: dict[str, StreamState] = field(default_factory=dict)


class Staging:
    """The staging folder of one CRM in one workspace."""

    def __init__(self, workspace: Path, crm: str) -> None:
        self.path = workspace / STAGING_DIR / crm
        self.journal = Journal(base="")

    def open(self, base: str) -> bool:
        """Load the journal when it continues from ``base``; else start empty. True: resumed."""
        file = self.path / "journal.json"
        if file.exists():
            raw = json.loads(file.read_text(encoding="utf-8"))
            if raw.get("base") == base:
                self.journal = Journal(
                    base=base,
                    meta=raw.get("meta"),
                    streams={k: StreamState(**v) for k, v in raw.get("streams", {}).items()},
                )
                self._drop_unrecorded()
                return True
        self.clear()
        self.path.mkdir(parents=True, exist_ok=True)
        self.journal = Journal(base=base)
        self.save()
        return False

    def _drop_unrecorded(self) -> None:
        """Pages written after the journal's last save (the process died in between)."""
        for stream, st in self.journal.streams.items():
            folder = self.path / stream
            if folder.is_dir():
                for p in folder.iterdir():
                    if not p.name.endswith(".jsonl") or int(p.stem.split("-")[1]) > st.parts:
                        p.unlink()

    def save(self) -> None:
        j = self.journal
        data = {
            "base": j.base,
            "meta": j.meta,
            "streams": {k: vars(v) for k, v in j.streams.items()},
        }
        _durable_write(self.path / "journal.json", json.dumps(data, ensure_ascii=False).encode())

    def stream(self, name: str) -> StreamState:
        return self.journal.streams.setdefault(name, StreamState())

    def add_page(
        self, stream: str, records: list[dict[str, Any]], resume: dict[str, Any] | None, done: bool
    ) -> None:
        """Stage one page, then record it (and where to resume) in the journal."""
        st = self.stream(stream)
        if records:
            folder = self.path / stream
            folder.mkdir(exist_ok=True)
            lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
            _durable_write(folder / f"part-{st.parts + 1:06d}.jsonl", lines.encode())
            st.parts += 1
            st.rows += len(records)
        st.resume, st.done = resume, done
        self.save()

    def records(self, stream: str) -> Iterator[dict[str, Any]]:
        """Every staged record of ``stream``, in the order fetched."""
        for i in range(1, self.stream(stream).parts + 1):
            with (self.path / stream / f"part-{i:06d}.jsonl").open(encoding="utf-8") as f:
                for line in f:
                    yield json.loads(line)

    def clear(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
