"""Computing metrics: pick the declarations, compile each with its kind, run it in the engine.

This is the public entry for the diagnosis, the reports and the CLI. Grouping by ``month``
computes the metric for each calendar month within the period, so a monthly value always means
the same as the metric asked for that month alone.

Before computing, one count query checks what each asked metric ``needs``; a metric whose
inputs are absent comes back as ``value=None`` with a ``missing_data`` reason in every group,
and any other ``None`` carries a ``no_records`` reason naming its empty population.
"""

from __future__ import annotations

import math
from calendar import monthrange
from collections.abc import Sequence
from dataclasses import replace
from datetime import date

import ibis
import ibis.expr.types as ir

from eigyo.base.periods import Period
from eigyo.errors import InputError
from eigyo.metrics._model import DIMENSIONS, Comparison, Metric, MetricValue
from eigyo.metrics._needs import Reason, present
from eigyo.metrics._registry import KINDS, REGISTRY
from eigyo.metrics._vocab import Ctx
from eigyo.workspace import Workspace


def select(metric_ids: Sequence[str] | None, by: str | None = None) -> list[Metric]:
    """The metrics to compute, in the order asked (or the registry's).

    With a grouping, metrics that cannot be grouped by it are skipped; asking only for such
    metrics is an error that says which groupings they allow.
    """
    if by is not None and by not in DIMENSIONS:
        raise InputError(f"Unknown grouping {by!r}. Use one of: {', '.join(DIMENSIONS)}.")
    if metric_ids is None:
        chosen = list(REGISTRY.values())
    else:
        unknown = [i for i in metric_ids if i not in REGISTRY]
        if unknown:
            raise InputError(
                f"Unknown metric {', '.join(map(repr, unknown))}. Known metrics: "
                + ", ".join(REGISTRY)
            )
        chosen = [REGISTRY[i] for i in dict.fromkeys(metric_ids)]
    if by is None:
        return chosen
    kept = [m for m in chosen if by in m.dims]
    if chosen and not kept:
        allowed = "; ".join(f"{m.id}: {', '.join(m.dims)}" for m in chosen)
        raise InputError(f"Cannot group {', '.join(m.id for m in chosen)} by {by}. ({allowed})")
    return kept


def _number(v: object) -> float | None:
    if v is None:
        return None
    f = float(v)  # type: ignore[arg-type]
    return None if math.isnan(f) or math.isinf(f) else f


Missing = dict[str, tuple[str, ...]]


def missing_inputs(ws: Workspace, metrics: Sequence[Metric]) -> Missing:
    """Per metric, the needs the workspace does not meet (empty when it is available): one
    count query for all the metrics' needs together."""
    ok = present(ws, (n for m in metrics for n in m.needs))
    return {m.id: tuple(n for n in m.needs if not ok[n]) for m in metrics}


def _explained(v: MetricValue, m: Metric, missing: Missing) -> MetricValue:
    """The value with its reason: unavailable inputs win over any number the query gave."""
    unmet = missing.get(m.id, ())
    if unmet:
        return replace(v, value=None, reason=Reason("missing_data", needs=unmet))
    if v.value is None:
        return replace(v, reason=Reason("no_records", population=m.empty_population))
    return v


def _run(
    m: Metric, ws: Workspace, period: Period, by: str | None, missing: Missing
) -> list[MetricValue]:
    return _run_many([m], ws, period, by, missing)


def _tagged(m: Metric, ws: Workspace, period: Period, by: str | None) -> ir.Table:
    """One metric's result in the shape every metric shares, so that all of them can run as a
    single UNION ALL query: one round trip, and the engine plans the parts together."""
    expr = KINDS[m.kind].compile(m, Ctx(ws, period, by))
    g = expr["g"].cast("string") if by else ibis.literal(None, type="string")
    return expr.select(id=ibis.literal(m.id), g=g, value=expr["value"].cast("float64"))


def _run_many(
    metrics: Sequence[Metric],
    ws: Workspace,
    period: Period,
    by: str | None,
    missing: Missing,
) -> list[MetricValue]:
    """Compute several metrics in one query; results in the metrics' order, groups sorted, each
    ``None`` with its reason."""
    if not metrics:
        return []
    parts = [_tagged(m, ws, period, by) for m in metrics]
    rows = ibis.union(*parts, distinct=False).to_pyarrow().to_pylist()
    found: dict[str, list[MetricValue]] = {m.id: [] for m in metrics}
    declared = {m.id: m for m in metrics}
    for r in rows:
        m = declared[r["id"]]
        by_ = {by: str(r["g"])} if by else {}
        v = MetricValue(r["id"], _number(r["value"]), m.unit, by_)
        found[r["id"]].append(_explained(v, m, missing))
    return [v for m in metrics for v in sorted(found[m.id], key=lambda v: tuple(v.by.values()))]


def compute(
    ws: Workspace,
    period: Period,
    metric_ids: Sequence[str] | None = None,
    by: str | None = None,
) -> list[MetricValue]:
    """Each metric for the whole organization (``by=None``) or for each group of ``by``;
    a value that is ``None`` carries its :class:`~eigyo.metrics.Reason`."""
    metrics = select(metric_ids, by)
    missing = missing_inputs(ws, metrics)
    if by == "month":
        months = period.months()
        return [
            replace(v, by={"month": mp.label})
            for m in metrics
            for mp in months
            for v in _run(m, ws, mp, None, missing)
        ]
    return _run_many(metrics, ws, period, by, missing)


def compute_series(
    ws: Workspace,
    period: Period,
    metric_ids: Sequence[str] | None = None,
    by: str | None = None,
) -> list[tuple[str, MetricValue]]:
    """The metrics for each calendar month within the period (clipped to it), labelled
    ``YYYY-MM``, for trend charts and control limits."""
    select(metric_ids, by)
    return [(mp.label, v) for mp in period.months() for v in compute(ws, mp, metric_ids, by)]


def _year_before(d: date, month_end: bool) -> date:
    y = d.year - 1
    last = monthrange(y, d.month)[1]
    return date(y, d.month, last if month_end else min(d.day, last))


def same_period_last_year(period: Period) -> Period:
    """The period one year earlier; a period ending on a month's last day keeps doing so."""
    end_is_month_end = period.end.day == monthrange(period.end.year, period.end.month)[1]
    return Period(
        _year_before(period.start, False),
        _year_before(period.end, end_is_month_end),
        f"{period.label}-ly",
    )


def compare(
    ws: Workspace,
    period: Period,
    metric_ids: Sequence[str] | None = None,
    by: str | None = None,
) -> list[Comparison]:
    """Each metric next to the same-length period just before and the same period a year ago.

    Grouped by ``month``, each month is compared with the month before it and the same month a
    year earlier.
    """
    if by == "month":
        select(metric_ids, by)
        return [
            replace(c, by={"month": mp.label})
            for mp in period.months()
            for c in compare(ws, mp, metric_ids, None)
        ]
    now = compute(ws, period, metric_ids, by)
    prev = {_key(v): v.value for v in compute(ws, period.previous(), metric_ids, by)}
    ly = {_key(v): v.value for v in compute(ws, same_period_last_year(period), metric_ids, by)}
    return [
        Comparison(v.id, v.unit, v.by, v.value, prev.get(_key(v)), ly.get(_key(v)), v.reason)
        for v in now
    ]


def _key(v: MetricValue) -> tuple[str, tuple[tuple[str, str], ...]]:
    return v.id, tuple(sorted(v.by.items()))
