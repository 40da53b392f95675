"""The discrete-event model: leads and deals flowing through reps with limited hours (SimPy's
semantics, run by the lean engine of :mod:`eigyo.simulate._engine`).

Time is in calendar days. Each seat is a resource of capacity one whose hours per day
come from the rep's selling time; answering a lead and working a deal take hours from it, so an
overloaded role queues its work and its deals take longer. A lead is answered after a time drawn
from the rep's own observed response times, scaled by how much more or less deal work the rep
carries in the new role; it qualifies with the rep's shrunk MQL → SQL rate, adjusted for the
speed of that answer. A deal's outcome comes from the owner's shrunk win rate and its length
from the organization's closed deals with that outcome; deals open at the start continue with
outcome and length conditioned on their age. Leads start ``WARMUP_DAYS`` early so the pipeline
is in flight when the horizon opens.
"""

from __future__ import annotations

import bisect
import gc
import math
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import numpy.typing as npt

from eigyo.simulate._calibrate import RESPONSE_EDGES, Calibration
from eigyo.simulate._engine import Environment, Resource
from eigyo.simulate._plan import RAMP_DAYS, Plan, Stream

F64 = npt.NDArray[np.float64]
WARMUP_DAYS = 30.0
#: Business days per calendar day (about 245 of 365): converts hours per business day.
BDAYS_PER_DAY = 245 / 365
#: Work segments of a deal: a won deal passes more meetings than a lost one.
WON_SEGMENTS, LOST_SEGMENTS = 3, 1
#: Uniform numbers are drawn in blocks: one numpy call per block instead of one per event.
_BLOCK = 1 << 15
Proc = Generator[Any, Any, None]


@dataclass
class Tally:
    """What one replication measured inside the horizon."""

    bookings: float = 0.0
    won: int = 0
    responses: list[float] = field(default_factory=list)
    cycles: list[float] = field(default_factory=list)
    handoff_losses: int = 0
    busy_hours: F64 = field(default_factory=lambda: np.zeros(0))


class Model:
    """One replication of a plan over ``horizon`` days."""

    def __init__(self, plan: Plan, cal: Calibration, horizon: float, rng: np.random.Generator):
        self.plan, self.cal, self.rng = plan, cal, rng
        self.env = Environment()
        self.end = WARMUP_DAYS + horizon
        n = len(plan.seats)
        self.res = [Resource(self.env) for _ in range(n)]
        self.rate = np.array([s.profile.selling_per_bday * BDAYS_PER_DAY for s in plan.seats])
        # the hot path reads and adds Python numbers (the same IEEE values numpy would give,
        # without its per-element cost); busy hours become the tally's array at the end
        self._rate: list[float] = self.rate.tolist()
        self.open = [0] * n
        self._busy = [0.0] * n
        self.tally = Tally()
        pool = [s.profile.response for s in plan.seats if len(s.profile.response)]
        self.pool = np.concatenate(pool) if pool else np.array([30.0])
        # what is sampled, as lists of Python floats (the same values, indexed faster)
        self._response = [
            (s.profile.response if len(s.profile.response) >= 5 else self.pool).tolist()
            for s in plan.seats
        ]
        self._sql_delay: list[float] = np.asarray(cal.sql_delay_days, dtype=float).tolist()
        self._amounts = {k: np.asarray(a, dtype=float).tolist() for k, a in cal.amounts.items()}
        self.cycles = {
            k: (np.sort(w).tolist(), np.sort(lo).tolist()) for k, (w, lo) in cal.cycles.items()
        }
        #: The next uniform number in [0, 1) of this replication's stream (drawn in blocks).
        self.u: Callable[[], float] = _uniforms(rng).__next__
        self._cum = {id(st): _cumulative(st.weights) for st in plan.streams}
        self._ccum = {id(st): _cumulative(st.closer_weights) for st in plan.streams}
        self._mult = [float(x) for x in cal.response_mult]

    def _sample(self, a: list[float]) -> float:
        return float(a[min(int(self.u() * len(a)), len(a) - 1)])

    # ------------------------------------------------------------------ helpers
    def ramp(self, i: int) -> float:
        s = self.plan.seats[i].ramp_start
        if s >= 1.0:
            return 1.0
        t = max(self.env.now - WARMUP_DAYS, 0.0)
        return min(1.0, s + (1.0 - s) * t / RAMP_DAYS)

    def work(self, i: int, hours: float) -> Proc:
        """Hold seat ``i`` for ``hours`` of its selling time (queueing when it is busy)."""
        seat = self.res[i]
        req = seat.request()
        yield req
        self._book(i, hours)
        yield hours / max(self._rate[i] * self.ramp(i), 1e-6)  # days holding the seat
        seat.release(req)

    def _book(self, i: int, hours: float) -> None:
        if self.env.now >= WARMUP_DAYS:
            self._busy[i] += hours

    def _pick(self, idx: list[int], cum: list[float]) -> int:
        if len(idx) == 1:
            return idx[0]
        return idx[min(bisect.bisect_right(cum, self.u()), len(idx) - 1)]

    def _closer(self, st: Stream) -> int:
        if st.balance:
            load = [self.open[c] + 0.5 * self.u() for c in st.closers]
            return st.closers[load.index(min(load))]
        return self._pick(st.closers, self._ccum[id(st)])

    def _draw(self, pool: str, existing: bool, p: float, age: float) -> tuple[bool, float] | None:
        """Outcome and remaining days of a deal of ``age`` days (None: it never closes)."""
        won_c, lost_c = self.cycles.get((pool, existing)) or self.cycles.get(
            ("*", existing), ([], [])
        )
        sw = (len(won_c) - bisect.bisect_right(won_c, age)) / max(len(won_c), 1)
        sl = (len(lost_c) - bisect.bisect_right(lost_c, age)) / max(len(lost_c), 1)
        denom = p * sw + (1 - p) * sl
        if denom <= 0:
            return None
        won = bool(self.u() < p * sw / denom)
        arr = won_c if won else lost_c
        lo = bisect.bisect_right(arr, age) if age > 0 else 0
        return won, arr[min(lo + int(self.u() * (len(arr) - lo)), len(arr) - 1)] - age

    def _amount(self, pool: str, existing: bool) -> float:
        a = self._amounts.get((pool, existing))
        if not a:
            a = self._amounts.get(("*", existing), [0.0])
        return self._sample(a) if a else 0.0

    # ------------------------------------------------------------------ processes
    def deal(
        self,
        i: int,
        existing: bool,
        pool: str,
        *,
        age: float = 0.0,
        amount: float | None = None,
        delay: float = 0.0,
    ) -> Proc:
        """A deal owned by seat ``i`` from now (``age`` days already behind it) to its close."""
        created = self.env.now - age
        prof = self.plan.seats[i].profile
        p = (prof.win_existing if existing else prof.win_new) * self.ramp(i)
        drawn = self._draw(pool, existing, min(p, 0.999), age)
        if drawn is None:
            return
        won, remaining = drawn
        value = amount if amount is not None else self._amount(pool, existing)
        self.open[i] += 1
        if delay > 0:
            yield delay
        n = WON_SEGMENTS if won else LOST_SEGMENTS
        hours = prof.hours_per_deal * (remaining / max(remaining + age, 1e-9))
        for _ in range(n):
            yield self.env.all_of(
                self.env.timeout(remaining / n), self.env.process(self.work(i, hours / n))
            )
        self.open[i] -= 1
        if won and WARMUP_DAYS <= self.env.now < self.end:
            self.tally.bookings += value
            self.tally.won += 1
            self.tally.cycles.append(self.env.now - created)

    def lead(self, st: Stream) -> None:
        """An MQL: answered (or not) by a seat, maybe qualified (then :meth:`_qualified` after
        the SQL delay). Called where SimPy started the lead's process: most leads end here, and
        need no process."""
        i = self._pick(st.seats, self._cum[id(st)])
        seat = self.plan.seats[i]
        prof = seat.profile
        b = len(RESPONSE_EDGES)  # never answered
        if self.u() >= prof.untouched:
            minutes = self._sample(self._response[i]) * seat.response_factor
            b = bisect.bisect_right(RESPONSE_EDGES, minutes) - 1
            if self.env.now >= WARMUP_DAYS:
                self.tally.responses.append(minutes)
        # answering a lead takes minutes: booked as load, not queued behind deal work
        self._book(i, prof.hours_per_lead)
        if self.u() >= prof.q_base * self._mult[b] * self.ramp(i):
            return
        self.env.sleep_then(self._sample(self._sql_delay), self._qualified(st, i))

    def _qualified(self, st: Stream, i: int) -> Proc:
        """A lead of seat ``i`` become an SQL: maybe handed over, then a deal."""
        seat = self.plan.seats[i]
        if self.env.now < WARMUP_DAYS or self.env.now >= self.end:
            return  # already in the open pipeline at the start, or after the horizon
        if seat.role != "sdr" or not st.closers:
            yield from self.deal(i, False, st.pool)
            return
        if self.u() < st.handoff_drop:
            self.tally.handoff_losses += 1
            return
        yield from self.deal(self._closer(st), False, st.pool, delay=st.handoff_days)

    def arrivals(self, st: Stream) -> Proc:
        """Poisson arrivals of the stream's leads or deals until the horizon ends."""
        start = 0.0 if st.kind == "lead" else WARMUP_DAYS
        if st.rate <= 0 or not st.seats:
            return
        yield start
        while True:
            yield -math.log(1.0 - self.u()) / st.rate
            if self.env.now >= self.end:
                return
            if st.kind == "lead":
                self.env.call_soon(partial(self.lead, st))
            else:
                i = self._pick(st.seats, self._cum[id(st)])
                self.env.process(self.deal(i, st.kind == "existing", st.pool))

    def _start_open(self) -> Proc:
        """Deals open at the start, each with its owner (or a stand-in where the owner left)."""
        yield WARMUP_DAYS
        where = {s.profile.rep_id: k for k, s in enumerate(self.plan.seats)}
        stand_in = {st.kind: st for st in self.plan.streams if st.kind != "lead"}
        for d in self.cal.open_deals:
            i = where.get(d.owner)
            st = stand_in.get("existing" if d.existing else "direct")
            if i is None:
                if st is None:
                    continue
                i = self._pick(st.seats, self._cum[id(st)])
            pool = self.plan.seats[i].profile.team if self.plan.structure == "current" else "*"
            self.env.process(self.deal(i, d.existing, pool, age=d.age_days, amount=d.amount))

    def run(self) -> Tally:
        """Run the replication. Python's cyclic garbage collector is paused meanwhile: the run
        allocates hundreds of thousands of short-lived events, each allocation burst started a
        collection that walked every object of the process (a third of the run's time), and
        the events it frees have no cycles (reference counting frees them)."""
        for st in self.plan.streams:
            self.env.process(self.arrivals(st))
        self.env.process(self._start_open())
        paused = gc.isenabled()
        gc.disable()
        try:
            self.env.run(until=self.end)
        finally:
            if paused:
                gc.enable()
        self.tally.busy_hours = np.array(self._busy)
        return self.tally


def _uniforms(rng: np.random.Generator) -> Iterator[float]:
    """The stream's uniform numbers one by one, drawn a block at a time (one numpy call per
    block; taking the next is then a C-level step, not a Python method call)."""
    while True:
        yield from rng.random(_BLOCK).tolist()


def _cumulative(w: F64) -> list[float]:
    c = np.cumsum(np.asarray(w, dtype=float))
    return (c / c[-1]).tolist() if len(c) and c[-1] > 0 else []
