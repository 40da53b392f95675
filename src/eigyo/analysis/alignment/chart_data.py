"""Step 4 (alignment): the chart data of lead response, read from the MQL sample.

Both charts read :func:`~eigyo.analysis.alignment.leads.mql_leads`, the sample of the
``lead_response_sla`` and ``untouched_leads`` checks: the same leads (MQLs created in the
period), the same owner team and the same SLA, so the findings' shares are the charts' shares.
"""

from __future__ import annotations

import polars as pl

from eigyo.analysis.alignment.leads import mql_leads
from eigyo.analysis.verdicts import frame
from eigyo.base.periods import Period
from eigyo.workspace import Workspace


def lead_response_by_team(ws: Workspace, period: Period) -> pl.DataFrame:
    """Per team: box statistics of response minutes of the answered MQLs (``leads`` of them),
    computed in the engine so no lead row leaves it; and the share of all MQLs answered within
    the SLA (``sla_rate`` of ``mql``), the number the SLA check tests."""
    s = mql_leads(ws, period)
    m = s.response_minutes
    g = s.group_by("team").agg(
        mql=s.count(),
        within_sla=s.within_sla.sum(),
        leads=m.count(),
        p10=m.quantile(0.1),
        q1=m.quantile(0.25),
        median=m.median(),
        q3=m.quantile(0.75),
        p90=m.quantile(0.9),
    )
    g = g.mutate(sla_rate=(g.within_sla / g.mql).cast("float64"))
    return frame(g.order_by("team"))


def untouched_by_source(ws: Workspace, period: Period) -> pl.DataFrame:
    """Per source: MQLs created in the period, how many never got a first response, and that
    share — the groups and the value of the ``untouched_leads`` check."""
    s = mql_leads(ws, period)
    g = s.group_by("source").agg(leads=s.count(), untouched=s.untouched.sum())
    g = g.mutate(share=(g.untouched / g.leads).cast("float64"))
    return frame(g.order_by("source"))
