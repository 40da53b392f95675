"""The loop (monitor): the chart data of the latest intervention.

The intervention and the reps it touched come from
:func:`~eigyo.analysis.monitor.interventions.interventions`, the list the ``intervention_effect``
check reads, so the chart's "scope" is the check's treated group; the window medians come from
:func:`~eigyo.analysis.monitor.interventions.lead_sample`, the leads its difference in
differences is computed on, so the chart carries the finding's estimate.
"""

from __future__ import annotations

import ibis
import polars as pl

from eigyo.analysis.common import minutes_between
from eigyo.analysis.monitor.interventions import Intervention, interventions, lead_sample, windows
from eigyo.analysis.verdicts import frame
from eigyo.base.periods import Period
from eigyo.workspace import Workspace


def latest_intervention(ws: Workspace, period: Period) -> Intervention | None:
    """The most recent intervention started before the end of the period, if any."""
    started = [iv for iv in interventions(ws) if iv.started_at < period.end_ts]
    return max(started, key=lambda iv: iv.started_at) if started else None


def response_by_scope(ws: Workspace, iv: Intervention) -> pl.DataFrame:
    """Monthly median response minutes of answered MQLs (by creation month) owned by the
    intervention's treated reps versus the rest; an intervention without scope covers everyone."""
    lead = ws.table("leads")
    lead = lead.filter(lead.mql_at.notnull() & lead.first_response_at.notnull())
    if iv.scope:
        in_scope = lead.owner_rep_id.isin(list(iv.treated_reps) or [""]).fill_null(False)
    else:
        in_scope = ibis.literal(True)
    lead = lead.mutate(
        in_scope=in_scope, minutes=minutes_between(lead.mql_at, lead.first_response_at)
    )
    g = lead.group_by(month=lead.created_at.truncate("M").cast("date"), in_scope=lead.in_scope)
    g = g.agg(leads=lead.count(), median_minutes=lead.minutes.median())
    return frame(g.order_by(["in_scope", "month"]))


def window_medians(ws: Workspace, iv: Intervention, period: Period) -> pl.DataFrame:
    """Median response minutes of the answered leads in the DiD's four cells — ``treated`` ×
    ``post`` — with the windows' bounds (``pre_start``, ``start``, ``post_end``); empty when the
    period ends before the intervention starts. The intervention check's estimate is
    (treated post − treated pre) − (control post − control pre) of these medians."""
    sample = lead_sample(ws, iv, period)
    w = windows(iv, period)
    if sample is None or w is None:
        return pl.DataFrame()
    s = sample.filter(sample.minutes.notnull())
    g = s.group_by(["treated", "post"]).agg(leads=s.count(), median_minutes=s.minutes.median())
    pre_start, start, post_end = w
    return frame(g.order_by(["treated", "post"])).with_columns(
        pre_start=pl.lit(pre_start), start=pl.lit(start), post_end=pl.lit(post_end)
    )
