"""The statistics behind "evidence before alarm": tests, intervals and multiple-comparison control.

Kept separate from the checks so each piece can be pinned by known answers in tests. The
distributions come from :mod:`eigyo.base._distributions` (SciPy's own special functions, without
importing ``scipy.stats``); ``scipy.stats`` itself is imported only where a test needs it whole
(Mann–Whitney's exact distribution).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from eigyo.base import _distributions as dist


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
    p[normal] = 2 * dist.norm_sf(np.abs(z[normal]))
    f = np.flatnonzero(fisher)
    p[f] = fisher_many(a1[f], m1[f] - a1[f], a2[f], m2[f] - a2[f])
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
    d = dist.binom_pmf(k1, n1, p1)
    rerr = 1 + 1e-7
    below = k1 < p1 * n1
    # below the mode the search runs over the falling side (ceil(pn) … n) on −pmf
    sign = np.where(below, -1.0, 1.0)
    lo = np.where(below, np.ceil(p1 * n1), 0.0)
    hi = np.where(below, n1.astype(np.float64), np.floor(p1 * n1))
    ix = _search(lambda x, i: sign[i] * dist.binom_pmf(x, n1[i], p1[i]), sign * d * rerr, lo, hi)
    # below: the outcomes from n − y up; y counts the terms past the mode ≤ d (the equality
    # case, rare because of rerr, includes ix); above: the outcomes up to ix
    y_below = n1 - ix + (d * rerr == dist.binom_pmf(ix, n1, p1)).astype(np.int64)
    p_below = dist.binom_cdf(k1, n1, p1) + dist.binom_sf(n1 - y_below, n1, p1)
    p_above = dist.binom_cdf(ix, n1, p1) + dist.binom_sf(k1 - 1, n1, p1)
    out[live] = np.minimum(1.0, np.where(below, p_below, p_above))
    return out


def _search(
    pmf: Callable[[np.ndarray, np.ndarray], np.ndarray],
    target: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
) -> np.ndarray:
    """SciPy's binary search for the two-sided exact tests (``binomtest``, ``fisher_exact``),
    over many tests at once: for each test ``j``, the index ``x`` in ``lo[j] … hi[j]`` where
    ``pmf(x) ≤ target[j] < pmf(x + 1)`` on a side of the mode where ``pmf`` (``pmf(x, j)``, the
    tests' indices ``j``) ascends. The same steps as SciPy's loop, test by test."""
    lo, hi = lo.astype(np.float64), hi.astype(np.float64)
    found = np.full(len(target), np.nan)
    while True:
        i = np.flatnonzero(np.isnan(found) & (lo < hi))
        if not len(i):
            break
        mid = lo[i] + (hi[i] - lo[i]) // 2
        val = pmf(mid, i)
        lo[i] = np.where(val < target[i], mid + 1, lo[i])
        hi[i] = np.where(val > target[i], mid - 1, hi[i])
        hit = val == target[i]
        found[i[hit]] = mid[hit]
    rest = np.flatnonzero(np.isnan(found))
    at_lo = pmf(lo[rest], rest)
    found[rest] = np.where(at_lo <= target[rest], lo[rest], lo[rest] - 1)
    return found


def fisher_many(a: ArrayLike, b: ArrayLike, c: ArrayLike, d: ArrayLike) -> np.ndarray:
    """Two-sided Fisher exact tests of 2×2 tables ``[[a, b], [c, d]]``, table by table: SciPy's
    ``fisher_exact(...).pvalue`` to the last digit, for all tables at once (the small groups of a
    large diagnosis: 700 on the large demo, ~0.5 ms each one at a time).

    The p-value adds the hypergeometric probabilities of every table no more likely than the
    one seen (within a relative 1e-14), the other side's bound found by :func:`_search`."""
    a_, b_ = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    c_, d_ = np.asarray(c, dtype=np.int64), np.asarray(d, dtype=np.int64)
    out = np.ones(len(a_))
    live = np.flatnonzero(
        (a_ + b_ > 0) & (c_ + d_ > 0) & (a_ + c_ > 0) & (b_ + d_ > 0)
    )  # an empty row or column: p = 1
    if not len(live):
        return out
    x = a_[live]
    n1, n2, n = x + b_[live], c_[live] + d_[live], x + c_[live]
    total = n1 + n2
    mode = np.trunc((n + 1) * (n1 + 1) / (n1 + n2 + 2)).astype(np.int64)
    pexact = dist.hypergeom_pmf(x, total, n1, n)
    pmode = dist.hypergeom_pmf(mode, total, n1, n)
    gamma = 1 + 1e-14
    at_mode = np.abs(pexact - pmode) / np.maximum(pexact, pmode) <= 1e-14
    below = x < mode
    p = np.ones(len(x))
    # below the mode: this tail, plus the other tail from where it is no likelier than pexact
    j = np.flatnonzero(~at_mode & below)
    if len(j):
        plower = dist.hypergeom_cdf(x[j], total[j], n1[j], n[j])
        whole = dist.hypergeom_pmf(n[j], total[j], n1[j], n[j]) > pexact[j] * gamma
        guess = _search(
            lambda v, i: -dist.hypergeom_pmf(v, total[j][i], n1[j][i], n[j][i]),
            -pexact[j] * gamma,
            mode[j],
            n[j],
        )
        tail = dist.hypergeom_sf(guess, total[j], n1[j], n[j])
        p[j] = np.where(whole, plower, plower + tail)
    j = np.flatnonzero(~at_mode & ~below)
    if len(j):
        pupper = dist.hypergeom_sf(x[j] - 1, total[j], n1[j], n[j])
        whole = dist.hypergeom_pmf(0, total[j], n1[j], n[j]) > pexact[j] * gamma
        guess = _search(
            lambda v, i: dist.hypergeom_pmf(v, total[j][i], n1[j][i], n[j][i]),
            pexact[j] * gamma,
            np.zeros(len(j)),
            mode[j],
        )
        tail = dist.hypergeom_cdf(guess, total[j], n1[j], n[j])
        p[j] = np.where(whole, pupper, pupper + tail)
    out[live] = np.minimum(p, 1.0)
    return out


def medians(a: np.ndarray, b: np.ndarray) -> Comparison:
    """Difference of medians (a − b) with the two-sided Mann–Whitney U test (skewed durations)."""
    if len(a) == 0 or len(b) == 0:
        return Comparison(float("nan"), 1.0)
    if np.all(a == a[0]) and np.all(b == a[0]):
        return Comparison(0.0, 1.0)
    from scipy import stats  # imported where used: ~0.55 s that most commands never need

    res = stats.mannwhitneyu(a, b, alternative="two-sided")
    return Comparison(float(np.median(a) - np.median(b)), float(res.pvalue))


def mann_whitney(n1: int, n2: int, rank_sum: float, tie_term: float) -> float:
    """Two-sided Mann–Whitney p-value of one group (:func:`mann_whitney_many`)."""
    return float(mann_whitney_many([n1], [n2], [rank_sum], [tie_term])[0])


def mann_whitney_many(
    n1: ArrayLike, n2: ArrayLike, rank_sum: ArrayLike, tie_term: ArrayLike
) -> np.ndarray:
    """Two-sided Mann–Whitney p-values from each first sample's rank sum (average ranks within
    the combined sample, 1-based) and the combined sample's tie term ``Σ (t³ − t)``: what the
    engine returns instead of the values (eigyo.diagnose.ranks). It is SciPy's ``mannwhitneyu``
    with its defaults, to the last digit: the normal approximation with tie and continuity
    corrections, for all groups in one array call, or — a sample of 8 or fewer and no ties —
    the exact distribution, computed by SciPy on two samples built to have the same U."""
    m1, m2 = np.asarray(n1, dtype=np.int64), np.asarray(n2, dtype=np.int64)
    r, ties = np.asarray(rank_sum, dtype=np.float64), np.asarray(tie_term, dtype=np.float64)
    out = np.ones(len(m1))
    live = (m1 > 0) & (m2 > 0)
    u1 = r - m1 * (m1 + 1) / 2
    exact = live & ((m1 <= 8) | (m2 <= 8)) & (ties == 0)
    for i in np.flatnonzero(exact):
        # b = 0 … n2−1; each of a's values beats as many of b as U₁ still needs (no ties)
        left, a = round(float(u1[i])), []
        for _ in range(int(m1[i])):
            c = min(int(m2[i]), left)
            a.append(c - 0.5)
            left -= c
        from scipy import stats  # only for an exact case: ~0.55 s to import

        res = stats.mannwhitneyu(np.array(a), np.arange(m2[i], dtype=float), method="exact")
        out[i] = float(res.pvalue)
    j = np.flatnonzero(live & ~exact)
    n, a1, a2, u = m1[j] + m2[j], m1[j], m2[j], u1[j]
    u = np.maximum(u, a1 * a2 - u)
    var = a1 * a2 / 12 * ((n + 1) - ties[j] / (n * (n - 1)))
    ok = var > 0  # else every value is equal: nothing to tell apart (p = 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (u - a1 * a2 / 2 - 0.5) / np.sqrt(var)
    out[j[ok]] = np.minimum(1.0, 2 * dist.norm_sf(z[ok]))
    return out


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
    return float(dist.norm_ppf(0.5 + confidence / 2))


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
        cdf = dist.binom_sf(m - 1, n, j / n)  # P(Bin(n, j/n) ≥ m)
        k = np.minimum(np.searchsorted(cdf, u, side="left"), len(j) - 1)
        return xs[j[k] - 1]

    if n % 2:
        return order_stat((n + 1) // 2)
    both: np.ndarray = (order_stat(n // 2) + order_stat(n // 2 + 1)) / 2
    return both
