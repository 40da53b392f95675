"""What the running app holds: the workspace (one connection per worker thread), sessions, caches.

Why one connection per thread: FastAPI runs plain endpoints on a thread pool and a DuckDB
connection must not be used by two threads at once; connections of one process share one
database instance, so each thread opening its own is cheap (~30 ms once).
Why read-only, per generation: the dashboard never holds the workspace exclusively (imports, the
monitor and ``users add`` write new generations meanwhile, :mod:`eigyo.workspace`). Each request
reads which generation is current once, at the door (:data:`GENERATION`, one ``readlink``), and
every query of that request reads that generation: a finished import shows on the next request,
all at once, never half. Every thread's connections to older generations are closed
:data:`RETIRE_S` seconds after a newer one was first opened (a request still computing on one
keeps it until then). Sessions are in :data:`~eigyo.app._security.SESSIONS_FILE`, shared by
every worker.
Why a cache: the diagnosis takes seconds on a real company; its result depends only on what a
person may see (their scope), the period and the data, so it is keyed by exactly those — a new
generation (an import) changes the key and every cached page is recomputed on its next visit.
It holds :data:`CACHE_SIZE` entries: a scope needs about ten (findings, overview, one per step
page and language), and 64 would thrash with 50 users of 47 scopes, recomputing the diagnosis of
a warm overview whose findings were pushed out by other people's step pages.
Why one computation at a time (:meth:`AppState.exclusive`): the analyses build some tables in
memory (``ibis.memtable``), and an expression made only of those runs on ibis's *default* DuckDB
connection, one per process, which refuses a second thread while it is busy — concurrent cold
pages failed with 500 (bench/dashboard_load.py). The heavy computations are CPU-bound on the GIL
anyway; one at a time also means users of one scope wait for one computation instead of each
starting their own. Why not a plain lock: one user with 45 requests held it for 74 s while
everyone waited; the turns are now given by :class:`~eigyo.app._limits.FairGate` (per-person
limits, round-robin, a bounded queue answering "busy, try again"). Cache hits and the plain
queries (records, metrics) never enter the gate.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from contextlib import suppress
from contextvars import ContextVar
from pathlib import Path
from typing import Any, TypeVar

from eigyo.app._limits import DEFAULT_LIMITS, FairGate, HashGate, LoginThrottle, ServerLimits
from eigyo.app._scope import Principal, ScopedWorkspace
from eigyo.app._security import SESSIONS_FILE, SessionStore
from eigyo.app._users import list_users
from eigyo.workspace import Workspace, generation, generation_number, open_workspace

T = TypeVar("T")
CACHE_SIZE = 1024
_MISS = object()
#: The failed-login log, in the workspace folder (docs/security.md).
AUDIT_LOG = "login-failures.log"
#: The generation a request reads, set once at the door (``_factory._Door``); context variables
#: follow the request into the worker threads.
GENERATION: ContextVar[str | None] = ContextVar("eigyo_generation", default=None)
#: Seconds a thread keeps its connection to a generation after a newer one appeared.
RETIRE_S = 600.0


class AppState:
    """Shared by every request of one app instance."""

    def __init__(self, workspace: Path, limits: ServerLimits = DEFAULT_LIMITS) -> None:
        self.workspace = Path(workspace)
        self.limits = limits
        self.sessions = SessionStore(self.workspace / SESSIONS_FILE)
        self.gate = FairGate(limits)
        self.hashes = HashGate(limits)
        self.logins = LoginThrottle(self.workspace / AUDIT_LOG, limits)
        self._local = threading.local()
        self._cache: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._all: list[Workspace] = []
        self._retired: list[tuple[float, Workspace]] = []
        self._all_lock = threading.Lock()
        self.import_lock = threading.Lock()
        with open_workspace(self.workspace, read_only=True) as ws:
            list_users(ws)  # fails early, at start-up, when the folder is not a workspace

    def generation(self) -> str:
        """The generation this request reads: the one set at the door, else the current one."""
        gen = GENERATION.get()
        return generation(self.workspace) if gen is None else gen

    def ws(self) -> Workspace:
        """This thread's read-only connection to the request's generation (opened on first use).
        Opening one of a newer generation retires every thread's connections to older ones;
        they close :data:`RETIRE_S` seconds later (see the module docstring), so an idle thread
        never keeps an old generation's file and memory alive."""
        gen = self.generation()
        ws: Workspace | None = getattr(self._local, "ws", None)
        if self._retired and time.monotonic() - self._retired[0][0] > RETIRE_S:
            self._sweep()
        if ws is not None and self._local.gen == gen:
            return ws
        fresh = open_workspace(self.workspace, read_only=True, at=gen)
        _limit_memory(fresh, self.limits.analysis_memory_mib)
        number, now = generation_number(fresh.generation), time.monotonic()
        with self._all_lock:
            older = [w for w in self._all if generation_number(w.generation) < number]
            self._all = [w for w in self._all if w not in older] + [fresh]
            self._retired += [(now, w) for w in older]
        self._local.ws, self._local.gen = fresh, gen
        return fresh

    def _sweep(self) -> None:
        """Close the retired connections older than :data:`RETIRE_S`."""
        now = time.monotonic()
        with self._all_lock:
            old = [w for t, w in self._retired if now - t > RETIRE_S]
            self._retired = [(t, w) for t, w in self._retired if now - t <= RETIRE_S]
        for w in old:
            w.close()

    def scoped(self, who: Principal) -> ScopedWorkspace:
        return ScopedWorkspace(self.ws(), who)

    def exclusive(self, compute: Callable[[], T]) -> T:
        """``compute()`` while no other analysis runs, in the requester's fair turn (see the
        module docstring); :class:`~eigyo.app._limits.Busy` when it cannot have one. Past
        :attr:`ServerLimits.analysis_seconds` this thread's engine query is interrupted and the
        request ends with :class:`~eigyo.app._limits.TooLong`: the slot is everyone's."""
        return self.gate.run(compute, cancel=_interrupt_of(self.ws()))

    def _get(self, full: tuple[Any, ...]) -> Any:
        with self._cache_lock:
            if full in self._cache:
                self._cache.move_to_end(full)
                return self._cache[full]
        return _MISS

    def cached(self, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
        """``compute()`` once per key and data version (an LRU of :data:`CACHE_SIZE` entries),
        under :meth:`exclusive`; a request that waited finds the value its predecessor made."""
        full = (self.ws().generation, *key)
        value = self._get(full)
        if value is _MISS:

            def fill() -> Any:
                found = self._get(full)
                if found is _MISS:
                    found = compute()
                    with self._cache_lock:
                        self._cache[full] = found
                        while len(self._cache) > CACHE_SIZE:
                            self._cache.popitem(last=False)
                return found

            value = self.exclusive(fill)
        return value  # type: ignore[no-any-return]

    def close(self) -> None:
        with self._all_lock:
            for ws in self._all + [w for _, w in self._retired]:
                ws.close()
            self._all.clear()
            self._retired.clear()


def _interrupt_of(ws: Workspace) -> Callable[[], None] | None:
    """The call that stops the query running on ``ws``'s connection (DuckDB's ``interrupt``),
    or None for an engine without one."""
    try:
        raw = ws.raw
    except Exception:  # an engine whose connection is not DuckDB's
        return None
    interrupt = getattr(raw, "interrupt", None)
    return interrupt if callable(interrupt) else None


def _limit_memory(ws: Workspace, mib: int) -> None:
    """Hold the engine's memory to ``mib`` for the dashboard's queries (DuckDB spills to disk
    or stops a query beyond it): no request takes the machine's memory from the others."""
    with suppress(Exception):  # an engine without the setting keeps its own limits
        ws.raw.execute(f"SET memory_limit = '{int(mib)}MiB'")
