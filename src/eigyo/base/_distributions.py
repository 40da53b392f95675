"""The few distribution functions the diagnosis's tests need, from ``scipy.special`` alone.

``import scipy.stats`` costs ~0.55 s (it loads every distribution, test and their docstrings),
a twentieth of a large diagnosis and most of the margin between it and one DuckDB pass (issue
20). The diagnosis uses five functions of it, and SciPy computes each of them with a ufunc of
``scipy.special`` behind a wrapper that checks the support and clips to [0, 1]. These are those
same ufuncs behind the same rules — so the values are SciPy's to the last bit, which
``tests/test_stats_many.py`` checks against ``scipy.stats`` itself, edges of the support
included. Only valid parameters are passed here (counts ≥ 0, 0 ≤ p ≤ 1): SciPy's NaN for an
invalid parameter is not reproduced.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.special as sc
import scipy.special._ufuncs as scu
from numpy.typing import ArrayLike


def _arrays(*xs: ArrayLike) -> list[np.ndarray]:
    return [np.asarray(x, dtype=np.float64) for x in np.broadcast_arrays(*xs)]


def norm_sf(x: ArrayLike) -> np.ndarray:
    """``scipy.stats.norm.sf``: the standard normal's upper tail, ``ndtr(−x)``."""
    return np.asarray(sc.ndtr(-np.asarray(x, dtype=np.float64)))


def norm_ppf(q: float) -> float:
    """``scipy.stats.norm.ppf`` of a probability strictly between 0 and 1: ``ndtri(q)``."""
    return float(sc.ndtri(q))


def _pmf(
    k: np.ndarray, lo: np.ndarray, hi: np.ndarray, ufunc: Any, *args: np.ndarray
) -> np.ndarray:
    """SciPy's ``rv_discrete.pmf`` rule: 0 off the support ``lo…hi`` and at non-integer k,
    else ``ufunc`` clipped to [0, 1]."""
    inside = (k >= lo) & (k <= hi) & (np.floor(k) == k)
    out = np.zeros(k.shape)
    out[inside] = np.clip(ufunc(k[inside], *(a[inside] for a in args)), 0, 1)
    return out


def _tail(
    k: np.ndarray, lo: np.ndarray, hi: np.ndarray, upper: bool, ufunc: Any, *args: np.ndarray
) -> np.ndarray:
    """SciPy's ``rv_discrete.cdf`` (``upper`` False) and ``sf`` (True) rules: below the support
    0 (sf: 1), from its end on 1 (sf: 0), else ``ufunc`` clipped to [0, 1]."""
    inside = (k >= lo) & (k < hi)
    out = np.where(k < lo, 1.0, 0.0) if upper else np.where(k >= hi, 1.0, 0.0)
    out[inside] = np.clip(ufunc(k[inside], *(a[inside] for a in args)), 0, 1)
    return out


def binom_pmf(k: ArrayLike, n: ArrayLike, p: ArrayLike) -> np.ndarray:
    """``scipy.stats.binom.pmf``: 0 off the support 0…n and at non-integer k."""
    k_, n_, p_ = _arrays(k, n, p)
    return _pmf(k_, np.zeros(k_.shape), n_, scu._binom_pmf, n_, p_)


def binom_cdf(k: ArrayLike, n: ArrayLike, p: ArrayLike) -> np.ndarray:
    """``scipy.stats.binom.cdf``: 0 below the support, 1 from n on, else at ⌊k⌋."""
    k_, n_, p_ = _arrays(k, n, p)
    floor = lambda x, *a: scu._binom_cdf(np.floor(x), *a)  # noqa: E731 (SciPy floors k here)
    return _tail(k_, np.zeros(k_.shape), n_, False, floor, n_, p_)


def binom_sf(k: ArrayLike, n: ArrayLike, p: ArrayLike) -> np.ndarray:
    """``scipy.stats.binom.sf``: 1 below the support, 0 from n on, else at ⌊k⌋."""
    k_, n_, p_ = _arrays(k, n, p)
    floor = lambda x, *a: scu._binom_sf(np.floor(x), *a)  # noqa: E731 (SciPy floors k here)
    return _tail(k_, np.zeros(k_.shape), n_, True, floor, n_, p_)


def _hyper(k: ArrayLike, m: ArrayLike, n: ArrayLike, draws: ArrayLike) -> list[np.ndarray]:
    """``k`` and the support's ends, then the ufunc's arguments in its order (n, N, M): SciPy's
    ``hypergeom(M total, n good, N drawn)``."""
    k_, m_, n_, d_ = _arrays(k, m, n, draws)
    return [k_, np.maximum(d_ - (m_ - n_), 0), np.minimum(n_, d_), n_, d_, m_]


def hypergeom_pmf(k: ArrayLike, m: ArrayLike, n: ArrayLike, draws: ArrayLike) -> np.ndarray:
    """``scipy.stats.hypergeom.pmf(k, M, n, N)``."""
    k_, lo, hi, *args = _hyper(k, m, n, draws)
    return _pmf(k_, lo, hi, scu._hypergeom_pmf, *args)


def hypergeom_cdf(k: ArrayLike, m: ArrayLike, n: ArrayLike, draws: ArrayLike) -> np.ndarray:
    """``scipy.stats.hypergeom.cdf(k, M, n, N)``."""
    k_, lo, hi, *args = _hyper(k, m, n, draws)
    return _tail(k_, lo, hi, False, scu._hypergeom_cdf, *args)


def hypergeom_sf(k: ArrayLike, m: ArrayLike, n: ArrayLike, draws: ArrayLike) -> np.ndarray:
    """``scipy.stats.hypergeom.sf(k, M, n, N)``."""
    k_, lo, hi, *args = _hyper(k, m, n, draws)
    return _tail(k_, lo, hi, True, scu._hypergeom_sf, *args)
