"""Per-group medians and Mann–Whitney rank sums, computed in the engine.

The ``median`` check kind compares each group's median with the median of the rest of its
stratum (the other reps, the other teams of the same role) and tests the difference with the
Mann–Whitney U test. Pulling every value into Python for that made memory grow with the rows (a
million hand-offs) and cost one boolean mask per group; here the engine returns one row per
group, and Python only turns rank sums into p-values.

* **Ranks.** Within a stratum each value gets its average rank (ties share the mean of the ranks
  they span: ``rank + (ties − 1) / 2``, 1-based); a group's rank sum ``R`` gives
  ``U = R − n(n + 1) / 2``. The stratum's tie term ``Σ (t³ − t)`` over tied values corrects the
  variance. That is all the test needs (:func:`eigyo.base.stats.mann_whitney`).
* **Medians, exactly.** A group's median is the mean of its two middle rows (one row when n is
  odd), read by its rank within the group — the same arithmetic on every engine.
* **The rest's median, exactly.** Order the stratum (by value, then group, so ties have one
  order) and number the rows 1…N. For group g with n rows, the rest holds M = N − n rows and its
  median is the mean of its k₁-th and k₂-th rows (k₁ = ⌊(M + 1) / 2⌋, k₂ = ⌊M / 2⌋ + 1). A row x
  outside g is the rest's ``pos(x) − (g's rows before x)``-th, and g has at most n rows before
  it, so the rest's k-th row sits at a position in [k, k + n]. Each group therefore reads only
  the n + 2 rows of that window (a range join), counts its own rows in it with a running sum,
  and picks the two rows whose rank in the rest is k₁ and k₂. In all, about N + 2G rows move
  inside the engine; G rows come out.
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir

from eigyo.diagnose.context import materialized


def _num(col: ir.Value) -> ir.FloatingValue:
    return col.cast("float64")


def rank_summaries(
    sample: ir.Table, group: list[str], strata: list[str], value: str
) -> list[dict[str, Any]]:
    """One dict per group: its keys, ``n``, ``median``, ``rank_sum``; its stratum's ``total``
    and ``tie_term``; the rest of the stratum's ``rest_median`` (None when the group is the whole
    stratum); ``won``/``rest_won`` and ``hours`` when the sample has those columns."""
    t = sample.filter(sample[value].notnull())
    keep = [*group, *[c for c in strata if c not in group], value]
    extra = [c for c in ("won", "hours") if c in t.columns]
    t = t.select(*dict.fromkeys([*keep, *extra]))
    v = t[value]
    by: list[Any] = list(strata)
    ties = t.count().over(group_by=[*strata, value])
    # Ranked once into a temporary engine table: the summary below reads these rows six times
    # (counts, wins, groups, the rest's medians), and as an expression each read repeated the
    # windows in the SQL — and Ibis spent a third of a second compiling each check's graph.
    own: list[Any] = list(dict.fromkeys([*group, *strata]))
    ranked, held = materialized(
        t.mutate(
            _pos=ibis.row_number().over(group_by=by, order_by=[v, *group]) + 1,
            _rank=_num(ibis.rank().over(group_by=by, order_by=v)) + 1 + (_num(ties) - 1) / 2,
            # the group's own order and size: its median is the mean of its middle rows
            _gpos=ibis.row_number().over(group_by=own, order_by=v) + 1,
            _gn=t.count().over(group_by=own),
        )
    )
    try:
        return _summaries(ranked, group, strata, value, extra)
    finally:
        held.release()


def _summaries(
    t: ir.Table, group: list[str], strata: list[str], value: str, extra: list[str]
) -> list[dict[str, Any]]:
    """:func:`rank_summaries` over the ranked rows (``_pos``, ``_rank``)."""
    counts = t.group_by([*strata, value]).agg(_t=t.count())
    tie = _num(counts._t)
    strat_aggs: dict[str, Any] = {
        "_total": counts._t.sum(),
        "_tie": (tie * tie * tie - tie).sum(),
    }
    stratum = (
        counts.group_by(strata).agg(**strat_aggs) if strata else counts.aggregate(**strat_aggs)
    )
    if "won" in extra:
        won = (
            t.group_by(strata).agg(_won_s=t.won.sum())
            if strata
            else t.aggregate(_won_s=t.won.sum())
        )
        stratum = stratum.join(won, strata) if strata else stratum.cross_join(won)
    group_aggs: dict[str, Any] = {
        "n": t.count(),
        "median": _middle(_num(t[value]), t._gpos, t._gn),
        "rank_sum": t._rank.sum(),
    }
    if "won" in extra:
        group_aggs["won"] = t.won.sum()
    if "hours" in extra:
        group_aggs["hours"] = t.hours.sum()
    keys = list(dict.fromkeys([*group, *strata]))
    g = t.group_by(keys).agg(**group_aggs)
    g = g.join(stratum, strata) if strata else g.cross_join(stratum)
    rest = g._total - g.n
    g = g.mutate(_k1=(rest + 1) // 2, _k2=rest // 2 + 1)
    medians = _rest_medians(t, g, group, strata, value)
    out = g.left_join(medians, [g[k] == medians[f"_o_{k}"] for k in keys])
    cols: dict[str, Any] = {k: out[k] for k in keys}
    cols.update(
        n=out.n,
        median=out.median,
        rank_sum=out.rank_sum,
        total=out._total,
        tie_term=out._tie,
        rest_median=out.rest_median,
    )
    if "won" in extra:
        cols.update(won=out.won, rest_won=out._won_s - out.won)
    if "hours" in extra:
        cols["hours"] = out.hours
    rows: list[dict[str, Any]] = out.select(**cols).order_by(keys).to_pyarrow().to_pylist()
    return rows


def _middle(x: ir.FloatingValue, pos: ir.IntegerValue, n: ir.IntegerValue) -> ir.FloatingValue:
    """The median of a group as the mean of its middle rows (``pos``: 1-based rank in the group,
    ``n`` its size): the ⌊(n + 1)/2⌋-th and the (⌊n/2⌋ + 1)-th, added and halved — as the rest's
    median is. Written out, not the engine's ``median``: engines interpolate with different
    arithmetic (Spark's ``9.0 + (9.0125 − 9.0) × 0.5`` is not DuckDB's), and a last-bit
    difference turned the 4th printed decimal of five large-demo findings."""
    return (x.max(where=pos == (n + 1) // 2) + x.max(where=pos == n // 2 + 1)) / 2


def _rest_medians(
    t: ir.Table, g: ir.Table, group: list[str], strata: list[str], value: str
) -> ir.Table:
    """Each group's rest-of-stratum median: the rows at the rest's ranks k₁ and k₂, found in the
    window of positions [k₁, k₂ + n] (see the module's docstring)."""
    keys = list(dict.fromkeys([*group, *strata]))
    own = t.select(**{f"_o_{k}": t[k] for k in keys}, _p=t._pos)
    owners = g.select(**{f"_o_{k}": g[k] for k in keys}, _n=g.n, _k1=g._k1, _k2=g._k2)
    # the owner's rows before its window: its running count starts from them
    before = own.join(owners, [f"_o_{k}" for k in keys])
    before = before.filter(before._p < before._k1)
    base = before.group_by([f"_o_{k}" for k in keys]).agg(_base=before.count())
    owners = owners.left_join(base, [f"_o_{k}" for k in keys]).select(
        *[f"_o_{k}" for k in keys], "_n", "_k1", "_k2", _base=ibis._._base.fill_null(0)
    )
    on = [t[s] == owners[f"_o_{s}"] for s in strata]
    on += [t._pos >= owners._k1, t._pos <= owners._k2 + owners._n]
    w = t.join(owners, on)
    mine = ibis.and_(*[w[k] == w[f"_o_{k}"] for k in group])
    w = w.mutate(_mine=mine.cast("int64"))
    owner_keys: list[Any] = [f"_o_{k}" for k in keys]
    running = w._mine.sum().over(
        ibis.window(group_by=owner_keys, order_by=w._pos, preceding=None, following=0)
    )
    w = w.mutate(_rest_rank=w._pos - w._base - running)
    w = w.filter((w._mine == 0) & ((w._rest_rank == w._k1) | (w._rest_rank == w._k2)))
    x = _num(w[value])
    return w.group_by(owner_keys).agg(
        rest_median=(x.max(where=w._rest_rank == w._k1) + x.max(where=w._rest_rank == w._k2)) / 2
    )
