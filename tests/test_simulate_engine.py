"""The simulation's event engine keeps SimPy's order of events, tie for tie.

``eigyo.simulate._engine`` replaced SimPy under the model for speed (issue 20) on the promise
that a seed gives the same replication as before. These tests run one toy shop — seats of
capacity one, processes that sleep, wait for "all of" a timeout and a piece of work, start
other processes, with many events due at the same time — on SimPy and on the engine, and
compare the full log of what happened when.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import numpy as np
import pytest
import simpy

from eigyo.simulate import _engine

Log = list[tuple[float, str]]


def _shop_simpy(seed: int, until: float) -> Log:
    rng = np.random.default_rng(seed)
    env = simpy.Environment()
    seats = [simpy.Resource(env, capacity=1) for _ in range(3)]
    log: Log = []

    def work(name: str, i: int, hours: float) -> Generator[Any, Any, None]:
        with seats[i].request() as req:
            yield req
            log.append((env.now, f"{name} seat {i}"))
            yield env.timeout(hours)
        log.append((env.now, f"{name} freed {i}"))

    def job(name: str, i: int) -> Generator[Any, Any, None]:
        log.append((env.now, f"{name} starts"))
        if rng.random() < 0.3:
            return  # most jobs of the model end before their first yield
        yield env.timeout(float(rng.integers(0, 3)))  # whole days: many ties
        for k in range(2):
            yield env.timeout(float(rng.integers(0, 2))) & env.process(
                work(f"{name}.{k}", i, float(rng.integers(0, 3)))
            )
        log.append((env.now, f"{name} done"))

    def arrivals() -> Generator[Any, Any, None]:
        n = 0
        while True:
            yield env.timeout(float(rng.integers(0, 2)))
            n += 1
            env.process(job(f"j{n}", int(rng.integers(0, 3))))

    env.process(arrivals())
    env.run(until=until)
    return log


def _shop_engine(seed: int, until: float) -> Log:
    """The same shop written the way :mod:`eigyo.simulate._model` uses the engine."""
    rng = np.random.default_rng(seed)
    env = _engine.Environment()
    seats = [_engine.Resource(env) for _ in range(3)]
    log: Log = []

    def work(name: str, i: int, hours: float) -> Generator[Any, Any, None]:
        req = seats[i].request()
        yield req
        log.append((env.now, f"{name} seat {i}"))
        yield hours
        seats[i].release(req)
        log.append((env.now, f"{name} freed {i}"))

    def job(name: str, i: int) -> None:
        log.append((env.now, f"{name} starts"))
        if rng.random() < 0.3:
            return
        env.sleep_then(float(rng.integers(0, 3)), rest(name, i))

    def rest(name: str, i: int) -> Generator[Any, Any, None]:
        for k in range(2):
            yield env.all_of(
                env.timeout(float(rng.integers(0, 2))),
                env.process(work(f"{name}.{k}", i, float(rng.integers(0, 3)))),
            )
        log.append((env.now, f"{name} done"))

    def arrivals() -> Generator[Any, Any, None]:
        n = 0
        while True:
            yield float(rng.integers(0, 2))
            n += 1
            name, i = f"j{n}", int(rng.integers(0, 3))
            env.call_soon(_bind(job, name, i))

    env.process(arrivals())
    env.run(until=until)
    return log


def _bind(fn: Callable[[str, int], None], name: str, i: int) -> Callable[[], None]:
    return lambda: fn(name, i)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_the_engine_keeps_simpys_order_of_events(seed: int) -> None:
    a, b = _shop_simpy(seed, 40.0), _shop_engine(seed, 40.0)
    assert len(a) > 200  # the shop queued: seats were busy, events tied
    assert b == a


def test_run_stops_before_what_is_due_at_the_end() -> None:
    env = _engine.Environment()
    seen: list[float] = []

    def tick() -> Generator[Any, Any, None]:
        while True:
            seen.append(env.now)
            yield 1.0

    env.process(tick())
    env.run(until=3.0)
    assert seen == [0.0, 1.0, 2.0] and env.now == 3.0
    with pytest.raises(ValueError, match="greater than"):
        env.run(until=3.0)
