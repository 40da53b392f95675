"""Rework and hand-offs: backward moves, skipped stages, reopened deals, and the waits between
lead and opportunity and between the SDR's hand-off and the closer's first meeting.

Each pair of consecutive stage entries (:func:`~eigyo.analysis.process.stages.stage_entries`) is one
*move*, classified by the funnel position of its two stages (configured stages that are not
``lost``): ``reopened`` (out of a won or lost stage), ``lost`` (into a lost stage), ``backward``
(to an earlier position), ``repeat`` (the same stage again), ``skip`` (over one or more positions;
each jumped stage counts once as skipped), ``forward`` (to the next position), or ``unlisted``
(a stage ``eigyo.toml`` does not list, so no direction is known).
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir

from eigyo.analysis.common import days_between, in_period, with_rep
from eigyo.analysis.process.handoff import handoffs
from eigyo.analysis.process.stages import TERMINAL_KINDS, funnel_positions, stage_entries
from eigyo.base.periods import Period
from eigyo.base.vocabulary import UNKNOWN
from eigyo.workspace import Workspace


def moves(ws: Workspace, period: Period) -> ir.Table:
    """Every move of opportunities created in the period with its ``move`` class."""
    e = stage_entries(ws, period)
    e = e.filter(e.next_stage.notnull())
    pos = funnel_positions(ws)
    a = pos.select(_a=pos._pstage, pos_from=pos._pos)
    b = pos.select(_b=pos._pstage, pos_to=pos._pos)
    e = e.left_join(a, e.stage == a._a).drop("_a")
    e = e.left_join(b, e.next_stage == b._b).drop("_b")
    move = ibis.cases(
        (e.kind.isin(TERMINAL_KINDS), "reopened"),
        (e.next_kind == "lost", "lost"),
        (e.pos_from.isnull() | e.pos_to.isnull(), "unlisted"),
        (e.pos_to < e.pos_from, "backward"),
        (e.pos_to == e.pos_from, "repeat"),
        (e.pos_to > e.pos_from + 1, "skip"),
        else_="forward",
    )
    return e.mutate(move=move)


def move_summary(ws: Workspace, period: Period) -> list[dict[str, Any]]:
    """Count and deals per (from, to, move), rework first (backward, reopened, repeat, skip)."""
    m = moves(ws, period)
    g = m.group_by(["stage", "next_stage", "move"]).agg(
        count=m.count(), deals=m.opportunity_id.nunique()
    )
    rank = ibis.cases(
        (g.move == "backward", 0),
        (g.move == "reopened", 1),
        (g.move == "repeat", 2),
        (g.move == "skip", 3),
        else_=4,
    )
    g = g.order_by([rank, ibis.desc(g["count"]), g.stage, g.next_stage])
    return g.rename(from_stage="stage", to_stage="next_stage").to_pyarrow().to_pylist()  # type: ignore[no-any-return]


def skipped_stages(ws: Workspace, period: Period) -> dict[str, int]:
    """How many moves jumped over each funnel stage."""
    m = moves(ws, period)
    m = m.filter(m.move == "skip")
    pos = funnel_positions(ws)
    j = m.join(pos, (pos._pos > m.pos_from) & (pos._pos < m.pos_to))
    g = j.group_by(["_pstage", "_pos"]).agg(n=j.count()).order_by("_pos")
    return {r["_pstage"]: r["n"] for r in g.to_pyarrow().to_pylist()}


def rework_by_rep(ws: Workspace, period: Period) -> list[dict[str, Any]]:
    """Per owner: deals with history, backward moves, reopenings, share of deals reworked."""
    m = moves(ws, period)
    o = ws.table("opportunities").select(_opp="opportunity_id", owner_rep_id="owner_rep_id")
    m = with_rep(ws, m.join(o, m.opportunity_id == o._opp))
    rework = m.move.isin(["backward", "reopened"])
    g = m.group_by([m.owner_rep_id.name("rep_id"), "team"]).agg(
        deals=m.opportunity_id.nunique(),
        backward=(m.move == "backward").cast("int64").sum(),
        reopened=(m.move == "reopened").cast("int64").sum(),
        reworked_deals=m.opportunity_id.nunique(where=rework),
    )
    g = g.mutate(rework_rate=g.reworked_deals / g.deals)
    return g.order_by([ibis.desc(g.rework_rate), g.rep_id]).to_pyarrow().to_pylist()  # type: ignore[no-any-return]


def lead_to_opportunity(ws: Workspace, period: Period, by: str = "source") -> list[dict[str, Any]]:
    """Days from a lead's creation to its opportunity's, for opportunities created in the period.

    A lead belongs to an opportunity through ``opportunities.lead_id`` or
    ``leads.opportunity_id``; with several, the earliest lead counts. ``by``: source or team.
    """
    o = ws.table("opportunities")
    o = o.filter(in_period(o.created_at, period))
    le = ws.table("leads").select(
        _lead="lead_id", _lopp="opportunity_id", _lcreated="created_at", _source="source"
    )
    j = o.join(le, (o.lead_id == le._lead) | (o.opportunity_id == le._lopp))
    first = j.group_by([j.opportunity_id, j.owner_rep_id]).agg(
        source=j._source.argmin(j._lcreated).fill_null(UNKNOWN),
        days=days_between(j._lcreated.min(), j.created_at.min()),
    )
    first = with_rep(ws, first)
    g = first.group_by(by).agg(
        n=first.count(), median_days=first.days.median(), p90_days=first.days.quantile(0.9)
    )
    return g.order_by([ibis.desc(g.median_days), g[by]]).to_pyarrow().to_pylist()  # type: ignore[no-any-return]


def handoff_delays(ws: Workspace, period: Period, by: str = "team") -> list[dict[str, Any]]:
    """Days from the SDR's hand-off to the closer's first meeting, per team or closer (rep_id)."""
    h = with_rep(ws, handoffs(ws, period), "rep_id")
    g = h.group_by(by).agg(
        n=h.count(),
        median_days=h.days_to_meeting.median(),
        p90_days=h.days_to_meeting.quantile(0.9),
    )
    return g.order_by([ibis.desc(g.median_days), g[by]]).to_pyarrow().to_pylist()  # type: ignore[no-any-return]
