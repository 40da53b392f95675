"""The records behind a metric value (a KPI tile, an explorer row, a chart bar), readable.

One definition: the rows are the metric's own population in the period, as the registry
declares it (:attr:`eigyo.metrics.Metric.drill_population`, :data:`eigyo.metrics.POPULATIONS`),
grouped by the registry's own :func:`~eigyo.metrics.with_group` — the same predicate and the
same grouping join that :func:`~eigyo.metrics.compute` counts. Read through the request's
workspace (the person's scope, narrowed by the view's filters), so the number of rows equals the
tile's count (``won_deals``), their amounts add up to its sum (``bookings``), and a ratio's rows
are its denominator (``win_rate``: the deals closed in the period).

What a person reads: names beside ids (the account, the rep and their team), the deal's stage
at the period's end, amounts and dates formatted by :func:`eigyo.diagnose.behind.cell` (dates are
stored as the workspace's local time), the days a deal still open at the period's end had been
idle, and the record's CRM link when ``[crm]`` configures one (:mod:`eigyo.settings._crm`).
Everything runs in the engine; Python receives one page, or the rows of an export.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import ibis
import ibis.expr.types as ir

from eigyo.analysis.common import days_between
from eigyo.app._scope import ScopedWorkspace
from eigyo.base.periods import Period, parse_period
from eigyo.diagnose import behind
from eigyo.errors import InputError
from eigyo.i18n import catalogue, t
from eigyo.metrics import DIMENSIONS, POPULATIONS, REGISTRY, Ctx, with_group
from eigyo.report.crm_links import CRM_COLUMNS as CRM_COLUMNS
from eigyo.report.crm_links import finding_links as finding_links
from eigyo.report.crm_links import with_links as with_links
from eigyo.settings import CrmLinks

#: The columns of each record table, in reading order (ids first, who and what, money, dates).
COLUMNS: dict[str, tuple[str, ...]] = {
    "opportunities": (
        "opportunity_id", "account_name", "product", "rep_name", "team", "type", "stage",
        "status", "amount", "created_at", "expected_close_date", "closed_at", "idle_days",
        "lost_reason",
    ),
    "leads": (
        "lead_id", "account_name", "title", "source", "campaign", "rep_name", "team", "status",
        "created_at", "mql_at", "first_response_at",
    ),
    "activities": (
        "activity_id", "type", "rep_name", "team", "account_name", "opportunity_id",
        "occurred_at", "duration_minutes", "outcome",
    ),
    "time_entries": ("rep_name", "team", "date", "category", "hours"),
    "orders": ("order_id", "account_name", "product", "amount", "ordered_at", "opportunity_id"),
}  # fmt: skip
#: The record's own column naming its rep, per table.
REP_OF: dict[str, str] = {
    "opportunities": "owner_rep_id",
    "leads": "owner_rep_id",
    "activities": "rep_id",
    "time_entries": "rep_id",
}
#: Newest first for the tables without an amount; the largest deal first otherwise.
ORDER: dict[str, tuple[str, ...]] = {
    "opportunities": ("amount", "opportunity_id"),
    "leads": ("created_at", "lead_id"),
    "activities": ("occurred_at", "activity_id"),
    "time_entries": ("date", "rep_name"),
    "orders": ("amount", "order_id"),
}


@dataclass(frozen=True)
class MetricRecords:
    """One page of a metric's records: ``columns`` to show (CRM link columns included when
    configured), ``rows`` as dicts, ``total`` records in all."""

    metric: str
    table: str
    period: Period
    by: str | None
    group: str | None
    columns: list[str] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0
    offset: int = 0
    #: Why a column reads "—" on every row (catalogue keys), e.g. days idle without activities.
    notes: tuple[str, ...] = ()


def population(
    ws: ScopedWorkspace, period: Period, metric_id: str, by: str | None, group: str | None
) -> tuple[str, ir.Table, Period]:
    """The metric's population in the period (and in one group of ``by``): the registry's
    predicate and grouping, nothing of their own. A month group narrows the period instead."""
    m = REGISTRY.get(metric_id)
    where = None if m is None else m.drill_population
    if where is None:
        raise InputError(
            f"Metric {metric_id!r} has no record list. Metrics with one: "
            + ", ".join(k for k, v in REGISTRY.items() if v.drill_population)
            + "."
        )
    if by is not None and by not in DIMENSIONS:
        raise InputError(f"Unknown grouping {by!r}. Use one of: {', '.join(DIMENSIONS)}.")
    if by == "month" and group:
        period, by, group = parse_period(group), None, None
    base, pred = POPULATIONS[where]
    ctx = Ctx(ws, period, by)
    tab = ws.table(base)
    tab = tab.filter(pred(tab, ctx))
    if by:
        try:
            tab = with_group(tab, base, ctx)
        except ValueError as e:
            raise InputError(f"{REGISTRY[metric_id].label_en}: {e}.") from None
        tab = tab.filter(tab.g == (group or "")).drop("g")
    return base, tab, period


def _names(ws: ScopedWorkspace, tab: ir.Table, base: str) -> ir.Table:
    """The rep's name and team, and the account's name, beside the ids (left joins: a record
    whose rep or account is unknown keeps its row)."""
    rep_col = REP_OF.get(base)
    if rep_col:
        reps = ws.table("reps").select(_rid=ibis._.rep_id, rep_name=ibis._.name, team=ibis._.team)
        tab = tab.left_join(reps, tab[rep_col] == reps._rid).drop("_rid")
    if "account_id" in tab.columns:
        acc = ws.table("accounts").select(_aid=ibis._.account_id, account_name=ibis._.name)
        tab = tab.left_join(acc, tab.account_id == acc._aid).drop("_aid")
    return tab


def _deal_facts(ws: ScopedWorkspace, tab: ir.Table, period: Period) -> ir.Table:
    """A deal's stage at the period's end (its latest stage entry before it) and, for a deal
    still open then, the days since its last activity (or its creation) — null when closed, or
    when no activity of the workspace names a deal (idle time is then unknown, not zero)."""
    end = ibis.timestamp(period.end_ts)
    sh = ws.table("stage_history")
    sh = sh.filter(sh.entered_at < end)
    stage = sh.group_by(_sopp=sh.opportunity_id).agg(stage=sh.stage.argmax(sh.entered_at))
    tab = tab.left_join(stage, tab.opportunity_id == stage._sopp).drop("_sopp")
    a = ws.base.table("activities")  # anyone's activity on a visible deal: a fact of the deal
    a = a.filter(a.opportunity_id.notnull() & (a.occurred_at < end))
    last = a.group_by(_aopp=a.opportunity_id).agg(_last=a.occurred_at.max())
    tab = tab.left_join(last, tab.opportunity_id == last._aopp).drop("_aopp")
    open_at_end = (tab.created_at < end) & (tab.closed_at.isnull() | (tab.closed_at >= end))
    idle = days_between(tab._last.coalesce(tab.created_at), end).floor()
    if not idle_known(ws, period):
        idle = ibis.null("float64")
    return tab.mutate(idle_days=ibis.ifelse(open_at_end, idle, ibis.null())).drop("_last")


def idle_known(ws: ScopedWorkspace, period: Period) -> bool:
    """Whether any activity before the period's end names a deal: without one, days idle are
    unknown (every deal would read as idle since its creation), not counted from creation."""
    a = ws.base.table("activities")
    a = a.filter(a.opportunity_id.notnull() & (a.occurred_at < ibis.timestamp(period.end_ts)))
    return int(a.limit(1).count().to_pyarrow().as_py()) > 0


def readable(ws: ScopedWorkspace, base: str, tab: ir.Table, period: Period) -> ir.Table:
    """``tab`` (rows of ``base``) with the columns of :data:`COLUMNS` (plus ``account_id`` for
    the account's CRM link), ordered largest amount or newest first."""
    tab = _names(ws, tab, base)
    if base == "opportunities":
        tab = _deal_facts(ws, tab, period)
    cols = [c for c in COLUMNS[base] if c in tab.columns]
    if "account_id" in tab.columns:
        cols.append("account_id")
    tab = tab.select(*cols)
    return tab


def _ordering(base: str) -> list[Any]:
    first, key = ORDER[base]
    return [ibis.desc(first), ibis.asc(key)] if first != key else [ibis.asc(key)]


def crm_columns(base: str, crm: CrmLinks) -> list[str]:
    """The CRM link columns this table gets: one per configured kind whose id it holds."""
    cols = {*COLUMNS[base], "account_id"} if "account_name" in COLUMNS[base] else set(COLUMNS[base])
    return [
        name
        for name, (kind, id_col) in CRM_COLUMNS.items()
        if crm.template(kind) and id_col in cols
    ]


def metric_records(
    ws: ScopedWorkspace,
    period: Period,
    metric_id: str,
    by: str | None = None,
    group: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> MetricRecords:
    """``limit`` records behind one metric value from ``offset``, and how many there are (one
    query: the count is a window over every record)."""
    base, tab, p = population(ws, period, metric_id, by, group)
    tab = readable(ws, base, tab, p)
    rows, total = behind.page_counted(tab, _ordering(base), limit, offset)
    notes = ("drill.idle_unknown",) if base == "opportunities" and not idle_known(ws, p) else ()
    links = crm_columns(base, ws.settings.crm)
    shown = [c for c in tab.columns if c != "account_id"] + links
    return MetricRecords(
        metric_id,
        base,
        p,
        by,
        group,
        shown,
        with_links(rows, links, ws.settings.crm),
        total,
        offset,
        notes,
    )


def label(column: str, lang: str) -> str:
    """A column's name as a person reads it: this module's columns, else the findings' ones."""
    key = f"drill.col.{column}"
    return t(key, lang) if key in catalogue() else behind.label(column, lang)


#: The unit each numeric column of these lists is read in (beside :data:`behind.UNITS`).
UNITS: dict[str, str] = {**behind.UNITS, "duration_minutes": "minutes"}
