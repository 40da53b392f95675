"""An upload import as a job: where it is, its report or its error — for every worker process.

Why on disk as well as in memory: ``eigyo serve --workers N`` runs several processes that share
sessions and data, and the page's next poll (every half second) may reach another process than
the one running the import; it answered 404. The running process writes the job's state to one
small JSON file beside the workspace (:data:`FOLDER`, replaced atomically, at most every
:data:`WRITE_EVERY_S` seconds as it progresses, every :data:`BEAT_S` seconds while it is quiet,
and once at the end), as :mod:`eigyo.app._simulate_jobs` does for comparisons; a process that
does not hold the job reads that file.

A job whose process ended before the job did (a crash, a restart, a killed worker) would read
"running" for ever: a job not finished whose process is gone (same machine: its process id no
longer runs) or whose file has not been written for :data:`STALE_S` seconds (another machine,
or a reused process id) is reported finished, with one sentence saying so in the reader's
language (``serving.job_lost``). The import itself is all or nothing: the workspace is as it
was before.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import tempfile
import threading
import time
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from eigyo.i18n import t

#: The jobs' folder inside the workspace folder (beside the sessions file).
FOLDER = ".eigyo-imports"
#: Job files kept (the oldest removed when a job starts).
KEEP = 200
#: Seconds between two writes of a running job's progress.
WRITE_EVERY_S = 0.25
#: Seconds between two writes of a running job that makes no progress (its heartbeat).
BEAT_S = 2.0
#: Seconds without a write after which an unfinished job is taken for lost.
STALE_S = 30.0
_HOST = socket.gethostname()


@dataclass
class Job:
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
    host: str = _HOST
    beat: float = 0.0
    folder: Path | None = None
    _written: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: One write at a time: a heartbeat's older state never replaces the final one.
    _saving: threading.Lock = field(default_factory=threading.Lock)

    def tick(self, step: str, done: int, total: int) -> None:
        """Progress (the importer's callback); written for the others now and then."""
        with self.lock:
            self.step, self.done, self.total = step, done, total
        if time.monotonic() - self._written >= WRITE_EVERY_S:
            self.save()

    def save(self) -> None:
        """Write the job's state for the other processes (atomically; best effort: a job that
        cannot be written still runs and answers its own process's polls)."""
        if self.folder is None:
            return
        with self._saving, contextlib.suppress(OSError):
            self._written = time.monotonic()
            with self.lock:
                self.beat = time.time()
                state = {k: getattr(self, k) for k in _STATE}
            self.folder.mkdir(mode=0o700, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{self.id}.", dir=self.folder)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(state, out, ensure_ascii=False, default=str)
            os.replace(tmp, self.folder / f"{self.id}.json")

    def beating(self) -> threading.Thread:
        """A thread writing the job every :data:`BEAT_S` seconds until it finishes (an import
        reading one large file reports no progress for a long while)."""

        def beat() -> None:
            while not self.finished:
                time.sleep(BEAT_S)
                if not self.finished and time.monotonic() - self._written >= BEAT_S:
                    self.save()

        thread = threading.Thread(target=beat, name=f"eigyo-import-{self.id[:8]}", daemon=True)
        thread.start()
        return thread


#: What a job file holds: every field but the process's own (its folder, clock and lock).
_STATE = tuple(
    f.name for f in fields(Job) if f.name not in ("folder", "_written", "lock", "_saving")
)


def folder_of(workspace: Path) -> Path:
    return Path(workspace) / FOLDER


def _gone(job: Job) -> bool:
    """Whether ``job`` is unfinished and its process no longer runs it."""
    if job.finished:
        return False
    if job.host == _HOST and job.pid != os.getpid():
        try:
            os.kill(job.pid, 0)
        except ProcessLookupError:
            return True
        except OSError:  # alive, another user's: the heartbeat decides
            pass
    return time.time() - job.beat > STALE_S


def load(folder: Path, job_id: str, lang: str) -> Job | None:
    """A job another process runs or ran, from its file (None when there is none); a lost one
    finished, with the sentence saying why in ``lang``."""
    if not job_id.isalnum():
        return None
    try:
        state = json.loads((folder / f"{job_id}.json").read_text(encoding="utf-8"))
        job = Job(**{k: v for k, v in state.items() if k in _STATE})
    except (OSError, ValueError, TypeError):
        return None
    if _gone(job):
        return replace(job, finished=True, error=t("serving.job_lost", lang, pid=job.pid))
    return job


def prune(folder: Path, keep: int = KEEP) -> None:
    """Remove all but the ``keep`` newest job files."""
    with contextlib.suppress(OSError):
        files = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in files[keep:]:
            old.unlink(missing_ok=True)
