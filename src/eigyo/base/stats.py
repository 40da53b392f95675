"""The statistics behind "evidence before alarm": tests, intervals and multiple-comparison control.

Kept separate from the checks so each piece can be pinned by known answers in tests.
"""

from __future__ import annotations

import functools
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


@functools.cache
def _z(confidence: float) -> float:
    """The two-sided normal quantile of a confidence level: the same few levels are asked for
    thousands of times in one diagnosis (one interval per group), and SciPy's ``ppf`` costs
    ~50 µs a call."""
    return float(stats.norm.ppf(0.5 + confidence / 2))


def wilson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion: honest for small n and rates near 0 or 1."""
    if n == 0:
        return (0.0, 1.0)
    z = _z(confidence)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


#: Above this many drawn values (replications × cell size) a cell's bootstrap statistics are
#: drawn from their exact distribution instead of by resampling rows: 1,000 replications of a
#: million-lead cell would otherwise be an 8 GB index matrix and a billion-value median.
ROW_RESAMPLING_LIMIT = 5_000_000


def bootstrap_did(
    cells: dict[str, np.ndarray],
    stat: str = "median",
    reps: int = 1000,
    seed: int = 0,
    confidence: float = 0.90,
) -> tuple[float, float, float]:
    """Difference-in-differences of a statistic with a percentile bootstrap interval.

    ``cells`` holds the four samples ``treated_pre``, ``treated_post``, ``control_pre``,
    ``control_post``; each is resampled independently and the interval is the percentile
    interval of the replicated differences. Returns (estimate, low, high).

    A small cell is resampled row by row (one index matrix per cell). A large one
    (``reps × n`` over :data:`ROW_RESAMPLING_LIMIT`) draws each replication's statistic from
    the distribution row resampling would give it (:func:`_bootstrap_stat`), in memory and time
    that grow with ``reps`` and ``√n``, not ``reps × n``; tests/test_bootstrap_scale.py checks
    that both give the same interval and that it covers the truth as often as it claims.
    """
    fn = np.median if stat == "median" else np.mean
    rng = np.random.default_rng(seed)
    est = (fn(cells["treated_post"]) - fn(cells["treated_pre"])) - (
        fn(cells["control_post"]) - fn(cells["control_pre"])
    )
    boot = {}
    for name in ("treated_pre", "treated_post", "control_pre", "control_post"):
        x = cells[name]
        if reps * len(x) > ROW_RESAMPLING_LIMIT:
            boot[name] = _bootstrap_stat(np.asarray(x, dtype=float), stat, reps, rng)
            continue
        idx = rng.integers(0, len(x), size=(reps, len(x)))
        boot[name] = fn(x[idx], axis=1)
    dist = (boot["treated_post"] - boot["treated_pre"]) - (
        boot["control_post"] - boot["control_pre"]
    )
    alpha = (1 - confidence) / 2
    low, high = np.quantile(dist, [alpha, 1 - alpha])
    return float(est), float(low), float(high)


def _bootstrap_stat(x: np.ndarray, stat: str, reps: int, rng: np.random.Generator) -> np.ndarray:
    """``reps`` draws of the statistic of a row-resampled copy of ``x``, without resampling.

    * **0/1 values, mean** (a rate): the resampled count of ones is Binomial(n, p̂) — exact.
    * **Other means**: Normal(x̄, s²/n), the resampled mean's distribution for the n of
      thousands that reach this path (its skew shrinks as 1/√n).
    * **Median** (Efron 1979): the resampled median is at most the j-th order statistic x₍ⱼ₎
      exactly when at least m resampled values are ≤ x₍ⱼ₎, a Binomial(n, j/n) count; so
      P(median* ≤ x₍ⱼ₎) = P(Bin(n, j/n) ≥ m) with m = (n + 1) / 2, and a uniform draw inverted
      through that CDF gives an order-statistic index. For even n, NumPy's median averages the
      n/2-th and (n/2 + 1)-th resampled values: each is drawn from its exact distribution
      (m = n/2 and n/2 + 1) with the same uniform. Only the indices within ±8√n of the middle
      carry probability above 1e-12, so only those are evaluated.
    """
    n = len(x)
    if stat != "median":
        if np.all((x == 0) | (x == 1)):
            return rng.binomial(n, float(x.mean()), size=reps) / n
        return rng.normal(float(x.mean()), float(x.std(ddof=0)) / math.sqrt(n), size=reps)
    xs = np.sort(x)
    u = rng.random(reps)
    width = int(8 * math.sqrt(n)) + 2
    lo, hi = max(1, n // 2 - width), min(n, n // 2 + width)
    j = np.arange(lo, hi + 1)

    def order_stat(m: int) -> np.ndarray:
        cdf = stats.binom.sf(m - 1, n, j / n)  # P(Bin(n, j/n) ≥ m)
        k = np.minimum(np.searchsorted(cdf, u, side="left"), len(j) - 1)
        return xs[j[k] - 1]

    if n % 2:
        return order_stat((n + 1) // 2)
    both: np.ndarray = (order_stat(n // 2) + order_stat(n // 2 + 1)) / 2
    return both
