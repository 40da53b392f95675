"""Lead samples for the alignment step: response time, SLA, untouched leads, lead outcome."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from eigyo.analysis.common import in_period, minutes_between, with_rep
from eigyo.base.periods import Period
from eigyo.base.vocabulary import UNKNOWN
from eigyo.workspace import Workspace


def lead_outcomes(ws: Workspace, lead: ir.Table | None = None) -> ir.Table:
    """``lead`` (default: every lead) with whether each has an opportunity (leads.opportunity_id,
    or one whose lead_id is the lead: ``opportunity``, the numerator of
    lead_to_opportunity_rate) and whether it is won by now (``won``, the numerator of
    lead_conversion_rate). A caller passes the leads it keeps (a period's): the joins with the
    opportunities then run over those rows only, not over every lead of the workspace."""
    lead = ws.table("leads") if lead is None else lead
    o = ws.table("opportunities")
    won = o.filter(o.status == "won")
    by_lead = won.filter(won.lead_id.notnull()).select(_lid=won.lead_id).distinct()
    by_opp = won.select(_oid=won.opportunity_id)
    any_lead = o.filter(o.lead_id.notnull()).select(_alid=o.lead_id).distinct()
    any_opp = o.select(_aoid=o.opportunity_id)
    j = lead.left_join(by_lead, lead.lead_id == by_lead._lid)
    j = j.left_join(by_opp, j.opportunity_id == by_opp._oid)
    j = j.left_join(any_lead, j.lead_id == any_lead._alid)
    j = j.left_join(any_opp, j.opportunity_id == any_opp._aoid)
    return j.select(
        *lead.columns,
        won=(j._lid.notnull() | j._oid.notnull()).cast("int64"),
        opportunity=(j._alid.notnull() | j._aoid.notnull()).cast("int64"),
    )


def period_leads(ws: Workspace, period: Period) -> ir.Table:
    """Leads created in the period: ``lead_id``, ``rep_id``, ``team``, ``source``, ``campaign``,
    ``created_at``, ``mql_at``, ``response_minutes`` (MQL to first response; null without
    either), ``within_sla`` (0/1), ``untouched`` (0/1), ``won`` and ``opportunity`` (0/1,
    :func:`lead_outcomes`). The one row per lead that both lead samples read: the conversion
    by source (every lead) and the MQLs (:func:`mqls`), so a diagnosis joins the leads with
    their outcomes once."""
    sla = ws.settings.lead_sla_minutes
    lead = ws.table("leads")
    lead = lead.filter(in_period(lead.created_at, period))
    minutes = minutes_between(lead.mql_at, lead.first_response_at)
    lead = lead_outcomes(ws, lead.mutate(response_minutes=minutes))
    lead = with_rep(ws, lead)
    return lead.select(
        "lead_id",
        rep_id=lead.owner_rep_id,
        team=lead.team,
        source=lead.source.fill_null(UNKNOWN),
        campaign=lead.campaign.fill_null(UNKNOWN),
        created_at=lead.created_at,
        mql_at=lead.mql_at,
        response_minutes=lead.response_minutes,
        within_sla=(lead.response_minutes.notnull() & (lead.response_minutes <= sla)).cast("int64"),
        untouched=lead.first_response_at.isnull().cast("int64"),
        won=lead.won.fill_null(0),
        opportunity=lead.opportunity.fill_null(0),
    )


def mqls(t: ir.Table) -> ir.Table:
    """The MQLs (an ``mql_at``) of a :func:`period_leads` table, with the columns of
    :func:`mql_leads`."""
    t = t.filter(t.mql_at.notnull())
    return t.select(
        "lead_id", "rep_id", "team", "source", "created_at", "response_minutes", "within_sla",
        "untouched", "won",
    )  # fmt: skip


def mql_leads(ws: Workspace, period: Period) -> ir.Table:
    """Leads created in the period with an mql_at: response minutes, within SLA, untouched, won."""
    return mqls(period_leads(ws, period))


def lead_value(ws: Workspace, period: Period, sample: ir.Table | None = None) -> dict[str, float]:
    """Won amount per answered lead and the won rate of leads within / outside the SLA: the exchange
    rate the alignment checks use to turn missed leads into money. ``sample``: the period's
    :func:`mql_leads` already computed (a diagnosis holds it), else built here."""
    s = mql_leads(ws, period) if sample is None else sample
    o = ws.table("opportunities")
    avg = o.filter((o.status == "won") & in_period(o.closed_at, period)).amount.mean()
    agg = (
        s.aggregate(
            answered=(1 - s.untouched).sum(),
            won_answered=(s.won * (1 - s.untouched)).sum(),
            in_sla=s.within_sla.sum(),
            won_in_sla=(s.won * s.within_sla).sum(),
            out_sla=(1 - s.within_sla).sum(),
            won_out_sla=(s.won * (1 - s.within_sla)).sum(),
        )
        .mutate(avg_won=ibis.literal(0.0) + avg.as_scalar())
        .to_pyarrow()
        .to_pylist()[0]
    )

    def rate(k: str, n: str) -> float:
        return float(agg[k] or 0) / float(agg[n]) if agg[n] else 0.0

    return {
        "won_rate_answered": rate("won_answered", "answered"),
        "won_rate_in_sla": rate("won_in_sla", "in_sla"),
        "won_rate_out_sla": rate("won_out_sla", "out_sla"),
        "avg_won_amount": float(agg["avg_won"] or 0.0),
    }
