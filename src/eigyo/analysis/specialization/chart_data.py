"""Step 3 (specialization): the chart data of closing strength and hand-offs.

The rep chart reads the deals the win-rate checks test (closed in the period) and, beside them,
the SDR-sourced deals of the ``handoff_loss`` check; the hand-off chart reads the ``handoffs``
sample of the ``handoff_delay`` check — the *owner's* first meeting or demo after the hand-off,
not any rep's meeting — so a finding and the chart beside it show the same number.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import polars as pl

from eigyo.analysis.common import with_rep
from eigyo.analysis.deals import closed_deals
from eigyo.analysis.process.handoff import handoffs, sdr_sourced_deals
from eigyo.analysis.verdicts import frame
from eigyo.base.periods import Period
from eigyo.workspace import Workspace


def _named(ws: Workspace, t: ir.Table) -> ir.Table:
    """Per-rep rows with the rep's name (null for reps the reps table does not know)."""
    reps = ws.table("reps").select(_rid=ibis._.rep_id, rep_name=ibis._.name)
    return t.left_join(reps, t.rep_id == reps._rid).drop("_rid")


def rep_win_rates(ws: Workspace, period: Period) -> pl.DataFrame:
    """Per rep: deals closed in the period, won, win rate; and among the closed deals an SDR
    handed over (created in the period), ``sdr_closed``, ``sdr_won`` and ``sdr_win_rate``."""
    d = closed_deals(ws, period)
    per = d.group_by("rep_id").agg(won=d.won.sum(), closed=d.count())
    s = sdr_sourced_deals(ws, period)
    sdr = s.group_by(_sr=s.rep_id).agg(sdr_won=s.won.sum(), sdr_closed=s.count())
    j = per.outer_join(sdr, per.rep_id == sdr._sr)
    j = j.mutate(rep_id=ibis.coalesce(j.rep_id, j._sr)).drop("_sr")
    j = j.mutate(
        won=j.won.fill_null(0),
        closed=j.closed.fill_null(0),
        sdr_won=j.sdr_won.fill_null(0),
        sdr_closed=j.sdr_closed.fill_null(0),
    )
    j = j.mutate(
        lost=j.closed - j.won,
        win_rate=(j.won / j.closed.nullif(0)).cast("float64"),
        sdr_win_rate=(j.sdr_won / j.sdr_closed.nullif(0)).cast("float64"),
    )
    return frame(_named(ws, with_rep(ws, j, "rep_id")).order_by("rep_id"))


def handoff_days(ws: Workspace, period: Period) -> pl.DataFrame:
    """Per closer (the owner): hand-offs with a first owner meeting or demo and the median days
    to it — the groups and the value of the ``handoff_delay`` check."""
    h = handoffs(ws, period)
    g = h.group_by("rep_id").agg(handoffs=h.count(), median_days=h.days_to_meeting.median())
    return frame(_named(ws, with_rep(ws, g, "rep_id")).order_by("rep_id"))
