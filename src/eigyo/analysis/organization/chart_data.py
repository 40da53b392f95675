"""Step 7 (organization): the chart data of where the hours go.

Hours come from :func:`~eigyo.analysis.organization.time_use.entries_in`, the population of every
time figure (entries dated in the period, the rep's team). The admin-time and hours-per-win
checks test medians over reps (:mod:`eigyo.analysis.enablement.chart_data` shapes those); the
shares here weight reps by their hours, as the metric ``admin_time_share`` does.
"""

from __future__ import annotations

import ibis
import polars as pl

from eigyo.analysis.organization.time_use import entries_in
from eigyo.analysis.verdicts import frame
from eigyo.base.periods import Period
from eigyo.workspace import Workspace


def time_share(ws: Workspace, period: Period) -> pl.DataFrame:
    """Hours per team and time category in the period, and each category's share of the team's
    hours."""
    te = entries_in(ws, period)
    g = te.group_by(["team", "category"]).agg(hours=te.hours.sum())
    g = g.mutate(share=(g.hours / g.hours.sum().over(ibis.window(group_by=g.team))).cast("float64"))
    return frame(g.order_by(["team", "category"]))
