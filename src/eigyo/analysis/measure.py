"""Step 1 (measure): the chart data of the KPI step, read from the deals the checks test.

Bookings per month and the win rates per team come from :mod:`eigyo.analysis.deals` and
:func:`~eigyo.analysis.common.with_rep`, so "closed in the period", "won" and "the owner's team"
mean what they mean in the ``kpi_gap_by_team`` check. That check compares teams *within a deal
type*, so the win rates come per team and per team and type: the number a finding names is one
of the chart's numbers.
"""

from __future__ import annotations

import ibis.expr.types as ir
import polars as pl

from eigyo.analysis.common import with_rep
from eigyo.analysis.deals import closed_deals
from eigyo.analysis.verdicts import frame
from eigyo.base.periods import Period
from eigyo.workspace import Workspace


def win_rates(t: ir.Table, by: list[str]) -> pl.DataFrame:
    """Won, closed, lost and win rate per ``by`` of a sample with a 0/1 ``won`` column (one row
    per deal), computed in the engine; rows ordered by ``by``."""
    g = t.group_by(by).agg(won=t.won.sum(), closed=t.count())
    g = g.mutate(lost=g.closed - g.won, win_rate=(g.won / g.closed.nullif(0)).cast("float64"))
    return frame(g.order_by(by))


def bookings_by_month(ws: Workspace) -> pl.DataFrame:
    """Won amount and won deals per calendar month and owner team over the whole history."""
    o = ws.table("opportunities")
    o = with_rep(ws, o.filter((o.status == "won") & o.closed_at.notnull()))
    month = o.closed_at.truncate("M").cast("date")
    out = o.group_by(month=month, team=o.team).agg(bookings=o.amount.sum(), deals=o.count())
    return frame(out.order_by(["month", "team"]))


def win_rate_by_team(ws: Workspace, period: Period) -> pl.DataFrame:
    """Won, lost and win rate per team among deals closed in the period (the check's sample)."""
    return win_rates(closed_deals(ws, period), ["team"])


def win_rate_by_team_type(ws: Workspace, period: Period) -> pl.DataFrame:
    """The same per team and deal type: the groups ``kpi_gap_by_team`` tests."""
    return win_rates(closed_deals(ws, period), ["team", "type"])
