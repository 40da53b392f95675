"""A dashboard job's state in a file, for every worker process of the dashboard.

Uploads' imports (:mod:`eigyo.app._import_jobs`) and comparisons (:mod:`eigyo.app._simulate_jobs`)
run in the process that received the request, while the page's next poll may reach another
worker. The running process writes the job's state to one small JSON file in a folder of the
workspace (replaced atomically: at most every :data:`WRITE_EVERY_S` seconds as it progresses,
every :data:`BEAT_S` seconds while it is quiet, and once at the end); a process that does not
hold the job reads that file.

A job whose process ended before the job did (a crash, a restart, a killed worker) would read
"running" for ever. :meth:`FileJob.lost` tells it: an unfinished job whose process is gone (same
machine: its process id no longer runs) or whose file has not been written for :data:`STALE_S`
seconds (another machine, or a reused process id). Each kind of job says so in its own words.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import tempfile
import threading
import time
from abc import ABC, abstractmethod
from dataclasses import fields
from pathlib import Path
from typing import Any, ClassVar, Self

#: Job files kept (the oldest removed when a job starts).
KEEP = 200
#: Seconds between two writes of a running job's progress.
WRITE_EVERY_S = 0.25
#: Seconds between two writes of a running job that makes no progress (its heartbeat).
BEAT_S = 2.0
#: Seconds without a write after which an unfinished job is taken for lost.
STALE_S = 30.0
#: This machine: a process id means something only on the machine that gave it.
HOST = socket.gethostname()
#: Fields that belong to the running process, never to the file.
PROCESS_ONLY = frozenset({"folder", "_written", "lock", "_saving"})


class FileJob(ABC):
    """What a job dataclass shares to live in a file. The dataclass declares ``id``, ``pid``
    (``os.getpid``), ``host`` (:data:`HOST`), ``beat``, ``folder``, ``_written``, ``lock`` and
    ``_saving`` (two ``threading.Lock``), and whether it is ``finished`` (a field or a
    property)."""

    id: str
    pid: int
    host: str
    beat: float
    folder: Path | None
    _written: float
    lock: threading.Lock
    #: One write at a time: a heartbeat's older state never replaces the final one.
    _saving: threading.Lock
    #: The thread name's prefix of :meth:`beating`.
    KIND: ClassVar[str] = "job"

    @property
    @abstractmethod
    def finished(self) -> bool:
        """Whether the job has ended (with its result or its error)."""

    def state(self) -> dict[str, Any]:
        """What the file holds: every field but the process's own."""
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)  # type: ignore[arg-type]
            if f.name not in PROCESS_ONLY
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Self:
        names = {f.name for f in fields(cls)} - PROCESS_ONLY  # type: ignore[arg-type]
        return cls(**{k: v for k, v in state.items() if k in names})

    def due(self) -> bool:
        """Whether a progress write is due (at most every :data:`WRITE_EVERY_S` seconds)."""
        return time.monotonic() - self._written >= WRITE_EVERY_S

    def save(self) -> None:
        """Write the job's state for the other processes (atomically; best effort: a job that
        cannot be written still runs and answers its own process's polls)."""
        if self.folder is None:
            return
        with self._saving, contextlib.suppress(OSError):
            self._written = time.monotonic()
            with self.lock:
                self.beat = time.time()
                state = self.state()
            self.folder.mkdir(mode=0o700, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{self.id}.", dir=self.folder)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(state, out, ensure_ascii=False, default=str)
            os.replace(tmp, self.folder / f"{self.id}.json")

    def beating(self) -> threading.Thread:
        """A thread writing the job every :data:`BEAT_S` seconds until it finishes (an import
        reading one large file, a comparison calibrating or queued, report no progress for a
        long while)."""

        def beat() -> None:
            while not self.finished:
                time.sleep(BEAT_S)
                if not self.finished and time.monotonic() - self._written >= BEAT_S:
                    self.save()

        name = f"eigyo-{self.KIND}-{self.id[:8]}"
        thread = threading.Thread(target=beat, name=name, daemon=True)
        thread.start()
        return thread

    def lost(self) -> bool:
        """Whether the job is unfinished and its process no longer runs it."""
        if self.finished:
            return False
        if self.host == HOST and self.pid != os.getpid() and _gone(self.pid):
            return True
        return time.time() - self.beat > STALE_S


def _gone(pid: int) -> bool:
    """Whether no process of this machine has id ``pid`` (one of another user's is alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # alive, another user's: the heartbeat decides
        return False
    return False


def read(folder: Path, job_id: str) -> dict[str, Any] | None:
    """A job's file as written (None when there is none, or it is not a job's)."""
    if not job_id.isalnum():
        return None
    try:
        state = json.loads((folder / f"{job_id}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) else None


def prune(folder: Path, keep: int = KEEP) -> None:
    """Remove all but the ``keep`` newest job files."""
    with contextlib.suppress(OSError):
        files = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in files[keep:]:
            old.unlink(missing_ok=True)
