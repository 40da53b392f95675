"""An upload import as a job: where it is, its report or its error — for every worker process.

Why on disk as well as in memory: ``eigyo serve --workers N`` runs several processes that share
sessions and data, and the page's next poll (every half second) may reach another process than
the one running the import; it answered 404. The job lives in a file of :data:`FOLDER`
(:mod:`eigyo.app._job_files`, as comparisons do). A job whose process is gone is reported
finished, with one sentence saying so in the reader's language (``serving.job_lost``). The
import itself is all or nothing: the workspace is as it was before.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

from eigyo.app import _job_files
from eigyo.app._job_files import KEEP, FileJob
from eigyo.i18n import t

#: The jobs' folder inside the workspace folder (beside the sessions file).
FOLDER = ".eigyo-imports"


@dataclass
class Job(FileJob):
    """One upload's import: where it is, and its report or error when it ends."""

    id: str
    owner: str
    files: list[str]
    step: str = ""
    done: int = 0
    total: int = 0
    finished: bool = False
    report: dict[str, Any] | None = None
    error: str | None = None
    #: The process running it, and when it last wrote its file (``time.time()``).
    pid: int = field(default_factory=os.getpid)
    host: str = _job_files.HOST
    beat: float = 0.0
    folder: Path | None = None
    _written: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)
    _saving: threading.Lock = field(default_factory=threading.Lock)
    KIND: ClassVar[str] = "import"

    def tick(self, step: str, done: int, total: int) -> None:
        """Progress (the importer's callback); written for the others now and then."""
        with self.lock:
            self.step, self.done, self.total = step, done, total
        if self.due():
            self.save()


def folder_of(workspace: Path) -> Path:
    return Path(workspace) / FOLDER


def load(folder: Path, job_id: str, lang: str) -> Job | None:
    """A job another process runs or ran, from its file (None when there is none); a lost one
    finished, with the sentence saying why in ``lang``."""
    state = _job_files.read(folder, job_id)
    try:
        job = Job.from_state(state) if state is not None else None
    except TypeError:
        return None
    if job is not None and job.lost():
        return replace(job, finished=True, error=t("serving.job_lost", lang, pid=job.pid))
    return job


def prune(folder: Path, keep: int = KEEP) -> None:
    """Remove all but the ``keep`` newest job files."""
    _job_files.prune(folder, keep)
