"""The statistics behind "evidence before alarm": tests, intervals and multiple-comparison control.

Kept separate from the checks so each piece can be pinned by known answers in tests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Comparison:
    """A group against its baseline: effect (group − baseline) and a two-sided p-value."""

    effect: float
    p_value: float


def two_proportions(k1: int, n1: int, k2: int, n2: int) -> Comparison:
    """Difference of two proportions (k1/n1 − k2/n2) with a two-sided test.

    Fisher's exact test when an expected cell count is below 5 (where the normal approximation
    misleads), the pooled two-proportion z-test otherwise.
    """
    if n1 == 0 or n2 == 0:
        return Comparison(float("nan"), 1.0)
    p1, p2 = k1 / n1, k2 / n2
    pooled = (k1 + k2) / (n1 + n2)
    expected = min(n1 * pooled, n1 * (1 - pooled), n2 * pooled, n2 * (1 - pooled))
    if expected < 5:
        _, p = stats.fisher_exact([[k1, n1 - k1], [k2, n2 - k2]])
        return Comparison(p1 - p2, float(p))
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return Comparison(p1 - p2, 1.0)
    z = (p1 - p2) / se
    return Comparison(p1 - p2, float(2 * stats.norm.sf(abs(z))))


def binomial(k: int, n: int, p0: float) -> float:
    """Two-sided exact binomial test of k successes in n against the expected rate p0."""
    if n == 0:
        return 1.0
    return float(stats.binomtest(k, n, p0).pvalue)


def medians(a: np.ndarray, b: np.ndarray) -> Comparison:
    """Difference of medians (a − b) with the two-sided Mann–Whitney U test (skewed durations)."""
    if len(a) == 0 or len(b) == 0:
        return Comparison(float("nan"), 1.0)
    if np.all(a == a[0]) and np.all(b == a[0]):
        return Comparison(0.0, 1.0)
    res = stats.mannwhitneyu(a, b, alternative="two-sided")
    return Comparison(float(np.median(a) - np.median(b)), float(res.pvalue))


def mann_whitney(n1: int, n2: int, rank_sum: float, tie_term: float) -> float:
    """Two-sided Mann–Whitney p-value from the first sample's rank sum (average ranks within the
    combined sample, 1-based) and the combined sample's tie term ``Σ (t³ − t)``: what the engine
    returns instead of the values (eigyo.diagnose.ranks). It is SciPy's ``mannwhitneyu`` with its
    defaults, to the last digit: the normal approximation with tie and continuity corrections,
    or — a sample of 8 or fewer and no ties — the exact distribution, computed by SciPy on two
    samples built to have the same U."""
    if n1 == 0 or n2 == 0:
        return 1.0
    u1 = rank_sum - n1 * (n1 + 1) / 2
    if (n1 <= 8 or n2 <= 8) and tie_term == 0:
        # b = 0 … n2−1; each of a's values beats as many of b as U₁ still needs (no ties)
        left, a = round(u1), []
        for _ in range(n1):
            c = min(n2, left)
            a.append(c - 0.5)
            left -= c
        res = stats.mannwhitneyu(np.array(a), np.arange(n2, dtype=float), method="exact")
        return float(res.pvalue)
    n = n1 + n2
    u = max(u1, n1 * n2 - u1)
    var = n1 * n2 / 12 * ((n + 1) - tie_term / (n * (n - 1)))
    if var <= 0:
        return 1.0  # every value equal: nothing to tell apart
    z = (u - n1 * n2 / 2 - 0.5) / math.sqrt(var)
    return float(min(1.0, 2 * stats.norm.sf(z)))


def benjamini_hochberg(p_values: list[float]) -> list[float]:
    """BH-adjusted q-values, in the input order: controls false discoveries across groups."""
    n = len(p_values)
    if n == 0:
        return []
    order = np.argsort(p_values)
    ranked = np.asarray(p_values, dtype=float)[order] * n / np.arange(1, n + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1].clip(max=1.0)
    out = np.empty(n)
    out[order] = q
    return [float(x) for x in out]


def wilson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion: honest for small n and rates near 0 or 1."""
    if n == 0:
        return (0.0, 1.0)
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def bootstrap_did(
    cells: dict[str, np.ndarray],
    stat: str = "median",
    reps: int = 1000,
    seed: int = 0,
    confidence: float = 0.90,
) -> tuple[float, float, float]:
    """Difference-in-differences of a statistic with a percentile bootstrap interval.

    ``cells`` holds the four samples ``treated_pre``, ``treated_post``, ``control_pre``,
    ``control_post``; each is resampled independently (vectorized: one matrix per cell).
    Returns (estimate, low, high).
    """
    fn = np.median if stat == "median" else np.mean
    rng = np.random.default_rng(seed)
    est = (fn(cells["treated_post"]) - fn(cells["treated_pre"])) - (
        fn(cells["control_post"]) - fn(cells["control_pre"])
    )
    boot = {}
    for name in ("treated_pre", "treated_post", "control_pre", "control_post"):
        x = cells[name]
        idx = rng.integers(0, len(x), size=(reps, len(x)))
        boot[name] = fn(x[idx], axis=1)
    dist = (boot["treated_post"] - boot["treated_pre"]) - (
        boot["control_post"] - boot["control_pre"]
    )
    alpha = (1 - confidence) / 2
    low, high = np.quantile(dist, [alpha, 1 - alpha])
    return float(est), float(low), float(high)
