"""Control charts: known shifts are found within a stated number of periods, stable series stay
quiet (false-alarm rate over seeds), and each run rule fires exactly where the book says."""

from __future__ import annotations

import numpy as np
import pytest

from eigyo.monitor.control import (
    MIN_BASELINE,
    Signal,
    chart,
    episodes,
    estimate,
    first_signal,
    run_rule_hits,
    short_baseline_factor,
)

BASELINE, RECENT, SEEDS = 26, 12, 300


def _series(seed: int, shift: float) -> np.ndarray:
    x = np.random.default_rng(seed).normal(100.0, 5.0, BASELINE + RECENT)
    x[BASELINE:] += shift * 5.0
    return x


def _delays(shift: float, method: str) -> np.ndarray:
    out = []
    for s in range(SEEDS):
        x = _series(s, shift)
        c = chart([str(i) for i in range(len(x))], list(x), recent=RECENT, method=method)  # type: ignore[arg-type]
        f = first_signal(c, BASELINE)
        out.append(np.inf if f is None else f - BASELINE + 1)
    return np.asarray(out)


@pytest.mark.parametrize(
    ("method", "shift", "within", "share"),
    [
        ("ewma", 3.0, 4, 0.90),  # a 3-sigma shift: alert within 4 periods for 90% of seeds
        ("ewma", 2.0, 8, 0.90),  # a 2-sigma shift: within 8 periods for 90% of seeds
        ("shewhart", 3.0, 4, 0.90),
        ("shewhart", 2.0, 8, 0.90),
    ],
)
def test_known_shift_is_detected_within_stated_periods(
    method: str, shift: float, within: int, share: float
) -> None:
    d = _delays(shift, method)
    assert np.mean(d <= within) >= share
    # A shift downwards is found just as well (the limits are two-sided).
    assert np.mean(_delays(-shift, method) <= within) >= share


@pytest.mark.parametrize(("method", "max_rate"), [("ewma", 0.05), ("shewhart", 0.20)])
def test_stable_series_raise_almost_no_alarm(method: str, max_rate: float) -> None:
    """False-alarm rate: share of stable series with any signal in 12 monitored periods."""
    alarms = [
        bool(
            chart(
                [str(i) for i in range(BASELINE + RECENT)],
                list(_series(10_000 + s, 0.0)),
                recent=RECENT,
                method=method,  # type: ignore[arg-type]
            ).signals
        )
        for s in range(SEEDS)
    ]
    assert np.mean(alarms) <= max_rate


def test_no_shift_means_no_signal_for_a_fixed_seed() -> None:
    x = _series(10_001, 0.0)
    assert chart([str(i) for i in range(len(x))], list(x), recent=RECENT).signals == []


def test_estimate_uses_the_moving_range() -> None:
    center, sigma = estimate(np.array([10.0, 12.0, 10.0, 12.0]))
    assert center == 11.0
    assert sigma == pytest.approx(2.0 / 1.128)


def test_short_baseline_widens_the_limits_and_long_ones_converge() -> None:
    assert short_baseline_factor(10) > short_baseline_factor(26) > short_baseline_factor(200)
    assert short_baseline_factor(10_000) == pytest.approx(1.0, abs=0.01)


@pytest.mark.parametrize(
    ("z", "rule", "index", "direction"),
    [
        ([0, 0, 3.5], "beyond_3sigma", 2, "up"),
        ([0, -2.5, 0, -2.2], "two_of_three_2sigma", 3, "down"),
        ([1.5, 1.2, 0, 1.1, 1.3], "four_of_five_1sigma", 4, "up"),
        ([0.1] * 8, "eight_same_side", 7, "up"),
        ([-3, -2, -1, 0, 0.5, 1], "trend6", 5, "up"),
    ],
)
def test_each_run_rule_fires_where_it_completes(
    z: list[float], rule: str, index: int, direction: str
) -> None:
    hits = run_rule_hits(np.asarray(z, dtype=float), [rule])
    assert (index, rule, direction) in hits
    assert all(i <= index for i, _, _ in hits)


def test_two_of_three_on_opposite_sides_do_not_fire() -> None:
    assert run_rule_hits(np.array([2.5, -2.5, 0.0]), ["two_of_three_2sigma"]) == []


def test_too_little_history_gives_no_limits_and_no_signal() -> None:
    n = MIN_BASELINE - 1
    c = chart([str(i) for i in range(n)], [1.0] * (n - 1) + [99.0], recent=1)
    assert not c.enough and c.signals == []
    # The history is never eaten by the monitored points: with just enough points, none is judged.
    c = chart([str(i) for i in range(n + 1)], [1.0] * n + [99.0], recent=1)
    assert c.enough and c.start == n + 1 and c.signals == []


def test_flat_history_flags_any_change() -> None:
    values = [5.0] * 12 + [6.0]
    c = chart([str(i) for i in range(13)], values, recent=1, method="shewhart")
    assert [(s.index, s.direction) for s in c.signals] == [(12, "up")]


def test_episodes_merge_adjacent_points_of_one_direction() -> None:
    sig = [
        Signal(3, "a", "r", "up"),
        Signal(4, "b", "r", "up"),
        Signal(4, "b", "r2", "up"),
        Signal(7, "c", "r", "up"),
        Signal(5, "d", "r", "down"),
    ]
    runs = episodes(sig)
    assert [[s.index for s in r] for r in runs] == [[3, 4, 4], [5], [7]]
