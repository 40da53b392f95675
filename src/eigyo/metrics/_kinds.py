"""Compile functions of the generic kinds: one per shape of computation, shared by many metrics.

Each takes a declaration and a context and returns an Ibis table with ``value`` (and ``g``, the
group, when grouped): one aggregate query per metric that the engine runs whole. Sums over no
rows are 0; means, medians and rates over no rows are NULL (undefined, shown as ``None``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import ibis.expr.types as ir

from eigyo.metrics._groups import with_group
from eigyo.metrics._model import Metric
from eigyo.metrics._vocab import CONDITIONS, VALUES, Ctx, population, seconds_between

Compile = Callable[[Metric, Ctx], ir.Table]


@dataclass(frozen=True)
class Kind:
    """A compile function with the parameters it requires and those it may take."""

    name: str
    compile: Compile
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()


def grouped(where: str, c: Ctx) -> ir.Table:
    """A named population with its group column."""
    base, t = population(where, c)
    return with_group(t, base, c)


def aggregate(t: ir.Table, c: Ctx, **aggs: ir.Value) -> ir.Table:
    """One row for the organization, or one row per group."""
    if c.dim is None:
        return t.aggregate(**aggs)
    return t.group_by("g").aggregate(**aggs)


def ratio(num: ir.NumericValue, den: ir.NumericValue) -> ir.NumericValue:
    """num ÷ den, NULL when den is 0 (portable: PostgreSQL raises on division by zero)."""
    return num.cast("float64") / den.cast("float64").nullif(0.0)


def finish(t: ir.Table, value: ir.Value, c: Ctx) -> ir.Table:
    """Keep only the group and the metric's value (as a float)."""
    v = value.cast("float64")
    return t.select(value=v) if c.dim is None else t.select("g", value=v)


def combine(a: ir.Table, b: ir.Table, c: Ctx) -> ir.Table:
    """Two aggregates side by side: every group found in either (full outer join on ``g``)."""
    if c.dim is None:
        return a.cross_join(b)
    b2 = b.rename(g_b="g")
    j = a.outer_join(b2, a.g == b2.g_b)
    return j.mutate(g=j.g.coalesce(j.g_b)).drop("g_b")


def total(t: ir.Table, c: Ctx, value: str, where: ir.BooleanValue | None = None) -> ir.NumericValue:
    """Sum of a named value over the rows (meeting ``where``); the value ``one`` counts them."""
    if value == "one":
        return t.count(where=where)
    return VALUES[value](t, c).sum(where=where)


def duration(m: Metric, t: ir.Table) -> ir.NumericValue:
    """Elapsed time between two timestamp columns, in the metric's unit (per = seconds/unit)."""
    return seconds_between(t[m.text("start")], t[m.text("end")]) / m.number("per")


def _count(m: Metric, c: Ctx) -> ir.Table:
    t = grouped(m.text("where"), c)
    a = aggregate(t, c, n=t.count())
    return finish(a, a.n, c)


def _sum(m: Metric, c: Ctx) -> ir.Table:
    t = grouped(m.text("where"), c)
    a = aggregate(t, c, s=VALUES[m.text("value")](t, c).sum())
    return finish(a, a.s.fill_null(0), c)


def _mean(m: Metric, c: Ctx) -> ir.Table:
    t = grouped(m.text("where"), c)
    a = aggregate(t, c, v=VALUES[m.text("value")](t, c).mean())
    return finish(a, a.v, c)


def _ratio(m: Metric, c: Ctx) -> ir.Table:
    """Share of a population meeting a condition, by count or weighted by a value (hours …)."""
    t = grouped(m.text("where"), c)
    w = str(m.params.get("weight", "one"))
    cond = CONDITIONS[m.text("condition")](t, c)
    a = aggregate(t, c, num=total(t, c, w, cond), den=total(t, c, w))
    return finish(a, ratio(a.num.fill_null(0), a.den), c)


def _quantile_duration(m: Metric, c: Ctx) -> ir.Table:
    """Median (q=0.5, the mean of the two middle values for an even count) or another quantile."""
    t = grouped(m.text("where"), c)
    a = aggregate(t, c, v=duration(m, t).quantile(m.number("q", 0.5)))
    return finish(a, a.v, c)


def _mean_duration(m: Metric, c: Ctx) -> ir.Table:
    t = grouped(m.text("where"), c)
    a = aggregate(t, c, v=duration(m, t).mean())
    return finish(a, a.v, c)


def _ratio_of(m: Metric, c: Ctx) -> ir.Table:
    """Count or sum of one population ÷ count or sum of another (e.g. activities per won deal)."""
    parts = []
    for side in ("num", "den"):
        t = grouped(m.text(f"{side}_where"), c)
        v = str(m.params.get(f"{side}_value", "one"))
        parts.append(aggregate(t, c, **{side: total(t, c, v)}))
    j = combine(parts[0], parts[1], c)
    return finish(j, ratio(j.num.fill_null(0), j.den.fill_null(0)), c)


def _cohort_conversion(m: Metric, c: Ctx) -> ir.Table:
    """Leads of a population whose opportunity (``leads.opportunity_id``, or one whose
    ``lead_id`` is the lead) exists (``reach="any"``) or is won by now (``reach="won"``)."""
    t = grouped(m.text("where"), c)
    opps = c.table("opportunities")
    if m.text("reach") == "won":
        opps = opps.filter(opps.status == "won")
    by_lead = opps.filter(opps.lead_id.notnull()).lead_id
    hit = t.opportunity_id.isin(opps.opportunity_id).fill_null(False) | t.lead_id.isin(
        by_lead
    ).fill_null(False)
    a = aggregate(t, c, num=t.count(where=hit), den=t.count())
    return finish(a, ratio(a.num, a.den), c)


GENERIC_KINDS: tuple[Kind, ...] = (
    Kind("count", _count, ("where",)),
    Kind("sum", _sum, ("where", "value")),
    Kind("mean", _mean, ("where", "value")),
    Kind("ratio", _ratio, ("where", "condition"), ("weight",)),
    Kind("quantile_duration", _quantile_duration, ("where", "start", "end", "per"), ("q",)),
    Kind("mean_duration", _mean_duration, ("where", "start", "end", "per")),
    Kind("ratio_of", _ratio_of, ("num_where", "den_where"), ("num_value", "den_value")),
    Kind("cohort_conversion", _cohort_conversion, ("where", "reach")),
)
