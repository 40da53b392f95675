"""What the running app holds: the workspace (one connection per worker thread), sessions, caches.

Why one connection per thread: FastAPI runs plain endpoints on a thread pool and a DuckDB
connection must not be used by two threads at once; connections of one process share one
database instance, so each thread opening its own is cheap (~30 ms once).
Why read-only, per generation: the dashboard never holds the workspace exclusively (imports, the
monitor and ``users add`` write new generations meanwhile, :mod:`eigyo.workspace`). Each request
reads which generation is current once, at the door (:data:`GENERATION`, one ``readlink``), and
every query of that request reads that generation: a finished import shows on the next request,
all at once, never half. Once a newer generation is opened, every thread's connections to older
ones retire: each closes when it has been unused for :data:`RETIRE_S` seconds (the previous
generation stays in use, labelled, while the new one warms up, which can take longer than that
on a large company). Sessions are in :data:`~eigyo.app._security.SESSIONS_FILE`, shared by
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
Why the cache is also on disk and computed once (:mod:`eigyo.app._shared_cache`): a miss is
looked up in the generation's persisted results, then computed by one thread of one process
while every other request for the same key — in this process or another worker — waits for
that computation outside the gate (it takes no turn and no queue place), so 50 people arriving
during the organization's diagnosis wait for one diagnosis. With
:attr:`ServerLimits.warm_up` (``eigyo serve``), :mod:`eigyo.app._warm` computes the shared
results of each new generation in the background.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import suppress
from pathlib import Path
from typing import Any, TypeVar

from eigyo.app._generation import GENERATION
from eigyo.app._limits import (
    DEFAULT_LIMITS,
    Busy,
    FairGate,
    HashGate,
    LoginThrottle,
    ServerLimits,
)
from eigyo.app._scope import Principal, ScopedWorkspace
from eigyo.app._security import SESSIONS_FILE, SessionStore
from eigyo.app._shared_cache import MISSING, SharedCache
from eigyo.app._users import list_users
from eigyo.workspace import Workspace, generation, generation_number, open_workspace

T = TypeVar("T")
CACHE_SIZE = 1024
#: The failed-login log, in the workspace folder (docs/security.md).
AUDIT_LOG = "login-failures.log"
#: Seconds a connection to an older generation may stay unused before it closes.
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
        self._flights: dict[tuple[Any, ...], Future[Any]] = {}
        self.shared = SharedCache(self.workspace)
        self._all: list[Workspace] = []
        self._retired: list[tuple[float, Workspace]] = []
        #: When each open connection was last handed to a request (by ``id``).
        self._used: dict[int, float] = {}
        self._all_lock = threading.Lock()
        self.import_lock = threading.Lock()
        with open_workspace(self.workspace, read_only=True) as ws:
            list_users(ws)  # fails early, at start-up, when the folder is not a workspace
        #: The background warm-up (:mod:`eigyo.app._warm`), started by the app factory when
        #: ``limits.warm_up``: it computes pages, and pages read this state.
        self.warmer: Any = None

    def generation(self) -> str:
        """The generation this request reads: the one set at the door, else the current one."""
        gen = GENERATION.get()
        return generation(self.workspace) if gen is None else gen

    def ws(self) -> Workspace:
        """This thread's read-only connection to the request's generation (opened on first use).
        Opening one of a newer generation retires every thread's connections to older ones;
        a retired connection closes once it has been unused for :data:`RETIRE_S` seconds (see
        the module docstring), so an idle thread never keeps an old generation's file and
        memory alive, while the previous generation the dashboard still serves during a long
        warm-up (:mod:`eigyo.app._serving`) keeps its connections however long that takes."""
        gen = self.generation()
        ws: Workspace | None = getattr(self._local, "ws", None)
        now = time.monotonic()
        if self._retired and now - min(self._used.get(id(w), t) for t, w in self._retired) > (
            RETIRE_S
        ):
            self._sweep()
        if ws is not None and self._local.gen == gen and self._alive(ws):
            self._used[id(ws)] = now
            return ws
        fresh = open_workspace(self.workspace, read_only=True, at=gen)
        _limit_memory(fresh, self.limits.analysis_memory_mib)
        number = generation_number(fresh.generation)
        with self._all_lock:
            older = [w for w in self._all if generation_number(w.generation) < number]
            self._all = [w for w in self._all if w not in older] + [fresh]
            self._retired += [(now, w) for w in older]
            self._used[id(fresh)] = now
        self._local.ws, self._local.gen = fresh, gen
        return fresh

    def _alive(self, ws: Workspace) -> bool:
        """Whether ``ws`` is still open (not closed by :meth:`_sweep`): a thread that kept a
        closed one opens a fresh connection, with the memory limit, instead of reopening it."""
        with self._all_lock:
            return any(w is ws for w in self._all) or any(w is ws for _, w in self._retired)

    def _sweep(self) -> None:
        """Close the retired connections unused for :data:`RETIRE_S` seconds."""
        now = time.monotonic()
        with self._all_lock:
            idle = [(t, w) for t, w in self._retired if now - self._used.get(id(w), t) > RETIRE_S]
            self._retired = [(t, w) for t, w in self._retired if (t, w) not in idle]
            for _, w in idle:
                self._used.pop(id(w), None)
        for _, w in idle:
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
        return MISSING

    def _put(self, full: tuple[Any, ...], value: Any) -> None:
        with self._cache_lock:
            self._cache[full] = value
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)

    def cached(self, key: tuple[Any, ...], compute: Callable[[], T], gate: bool = True) -> T:
        """``compute()`` once per key and generation for every thread, worker and restart:
        this process's LRU (:data:`CACHE_SIZE` entries), else the generation's persisted value,
        else one computation under :meth:`exclusive` that every other request of the key waits
        for (see the module docstring). ``gate=False``: a plain query (the metrics explorer's
        values) computed in the request's own thread, as it was before it was cached."""
        gen = self.ws().generation
        full = (gen, *key)
        value = self._get(full)
        if value is MISSING:
            value = self.shared.load(gen, key)
            if value is MISSING:
                value = self._single_flight(full, lambda: self._produce(gen, key, compute, gate))
            self._put(full, value)
        return value  # type: ignore[no-any-return]

    def _single_flight(self, full: tuple[Any, ...], produce: Callable[[], Any]) -> Any:
        """``produce()`` by the first thread asking for ``full``; the others wait for its value
        (or its error) without a turn of the gate. A thread already inside the gate never waits
        for another (that one may be waiting for the gate): it computes itself."""
        inside = self.gate.inside()
        with self._cache_lock:
            flight = self._flights.get(full)
            leader = flight is None or inside
            if flight is None:
                flight = self._flights[full] = Future()
        if not leader:
            try:
                return flight.result(timeout=self._wait_s())
            except FutureTimeout:
                raise Busy(self.limits.retry_after_s) from None
        try:
            value = produce()
        except BaseException as e:
            if not flight.done():
                flight.set_exception(e)
            raise
        else:
            if not flight.done():
                flight.set_result(value)
            return value
        finally:
            with self._cache_lock:
                if self._flights.get(full) is flight:
                    del self._flights[full]

    def _wait_s(self) -> float:
        """How long a request waits for someone else's computation: its turn and its run."""
        return self.limits.heavy_wait_s + self.limits.analysis_seconds

    def _produce(
        self, gen: str, key: tuple[Any, ...], compute: Callable[[], T], gate: bool = True
    ) -> T:
        """The value of ``key``: another process's, when it computed it while this one waited
        for the key's lock, else computed here (in a fair turn) and stored for everyone."""
        wait = 0.0 if self.gate.inside() else self._wait_s()
        with self.shared.lock(gen, key, wait):
            found = self.shared.load(gen, key)
            if found is not MISSING:
                return found  # type: ignore[no-any-return]
            spent = [0.0]

            def timed() -> T:
                started = time.monotonic()
                try:
                    return compute()
                finally:
                    spent[0] = time.monotonic() - started

            value = self.exclusive(timed) if gate else timed()
            self.shared.store(gen, key, value, spent[0])
            return value

    def close(self) -> None:
        if self.warmer is not None:
            self.warmer.stop()
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
