"""Capacity (steps 3 and 7): how many selling hours each rep has and where they go.

Selling hours come from ``time_entries``; the hours a lead or a deal consumes come from activity
durations; arrival rates say how much work flows in, by source and segment. Together they are the
load the simulation puts on each role, so that a structure that overloads its closers shows it.
Activities without a duration count with the median duration of their type.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import polars as pl

from eigyo.analysis.common import in_period, with_account
from eigyo.analysis.process.stages import stage_entries
from eigyo.base.periods import Period, business_days
from eigyo.base.vocabulary import UNKNOWN
from eigyo.workspace import Workspace

#: Minutes assumed for an activity type whose durations are all missing.
DEFAULT_MINUTES = 30.0


def _frame(t: ir.Table) -> pl.DataFrame:
    df = pl.from_arrow(t.to_pyarrow())
    assert isinstance(df, pl.DataFrame)
    return df


def selling_hours(ws: Workspace, period: Period) -> pl.DataFrame:
    """Per rep: selling and all logged hours, days logged, selling hours per business day."""
    te = ws.table("time_entries")
    te = te.filter((te.date >= ibis.literal(period.start)) & (te.date <= ibis.literal(period.end)))
    g = te.group_by("rep_id").agg(
        selling_hours=(te.category == "selling").ifelse(te.hours, 0.0).sum(),
        all_hours=te.hours.sum(),
        days_logged=te.date.nunique(),
    )
    df = _frame(g)
    bdays = max(business_days(period.start, period.end), 1)
    return df.with_columns(
        selling_per_day=pl.col("selling_hours") / pl.col("days_logged").clip(1),
        selling_per_bday=pl.col("selling_hours") / bdays,
    ).sort("rep_id")


def _activities(ws: Workspace, period: Period) -> ir.Table:
    """Activities in the period with ``hours`` (missing durations → the type's median)."""
    a = ws.table("activities")
    a = a.filter(in_period(a.occurred_at, period))
    med = a.group_by("type").agg(_med=a.duration_minutes.median())
    a = a.left_join(med, a.type == med.type).drop("type_right")
    minutes = a.duration_minutes.fill_null(a._med).fill_null(DEFAULT_MINUTES)
    target = ibis.cases(
        (a.opportunity_id.notnull(), "opportunity"), (a.lead_id.notnull(), "lead"), else_="other"
    )
    return a.mutate(hours=minutes.cast("float64") / 60.0, target=target).drop("_med")


def activity_hours(ws: Workspace, period: Period) -> pl.DataFrame:
    """Hours per rep, activity type and target (opportunity, lead, other)."""
    a = _activities(ws, period)
    g = a.group_by(["rep_id", "type", "target"]).agg(hours=a.hours.sum(), n=a.count())
    return _frame(g).sort(["rep_id", "type", "target"])


def stage_hours(ws: Workspace, period: Period) -> pl.DataFrame:
    """Hours spent on deals while they sat in each stage (activity time inside the entry)."""
    a = _activities(ws, period)
    a = a.filter(a.opportunity_id.notnull())
    e = stage_entries(ws)
    j = a.join(
        e,
        (a.opportunity_id == e.opportunity_id)
        & (a.occurred_at >= e.entered_at)
        & (e.next_at.isnull() | (a.occurred_at < e.next_at)),
    )
    g = j.group_by(["stage", "kind"]).agg(hours=j.hours.sum(), deals=j.opportunity_id.nunique())
    return _frame(g).with_columns(hours_per_deal=pl.col("hours") / pl.col("deals")).sort("stage")


def work_per_record(ws: Workspace, period: Period) -> pl.DataFrame:
    """Per rep: hours per deal worked and per lead worked, and deal hours' share of selling time.

    ``deal_share`` (deal hours ÷ selling hours) is the load that keeps a rep from answering new
    leads at once; the simulation scales response times by it when a structure changes it.
    """
    a = _activities(ws, period)
    g = a.group_by("rep_id").agg(
        deal_hours=(a.target == "opportunity").ifelse(a.hours, 0.0).sum(),
        lead_hours=(a.target == "lead").ifelse(a.hours, 0.0).sum(),
        deals=a.opportunity_id.nunique(),
        leads=a.lead_id.nunique(),
    )
    df = _frame(g).join(selling_hours(ws, period), on="rep_id", how="left")
    return df.with_columns(
        hours_per_deal=pl.col("deal_hours") / pl.col("deals").clip(1),
        hours_per_lead=pl.col("lead_hours") / pl.col("leads").clip(1),
        deal_share=(pl.col("deal_hours") / pl.col("selling_hours")).clip(0.0, 0.95),
    ).sort("rep_id")


def lead_arrivals(ws: Workspace, period: Period, by: str = "source") -> pl.DataFrame:
    """MQL leads per calendar day of the period by ``by`` (source, campaign, team, industry…)."""
    lead = ws.table("leads")
    lead = lead.filter(in_period(lead.created_at, period) & lead.mql_at.notnull())
    if by in ("industry", "region"):
        lead = with_account(ws, lead)
    elif by == "team":
        reps = ws.table("reps").select(_r=ibis._.rep_id, team=ibis._.team)
        lead = lead.left_join(reps, lead.owner_rep_id == reps._r)
    g = lead.group_by(key=lead[by].cast("string").fill_null(UNKNOWN)).agg(n=lead.count())
    return _frame(g).with_columns(per_day=pl.col("n") / period.days).sort("key")


def opportunity_arrivals(ws: Workspace, period: Period, by: str = "type") -> pl.DataFrame:
    """Opportunities created per calendar day by ``by`` (type, product, industry, team…)."""
    o = ws.table("opportunities")
    o = o.filter(in_period(o.created_at, period))
    if by in ("industry", "region"):
        o = with_account(ws, o)
    elif by == "team":
        reps = ws.table("reps").select(_r=ibis._.rep_id, team=ibis._.team)
        o = o.left_join(reps, o.owner_rep_id == reps._r)
    g = o.group_by(key=o[by].cast("string").fill_null(UNKNOWN)).agg(n=o.count())
    return _frame(g).with_columns(per_day=pl.col("n") / period.days).sort("key")
