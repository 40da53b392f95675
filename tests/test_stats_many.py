"""The statistical tests computed for all groups at once give, group by group, exactly what
SciPy gives one group at a time (issue 20: a large diagnosis tests ~20,000 groups, and SciPy's
per-call overhead cost seconds). Compared bit for bit (``==``), never approximately: the
diagnosis's q-values and findings must not move."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats as sps

from eigyo.base import stats as st


def _cases() -> tuple[list[int], list[int], list[float]]:
    """Counts over small and large n, at both tails, at the mode, at the expected count itself
    (p = 1 exactly) and at rates next to 0 and 1 (the clipping of eigyo's isolated stages)."""
    rng = np.random.default_rng(7)
    ks, ns, ps = [], [], []
    for n in [*range(1, 41), 97, 250, 1_000, 4_999, 20_000]:
        for k in {0, 1, n // 3, n // 2, n - 1, n, *rng.integers(0, n + 1, 4).tolist()}:
            for p in (1e-6, 0.01, 0.1, 0.25, 1 / 3, 0.5, 0.9, 1 - 1e-6, k / n, rng.random()):
                ks.append(int(k))
                ns.append(n)
                ps.append(float(p))
    return ks, ns, ps


def test_binomial_many_is_scipys_binomtest_to_the_last_digit() -> None:
    ks, ns, ps = _cases()
    got = st.binomial_many(ks, ns, ps)
    want = [sps.binomtest(k, n, p).pvalue for k, n, p in zip(ks, ns, ps, strict=True)]
    assert len(ks) > 3_000
    assert got.tolist() == want
    assert st.binomial(3, 10, 0.3) == sps.binomtest(3, 10, 0.3).pvalue == 1.0
    assert st.binomial_many([0, 2], [0, 0], [0.5, 0.1]).tolist() == [1.0, 1.0]  # n = 0
    assert st.binomial_many([], [], []).tolist() == []


def _one_pair(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float]:
    """The rule written out for one pair: Fisher below an expected count of 5, else the
    pooled z-test; an empty side has no difference."""
    if n1 == 0 or n2 == 0:
        return math.nan, 1.0
    pooled = (k1 + k2) / (n1 + n2)
    if min(n1 * pooled, n1 * (1 - pooled), n2 * pooled, n2 * (1 - pooled)) < 5:
        return k1 / n1 - k2 / n2, float(sps.fisher_exact([[k1, n1 - k1], [k2, n2 - k2]])[1])
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return k1 / n1 - k2 / n2, 1.0
    return k1 / n1 - k2 / n2, float(2 * sps.norm.sf(abs((k1 / n1 - k2 / n2) / se)))


def test_two_proportions_many_is_the_rule_pair_by_pair() -> None:
    rng = np.random.default_rng(11)
    rows = []
    for _ in range(5_000):
        n1, n2 = int(rng.integers(0, 200)), int(rng.integers(0, 2_000))
        rows.append((int(rng.integers(0, n1 + 1)), n1, int(rng.integers(0, n2 + 1)), n2))
    rows += [(0, 10, 0, 10), (10, 10, 20, 20), (0, 0, 1, 2), (5, 100, 0, 0), (0, 500, 0, 800)]
    a = np.array(rows)
    effects, p_values = st.two_proportions_many(a[:, 0], a[:, 1], a[:, 2], a[:, 3])
    judged = 0  # pairs with a real test (not an empty side, not a zero spread)
    for row, e, p in zip(rows, effects, p_values, strict=True):
        want_e, want_p = _one_pair(*row)
        assert (e == want_e or (math.isnan(e) and math.isnan(want_e))) and p == want_p, row
        judged += want_p != 1.0
    assert judged > 1_000
    assert st.two_proportions(1, 5, 4, 5).p_value == sps.fisher_exact([[1, 4], [4, 1]])[1]


def test_fisher_many_is_scipys_fisher_exact_to_the_last_digit() -> None:
    """Every small table of a grid (where the diagnosis uses Fisher: an expected count below
    5), tables with an empty row or column, and larger random ones."""
    rng = np.random.default_rng(3)
    tables = [
        (a, b, c, d) for a in range(6) for b in range(6) for c in range(8) for d in range(0, 40, 3)
    ]
    tables += [tuple(int(v) for v in rng.integers(0, 300, 4)) for _ in range(500)]
    t = np.array(tables)
    got = st.fisher_many(t[:, 0], t[:, 1], t[:, 2], t[:, 3])
    want = [sps.fisher_exact([[a, b], [c, d]]).pvalue for a, b, c, d in tables]
    assert len(tables) > 4_000 and sum(w < 0.05 for w in want) > 100
    assert got.tolist() == want


def test_mann_whitney_many_is_scipys_group_by_group() -> None:
    """Random samples, small (SciPy's exact distribution) and large, with and without ties: the
    p-values from rank sums, all groups in one call, equal SciPy's ``mannwhitneyu`` on the
    values (relative 1e-12: the rank sum is summed in another order)."""
    rng = np.random.default_rng(5)
    sizes, rank_sums, ties, want = [], [], [], []
    for _ in range(400):
        n1, n2 = int(rng.integers(1, 30)), int(rng.integers(1, 30))
        tied = bool(rng.integers(0, 2))
        a = rng.integers(0, 12, n1).astype(float) if tied else rng.random(n1)
        b = rng.integers(0, 12, n2).astype(float) if tied else rng.random(n2)
        both = np.concatenate([a, b])
        _, counts = np.unique(both, return_counts=True)
        sizes.append((n1, n2))
        rank_sums.append(float(sps.rankdata(both)[:n1].sum()))
        ties.append(float((counts**3 - counts).sum()))
        same = np.all(both == both[0])
        want.append(1.0 if same else float(sps.mannwhitneyu(a, b).pvalue))
    got = st.mann_whitney_many([s[0] for s in sizes], [s[1] for s in sizes], rank_sums, ties)
    exact = sum(1 for (n1, n2), t in zip(sizes, ties, strict=True) if min(n1, n2) <= 8 and not t)
    assert exact > 20 and len(sizes) - exact > 200  # both branches are tested
    for g, w in zip(got, want, strict=True):
        assert abs(g - w) <= 1e-12 * w
    assert st.mann_whitney_many([0, 3], [5, 0], [0.0, 6.0], [0.0, 0.0]).tolist() == [1.0, 1.0]


def test_the_distributions_are_scipy_stats_own_values() -> None:
    """eigyo.base._distributions (scipy.special behind SciPy's support rules, without importing
    scipy.stats) equals scipy.stats bit for bit, on and off the support: below 0, above n, at
    non-integer points, at the support's ends."""
    from eigyo.base import _distributions as dist

    ks = np.arange(-3, 45, 0.5)
    for n, p in [(0, 0.3), (1, 0.5), (10, 0.01), (40, 0.37), (40, 1 - 1e-6), (25, 1e-6)]:
        assert dist.binom_pmf(ks, n, p).tolist() == sps.binom.pmf(ks, n, p).tolist()
        assert dist.binom_cdf(ks, n, p).tolist() == sps.binom.cdf(ks, n, p).tolist()
        assert dist.binom_sf(ks, n, p).tolist() == sps.binom.sf(ks, n, p).tolist()
    ks = np.arange(-2, 30, 1.0)
    for m, n, draws in [(10, 4, 5), (30, 12, 20), (25, 25, 7), (18, 0, 4), (40, 9, 40)]:
        for ours, theirs in [
            (dist.hypergeom_pmf, sps.hypergeom.pmf),
            (dist.hypergeom_cdf, sps.hypergeom.cdf),
            (dist.hypergeom_sf, sps.hypergeom.sf),
        ]:
            assert ours(ks, m, n, draws).tolist() == theirs(ks, m, n, draws).tolist()
    z = np.linspace(-9, 9, 1001)
    assert dist.norm_sf(z).tolist() == sps.norm.sf(z).tolist()
    for q in (0.5, 0.975, 0.995, 0.8, 1e-9):
        assert dist.norm_ppf(q) == sps.norm.ppf(q)
