"""Stage exits: what happened after an opportunity entered each stage.

One row per stage entry of opportunities created in the period. The next entry (by entered_at,
ties broken by stage order) tells whether the deal ``advanced`` (to any non-lost stage) or
``dropped`` (to a lost stage, or the opportunity was lost with no further entry). Entries still
waiting — open deals — are right-censored: they count for neither, so young cohorts do not look
like leaks.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from eigyo.analysis.common import days_between, in_period, with_rep
from eigyo.periods import Period
from eigyo.settings import Settings
from eigyo.workspace import Workspace


def _stage_attrs(settings: Settings) -> ir.Table:
    """The configured stages as a small in-memory table (name → kind, order)."""
    return ibis.memtable(
        {
            "_stage": [s.name for s in settings.stages],
            "_kind": [s.kind for s in settings.stages],
            "_order": list(range(len(settings.stages))),
        }
    )


def stage_exits(ws: Workspace, period: Period) -> ir.Table:
    """Per stage entry: team, stage, advanced (0/1, null while waiting), dwell_days, won."""
    o = ws.table("opportunities")
    o = o.filter(in_period(o.created_at, period))
    sh = ws.table("stage_history")
    attrs = _stage_attrs(ws.settings)
    sh = sh.left_join(attrs, sh.stage == attrs._stage).drop("_stage")
    sh = sh.mutate(_order=sh._order.fill_null(999))
    w = ibis.window(group_by=sh.opportunity_id, order_by=[sh.entered_at, sh._order])
    sh = sh.mutate(next_at=sh.entered_at.lead().over(w), next_kind=sh._kind.lead().over(w))
    opp = o.select(_opp=o.opportunity_id, owner_rep_id=o.owner_rep_id, status=o.status)
    j = sh.join(opp, sh.opportunity_id == opp._opp)
    j = j.filter(~j._kind.isin(["won", "lost"]) | j._kind.isnull())
    advanced = ibis.cases(
        (j.next_at.notnull() & (j.next_kind.isnull() | (j.next_kind != "lost")), 1),
        (j.next_at.notnull() | (j.status == "lost"), 0),
        else_=ibis.null("int64"),
    )
    j = j.mutate(_advanced=advanced.cast("int64"))
    j = with_rep(ws, j)
    return j.select(
        "opportunity_id",
        "stage",
        team=j.team,
        rep_id=j.owner_rep_id,
        advanced=j._advanced,
        dwell_days=days_between(j.entered_at, j.next_at),
        won=(j.status == "won").cast("int64"),
    )
