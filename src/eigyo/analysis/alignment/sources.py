"""Step 4, check the connection: does marketing's lead reach sales, fast, and turn into revenue?

Sample: the MQLs of :func:`eigyo.analysis.alignment.leads.mql_leads` (leads created in the
period with an
``mql_at``), extended with campaign, landing page, arrival time, SQL, opportunity and amount.
Rules:

- **Arrival** is ``mql_at``: the SLA clock starts when marketing hands the lead over. Hour and
  weekday are read from the stored naive local time, i.e. in the workspace time zone. A lead
  arrives *outside business hours* on Saturdays, Sundays, Japan's national holidays, or outside
  ``[leads] business_hours`` (``[start, end)``).
- **Response** minutes = first_response_at − mql_at; median and p90 (linear interpolation, so a
  median of an even count averages the two middle values) over answered leads; the SLA rate
  counts unanswered leads as missed (as ``lead_response_sla_rate``).
- **Opportunity** of a lead: ``leads.opportunity_id`` or any opportunity whose ``lead_id`` is the
  lead (a pair linked both ways counts once). Pipeline sums their amounts, won the won ones;
  ``won`` is :func:`~eigyo.analysis.alignment.leads.lead_outcomes` (won by now).
- **Landing page** is not a canonical column: it is read from the leads' ``extra`` JSON under
  ``landing_page``, ``landing_page_id`` or ``ランディングページ`` (the first present). The example
  mapping ``examples/olist-funnel.toml`` maps Olist's ``landing_page_id`` to ``campaign``; a
  mapping that leaves it unmapped keeps it in ``extra``, where this module finds it.
- **Disqualification reason** likewise comes from ``extra`` (``disqualification_reason``,
  ``disqualified_reason``, ``dq_reason``, ``失注理由``, ``不適格理由``); "(unknown)" otherwise.
- **Time of day** is unknown when every ``mql_at`` sits at 00:00:00 (an export of dates only):
  hour and business_hours are then null, not midnight and "outside business hours", and
  ``outside_hours`` is null (:func:`eigyo.analysis.availability.has_time_of_day`).
- **SQL** counts are null when no lead of the sample has an ``sql_at`` (the export does not record
  the step, as in Olist), so a missing step never reads as a 0% conversion.

Costs: see :mod:`eigyo.analysis.alignment.lead_value`.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import polars as pl

from eigyo.analysis.alignment.leads import mql_leads
from eigyo.analysis.availability import has_time_of_day
from eigyo.analysis.verdicts import (
    check_by,
    frame,
    holiday_table,
    is_business_time,
    json_text,
    with_wilson,
)
from eigyo.base.periods import Period
from eigyo.base.vocabulary import UNKNOWN
from eigyo.workspace import Workspace

LANDING_KEYS = ("landing_page", "landing_page_id", "ランディングページ")
DQ_KEYS = (
    "disqualification_reason",
    "disqualified_reason",
    "dq_reason",
    "失注理由",
    "不適格理由",
)
FUNNEL_BY = ("source", "campaign", "landing_page", "team", "rep_id")
RESPONSE_BY = (
    "team", "rep_id", "source", "campaign", "hour", "weekday", "window", "business_hours",
)  # fmt: skip


def lead_opportunities(ws: Workspace) -> ir.Table:
    """Per lead: number of linked opportunities, pipeline and won amount (each pair once)."""
    lead = ws.table("leads")
    o = ws.table("opportunities")
    direct = lead.join(o, lead.opportunity_id == o.opportunity_id).select(
        lead_id=lead.lead_id, oid=o.opportunity_id, amount=o.amount, status=o.status
    )
    by_lead = o.filter(o.lead_id.notnull()).select(
        lead_id=o.lead_id, oid=o.opportunity_id, amount=o.amount, status=o.status
    )
    links = direct.union(by_lead, distinct=True)
    # won amount of a lost deal: 0 when its amount is known; unknown amounts stay unknown (null)
    won_amount = ibis.ifelse(links.status == "won", links.amount, links.amount * 0.0)
    return links.group_by("lead_id").agg(
        opportunities=links.oid.count(),
        pipeline_jpy=links.amount.sum(),
        won_jpy=won_amount.sum(),
    )


def lead_sample(ws: Workspace, period: Period) -> ir.Table:
    """MQLs of the period with every column the alignment views group by and count.

    Keeps the columns of :func:`mql_leads` and adds campaign, landing_page, mql_at, hour, weekday,
    business_hours (1 = arrived within them), sql, disqualified, dq_reason, opportunity (0/1),
    pipeline_jpy and won_jpy.
    """
    base = mql_leads(ws, period)
    lead = ws.table("leads")
    attrs = lead.select(
        _lid=lead.lead_id,
        campaign=lead.campaign.fill_null(UNKNOWN),
        landing_page=json_text(lead.extra, LANDING_KEYS).fill_null(UNKNOWN),
        dq_reason=json_text(lead.extra, DQ_KEYS).fill_null(UNKNOWN),
        mql_at=lead.mql_at,
        sql=lead.sql_at.notnull().cast("int64"),
        disqualified=(lead.disqualified_at.notnull() | (lead.status == "disqualified"))
        .fill_null(False)
        .cast("int64"),
    )
    j = base.join(attrs, base.lead_id == attrs._lid).drop("_lid")
    hol = holiday_table(period.start, period.end)
    j = j.left_join(hol, j.mql_at.date() == hol._holiday)
    in_hours = is_business_time(j.mql_at, j._holiday, ws.settings.business_hours)
    # dates without a time are not midnight arrivals: hour and business hours unknown (null)
    timed = has_time_of_day(ws, "leads", "mql_at")
    j = j.mutate(
        hour=j.mql_at.hour() if timed else ibis.null("int64"),
        weekday=j.mql_at.day_of_week.index(),
        business_hours=in_hours.cast("int64") if timed else ibis.null("int64"),
    ).drop("_holiday")
    opp = lead_opportunities(ws)
    j = j.left_join(opp, j.lead_id == opp.lead_id).drop("lead_id_right")
    # a lead without a deal adds 0; a deal without an amount adds nothing (unknown, not 0), so a
    # group whose deals all lack amounts sums to null ("—"), not 0
    has = j.opportunities.fill_null(0) > 0
    return j.mutate(
        opportunity=has.cast("int64"),
        pipeline_jpy=ibis.ifelse(has, j.pipeline_jpy, 0.0),
        won_jpy=ibis.ifelse(has, j.won_jpy, 0.0),
    ).drop("opportunities")


def funnel(ws: Workspace, period: Period, by: str = "source") -> pl.DataFrame:
    """MQL → SQL → opportunity → won per group, with rates of MQLs, Wilson intervals and yen.

    Columns: the group, mql, sql, opportunity, won, sql_rate, opportunity_rate, won_rate (each
    ÷ mql; won_rate with _low/_high), pipeline_jpy, won_jpy. Sorted by mql, largest first.
    """
    check_by(by, FUNNEL_BY, "the lead funnel")
    s = lead_sample(ws, period)
    agg = s.group_by(by).agg(
        mql=s.count(),
        sql=s["sql"].sum(),
        opportunity=s.opportunity.sum(),
        won=s.won.sum(),
        pipeline_jpy=s.pipeline_jpy.sum(),
        won_jpy=s.won_jpy.sum(),
    )
    df = frame(agg.order_by([ibis.desc("mql"), by]))
    recorded = bool(df.height) and int(df["sql"].sum()) > 0
    df = df.with_columns(
        sql=pl.col("sql") if recorded else pl.lit(None, pl.Int64),
        sql_rate=(pl.col("sql") / pl.col("mql")) if recorded else pl.lit(None, pl.Float64),
        opportunity_rate=pl.col("opportunity") / pl.col("mql"),
    )
    return with_wilson(df, "won", "mql", "won_rate")


def _quantiles(s: ir.Table) -> dict[str, ir.Value]:
    rm = s.response_minutes
    return {
        "mql": s.count(),
        "answered": rm.count(),
        "untouched": s.untouched.sum(),
        "within_sla": s.within_sla.sum(),
        "median_minutes": rm.median(),
        "p90_minutes": rm.quantile(0.9),
    }


def response_times(ws: Workspace, period: Period, by: str = "team") -> pl.DataFrame:
    """Response time per group: median and p90 minutes, SLA rate and untouched rate (Wilson).

    ``by`` = team, rep_id, source, campaign, hour (0–23), weekday (0 = Monday) or business_hours
    (1 = the lead arrived within business hours), or window (weekday × hour). Columns: group,
    mql, answered, untouched, within_sla, median_minutes, p90_minutes, sla_rate(+_low/_high),
    untouched_rate(+_low/_high).
    """
    check_by(by, RESPONSE_BY, "lead response times")
    s = lead_sample(ws, period)
    keys = ["weekday", "hour"] if by == "window" else [by]
    df = frame(s.group_by(keys).agg(**_quantiles(s)).order_by(keys))
    df = with_wilson(df, "within_sla", "mql", "sla_rate")
    return with_wilson(df, "untouched", "mql", "untouched_rate")


def response_overall(ws: Workspace, period: Period) -> dict[str, float | int | None]:
    """The organization's response figures (one row of :func:`response_times` without groups),
    plus how many MQLs arrived outside business hours."""
    s = lead_sample(ws, period)
    expr = s.aggregate(**_quantiles(s), outside_hours=(1 - s.business_hours).sum())
    df = with_wilson(frame(expr), "within_sla", "mql", "sla_rate")
    return df.to_dicts()[0]


def never_answered(ws: Workspace, period: Period) -> pl.DataFrame:
    """MQLs of the period without any first response, oldest first: the list to call back."""
    s = lead_sample(ws, period)
    s = s.filter(s.untouched == 1)
    cols = ("lead_id", "mql_at", "source", "campaign", "team", "rep_id", "business_hours")
    return frame(s.select(*cols).order_by(["mql_at", "lead_id"]))


def disqualifications(ws: Workspace, period: Period, by: str = "source") -> pl.DataFrame:
    """Disqualified MQLs per reason and group: count and share of the group's disqualified leads.

    Reasons come from ``extra`` (see the module docstring); "(unknown)" when the export has none.
    """
    check_by(by, FUNNEL_BY, "disqualification reasons")
    s = lead_sample(ws, period)
    s = s.filter(s.disqualified == 1)
    agg = s.group_by([by, "dq_reason"]).agg(n=s.count())
    total = agg.n.sum().over(group_by=agg[by])
    agg = agg.mutate(share=agg.n / total)
    return frame(agg.order_by([by, ibis.desc("n"), "dq_reason"]))
