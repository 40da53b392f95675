"""A dashboard comparison as a job: where it is, then its documents or why it has none.

Why on disk as well as in memory: ``eigyo serve --workers N`` runs several processes that share
sessions and data, and the page's next poll may reach another process than the one running the
job. The job lives in a file of :data:`FOLDER` (:mod:`eigyo.app._job_files`, as uploads'
imports do); a job whose process is gone reads as ended, with one sentence saying so
(``serving.simulation_lost``). Errors are stored as what they are (a catalogue key and its
values, a missing-data reason), never as text, so each
reader gets them in their own language.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

from eigyo.analysis.availability import NotAvailable, not_enough
from eigyo.app import _job_files
from eigyo.app._job_files import KEEP, FileJob
from eigyo.base.currency import DEFAULT_CURRENCY
from eigyo.errors import EigyoError
from eigyo.i18n import LANGS, t

#: The jobs' folder inside the workspace folder (beside the sessions file).
FOLDER = ".eigyo-simulations"


@dataclass
class SimJob(FileJob):
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
    #: The process running it, and when it last wrote its file (``time.time()``).
    pid: int = field(default_factory=os.getpid)
    host: str = _job_files.HOST
    beat: float = 0.0
    folder: Path | None = None
    _written: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)
    _saving: threading.Lock = field(default_factory=threading.Lock)
    KIND: ClassVar[str] = "simulate"

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
        if e["kind"] == "lost":
            return t("serving.simulation_lost", lang, pid=e["pid"])
        if e["kind"] == "not_enough":
            detail = t(f"analysis_na.detail.sim_{e['what']}", lang, window=e["window"])
            return not_enough("simulate", detail).line(lang)
        text = e["text"].get(lang) or next(iter(e["text"].values()), "")
        return t("simulate.page.failed", lang, error=text)

    def tick(self, structure: str) -> None:
        """One replication done (the simulator's progress callback)."""
        with self.lock:
            self.current, self.done = structure, self.done + 1
        if self.due():
            self.save()


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
    """A job another process runs or ran, from its file (None when there is none); a lost one
    ended, with the reason :meth:`SimJob.error_text` gives."""
    state = _job_files.read(folder, job_id)
    try:
        job = SimJob.from_state(state) if state is not None else None
    except TypeError:
        return None
    if job is not None and job.lost():
        return replace(job, stage="done", error={"kind": "lost", "pid": job.pid})
    return job


def prune(folder: Path, keep: int = KEEP) -> None:
    """Remove all but the ``keep`` newest job files."""
    _job_files.prune(folder, keep)
