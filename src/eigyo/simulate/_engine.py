"""A lean discrete-event engine with SimPy's semantics, for the few pieces the model uses.

``eigyo simulate --compare`` spent four fifths of its time inside SimPy's general machinery
(priority enums, event values and failures, resource queues built for every resource kind,
a callback for each request that never has anything to do): issue 20 asked for it in 15 s on
the small demo. This module keeps exactly what :mod:`eigyo.simulate._model` needs — timeouts,
processes, "all of" conditions and capacity-one resources — and *the same order of events*:
every event goes into one heap keyed ``(time, priority, sequence)`` as SimPy's
``Environment.schedule`` does, in the same order, so a seed gives the same replication as it
did with SimPy, number for number (``bench/report_speed.py`` compares the JSON of both).

Liberties that cannot change that order: values are never sent into a process (the model's
processes ignore what a ``yield`` returns); an event nobody waits for (a finished process that
no condition watches) is not put in the heap — SimPy would pop it later at the same time and
call no callback, and leaving it out shifts no other event's place; process starts wait in a
list, not the heap (see :meth:`Environment.run`); a process that only sleeps yields the number
of days, and the heap holds the process itself instead of a timeout event calling it back.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Generator
from heapq import heappop, heappush
from itertools import count
from typing import Any

#: SimPy's priorities: process starts (URGENT) before anything else due at the same time.
URGENT, NORMAL = 0, 1

Proc = Generator[Any, Any, None]
Callback = Callable[["Event"], None]
Wake = Callable[[], None]


class Event:
    """Something that happens at one time; ``callbacks`` is None once it has been processed."""

    __slots__ = ("callbacks",)

    def __init__(self) -> None:
        self.callbacks: list[Callback] | None = []


class Environment:
    """The clock and the heap of scheduled events."""

    __slots__ = ("_eid", "_queue", "_ready", "now")

    def __init__(self) -> None:
        self.now = 0.0
        #: ``(time, priority, sequence, event, wake)``: an event whose callbacks to call, or a
        #: function to call (a sleeping process's resumption, a seat's release); the other None.
        self._queue: list[tuple[float, int, int, Event | None, Wake | None]] = []
        #: What starts now, first in first out (SimPy: Initialize events, urgent, due now).
        self._ready: deque[Wake] = deque()
        self._eid = count()

    def schedule(self, event: Event, priority: int = NORMAL, delay: float = 0.0) -> None:
        """Put ``event`` in the heap ``delay`` days from now (SimPy's ``schedule``)."""
        heappush(self._queue, (self.now + delay, priority, next(self._eid), event, None))

    def timeout(self, delay: float) -> Event:
        """An event ``delay`` days from now (a process that only waits yields the number)."""
        ev = Event()
        heappush(self._queue, (self.now + delay, NORMAL, next(self._eid), ev, None))
        return ev

    def process(self, gen: Proc) -> Process:
        """Start ``gen`` now, after what is already due now (SimPy's ``Initialize``)."""
        return Process(self, gen)

    def call_soon(self, fn: Wake) -> None:
        """Call ``fn`` where SimPy would start a process: a process whose generator does its
        work and ends without yielding needs no process (nor generator) at all."""
        self._ready.append(fn)

    def sleep_then(self, delay: float, gen: Proc) -> Process:
        """A process that sleeps ``delay`` days and then runs ``gen`` from its start: what
        SimPy does when a process yields a timeout at this moment (same place in the heap)."""
        proc = Process(self, gen, start=False)
        heappush(self._queue, (self.now + delay, NORMAL, next(self._eid), None, proc._resume))
        return proc

    def all_of(self, *events: Event) -> Event:
        """An event that happens when every one of ``events`` has been processed."""
        return AllOf(self, events)

    def run(self, until: float) -> None:
        """Process events in order until the clock reaches ``until`` (SimPy's ``run(until)``:
        a stop event due then, urgent, so nothing due at ``until`` itself is processed).

        Process starts wait in a first-in first-out list instead of the heap: SimPy schedules
        them urgent and due now, so they come before anything else due now and after the
        starts made before them — exactly the list's order."""
        if until <= self.now:
            raise ValueError(f"until ({until}) must be greater than the current time")
        stop = Event()
        self.schedule(stop, URGENT, until - self.now)
        queue, ready = self._queue, self._ready
        while True:
            if ready:
                ready.popleft()()
                continue
            self.now, _, _, event, wake = heappop(queue)
            if wake is not None:
                wake()
                continue
            if event is stop or event is None:  # None: never (an entry has one of the two)
                return
            callbacks = event.callbacks or ()
            event.callbacks = None
            for cb in callbacks:
                cb(event)


class Process(Event):
    """A generator driven by what it yields — an event to wait for, or a number of days to
    sleep (SimPy's ``yield env.timeout(days)`` without the event object) — and itself an event
    when it ends."""

    __slots__ = ("_env", "_gen")

    # no bound method is kept on the instance: that would be a reference cycle, and a finished
    # process is then freed at once, without the cyclic collector (off during a run: _run)
    def __init__(self, env: Environment, gen: Proc, *, start: bool = True) -> None:
        self.callbacks = []
        self._env = env
        self._gen = gen
        if start:
            env._ready.append(self._resume)

    def _resume(self, _event: Event | None = None) -> None:
        gen = self._gen
        while True:
            try:
                nxt = gen.send(None)
            except StopIteration:
                if self.callbacks:  # somebody waits for this process to end
                    self._env.schedule(self)
                else:  # SimPy would schedule it and process it with no callback
                    self.callbacks = None
                return
            if not isinstance(nxt, Event):  # days to sleep
                env = self._env
                heappush(env._queue, (env.now + nxt, NORMAL, next(env._eid), None, self._resume))
                return
            if nxt.callbacks is not None:
                nxt.callbacks.append(self._resume)
                return
            # already processed: go on at once, as SimPy does


class AllOf(Event):
    """SimPy's ``a & b``: happens (is scheduled, normal priority) when the last of its events
    has been processed."""

    __slots__ = ("_env", "_left")

    def __init__(self, env: Environment, events: tuple[Event, ...]) -> None:
        self.callbacks = []
        self._env = env
        self._left = len(events)
        for ev in events:
            if ev.callbacks is None:
                self._check(ev)
            else:
                ev.callbacks.append(self._check)

    def _check(self, _event: Event) -> None:
        self._left -= 1
        if self._left == 0:
            self._env.schedule(self)


class Resource:
    """A seat of capacity one: requests are granted first come, first served.

    As in SimPy, a request is granted (scheduled) at once when the seat is free; a release frees
    the seat at once and schedules a release event whose processing grants the next request —
    unless a request made in between took the seat first (it then goes to the oldest waiting
    request, which SimPy's queue also serves first)."""

    __slots__ = ("_env", "_grant_cb", "_queue", "_user")

    def __init__(self, env: Environment) -> None:
        self._env = env
        self._user: Event | None = None
        self._queue: deque[Event] = deque()
        self._grant_cb: Wake = self._grant

    def request(self) -> Event:
        """An event that happens when the seat is this request's."""
        req = Event()
        self._queue.append(req)
        self._grant()
        return req

    def release(self, req: Event) -> None:
        """Give the seat back (``req`` holds it)."""
        if self._user is req:
            self._user = None
        env = self._env  # SimPy's Release event, due now, whose processing grants the next
        heappush(env._queue, (env.now, NORMAL, next(env._eid), None, self._grant_cb))

    def _grant(self) -> None:
        if self._user is None and self._queue:
            self._user = self._queue.popleft()
            self._env.schedule(self._user)
