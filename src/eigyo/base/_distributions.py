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


def binom_pmf(k: ArrayLike, n: ArrayLike, p: ArrayLike) -> np.ndarray:
    """``scipy.stats.binom.pmf``: 0 off the support 0…n and at non-integer k."""
    k_, n_, p_ = _arrays(k, n, p)
    inside = (k_ >= 0) & (k_ <= n_) & (np.floor(k_) == k_)
    out = np.zeros(k_.shape)
    out[inside] = np.clip(scu._binom_pmf(k_[inside], n_[inside], p_[inside]), 0, 1)
    return out


def binom_cdf(k: ArrayLike, n: ArrayLike, p: ArrayLike) -> np.ndarray:
    """``scipy.stats.binom.cdf``: 0 below the support, 1 from n on, else at ⌊k⌋."""
    k_, n_, p_ = _arrays(k, n, p)
    inside = (k_ >= 0) & (k_ < n_)
    out = np.where(k_ >= n_, 1.0, 0.0)
    out[inside] = np.clip(scu._binom_cdf(np.floor(k_[inside]), n_[inside], p_[inside]), 0, 1)
    return out


def binom_sf(k: ArrayLike, n: ArrayLike, p: ArrayLike) -> np.ndarray:
    """``scipy.stats.binom.sf``: 1 below the support, 0 from n on, else at ⌊k⌋."""
    k_, n_, p_ = _arrays(k, n, p)
    inside = (k_ >= 0) & (k_ < n_)
    out = np.where(k_ < 0, 1.0, 0.0)
    out[inside] = np.clip(scu._binom_sf(np.floor(k_[inside]), n_[inside], p_[inside]), 0, 1)
    return out


def _hyper_support(m: np.ndarray, n: np.ndarray, draws: np.ndarray) -> tuple[np.ndarray, ...]:
    """The hypergeometric support (SciPy's ``hypergeom`` order: M total, n good, N drawn)."""
    return np.maximum(draws - (m - n), 0), np.minimum(n, draws)


def hypergeom_pmf(k: ArrayLike, m: ArrayLike, n: ArrayLike, draws: ArrayLike) -> np.ndarray:
    """``scipy.stats.hypergeom.pmf(k, M, n, N)``."""
    k_, m_, n_, d_ = _arrays(k, m, n, draws)
    lo, hi = _hyper_support(m_, n_, d_)
    inside = (k_ >= lo) & (k_ <= hi) & (np.floor(k_) == k_)
    out = np.zeros(k_.shape)
    out[inside] = np.clip(scu._hypergeom_pmf(k_[inside], n_[inside], d_[inside], m_[inside]), 0, 1)
    return out


def hypergeom_cdf(k: ArrayLike, m: ArrayLike, n: ArrayLike, draws: ArrayLike) -> np.ndarray:
    """``scipy.stats.hypergeom.cdf(k, M, n, N)``."""
    k_, m_, n_, d_ = _arrays(k, m, n, draws)
    lo, hi = _hyper_support(m_, n_, d_)
    inside = (k_ >= lo) & (k_ < hi)
    out = np.where(k_ >= hi, 1.0, 0.0)
    out[inside] = np.clip(scu._hypergeom_cdf(k_[inside], n_[inside], d_[inside], m_[inside]), 0, 1)
    return out


def hypergeom_sf(k: ArrayLike, m: ArrayLike, n: ArrayLike, draws: ArrayLike) -> np.ndarray:
    """``scipy.stats.hypergeom.sf(k, M, n, N)``."""
    k_, m_, n_, d_ = _arrays(k, m, n, draws)
    lo, hi = _hyper_support(m_, n_, d_)
    inside = (k_ >= lo) & (k_ < hi)
    out = np.where(k_ < lo, 1.0, 0.0)
    out[inside] = np.clip(scu._hypergeom_sf(k_[inside], n_[inside], d_[inside], m_[inside]), 0, 1)
    return out
