"""The statistics behind "evidence before alarm": tests, intervals and multiple-comparison control.

Kept separate from the checks so each piece can be pinned by known answers in tests.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats


@dataclass(frozen=True)
class Comparison:
    """A group against its baseline: effect (group − baseline) and a two-sided p-value."""

    effect: float
    p_value: float


def two_proportions(k1: int, n1: int, k2: int, n2: int) -> Comparison:
    """Difference of two proportions (k1/n1 − k2/n2) with a two-sided test
    (:func:`two_proportions_many` for one pair)."""
    effect, p = two_proportions_many([k1], [n1], [k2], [n2])
    return Comparison(float(effect[0]), float(p[0]))


def two_proportions_many(
    k1: ArrayLike, n1: ArrayLike, k2: ArrayLike, n2: ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    """Differences of proportions (k1/n1 − k2/n2) and their two-sided p-values, pair by pair.

    Fisher's exact test when an expected cell count is below 5 (where the normal approximation
    misleads), the pooled two-proportion z-test otherwise; a pair with an empty side has no
    difference (NaN) and p = 1. Arrays in, arrays out: a large diagnosis tests 20,000 groups,
    and SciPy's per-call overhead (~200 µs a ``norm.sf``) cost seconds; elementwise, the same
    IEEE operations and the same special function give the same floats as one pair at a time.
    """
    a1, m1 = np.asarray(k1, dtype=np.float64), np.asarray(n1, dtype=np.float64)
    a2, m2 = np.asarray(k2, dtype=np.float64), np.asarray(n2, dtype=np.float64)
    both = (m1 > 0) & (m2 > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        effect = np.where(both, a1 / m1 - a2 / m2, np.nan)
        pooled = (a1 + a2) / (m1 + m2)
        expected = np.minimum.reduce(
            [m1 * pooled, m1 * (1 - pooled), m2 * pooled, m2 * (1 - pooled)]
        )
        se = np.sqrt(pooled * (1 - pooled) * (1 / m1 + 1 / m2))
        z = effect / se
    fisher = both & (expected < 5)
    normal = both & ~fisher & (se != 0)
    p = np.ones(len(effect))
    p[normal] = 2 * stats.norm.sf(np.abs(z[normal]))
    for i in np.flatnonzero(fisher):
        table = [[a1[i], m1[i] - a1[i]], [a2[i], m2[i] - a2[i]]]
        p[i] = stats.fisher_exact(np.asarray(table, dtype=np.int64)).pvalue
    return effect, p


def binomial(k: int, n: int, p0: float) -> float:
    """Two-sided exact binomial test of k successes in n against the expected rate p0
    (:func:`binomial_many` for one count)."""
    return float(binomial_many([k], [n], [p0])[0])


def binomial_many(k: ArrayLike, n: ArrayLike, p0: ArrayLike) -> np.ndarray:
    """Two-sided exact binomial tests, count by count: SciPy's ``binomtest(k, n, p0).pvalue``
    to the last digit (n = 0: p = 1), computed for all counts at once.

    The two-sided p-value adds the probabilities of every outcome no more likely than the one
    seen (within a relative 1e-7), found on the mode's other side by a binary search over the
    pmf: here each step of that search runs over every count still searching, so SciPy's
    ~10 pmf calls of ~60 µs per test (4,500 tests on the large demo: seconds) become ~log₂ n
    array calls. Same steps, same special functions, hence the same floats as SciPy's loop."""
    kk, nn = np.asarray(k, dtype=np.int64), np.asarray(n, dtype=np.int64)
    pp = np.asarray(p0, dtype=np.float64)
    out = np.ones(len(kk))
    live = (nn > 0) & (kk != pp * nn)
    if not live.any():
        return out
    k1, n1, p1 = kk[live], nn[live], pp[live]
    d = stats.binom.pmf(k1, n1, p1)
    rerr = 1 + 1e-7
    below = k1 < p1 * n1
    # below the mode the search runs over the falling side (ceil(pn) … n) on −pmf
    sign = np.where(below, -1.0, 1.0)
    lo = np.where(below, np.ceil(p1 * n1), 0.0)
    hi = np.where(below, n1.astype(np.float64), np.floor(p1 * n1))
    target = sign * d * rerr
    found = np.full(len(k1), np.nan)
    while True:
        todo = np.isnan(found) & (lo < hi)
        if not todo.any():
            break
        i = np.flatnonzero(todo)
        mid = lo[i] + (hi[i] - lo[i]) // 2
        val = sign[i] * stats.binom.pmf(mid, n1[i], p1[i])
        lo[i] = np.where(val < target[i], mid + 1, lo[i])
        hi[i] = np.where(val > target[i], mid - 1, hi[i])
        hit = val == target[i]
        found[i[hit]] = mid[hit]
    rest = np.flatnonzero(np.isnan(found))
    at_lo = sign[rest] * stats.binom.pmf(lo[rest], n1[rest], p1[rest])
    found[rest] = np.where(at_lo <= target[rest], lo[rest], lo[rest] - 1)
    ix = found
    # below: the outcomes from n − y up; y counts the terms past the mode ≤ d (the equality
    # case, rare because of rerr, includes ix); above: the outcomes up to ix
    y_below = n1 - ix + (d * rerr == stats.binom.pmf(ix, n1, p1)).astype(np.int64)
    p_below = stats.binom.cdf(k1, n1, p1) + stats.binom.sf(n1 - y_below, n1, p1)
    p_above = stats.binom.cdf(ix, n1, p1) + stats.binom.sf(k1 - 1, n1, p1)
    out[live] = np.minimum(1.0, np.where(below, p_below, p_above))
    return out


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
