"""The current structure (step 3): roles as declared in ``reps`` and as seen in behaviour.

A title says "generalist", but the data says who actually sources (owns and answers leads, is
named ``sdr_rep_id``), who closes (owns new-business deals) and who looks after existing
customers (expansion and renewal deals). The simulation starts from the behaviour, not the
title, and where roles are split the hand-off is measured: how fast the closer meets the
customer after the SDR hands over, and how many handed-over deals are dropped at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import polars as pl

from eigyo.analysis.common import days_between, in_period
from eigyo.analysis.process.handoff import MEETING_TYPES
from eigyo.analysis.process.stages import stage_exits
from eigyo.base.periods import Period
from eigyo.base.vocabulary import MANAGER, NO_TEAM
from eigyo.workspace import Workspace

#: A rep whose share of one kind of work is below this is not doing that kind of work.
MINOR_SHARE = 0.1
EXISTING_TYPES = ("expansion", "renewal")


def _frame(t: ir.Table) -> pl.DataFrame:
    df = pl.from_arrow(t.to_pyarrow())
    assert isinstance(df, pl.DataFrame)
    return df


def _counts(ws: Workspace, period: Period) -> pl.DataFrame:
    """Per rep: MQL leads owned, new and existing deals owned, deals sourced as SDR."""
    lead = ws.table("leads")
    lead = lead.filter(lead.mql_at.notnull() & in_period(lead.created_at, period))
    leads = lead.group_by(rep_id=lead.owner_rep_id).agg(leads=lead.count())
    o = ws.table("opportunities")
    o = o.filter(in_period(o.created_at, period))
    existing = o.type.isin(EXISTING_TYPES).fill_null(False)
    owned = o.group_by(rep_id=o.owner_rep_id).agg(
        opps_new=(~existing).cast("int64").sum(), opps_existing=existing.cast("int64").sum()
    )
    src = o.filter(o.sdr_rep_id.notnull())
    sourced = src.group_by(rep_id=src.sdr_rep_id).agg(sourced=src.count())
    reps = ws.table("reps").select("rep_id", "name", "team", "role", "monthly_cost", "hire_date")
    out = _frame(reps)
    for part in (leads, owned, sourced):
        out = out.join(_frame(part), on="rep_id", how="left")
    return out.with_columns(
        pl.col("team").fill_null(NO_TEAM),
        *[pl.col(c).fill_null(0) for c in ("leads", "opps_new", "opps_existing", "sourced")],
    )


def behaviour_role(role: str, leads: int, opps_new: int, opps_existing: int, sourced: int) -> str:
    """The role a rep plays in the data: sdr, closer, generalist, account_manager, or the title.

    Existing-customer deals outnumbering new ones make an account manager; leads with (almost)
    no deals of one's own make an SDR; deals with (almost) no leads make a closer; both, a
    generalist. Managers and reps with no work keep their declared role.
    """
    if role == MANAGER or leads + opps_new + opps_existing == 0:
        return role
    if opps_existing > opps_new:
        return "account_manager"
    if leads > 0 and opps_new <= MINOR_SHARE * max(leads, sourced):
        return "sdr"
    if opps_new > 0 and leads <= MINOR_SHARE * opps_new:
        return "closer"
    return "generalist"


def current_structure(ws: Workspace, period: Period) -> pl.DataFrame:
    """One row per rep: declared ``role``, ``behaviour`` and the counts behind it."""
    df = _counts(ws, period)
    roles = [
        behaviour_role(str(r["role"]), r["leads"], r["opps_new"], r["opps_existing"], r["sourced"])
        for r in df.select("role", "leads", "opps_new", "opps_existing", "sourced").iter_rows(
            named=True
        )
    ]  # one call per rep (tens to thousands), not per record
    return df.with_columns(behaviour=pl.Series(roles, dtype=pl.String)).sort("rep_id")


def first_meetings(ws: Workspace, period: Period) -> ir.Table:
    """Deals created in the period: days to the owner's first meeting, handed over or not."""
    o = ws.table("opportunities")
    o = o.filter(in_period(o.created_at, period))
    a = ws.table("activities")
    a = a.filter(a.type.isin(MEETING_TYPES) & a.opportunity_id.notnull())
    j = o.join(
        a,
        (o.opportunity_id == a.opportunity_id)
        & (a.rep_id == o.owner_rep_id)
        & (a.occurred_at >= o.created_at),
    )
    g = j.group_by([j.opportunity_id, j.sdr_rep_id, j.created_at]).agg(first=j.occurred_at.min())
    return g.select(
        "opportunity_id",
        handoff=g.sdr_rep_id.notnull(),
        days_to_meeting=days_between(g.created_at, g.first),
    )


@dataclass(frozen=True)
class Handoff:
    """SDR → closer hand-off compared with deals the owner sourced: delay and drop at once.

    ``extra_days``: median days to the first meeting, handed over minus self-sourced.
    ``extra_drop``: share dropped at the first stage, handed over minus self-sourced (≥ 0).
    ``measured`` is False when the data has no hand-off or no comparison group.
    """

    handoffs: int
    extra_days: float
    extra_drop: float
    measured: bool


def _first_stage_drop(ws: Workspace, period: Period) -> pl.DataFrame:
    ex = stage_exits(ws, period)
    w = ibis.window(group_by=ex.opportunity_id, order_by=ex.stage_order)
    ex = ex.mutate(_rank=ibis.row_number().over(w)).filter(lambda t: t._rank == 0)
    o = ws.table("opportunities").select(_opp=ibis._.opportunity_id, _sdr=ibis._.sdr_rep_id)
    ex = ex.join(o, ex.opportunity_id == o._opp).filter(lambda t: t.advanced.notnull())
    g = ex.group_by(handoff=ex._sdr.notnull()).agg(drop=(1 - ex.advanced).mean(), n=ex.count())
    return _frame(g)


def handoff_stats(ws: Workspace, period: Period) -> Handoff:
    """The hand-off as the data shows it over the period (``measured`` False without one)."""
    fm = _frame(
        first_meetings(ws, period)
        .group_by("handoff")
        .agg(days=ibis._.days_to_meeting.median(), n=ibis._.count())
    )
    drop = _first_stage_drop(ws, period)
    days = {bool(r["handoff"]): float(r["days"]) for r in fm.iter_rows(named=True)}
    n = {bool(r["handoff"]): int(r["n"]) for r in fm.iter_rows(named=True)}
    drops = {bool(r["handoff"]): float(r["drop"]) for r in drop.iter_rows(named=True)}
    if not ({True, False} <= days.keys() and {True, False} <= drops.keys()):
        return Handoff(n.get(True, 0), 0.0, 0.0, False)
    return Handoff(
        handoffs=n[True],
        extra_days=max(0.0, days[True] - days[False]),
        extra_drop=max(0.0, drops[True] - drops[False]),
        measured=True,
    )
