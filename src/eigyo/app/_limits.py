"""What one person, one address or one request may cost the server (docs/security.md, "Server").

Why this module: the dashboard is shared by a whole sales organization on one process, so what
one user does must not decide how fast the others are served. Everything here is declared as
data in :class:`ServerLimits` (one place; ``eigyo serve`` options change the sizes), and enforced
at the door, before the work:

* :class:`FairGate` — the heavy computations (a cold diagnosis, a process map, a simulation) run
  one at a time, because the analyses' in-memory tables share ibis's default DuckDB connection,
  which refuses a second thread (see :mod:`eigyo.app._state`). The gate replaces a plain lock,
  which one user could hold for a minute with 45 requests: each person has at most
  :attr:`ServerLimits.heavy_per_user` heavy requests admitted, the waiting room holds at most
  :attr:`ServerLimits.heavy_queue`, turns go round-robin between people (not first come), and a
  wait longer than :attr:`ServerLimits.heavy_wait_s` ends with "busy, try again" (503 with
  ``Retry-After``). Each person may also use at most
  :attr:`ServerLimits.heavy_seconds_per_minute` of heavy computation per minute, so one script
  asking for new process maps back to back cannot hold the GIL the others' pages need; and a
  person just told "busy" is refused at the door for :attr:`ServerLimits.penalty_s` (after an
  async :attr:`ServerLimits.tarpit_s`), so ignoring ``Retry-After`` only slows the flood down.
  Light requests (:data:`LIGHT_PATHS`: ``/api/me``, static files, login, ``/health``) never
  enter the gate and are never refused as busy; since waiting threads are bounded, they always
  find a free worker thread.
* :class:`LoginThrottle` — failed logins per account and per address; after
  :attr:`ServerLimits.login_failures` failures within :attr:`ServerLimits.login_window_s` the
  account (or address) is locked for :attr:`ServerLimits.lockout_s`, doubled at each new lockout
  (up to :attr:`ServerLimits.lockout_max_s`). A locked login is refused *before* the password is
  checked, so guessing during a lockout costs nothing and learns nothing.
* :class:`HashGate` — a password check costs 32 MiB for scrypt (``eigyo.app._users``); at most
  :attr:`ServerLimits.hash_concurrency` run at once, and at most
  :attr:`ServerLimits.hash_waiting` more wait, so 200 concurrent guesses cannot exhaust memory.
  The stored hashes keep their cost: only concurrency is bounded.
* Request bodies: :attr:`ServerLimits.max_body_bytes` for every request (the login form
  included, signed in or not) and :attr:`ServerLimits.max_upload_bytes` for an admin's upload to
  ``/import``, counted while the body is read (``eigyo.app._factory``).
"""

from __future__ import annotations

import contextvars
import json
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from eigyo.app._budget import Budget
from eigyo.errors import EigyoError

T = TypeVar("T")
MiB = 1024 * 1024


@dataclass(frozen=True)
class ServerLimits:
    """Every limit of the dashboard server, with its default (docs/security.md lists them)."""

    #: Bytes of any request body (forms, JSON, the login form); 413 beyond.
    max_body_bytes: int = 1 * MiB
    #: Bytes of an upload to ``/import`` by a signed-in admin (files are then checked by
    #: the importer's own ``[import]`` limits); 413 beyond.
    max_upload_bytes: int = 256 * MiB
    #: Heavy requests (cold pages, process map, simulation) one person may have admitted at once.
    heavy_per_user: int = 2
    #: Heavy requests waiting for their turn, everyone together; beyond: 503 at once.
    heavy_queue: int = 16
    #: Seconds a heavy request waits for its turn before it is answered 503.
    heavy_wait_s: float = 30.0
    #: Seconds of heavy computation one person may use per minute (a third of the one slot):
    #: beyond, 503 until enough of the minute has passed. A person opening cold pages uses a few
    #: seconds; a script asking for new process maps back to back is held to this share.
    heavy_seconds_per_minute: float = 20.0
    #: After a person was told "busy", their further requests (light ones excepted) are answered
    #: 503 at the door for this many seconds, without reaching a route or a worker thread ...
    penalty_s: float = 2.0
    #: ... and only after this many seconds (an async wait: no thread, no CPU), so a client that
    #: ignores ``Retry-After`` cannot turn fast refusals into a request flood of its own.
    tarpit_s: float = 1.0
    #: ``Retry-After`` seconds of a 503 "busy" answer.
    retry_after_s: int = 10
    #: Worker threads for the app's plain (sync) routes; more than ``heavy_queue + 1``, so light
    #: requests always find one.
    worker_threads: int = 64
    #: Failed logins within ``login_window_s`` that lock an account.
    login_failures: int = 5
    #: Failed logins from one address within ``login_window_s`` that lock the address (higher:
    #: an office behind one NAT shares an address).
    address_failures: int = 20
    #: Seconds over which failed logins are counted.
    login_window_s: float = 15 * 60
    #: First lockout, in seconds; each further lockout of the same account or address doubles it.
    lockout_s: float = 15 * 60
    #: The longest lockout.
    lockout_max_s: float = 24 * 3600
    #: Password checks (scrypt, 32 MiB each) running at once.
    hash_concurrency: int = 2
    #: Password checks waiting for one of those; beyond: 503 at once.
    hash_waiting: int = 8
    #: Accounts and addresses remembered by the login throttle (oldest forgotten first).
    throttle_entries: int = 10_000
    #: Bytes of the failed-login log before it is rotated (one old file kept).
    audit_log_bytes: int = 10 * MiB
    #: Seconds one analysis may run before the engine is interrupted and the request answered
    #: "took too long" (503): the slot it holds is everyone's.
    analysis_seconds: float = 60.0
    #: MiB the engine may use for the dashboard's queries (DuckDB ``memory_limit`` of its
    #: connections; it spills to disk beyond, or stops the query): a heavy request cannot take
    #: the machine's memory from the other users and the imports.
    analysis_memory_mib: int = 2048
    #: Compute each new generation's shared results (the organization's diagnosis, every
    #: user's overview) in the background, at start and after each import (``eigyo serve``
    #: turns it on; :mod:`eigyo.app._warm`).
    warm_up: bool = False


DEFAULT_LIMITS = ServerLimits()
#: Paths that never wait for heavy work and are never refused as "busy" (a person over their
#: limit can still sign out, switch language, load the page's scripts; a proxy can check health).
LIGHT_PATHS = ("/static/", "/health", "/login", "/logout", "/lang/", "/api/me")
#: The window of :attr:`ServerLimits.heavy_seconds_per_minute`.
BUDGET_WINDOW_S = 60.0
#: Who is asking, set per request by the app's middleware (user name, else ``@address``), so the
#: gate can count per person without every route passing it along.
REQUESTER: contextvars.ContextVar[str] = contextvars.ContextVar("eigyo_requester", default="?")
#: The background warm-up's name at the gate: it takes turns with people but is never refused
#: for its own use, nor interrupted past ``analysis_seconds`` (it computes for all of them: on a
#: loaded machine the medium demo's diagnosis passed 60 s, was interrupted, and nobody ever got
#: an overview).
WARM_UP = "@warm-up"


class Busy(EigyoError):
    """The server is too busy for this request now; the app answers 503 with ``Retry-After``."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(key="app.error.busy")
        self.retry_after = retry_after


class LockedOut(EigyoError):
    """Too many failed logins for this account or address; the app answers 429."""

    def __init__(self, seconds: float) -> None:
        minutes = max(1, round(seconds / 60))
        super().__init__(key="app.login.locked", minutes=minutes)
        self.retry_after = max(1, int(seconds))


@dataclass
class _Ticket:
    user: str
    granted: bool = False


class FairGate:
    """One heavy computation at a time, turns shared round-robin between people (see above)."""

    def __init__(
        self, limits: ServerLimits = DEFAULT_LIMITS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limits = limits
        self._clock = clock
        self._cond = threading.Condition()
        self._admitted: dict[str, int] = {}
        self._used: dict[str, deque[tuple[float, float]]] = {}  # (ended at, seconds) per person
        self._penalty: dict[str, float] = {}
        self._waiting: OrderedDict[str, deque[_Ticket]] = OrderedDict()
        self._busy = False
        self._holder = threading.local()

    def penalized(self, user: str) -> bool:
        """Whether ``user`` was told "busy" within the last :attr:`ServerLimits.penalty_s`."""
        until = self._penalty.get(user)
        if until is None:
            return False
        if until <= self._clock():
            self._penalty.pop(user, None)
            return False
        return True

    def _refuse(self, user: str, retry_after: float | None = None) -> Busy:
        """A :class:`Busy` for ``user``, who is then refused at the door for a moment."""
        self._penalty[user] = self._clock() + self.limits.penalty_s
        wait = self.limits.retry_after_s if retry_after is None else retry_after
        return Busy(max(1, int(wait + 0.999)))

    def _budget_left(self, user: str, now: float) -> float:
        """Seconds until ``user``'s use of the last minute is back under the budget (0: now)."""
        used = self._used.get(user)
        if not used:
            return 0.0
        while used and used[0][0] < now - BUDGET_WINDOW_S:
            used.popleft()
        total = sum(sec for _, sec in used)
        over = total - self.limits.heavy_seconds_per_minute
        if over < 0:
            if not used:
                self._used.pop(user, None)
            return 0.0
        freed = 0.0
        for ended, sec in used:  # the oldest computations leave the window first
            freed += sec
            if freed > over:
                return max(0.0, ended + BUDGET_WINDOW_S - now)
        return BUDGET_WINDOW_S

    def inside(self) -> bool:
        """Whether this thread holds the turn (a computation asking for another)."""
        return bool(getattr(self._holder, "inside", False))

    def waiting(self) -> int:
        with self._cond:
            return sum(len(q) for q in self._waiting.values())

    def _grant_next(self) -> None:
        """Give the free turn to the person who has waited longest for *a* turn (round-robin:
        a person's next request goes to the back of the line of people)."""
        if self._busy or not self._waiting:
            return
        user, queue = next(iter(self._waiting.items()))
        ticket = queue.popleft()
        if queue:
            self._waiting.move_to_end(user)
        else:
            del self._waiting[user]
        ticket.granted = True
        self._busy = True
        self._cond.notify_all()

    def _leave(self, user: str) -> None:
        n = self._admitted.get(user, 1) - 1
        if n:
            self._admitted[user] = n
        else:
            self._admitted.pop(user, None)

    def _admit(self, who: str, lim: ServerLimits) -> None:
        """Refuse ``who`` when their own turns, their time budget or everyone's queue is full
        (called holding the condition)."""
        if self._admitted.get(who, 0) >= lim.heavy_per_user:
            raise self._refuse(who)
        if left := self._budget_left(who, self._clock()):
            raise self._refuse(who, left)
        if sum(len(q) for q in self._waiting.values()) >= lim.heavy_queue:
            raise Busy(lim.retry_after_s)  # everyone's queue: not this person's doing

    def run(
        self,
        compute: Callable[[], T],
        user: str | None = None,
        cancel: Callable[[], None] | None = None,
    ) -> T:
        """``compute()`` in its turn; :class:`Busy` when the person or the queue is at its limit
        or the turn does not come within :attr:`ServerLimits.heavy_wait_s`. Re-entrant: a
        computation that asks for another runs it at once. ``cancel`` (the engine's interrupt)
        is called when the computation runs past :attr:`ServerLimits.analysis_seconds`; the
        computation's engine error then becomes :class:`TooLong`."""
        if self.inside():
            return compute()
        who = user or REQUESTER.get()
        lim = self.limits
        with self._cond:
            if who != WARM_UP:  # the warm-up every page waits on is never refused
                self._admit(who, lim)
            ticket = _Ticket(who)
            self._admitted[who] = self._admitted.get(who, 0) + 1
            self._waiting.setdefault(who, deque()).append(ticket)
            self._grant_next()
            deadline = time.monotonic() + lim.heavy_wait_s
            while not ticket.granted:
                left = deadline - time.monotonic()
                if left <= 0:
                    queue = self._waiting.get(who)
                    if queue is not None and ticket in queue:
                        queue.remove(ticket)
                        if not queue:
                            del self._waiting[who]
                    self._leave(who)
                    raise Busy(lim.retry_after_s)
                self._cond.wait(left)
        self._holder.inside = True
        started = self._clock()
        # the warm-up computes for everyone (the diagnosis all pages read): never cut short
        watch = Budget(lim.analysis_seconds, None if who == WARM_UP else cancel)
        try:
            return compute()
        except Exception as e:
            err = watch.verdict(e)
            if err is e:
                raise
            raise err from e
        finally:
            watch.stop()
            self._holder.inside = False
            with self._cond:
                ended = self._clock()
                self._used.setdefault(who, deque()).append((ended, ended - started))
                self._busy = False
                self._leave(who)
                self._grant_next()


class HashGate:
    """At most :attr:`ServerLimits.hash_concurrency` password checks at once (see above)."""

    def __init__(self, limits: ServerLimits = DEFAULT_LIMITS) -> None:
        self.limits = limits
        self._sem = threading.BoundedSemaphore(limits.hash_concurrency)
        self._lock = threading.Lock()
        self._waiting = 0

    def run(self, check: Callable[[], T]) -> T:
        with self._lock:
            if self._waiting >= self.limits.hash_waiting + self.limits.hash_concurrency:
                raise Busy(self.limits.retry_after_s)
            self._waiting += 1
        try:
            if not self._sem.acquire(timeout=self.limits.heavy_wait_s):
                raise Busy(self.limits.retry_after_s)
            try:
                return check()
            finally:
                self._sem.release()
        finally:
            with self._lock:
                self._waiting -= 1


@dataclass
class _Record:
    failures: deque[float] = field(default_factory=deque)
    locked_until: float = 0.0
    lockouts: int = 0


class LoginThrottle:
    """Failed logins per account and per address, lockouts, and the failed-login log.

    The log is ``login-failures.log`` in the workspace folder, one JSON object a line (time in
    UTC, user name as typed, address, ``wrong`` or ``locked``), rotated to ``.1`` past
    :attr:`ServerLimits.audit_log_bytes`; it never holds a password.
    """

    def __init__(
        self,
        log_path: Path | None,
        limits: ServerLimits = DEFAULT_LIMITS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = limits
        self.log_path = log_path
        self._clock = clock
        self._lock = threading.Lock()
        self._records: OrderedDict[str, _Record] = OrderedDict()

    def _record(self, key: str) -> _Record:
        rec = self._records.get(key)
        if rec is None:
            rec = self._records[key] = _Record()
            while len(self._records) > self.limits.throttle_entries:
                self._records.popitem(last=False)
        self._records.move_to_end(key)
        return rec

    def check(self, username: str, address: str) -> None:
        """Raise :class:`LockedOut` while the account or the address is locked."""
        now = self._clock()
        with self._lock:  # .get: a mere attempt must not push real records out of the table
            recs = [self._records.get(f"u:{username.lower()}"), self._records.get(f"a:{address}")]
            left = max((r.locked_until - now for r in recs if r is not None), default=0.0)
        if left > 0:
            self._log(username, address, "locked")
            raise LockedOut(left)

    def failed(self, username: str, address: str) -> None:
        """Count a wrong password; lock the account or address when over its limit."""
        now = self._clock()
        lim = self.limits
        with self._lock:
            for key, limit in ((f"u:{username.lower()}", lim.login_failures),
                               (f"a:{address}", lim.address_failures)):  # fmt: skip
                rec = self._record(key)
                rec.failures.append(now)
                while rec.failures and rec.failures[0] < now - lim.login_window_s:
                    rec.failures.popleft()
                if len(rec.failures) >= limit:
                    seconds = min(lim.lockout_s * 2**rec.lockouts, lim.lockout_max_s)
                    rec.locked_until = now + seconds
                    rec.lockouts += 1
                    rec.failures.clear()
        self._log(username, address, "wrong")

    def succeeded(self, username: str) -> None:
        """A right password (outside a lockout) clears the account's count of failures."""
        with self._lock:
            rec = self._records.get(f"u:{username.lower()}")
            if rec is not None:
                rec.failures.clear()

    def _log(self, username: str, address: str, reason: str) -> None:
        if self.log_path is None:
            return
        line = json.dumps(
            {"time": datetime.now(UTC).isoformat(timespec="seconds"), "user": username[:64],
             "address": address, "result": reason},
            ensure_ascii=False,
        )  # fmt: skip
        # a read-only or full disk must not turn a login into a 500
        with suppress(OSError), self._lock:
            path = self.log_path
            if path.exists() and path.stat().st_size > self.limits.audit_log_bytes:
                path.replace(path.with_name(path.name + ".1"))
            with path.open("a", encoding="utf-8") as f:
                f.write(line + "\n")
