"""Time in stage (median and p90) and the stuck deals it reveals.

A *stay* is one stage entry up to the opportunity's next entry (the order of
:func:`~eigyo.analysis.process.stages.stage_entries`). Only finished stays measure time in
stage; a stay
still running is the deal's current stage. Won and lost stages end deals and have no stay.

Stuck rule: an opportunity open at ``as_of`` is stuck when the time since it entered its current
stage exceeds the p90 of the *finished* stays in that stage as known at ``as_of`` (history after
``as_of`` is not used, so the list is what a manager would have seen that day). A stage with
fewer than ``min_stays`` finished stays has no reliable p90 and flags nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import ibis
import ibis.expr.types as ir

from eigyo.analysis.common import days_between, with_rep
from eigyo.analysis.process.funnel import check_dimension, cohort
from eigyo.analysis.process.stages import TERMINAL_KINDS, UNLISTED_ORDER, stage_entries
from eigyo.base.periods import Period
from eigyo.base.vocabulary import ALL
from eigyo.workspace import Workspace


@dataclass(frozen=True)
class Dwell:
    group: str
    stage: str
    stays: int
    median_days: float | None
    p90_days: float | None


def _open_kinds(e: ir.Table) -> ir.Table:
    return e.filter(e.kind.isnull() | ~e.kind.isin(TERMINAL_KINDS))


def time_in_stage(ws: Workspace, period: Period, by: str | None = None) -> list[Dwell]:
    """Finished stays of opportunities created in the period, per stage (and group)."""
    check_dimension(by)
    e = _open_kinds(stage_entries(ws, period))
    e = e.filter(e.dwell_days.notnull())
    c = cohort(ws, period)
    c = c.select(_opp=c.opportunity_id, group=c[by] if by else ibis.literal(ALL))
    j = e.join(c, e.opportunity_id == c._opp)
    g = j.group_by(["group", "stage"]).agg(
        stays=j.count(),
        median_days=j.dwell_days.median(),
        p90_days=j.dwell_days.quantile(0.9),
        _sort=j.stage_order.min().fill_null(UNLISTED_ORDER),
    )
    rows = g.order_by([g.group, g._sort, g.stage]).to_pyarrow().to_pylist()
    return [
        Dwell(r["group"], r["stage"], r["stays"], r["median_days"], r["p90_days"]) for r in rows
    ]


def open_at(o: ir.Table, until: ir.Value) -> ir.BooleanValue:
    """Created before ``until`` and not closed by then (a closed deal without closed_at: never
    open, since when it closed is unknown)."""
    not_closed = (o.closed_at.isnull() & (o.status == "open")) | (o.closed_at >= until)
    return (o.created_at < until) & not_closed


def _thresholds(ws: Workspace, until: ir.Value, min_stays: int) -> ir.Table:
    e = stage_entries(ws, until=until)
    e = _open_kinds(e).filter(e.dwell_days.notnull())
    g = e.group_by(_stage=e.stage).agg(_n=e.count(), p90_days=e.dwell_days.quantile(0.9))
    return g.filter(g._n >= min_stays)


def stuck_deals(ws: Workspace, as_of: datetime, *, min_stays: int = 5) -> list[dict[str, Any]]:
    """Open deals at ``as_of`` longer in their current stage than its p90, worst first.

    Each row: opportunity_id, rep_id, team, stage, entered_at, days_in_stage, p90_days,
    over_days (days beyond the p90) and amount.
    """
    until = ibis.timestamp(as_of)
    o = ws.table("opportunities")
    o = o.filter(open_at(o, until))
    cur = _open_kinds(stage_entries(ws, until=until))
    cur = cur.filter(cur.is_last)
    th = _thresholds(ws, until, min_stays)
    j = cur.join(th, cur.stage == th._stage)
    j = j.join(o, j.opportunity_id == o.opportunity_id)
    j = j.mutate(days_in_stage=days_between(j.entered_at, until))
    j = j.filter(j.days_in_stage > j.p90_days)
    j = with_rep(ws, j)
    j = j.select(
        "opportunity_id",
        rep_id=j.owner_rep_id,
        team=j.team,
        stage=j.stage,
        entered_at=j.entered_at,
        days_in_stage=j.days_in_stage,
        p90_days=j.p90_days,
        over_days=j.days_in_stage - j.p90_days,
        amount=j.amount,
    )
    return j.order_by([ibis.desc(j.over_days), j.opportunity_id]).to_pyarrow().to_pylist()  # type: ignore[no-any-return]
