"""Step 5 (enablement) and the per-rep medians of step 7: chart data from the enablement samples.

Ramp curves read :func:`~eigyo.analysis.enablement.ramp.new_hire_months` (the rep-months of
``eigyo enablement ramp``: sellers, hire dates the importer did not assume, calendar tenure
months). The per-team medians read the samples the checks test —
:func:`~eigyo.analysis.enablement.onboarding.admin_share_by_rep` (``admin_time``),
:func:`~eigyo.analysis.enablement.onboarding.selling_hours_per_win` (``selling_hours_per_win``)
and :func:`~eigyo.analysis.enablement.onboarding.new_rep_deals` (``untrained_new_reps``),
:func:`~eigyo.analysis.enablement.training.capability_gap_by_rep` (``capability_gap``) — so the
charts those findings link show the numbers the findings name.
"""

from __future__ import annotations

import ibis
import polars as pl

from eigyo.analysis.enablement.onboarding import (
    admin_share_by_rep,
    new_rep_deals,
    selling_hours_per_win,
)
from eigyo.analysis.enablement.ramp import new_hire_months
from eigyo.analysis.enablement.training import capability_gap_by_rep
from eigyo.analysis.verdicts import frame
from eigyo.base.periods import Period
from eigyo.workspace import Workspace

#: Ramp curves stop after this many tenure months: ramp is about the first two years.
RAMP_MONTHS = 24


def ramp_curves(ws: Workspace, period: Period) -> pl.DataFrame:
    """Mean cumulative bookings per new hire by tenure month (1 = the month of hire), per
    fiscal-year hire cohort. Each cohort's curve stops at the tenure its newest rep has reached
    by the end of the period, so no curve is flattened by months nobody has lived yet."""
    j = new_hire_months(ws, period)
    fy = ws.settings.fiscal_year_start_month
    j = j.mutate(cohort=j.hire_date.year() - (j.hire_date.month() < fy).cast("int64"))
    newest = j.group_by("cohort").agg(reps=j.rep_id.nunique(), _newest=j.hire_date.max())
    end_month = period.end.year * 12 + period.end.month - 1
    lived = end_month - (newest._newest.year() * 12 + newest._newest.month() - 1) + 1
    newest = newest.mutate(_lived=ibis.least(lived, RAMP_MONTHS)).drop("_newest")
    b = j.group_by(["cohort", "tenure_month"]).agg(bookings=j.bookings.sum())
    g = b.join(newest, "cohort")
    g = g.filter(g.tenure_month <= g._lived)
    w = ibis.window(group_by=g.cohort, order_by=g.tenure_month, preceding=None, following=0)
    g = g.mutate(cumulative_per_rep=g.bookings.sum().over(w) / g.reps)
    g = g.select("cohort", "reps", "tenure_month", "bookings", "cumulative_per_rep")
    return frame(g.order_by(["cohort", "tenure_month"]))


def new_rep_win_rates(ws: Workspace, period: Period) -> pl.DataFrame:
    """Win rate of new reps' deals closed in the period per team and onboarding (``trained``
    0/1), and per onboarding over all teams (``team`` null): the untrained group and the trained
    baseline the ``untrained_new_reps`` check compares."""
    d = new_rep_deals(ws, period)
    by_team = d.group_by(["team", "trained"]).agg(won=d.won.sum(), closed=d.count())
    overall = d.group_by("trained").agg(won=d.won.sum(), closed=d.count())
    overall = overall.mutate(team=ibis.null("string")).select(*by_team.columns)
    g = by_team.union(overall)
    g = g.mutate(win_rate=(g.won / g.closed.nullif(0)).cast("float64"))
    return frame(g).sort(["team", "trained"], nulls_last=True)


def capability_gap_by_team(ws: Workspace, period: Period) -> pl.DataFrame:
    """Per team: assessed reps and the median of their gap points (the ``capability_gap``
    check's groups and value)."""
    s = capability_gap_by_rep(ws, period)
    g = s.group_by("team").agg(reps=s.count(), median_gap_points=s.gap_points.median())
    return frame(g.order_by("team"))


def admin_share_by_team(ws: Workspace, period: Period) -> pl.DataFrame:
    """Per team: reps with hours and the median of their admin shares (the ``admin_time``
    check's value: each rep counts once, however many hours they log)."""
    s = admin_share_by_rep(ws, period)
    g = s.group_by("team").agg(reps=s.count(), median_admin_share=s.admin_share.median())
    return frame(g.order_by("team"))


def hours_per_win_by_team_role(ws: Workspace, period: Period) -> pl.DataFrame:
    """Per team and role: reps with a win and the median of their selling hours per win (the
    ``selling_hours_per_win`` check's groups and value)."""
    s = selling_hours_per_win(ws, period)
    g = s.group_by(["team", "role"]).agg(
        reps=s.count(), median_hours_per_win=s.hours_per_win.median()
    )
    return frame(g.order_by(["team", "role"]))
