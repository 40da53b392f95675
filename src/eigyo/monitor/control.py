"""Control charts: when does a number move more than its own noise explains?

A sales metric wobbles from week to week; an alarm on every wobble teaches people to ignore
alarms. An individuals (XmR) chart learns the wobble from the metric's own history — the centre is
the mean of a baseline window, sigma the mean moving range ÷ 1.128 (robust to a slow drift, unlike
the plain standard deviation) — and flags only the points the run rules call unusual. EWMA is the
alternative for small, lasting shifts. The limits come from the baseline only (the points before
the monitored ones), so a shift does not hide itself by widening its own limits.

This module is pure arithmetic on a few dozen points per series; the series themselves come
from :mod:`eigyo.monitor.series` (computed by the engine).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy import stats

Direction = Literal["up", "down"]
Method = Literal["shewhart", "ewma"]

#: d2 for moving ranges of two points: sigma ≈ mean moving range ÷ 1.128.
D2 = 1.128

#: The run rules, declared as data: (points in the window, points needed beyond ``z`` sigma on
#: one side). Western Electric rules 1–4; ``trend6`` is Nelson's rule 3 (handled separately).
RUN_RULES: dict[str, tuple[int, int, float]] = {
    "beyond_3sigma": (1, 1, 3.0),
    "two_of_three_2sigma": (3, 2, 2.0),
    "four_of_five_1sigma": (5, 4, 1.0),
    "eight_same_side": (8, 8, 0.0),
}
TREND_RULE = "trend6"
ALL_RULES: tuple[str, ...] = (*RUN_RULES, TREND_RULE)
#: Rules of the Shewhart method: Western Electric 1–4. EWMA is the default method because
#: bench/monitor_alarms.py measured it to find 2- and 3-sigma shifts as fast as these rules with
#: about a quarter of their false alarms on stable series.
DEFAULT_RULES: tuple[str, ...] = tuple(RUN_RULES)
DEFAULT_METHOD: Method = "ewma"
EWMA_LAMBDA = 0.2
EWMA_L = 3.0
MIN_BASELINE = 8


@dataclass(frozen=True)
class Signal:
    """One point a rule calls unusual; ``index`` points into the chart's values."""

    index: int
    label: str
    rule: str
    direction: Direction


@dataclass
class Chart:
    """A series with its limits and the signals among its monitored (recent) points.

    ``ucl``/``lcl`` are the Shewhart 3-sigma limits; for EWMA the per-point limits of the
    smoothed statistic are in ``ewma_ucl``/``ewma_lcl`` (NaN on baseline points).
    """

    labels: list[str]
    values: list[float]
    method: Method
    baseline_n: int
    start: int = 0  # index of the first monitored point
    center: float | None = None
    sigma: float | None = None
    signals: list[Signal] = field(default_factory=list)
    ewma: list[float] = field(default_factory=list)
    ewma_ucl: list[float] = field(default_factory=list)
    ewma_lcl: list[float] = field(default_factory=list)

    @property
    def enough(self) -> bool:
        return self.center is not None

    @property
    def ucl(self) -> float | None:
        return None if self.center is None or self.sigma is None else self.center + 3 * self.sigma

    @property
    def lcl(self) -> float | None:
        return None if self.center is None or self.sigma is None else self.center - 3 * self.sigma


def estimate(baseline: np.ndarray) -> tuple[float, float]:
    """Centre and sigma of an individuals chart: mean, and mean moving range ÷ d2."""
    center = float(np.mean(baseline))
    sigma = float(np.mean(np.abs(np.diff(baseline)))) / D2 if len(baseline) > 1 else 0.0
    return center, sigma


def short_baseline_factor(m: int) -> float:
    """How much to widen sigma because it was estimated from only ``m`` points.

    Limits from a short history are themselves uncertain, and a sigma guessed too small raises
    alarms on stable series (measured: 3-sigma limits from 26 points fire about four times as often
    as the textbook 0.27%). The limits become prediction limits: the 3-sigma tail probability
    read from Student's t with the moving-range estimator's effective degrees of freedom
    (≈ 0.62 (m − 1)), times √(1 + 1/m) for the uncertain centre.
    """
    df = max(1.0, 0.62 * (m - 1))
    tail = float(stats.norm.sf(3.0))
    return float(stats.t.isf(tail, df)) / 3.0 * float(np.sqrt(1 + 1 / m))


def _z(values: np.ndarray, center: float, sigma: float) -> np.ndarray:
    """Standardized distance; a flat baseline (sigma 0) makes any change infinitely unusual."""
    d = values - center
    if sigma > 0:
        return d / sigma
    z = np.zeros_like(d)
    z[d > 0], z[d < 0] = np.inf, -np.inf
    return z


def _window_count(flags: np.ndarray, width: int) -> np.ndarray:
    """How many flags are set in the window of ``width`` points ending at each index."""
    c = np.concatenate([[0], np.cumsum(flags.astype(int))])
    idx = np.arange(len(flags))
    counts: np.ndarray = c[idx + 1] - c[np.maximum(idx + 1 - width, 0)]
    return counts


def run_rule_hits(z: np.ndarray, rules: Sequence[str]) -> list[tuple[int, str, Direction]]:
    """Every (index, rule, direction) where a rule fires; the firing point itself must be on
    the side the rule counts (so a signal is attributed to the point that completes it)."""
    hits: list[tuple[int, str, Direction]] = []
    n = len(z)
    for rule in rules:
        if rule == TREND_RULE:
            hits.extend(_trend_hits(z))
            continue
        width, need, k = RUN_RULES[rule]
        for direction, side in (("up", z > k), ("down", z < -k)):
            count = _window_count(side, width)
            fire = (count >= need) & side & (np.arange(n) >= width - 1)
            hits.extend((int(i), rule, direction) for i in np.flatnonzero(fire))  # type: ignore[misc]
    return sorted(hits)


def _trend_hits(z: np.ndarray) -> list[tuple[int, str, Direction]]:
    """Nelson rule 3: six points in a row steadily increasing or decreasing."""
    step = np.sign(np.diff(z))
    out: list[tuple[int, str, Direction]] = []
    for direction, s in (("up", 1), ("down", -1)):
        run = _window_count(step == s, 5)
        out.extend((int(i) + 1, TREND_RULE, direction) for i in np.flatnonzero(run >= 5))  # type: ignore[misc]
    return out


def ewma_path(
    values: np.ndarray, center: float, sigma: float, start: int, lam: float, width: float
) -> tuple[np.ndarray, np.ndarray]:
    """The EWMA statistic from ``start`` on (NaN before) and its half-width of control."""
    z = np.full(len(values), np.nan)
    half = np.full(len(values), np.nan)
    prev = center
    for i in range(start, len(values)):
        prev = lam * values[i] + (1 - lam) * prev
        z[i] = prev
        t = i - start + 1
        half[i] = width * sigma * np.sqrt(lam / (2 - lam) * (1 - (1 - lam) ** (2 * t)))
    return z, half


def chart(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    recent: int,
    baseline_max: int = 52,
    method: Method = DEFAULT_METHOD,
    rules: Sequence[str] = DEFAULT_RULES,
    lam: float = EWMA_LAMBDA,
    width: float = EWMA_L,
) -> Chart:
    """Limits from the points before the last ``recent`` (at most ``baseline_max`` of them) and
    the signals among the last ``recent`` points. Fewer than :data:`MIN_BASELINE` baseline points
    give a chart without limits (``enough`` is False): too little history to call anything odd."""
    x = np.asarray(values, dtype=float)
    recent = max(0, min(recent, len(x) - MIN_BASELINE))
    start = len(x) - recent
    base = x[max(0, start - baseline_max) : start]
    out = Chart(list(labels), [float(v) for v in x], method, len(base), start)
    if len(base) < MIN_BASELINE:
        return out
    out.center, raw_sigma = estimate(base)
    out.sigma = raw_sigma * short_baseline_factor(len(base))
    if method == "ewma":
        path, half = ewma_path(x, out.center, out.sigma, start, lam, width)
        dev = path - out.center
        hits: list[tuple[int, str, Direction]] = [
            (i, "ewma", "up" if dev[i] > 0 else "down")
            for i in range(start, len(x))
            if abs(dev[i]) > half[i] or (half[i] == 0 and dev[i] != 0)
        ]
        out.ewma = [float(v) for v in path]
        out.ewma_ucl = [float(v) for v in out.center + half]
        out.ewma_lcl = [float(v) for v in out.center - half]
    else:
        hits = run_rule_hits(_z(x, out.center, out.sigma), rules)
    out.signals = [Signal(i, out.labels[i], r, d) for i, r, d in hits if i >= start]
    return out


def first_signal(c: Chart, after: int = 0) -> int | None:
    """Index of the first signalled point at or after ``after`` (None when there is none)."""
    idx = [s.index for s in c.signals if s.index >= after]
    return min(idx) if idx else None


def episodes(signals: Sequence[Signal]) -> list[list[Signal]]:
    """Signals grouped into runs of adjacent points with the same direction: one excursion is
    one alert, however many points and rules it trips."""
    runs: list[list[Signal]] = []
    for s in sorted(signals, key=lambda s: (s.direction, s.index)):
        last = runs[-1][-1] if runs else None
        if last and last.direction == s.direction and s.index - last.index <= 1:
            runs[-1].append(s)
        else:
            runs.append([s])
    return sorted(runs, key=lambda r: r[0].index)
