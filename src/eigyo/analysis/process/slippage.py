"""Close-date pushes: how often, how far and on how much money reps move expected close dates.

A *push* is a change of ``expected_close_date`` made in the period whose new date is later than
the old one (a *pull-in*: earlier). Changes from or to a blank date are neither (setting a first
date is not slipping). Days are new − old; yen is the amount of each pushed opportunity counted
once however often it was pushed — an unknown amount stays unknown, never ¥0 (the convention of
:mod:`eigyo.analysis.process.pipeline`): ``amount_pushed`` sums the known amounts,
``deals_without_amount`` counts the pushed deals without one, and where every pushed deal of a
row lacks one it is None with ``amount_reason`` ``no_amounts``. The per-deal sample for the
diagnosis stays :func:`eigyo.analysis.deals.slippage_sample`; this is the manager's view by rep or
team.
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir

from eigyo.analysis.common import days_between, in_period, with_rep
from eigyo.analysis.process.pipeline import NO_AMOUNTS, known_sum
from eigyo.base.periods import Period
from eigyo.errors import InputError
from eigyo.workspace import Workspace

SLIPPAGE_DIMENSIONS = ("rep_id", "team")


def date_moves(ws: Workspace, period: Period) -> ir.Table:
    """Each close-date change made in the period: opportunity, owner, team, amount, days moved."""
    ch = ws.table("opportunity_changes")
    ch = ch.filter((ch.field == "expected_close_date") & in_period(ch.changed_at, period))
    ch = ch.mutate(_old=ch.old_value.try_cast("date"), _new=ch.new_value.try_cast("date"))
    ch = ch.filter(ch._old.notnull() & ch._new.notnull())
    ch = ch.mutate(days=days_between(ch._old.cast("timestamp"), ch._new.cast("timestamp")))
    o = ws.table("opportunities").select("opportunity_id", "owner_rep_id", "amount")
    j = ch.join(o, ch.opportunity_id == o.opportunity_id)
    j = with_rep(ws, j)
    return j.select("opportunity_id", "days", "amount", "team", rep_id=j.owner_rep_id)


def pushes(ws: Workspace, period: Period, by: str = "rep_id") -> list[dict[str, Any]]:
    """Per rep or team: pushes, deals pushed, days pushed (total, median), yen pushed over the
    known amounts with the pushed deals without one, pull-ins; most days pushed first."""
    if by not in SLIPPAGE_DIMENSIONS:
        raise InputError(f"Unknown dimension {by!r} for slippage. Use rep_id or team.")
    m = date_moves(ws, period)
    push = m.days > 0
    g = m.group_by(by).agg(
        pushes=push.cast("int64").sum(),
        deals_pushed=m.opportunity_id.nunique(where=push),
        days_pushed=m.days.sum(where=push),
        median_push_days=m.days.median(where=push),
        pull_ins=(m.days < 0).cast("int64").sum(),
    )
    per_deal = m.filter(push).select(by, "opportunity_id", "amount").distinct()
    yen = per_deal.group_by(by).agg(
        amount_pushed=per_deal.amount.sum(),
        deals_without_amount=per_deal.amount.isnull().cast("int64").sum(),
    )
    g = g.left_join(yen, g[by] == yen[by]).drop(f"{by}_right")
    g = g.mutate(
        days_pushed=g.days_pushed.fill_null(0.0),
        deals_without_amount=g.deals_without_amount.fill_null(0),  # no deal pushed: none lacks
    )
    rows: list[dict[str, Any]] = (
        g.order_by([ibis.desc(g.days_pushed), g[by]]).to_pyarrow().to_pylist()
    )
    for r in rows:  # ¥0 where no deal was pushed (a fact), None where all pushed lack an amount
        r["amount_pushed"] = known_sum(r["deals_pushed"], r["deals_without_amount"],
                                       r["amount_pushed"])  # fmt: skip
        r["amount_reason"] = NO_AMOUNTS if r["amount_pushed"] is None else None
    return rows
