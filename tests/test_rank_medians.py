"""The median check kind computed in the engine (eigyo.diagnose.ranks) gives exactly what NumPy's
median and SciPy's Mann–Whitney U test give on the pulled values (the independent reference
here): every group's median, the rest of its stratum's median, and the p-value — with ties,
strata, groups of one to a few hundred rows, groups that are a whole stratum, and samples small
enough for SciPy's exact distribution."""

from __future__ import annotations

from pathlib import Path

import ibis
import numpy as np
import pyarrow as pa
import pytest
from scipy import stats as sps

from eigyo.base import stats
from eigyo.diagnose.checks import Check
from eigyo.diagnose.compare import median
from tests._rows import new_ws


def _check(group: tuple[str, ...], strata: tuple[str, ...] = ()) -> Check:
    return Check(
        id="t", step="process", kind="median", sample="handoffs", metric="m",
        group=group, value="v", better="lower", min_n=1, min_effect=0.0, strata=strata,
        unit="days",
    )  # fmt: skip


def _reference(
    g: np.ndarray, s: np.ndarray, v: np.ndarray, won: np.ndarray
) -> dict[str, tuple[float, ...]]:
    out = {}
    for key in sorted(set(g)):
        mask = g == key
        rest = (~mask) & (s == s[mask][0])
        a, b = v[mask], v[rest]
        if len(b) == 0:
            out[key] = (len(a), float(np.median(a)), float("nan"), 1.0, 0.0)
            continue
        if np.all(a == a[0]) and np.all(b == a[0]):
            p = 1.0
        else:
            p = float(sps.mannwhitneyu(a, b, alternative="two-sided").pvalue)
        out[key] = (len(a), float(np.median(a)), float(np.median(b)), p, float(won[rest].mean()))
    return out


@pytest.mark.parametrize("seed", range(6))
def test_engine_medians_and_p_values_equal_numpy_and_scipy(tmp_path: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(40, 1500))
    groups = int(rng.integers(2, 30))
    g = np.array([f"g{int(x):02d}" for x in rng.integers(0, groups, n)])
    s = np.array(["s0"] * n) if seed % 2 == 0 else np.array([f"s{int(x[1:]) % 3}" for x in g])
    # rounded to whole or half days: many ties, as durations exported by day are
    v = np.round(rng.gamma(2.0, 3.0 + (g == "g01") * 4.0, n) * (2 if seed % 3 else 1)) / 2
    won = rng.integers(0, 2, n)
    ws = new_ws(tmp_path)
    ws.raw.register("_t", pa.table({"grp": g, "st": s, "v": v, "won": won}))
    ws.raw.execute("CREATE TABLE sample AS SELECT * FROM _t")
    table = ws.con.table("sample")
    strata = ("st",) if seed % 2 else ()
    got = {t.key["grp"]: t for t in median(_check(("grp", *strata), strata), table)}
    want = _reference(g, s, v, won)
    assert sorted(got) == sorted(want)
    for key, (size, med, rest_med, p, rest_won) in want.items():
        t = got[key]
        assert t.gap_info.n == size and t.gap_info.value == pytest.approx(med)
        if np.isnan(rest_med):
            assert np.isnan(t.gap_info.baseline) and t.base_n == 0
            continue
        assert t.gap_info.baseline == pytest.approx(rest_med), key
        assert t.p_value == pytest.approx(p, rel=1e-9, abs=1e-300), key
        assert t.gap_info.base_won_rate == pytest.approx(rest_won)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ([1.0, 5.0, 9.0], [2.0, 3.0, 4.0, 6.0, 7.0]),  # exact: no ties, both small
        ([10.0, 11.0, 12.0], list(map(float, range(10)))),  # exact: one side of 8 or fewer
        ([1.0, 1.0, 2.0], [1.0, 3.0, 3.0, 4.0]),  # small with ties: asymptotic, as SciPy
        ([4.0, 4.0], [4.0, 4.0, 4.0]),  # all equal
    ],
)
def test_mann_whitney_from_ranks_is_scipys(a: list[float], b: list[float]) -> None:
    both = np.array(a + b)
    ranks = sps.rankdata(both)
    _, counts = np.unique(both, return_counts=True)
    tie = float((counts**3 - counts).sum())
    got = stats.mann_whitney(len(a), len(b), float(ranks[: len(a)].sum()), tie)
    if np.all(both == both[0]):
        assert got == 1.0
    else:
        assert got == pytest.approx(float(sps.mannwhitneyu(a, b).pvalue), rel=1e-12)


def test_ibis_memtable_runs_on_the_engine_too() -> None:
    """A sample built in memory (as some analyses do) goes through the same query."""
    t = ibis.memtable({"grp": ["a", "a", "a", "b", "b", "b"], "v": [1.0, 2, 3, 7, 8, 9]})
    found = {x.key["grp"]: x for x in median(_check(("grp",)), t)}
    assert (found["a"].gap_info.value, found["a"].gap_info.baseline) == (2.0, 8.0)
    assert found["a"].p_value == pytest.approx(float(sps.mannwhitneyu([1, 2, 3], [7, 8, 9]).pvalue))
