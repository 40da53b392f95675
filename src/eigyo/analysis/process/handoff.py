"""SDR → closer hand-offs: days from the hand-off (the opportunity's creation) to the owner's
first meeting or demo on it, and whether the deal was won."""

from __future__ import annotations

import ibis.expr.types as ir

from eigyo.analysis.common import days_between, in_period
from eigyo.base.periods import Period
from eigyo.workspace import Workspace

MEETING_TYPES = ("meeting", "demo")


def handoffs(ws: Workspace, period: Period) -> ir.Table:
    """Opportunities created in the period with an ``sdr_rep_id`` and a first owner meeting."""
    o = ws.table("opportunities")
    o = o.filter(o.sdr_rep_id.notnull() & in_period(o.created_at, period))
    a = ws.table("activities")
    a = a.filter(a.type.isin(MEETING_TYPES) & a.opportunity_id.notnull())
    j = o.join(
        a,
        (o.opportunity_id == a.opportunity_id)
        & (a.rep_id == o.owner_rep_id)
        & (a.occurred_at >= o.created_at),
    )
    first = j.group_by([j.opportunity_id, j.owner_rep_id, j.status]).agg(
        created=j.created_at.min(), first_meeting=j.occurred_at.min()
    )
    return first.select(
        "opportunity_id",
        rep_id=first.owner_rep_id,
        days_to_meeting=days_between(first.created, first.first_meeting),
        won=(first.status == "won").cast("int64"),
        closed=first.status.isin(["won", "lost"]).cast("int64"),
    )


def sdr_sourced_deals(ws: Workspace, period: Period) -> ir.Table:
    """Closed opportunities with an ``sdr_rep_id`` created in the period, by closer (owner):
    whether deals handed over by SDRs are won, meeting or not."""
    o = ws.table("opportunities")
    o = o.filter(
        o.sdr_rep_id.notnull() & in_period(o.created_at, period) & o.status.isin(["won", "lost"])
    )
    return o.select(
        "opportunity_id",
        "amount",
        rep_id=o.owner_rep_id,
        sdr_rep_id=o.sdr_rep_id,
        won=(o.status == "won").cast("int64"),
    )
