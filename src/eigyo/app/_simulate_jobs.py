"""A dashboard comparison as a job: where it is, then its documents or why it has none.

Why on disk as well as in memory: ``eigyo serve --workers N`` runs several processes that share
sessions and data, and the page's next poll may reach another process than the one running the
job. The running process writes the job's state to one small JSON file in the workspace folder
(:data:`FOLDER`, replaced atomically, at most every :data:`WRITE_EVERY_S` seconds while it runs
and once at the end); a process that does not hold the job reads that file. Errors are stored as
what they are (a catalogue key and its values, a missing-data reason), never as text, so each
reader gets them in their own language.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
import time
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from eigyo.analysis.availability import NotAvailable, not_enough
from eigyo.base.currency import DEFAULT_CURRENCY
from eigyo.errors import EigyoError
from eigyo.i18n import LANGS, t

#: The jobs' folder inside the workspace folder (beside the sessions file).
FOLDER = ".eigyo-simulations"
#: Job files kept (the oldest removed when a job starts).
KEEP = 200
#: Seconds between two writes of a running job's progress.
WRITE_EVERY_S = 0.25


@dataclass
class SimJob:
    """One comparison: its owner, its structures (today's first) and where it is."""

    id: str
    owner: str
    structures: list[str]
    total: int
    stage: str = "queued"  # queued | calibrating | running | done
    current: str = ""
    done: int = 0
    docs: list[dict[str, Any]] | None = None
    #: Outcomes whose data is absent: section → :class:`NotAvailable` as a dict.
    missing: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Why it has no documents: ``{"kind": …}`` (see :meth:`error_text`).
    error: dict[str, Any] | None = None
    currency: str = DEFAULT_CURRENCY
    folder: Path | None = None
    _written: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def finished(self) -> bool:
        return self.stage == "done"

    def missing_reasons(self) -> dict[str, NotAvailable]:
        return {k: _na(v) for k, v in self.missing.items()}

    def fail(self, e: BaseException) -> None:
        """Record why the job ended without documents."""
        if isinstance(e, NotAvailableError):
            self.error = {"kind": "na", "na": _na_json(e.na)}
        elif isinstance(e, EigyoError):  # its text in every language, as it localizes itself
            self.error = {"kind": "failed", "text": {lang: e.localized(lang) for lang in LANGS}}
        else:  # a bug: its name only (the log keeps the traceback)
            self.error = {"kind": "failed", "text": {lang: type(e).__name__ for lang in LANGS}}

    def too_little(self, what: str, window: str) -> None:
        """The calibration window lacked ``what`` (:class:`eigyo.simulate.NotEnoughToSimulate`)."""
        self.error = {"kind": "not_enough", "what": what, "window": window}

    def error_text(self, lang: str) -> str | None:
        """Why the job has no documents, in ``lang`` (None when it has them or still runs)."""
        e = self.error
        if e is None:
            return None
        if e["kind"] == "na":
            return _na(e["na"]).line(lang)
        if e["kind"] == "not_enough":
            detail = t(f"analysis_na.detail.sim_{e['what']}", lang, window=e["window"])
            return not_enough("simulate", detail).line(lang)
        text = e["text"].get(lang) or next(iter(e["text"].values()), "")
        return t("simulate.page.failed", lang, error=text)

    def tick(self, structure: str) -> None:
        """One replication done (the simulator's progress callback)."""
        with self.lock:
            self.current, self.done = structure, self.done + 1
        if time.monotonic() - self._written >= WRITE_EVERY_S:
            self.save()

    def save(self) -> None:
        """Write the job's state for the other processes (atomically; best effort: a job that
        cannot be written still runs and answers its own process's polls)."""
        if self.folder is None:
            return
        self._written = time.monotonic()
        with self.lock:
            state = {k: getattr(self, k) for k in _STATE}
        with contextlib.suppress(OSError):
            self.folder.mkdir(exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{self.id}.", dir=self.folder)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(state, out, ensure_ascii=False, default=str)
            os.replace(tmp, self.folder / f"{self.id}.json")


#: What a job file holds: every field but the process's own (its folder, clock and lock).
_STATE = tuple(f.name for f in fields(SimJob) if f.name not in ("folder", "_written", "lock"))


class NotAvailableError(Exception):
    """The workspace lacks the data the simulation needs (raised inside the job)."""

    def __init__(self, na: NotAvailable) -> None:
        self.na = na


def _na_json(na: NotAvailable) -> dict[str, Any]:
    return {"analysis": na.analysis, "code": na.code, "needs": list(na.needs), "detail": na.detail}


def _na(d: dict[str, Any]) -> NotAvailable:
    return NotAvailable(d["analysis"], d["code"], tuple(d["needs"]), d["detail"])


def missing_json(missing: dict[str, NotAvailable]) -> dict[str, dict[str, Any]]:
    return {k: _na_json(v) for k, v in missing.items()}


def folder_of(workspace: Path) -> Path:
    return Path(workspace) / FOLDER


def load(folder: Path, job_id: str) -> SimJob | None:
    """A job another process runs or ran, from its file (None when there is none)."""
    if not job_id.isalnum():
        return None
    try:
        state = json.loads((folder / f"{job_id}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return SimJob(**state)


def prune(folder: Path, keep: int = KEEP) -> None:
    """Remove all but the ``keep`` newest job files."""
    with contextlib.suppress(OSError):
        files = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in files[keep:]:
            old.unlink(missing_ok=True)
