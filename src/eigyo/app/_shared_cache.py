"""What the dashboard computes once per generation, shared by its threads, its worker processes
and its next start: the organization's diagnosis and each scope's overview (issues 18 and 20).

Why on disk, beside the data: a medium company's diagnosis takes 8–15 s and a scope's overview
1–3 s, so 50 people arriving at once after an import or a restart waited minutes while each
worker (``eigyo serve --workers N``) and each restart computed the same things again. A result
depends only on the data (the generation), the settings and the code, so it is stored under
``<workspace>/cache/<generation>/`` keyed by exactly those and by what the page asked for
(scope, period, language, filters): a restart or another worker reads it back in milliseconds.

* **Keys.** :meth:`SharedCache.path` digests the generation's file identity (name, size,
  modification time: a generation is never written after it is published, and a restored or
  re-created workspace gets a different identity), ``eigyo.toml`` as it was when the
  generation was first seen, and the code (:func:`code_version`: the package's sources and
  texts). A new import is a new generation, so no result of the previous one can be served as
  its own; a new release or a changed setting misses too.
* **One computation.** :meth:`SharedCache.lock` is an ``flock`` per key: the first process (or
  thread: each opening is its own lock) computes while the others wait for its file instead of
  starting their own; a lock not granted in time is skipped (the value is then computed twice,
  never waited on forever).
* **Trust.** Values are pickled: they are written only by the dashboard's own processes into
  the workspace folder, whose writers can change the data and the settings anyway (and could
  run code in the server through these files: the folder must be writable by the server's user
  only, docs/security.md). Files are the server user's only (0600: they name reps and amounts).
  A file that does not load (cut short, another Python) is a miss and is removed.
* **Marks.** :meth:`SharedCache.mark` writes an empty file naming a state of the generation's
  results for this identity — ``ready`` (the results every page starts from are computed: the
  dashboard may serve the generation, :mod:`eigyo.app._serving`) and ``warm`` (the warm-up went
  through everything it warms) — so every worker sees the same state with one ``stat``.
* **Clean-up.** :meth:`SharedCache.prune` removes the folders of generations that no longer
  exist (the workspace keeps two, :mod:`eigyo.workspace`); each computation is appended to
  ``computed.log`` in its folder (process, key, seconds), which says what was computed where.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from functools import cache
from importlib import resources
from pathlib import Path
from typing import IO, Any

from eigyo import __version__
from eigyo.settings import SETTINGS_FILE
from eigyo.workspace import GEN_DIR

#: The folder of the persisted results, in the workspace folder.
CACHE_DIR = "cache"
#: Each generation's log of what was computed (one line per computation).
LOG_FILE = "computed.log"
#: Returned by :meth:`SharedCache.load` for a key with no stored value.
MISSING: Any = object()
#: Seconds between two tries of a lock held by another process.
POLL_S = 0.05
_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


@cache
def code_version() -> str:
    """A digest of eigyo's version and of every source and text file of the package: a result
    computed by other code (a new release, an edited check or catalogue) is never read back."""
    h = hashlib.sha256(__version__.encode())
    root = resources.files("eigyo")
    stack = [root]
    files: list[Any] = []
    while stack:
        for entry in stack.pop().iterdir():
            if entry.is_dir():
                if entry.name != "__pycache__":
                    stack.append(entry)
            elif entry.name.endswith((".py", ".toml", ".j2", ".sql")):
                files.append(entry)
    for entry in sorted(files, key=str):
        h.update(str(entry).removeprefix(str(root)).encode())
        h.update(entry.read_bytes())
    return h.hexdigest()[:16]


class SharedCache:
    """The persisted results of one workspace (see the module docstring)."""

    def __init__(self, workspace: Path) -> None:
        code_version()  # now, when the code was loaded, not at the first result
        self.workspace = Path(workspace)
        self.root = self.workspace / CACHE_DIR
        self._ids: dict[str, str] = {}
        self._lock = threading.Lock()

    def identity(self, gen: str) -> str | None:
        """What a generation's results are keyed by (its file, the settings seen with it, the
        code); None for a workspace no writer has published to (a plain file: not persisted)."""
        if not gen:
            return None
        with self._lock:
            found = self._ids.get(gen)
        if found is not None:
            return found
        try:
            st = (self.workspace / gen).stat()
            settings = (self.workspace / SETTINGS_FILE).read_bytes()
        except OSError:
            return None
        h = hashlib.sha256(f"{gen}\0{st.st_size}\0{st.st_mtime_ns}\0{code_version()}".encode())
        h.update(settings)
        ident = h.hexdigest()
        with self._lock:
            return self._ids.setdefault(gen, ident)

    def folder(self, gen: str) -> Path:
        return self.root / _SAFE.sub("_", Path(gen).name.removesuffix(".duckdb"))

    def path(self, gen: str, key: tuple[Any, ...]) -> Path | None:
        """The file of ``key``'s value for generation ``gen`` (None: not persisted)."""
        ident = self.identity(gen)
        if ident is None:
            return None
        digest = hashlib.sha256(f"{ident}\0{key!r}".encode()).hexdigest()[:32]
        return self.folder(gen) / f"{digest}.pkl"

    def load(self, gen: str, key: tuple[Any, ...]) -> Any:
        """The stored value, else :data:`MISSING`."""
        file = self.path(gen, key)
        if file is None:
            return MISSING
        try:
            with file.open("rb") as f:
                return pickle.load(f)  # our own files: see the module docstring
        except FileNotFoundError:
            return MISSING
        except Exception:  # cut short or unreadable: computed again
            with suppress(OSError):
                file.unlink()
            return MISSING

    def store(self, gen: str, key: tuple[Any, ...], value: Any, seconds: float) -> None:
        """Write ``value`` at once for every reader (a temporary file, then ``os.replace``) and
        log the computation. A value that cannot be pickled or written stays in memory only."""
        file = self.path(gen, key)
        if file is None:
            return
        tmp = file.with_name(f".{file.name}.{os.getpid()}.{threading.get_ident()}")
        try:
            file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # names and ¥ inside
            with os.fdopen(fd, "wb") as f:
                pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, file)
            line = f"{time.strftime('%Y-%m-%dT%H:%M:%S')} pid={os.getpid()} {file.stem} "
            line += f"{seconds:.3f}s {_describe(key)}\n"
            with (file.parent / LOG_FILE).open("a", encoding="utf-8") as log:
                log.write(line)
        except Exception:
            with suppress(OSError):
                tmp.unlink()

    def _mark_file(self, gen: str, name: str) -> Path | None:
        ident = self.identity(gen)
        return None if ident is None else self.folder(gen) / f"{name}-{ident[:32]}"

    def mark(self, gen: str, name: str) -> None:
        """Record state ``name`` (``ready``, ``warm``) of generation ``gen``'s results, for every
        worker (best effort: an unwritable folder leaves the state unrecorded)."""
        file = self._mark_file(gen, name)
        if file is None:
            return
        with suppress(OSError):
            file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            file.touch(mode=0o600)

    def marked(self, gen: str, name: str) -> bool:
        """Whether state ``name`` of generation ``gen`` was recorded (by any process)."""
        file = self._mark_file(gen, name)
        return file is not None and file.exists()

    @contextmanager
    def lock(self, gen: str, key: tuple[Any, ...], wait_s: float) -> Iterator[bool]:
        """Hold ``key``'s computation lock (``flock``): True when held, False when not granted
        within ``wait_s`` (or not persisted); the caller then computes without it."""
        file = self.path(gen, key)
        handle: IO[bytes] | None = None
        try:
            if file is not None:
                handle = _flock(file.with_suffix(".lock"), wait_s)
            yield handle is not None
        finally:
            if handle is not None:
                handle.close()  # closing the file releases the lock

    def prune(self) -> None:
        """Remove the folders of generations that no longer exist."""
        if not self.root.is_dir():
            return
        gens = self.workspace / GEN_DIR
        alive = {self.folder(f"{GEN_DIR}/{f.name}").name for f in gens.glob("eigyo-*.duckdb")}
        for d in self.root.iterdir():
            if d.is_dir() and d.name not in alive:
                for f in d.iterdir():
                    with suppress(OSError):
                        f.unlink()
                with suppress(OSError):
                    d.rmdir()


def _flock(path: Path, wait_s: float) -> IO[bytes] | None:
    """``path`` opened and locked exclusively, or None when not granted within ``wait_s``."""
    try:
        import fcntl
    except ImportError:  # Windows: no flock; each process computes its own
        return None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.open("ab")
    except OSError:
        return None
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            return handle
        except BlockingIOError:
            if time.monotonic() >= deadline:
                handle.close()
                return None
            time.sleep(POLL_S)
        except OSError:
            handle.close()
            return None


def _describe(key: tuple[Any, ...]) -> str:
    """The key as one log field (the kind of result first: diagnosis, findings, overview …)."""
    return " ".join(str(k).replace(" ", "_").replace("\n", "_") for k in key)[:200]
