"""Step 6 (data): the chart data of the segment matrix, read from the closed deals.

Industries come from :func:`~eigyo.analysis.deals.closed_deals`, the sample the
``underserved_segment`` check tests. The check compares industries *within a deal type*, so the
matrix carries the win rate per industry and type beside the industry's own.
"""

from __future__ import annotations

import ibis
import polars as pl

from eigyo.analysis.deals import closed_deals
from eigyo.analysis.measure import win_rates
from eigyo.analysis.verdicts import frame
from eigyo.base.periods import Period
from eigyo.workspace import Workspace


def segment_matrix(ws: Workspace, period: Period) -> pl.DataFrame:
    """Per industry: deals closed in the period, their share of all closed deals, win rate and
    bookings; the largest industries first."""
    d = closed_deals(ws, period)
    g = d.group_by("industry").agg(
        won=d.won.sum(), closed=d.count(), bookings=(d.amount * d.won).sum()
    )
    g = g.mutate(
        lost=g.closed - g.won,
        win_rate=(g.won / g.closed.nullif(0)).cast("float64"),
        share=(g.closed / g.closed.sum().over(ibis.window())).cast("float64"),
    )
    return frame(g.order_by([ibis.desc("closed"), "industry"]))


def segment_by_type(ws: Workspace, period: Period) -> pl.DataFrame:
    """Won, closed and win rate per industry and deal type: the groups the check tests."""
    return win_rates(closed_deals(ws, period), ["industry", "type"])
