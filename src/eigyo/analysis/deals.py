"""Per-opportunity samples for the measure, data and process checks.

Each function returns an Ibis table with one row per opportunity and the columns the checks
group by (team, rep_id, industry …) and test on (won, slipped, stale …).
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from eigyo.analysis.common import days_between, history_period, in_period, with_account, with_rep
from eigyo.base.periods import Period
from eigyo.base.vocabulary import STALE_DAYS, UNKNOWN
from eigyo.metrics._needs import present
from eigyo.workspace import Workspace


def closed_deals(ws: Workspace, period: Period) -> ir.Table:
    """Opportunities closed (won or lost) in the period, with ``won`` as 0/1."""
    o = ws.table("opportunities")
    o = o.filter(
        o.status.isin(["won", "lost"]) & o.closed_at.notnull() & in_period(o.closed_at, period)
    )
    o = with_account(ws, with_rep(ws, o))
    return o.select(
        "opportunity_id",
        rep_id=o.owner_rep_id,
        team=o.team,
        role=o.role,
        industry=o.industry.fill_null(UNKNOWN),
        type=o.type.fill_null(UNKNOWN),
        region=o.region,
        amount=o.amount,
        won=(o.status == "won").cast("int64"),
        cycle_days=days_between(o.created_at, o.closed_at),
        closed_at=o.closed_at,
    )


def first_expected_close(ws: Workspace) -> ir.Table:
    """Each opportunity's first expected close date: the old value of its earliest change of
    ``expected_close_date``, else the current value (docs/metrics.md, slippage_rate)."""
    ch = ws.table("opportunity_changes")
    ch = ch.filter((ch.field == "expected_close_date") & ch.old_value.notnull())
    first = ch.group_by("opportunity_id").agg(first_change=ch.changed_at.min())
    earliest = ch.join(
        first, (ch.opportunity_id == first.opportunity_id) & (ch.changed_at == first.first_change)
    )
    earliest = earliest.group_by("opportunity_id").agg(first_value=earliest.old_value.min())
    o = ws.table("opportunities")
    j = o.left_join(earliest, o.opportunity_id == earliest.opportunity_id)
    first_date = j.first_value.cast("date").coalesce(j.expected_close_date)
    return j.select(o.opportunity_id, first_close=first_date)


def slippage_sample(ws: Workspace, period: Period) -> ir.Table:
    """Opportunities whose first expected close date falls in the period; ``slipped`` = 1 when
    not closed on or before that date."""
    fec = first_expected_close(ws)
    o = ws.table("opportunities")
    j = o.join(fec, o.opportunity_id == fec.opportunity_id)
    j = j.filter(
        (j.first_close >= ibis.date(period.start)) & (j.first_close <= ibis.date(period.end))
    )
    closed_in_time = j.closed_at.notnull() & (j.closed_at.date() <= j.first_close)
    j = with_rep(ws, j)
    return j.select(
        "opportunity_id",
        rep_id=j.owner_rep_id,
        team=j.team,
        amount=j.amount,
        slipped=ibis.ifelse(closed_in_time, 0, 1).cast("int64"),
    )


#: What idle time needs: activities linked to deals (the ``stale_deals`` check's declaration).
ACTIVITY_ON_DEALS = "activities.opportunity_id"


def open_deals_at_end(ws: Workspace, period: Period, stale_days: int = STALE_DAYS) -> ir.Table:
    """Opportunities open at the end of the period; ``stale`` = 1 when no activity touched them
    in the last ``stale_days`` days (or ever).

    When the workspace records no activity on any deal (no activities imported, or none linked
    to an opportunity), ``idle_days`` and ``stale`` are null: an absent table says nothing about
    how busy the deals were, and "no activity ever" would flag every open deal as stale."""
    o = ws.table("opportunities")
    end = ibis.timestamp(period.end_ts)
    o = o.filter((o.created_at < end) & (o.closed_at.isnull() | (o.closed_at >= end)))
    a = ws.table("activities")
    a = a.filter(a.opportunity_id.notnull() & (a.occurred_at < end))
    last = a.group_by(_opp=a.opportunity_id).agg(last_activity=a.occurred_at.max())
    j = o.left_join(last, o.opportunity_id == last._opp)
    idle = days_between(j.last_activity.coalesce(j.created_at), end)
    if not present(ws, [ACTIVITY_ON_DEALS])[ACTIVITY_ON_DEALS]:
        idle = ibis.null("float64")
    j = with_rep(ws, j.mutate(idle_days=idle))
    return j.select(
        "opportunity_id",
        rep_id=j.owner_rep_id,
        team=j.team,
        amount=j.amount,
        idle_days=j.idle_days,
        missing_close_date=j.expected_close_date.isnull().cast("int64"),
        stale=(j.idle_days > stale_days).cast("int64"),
    )


def closed_deals_vs_previous(ws: Workspace, period: Period) -> ir.Table:
    """Closed deals of the period (``current`` = 1) and of its history baseline (``current`` =
    0, :func:`~eigyo.analysis.common.history_period`: the same dates a year before when the data
    covers them, else the previous calendar period — a month against the month before, never
    the previous 31 days): a team's own history as its baseline."""
    now = closed_deals(ws, period).mutate(current=ibis.literal(1, "int64"))
    base = history_period(ws, period)
    before = closed_deals(ws, base).mutate(current=ibis.literal(0, "int64"))
    return now.union(before)
