"""Cohort funnel and leakage: where the opportunities created in a period got to, and where the
lost ones fell out, in count and yen.

Cohort rule: an opportunity *reached* a funnel stage when it entered that stage or any later one
in the ``eigyo.toml`` order (a deal that skipped 評価 on its way to 商談 still passed 評価). The
funnel stages are the configured stages whose kind is not ``lost``. Next-step conversion is
reached(k) ÷ reached(k−1); cumulative conversion is reached(k) ÷ reached(first stage). Open deals
count as not (yet) reached, so a young cohort reads low: compare cohorts of the same age.
Opportunities without any stage history are counted in ``created`` and reach no stage.

Leakage: a lost opportunity leaks at the stage it dropped from (:func:`stage_exits`: the entry
whose next entry is a lost stage, or its last entry). A deal lost, reopened and lost again leaks
at each stage it dropped from; a lost deal without history leaks at ``(none)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import ibis
import ibis.expr.types as ir

from eigyo.analysis.common import in_period, with_account, with_rep
from eigyo.analysis.process.stages import (
    funnel_positions,
    funnel_stages,
    stage_entries,
    stage_exits,
)
from eigyo.base.periods import Period
from eigyo.base.vocabulary import ALL, UNKNOWN
from eigyo.base.vocabulary import NONE as NO_STAGE
from eigyo.errors import InputError
from eigyo.workspace import Workspace

#: Dimensions a funnel can be split by (``None``: the whole organization).
DIMENSIONS = ("team", "rep_id", "source", "industry", "region", "product", "type")


def check_dimension(by: str | None) -> str | None:
    if by is not None and by not in DIMENSIONS:
        raise InputError(
            f"Unknown dimension {by!r} for the funnel. Use one of {', '.join(DIMENSIONS)}."
        )
    return by


def cohort(ws: Workspace, period: Period) -> ir.Table:
    """Opportunities created in the period with every funnel dimension attached."""
    o = ws.table("opportunities")
    o = o.filter(in_period(o.created_at, period))
    leads = ws.table("leads").select(_lead=ibis._.lead_id, _source=ibis._.source)
    o = o.left_join(leads, o.lead_id == leads._lead).drop("_lead")
    o = with_account(ws, with_rep(ws, o))
    return o.select(
        "opportunity_id",
        "amount",
        "status",
        "lost_reason",
        "team",
        rep_id=o.owner_rep_id,
        source=o._source.fill_null(UNKNOWN),
        industry=o.industry.fill_null(UNKNOWN),
        region=o.region.fill_null(UNKNOWN),
        product=o.product.fill_null(UNKNOWN),
        type=o.type.fill_null(UNKNOWN),
    )


@dataclass(frozen=True)
class FunnelStep:
    group: str
    stage: str
    reached: int
    next_rate: float | None
    cumulative: float | None


@dataclass(frozen=True)
class Funnel:
    by: str | None
    created: dict[str, int]
    steps: list[FunnelStep]


def funnel(ws: Workspace, period: Period, by: str | None = None) -> Funnel:
    """Cohort conversion per funnel stage, for the organization or each value of ``by``."""
    check_dimension(by)
    names = funnel_stages(ws)
    steps_t = funnel_positions(ws, "_step", "_pos")
    e = stage_entries(ws, period)
    e = e.filter(e.stage_order.notnull() & (e.kind != "lost"))
    far = e.group_by(_opp=e.opportunity_id).agg(_far=e.stage_order.max())
    c = cohort(ws, period)
    c = c.mutate(group=c[by] if by else ibis.literal(ALL))
    c = c.left_join(far, c.opportunity_id == far._opp)
    created = c.group_by("group").agg(n=c.count()).to_pyarrow().to_pylist()
    # configured order → position among funnel stages (lost stages are not steps)
    order = [ws.settings.stage_order(n) for n in names]
    pos = ibis.memtable({"_ord": order, "_p": list(range(len(names)))})
    c = c.left_join(pos, c._far == pos._ord)
    j = c.cross_join(steps_t)
    g = j.group_by(["group", "_step", "_pos"]).agg(
        reached=(j._p.notnull() & (j._p >= j._pos)).cast("int64").sum()
    )
    w = ibis.window(group_by=g.group, order_by=g._pos)
    first = g.reached.first().over(w)
    prev = g.reached.lag().over(w)
    g = g.mutate(
        next_rate=ibis.ifelse(prev > 0, g.reached / prev, ibis.null("float64")),
        cumulative=ibis.ifelse(first > 0, g.reached / first, ibis.null("float64")),
    )
    rows = g.order_by([g.group, g._pos]).to_pyarrow().to_pylist()
    steps = [
        FunnelStep(r["group"], r["_step"], r["reached"], r["next_rate"], r["cumulative"])
        for r in rows
    ]
    return Funnel(by, {r["group"]: r["n"] for r in created}, steps)


@dataclass(frozen=True)
class Leak:
    group: str
    stage: str
    lost: int
    lost_jpy: float
    reasons: dict[str, int] = field(default_factory=dict)


def leakage(ws: Workspace, period: Period, by: str | None = None) -> list[Leak]:
    """Lost opportunities of the cohort per stage they dropped from: count, yen, lost reasons."""
    check_dimension(by)
    ex = stage_exits(ws, period)
    ex = ex.filter((ex.advanced == 0) & (ex.status == "lost"))
    drops = ex.select(_opp=ex.opportunity_id, _stage=ex.stage, _ord=ex.stage_order).distinct()
    c = cohort(ws, period)
    c = c.filter(c.status == "lost").mutate(group=c[by] if by else ibis.literal(ALL))
    j = c.left_join(drops, c.opportunity_id == drops._opp)
    j = j.mutate(stage=j._stage.fill_null(NO_STAGE), reason=j.lost_reason.fill_null(UNKNOWN))
    totals = j.group_by(["group", "stage"]).agg(
        lost=j.count(), lost_jpy=j.amount.sum(), _ord=j._ord.min()
    )
    totals = totals.order_by([totals.group, totals._ord.fill_null(-1), totals.stage])
    reasons = j.group_by(["group", "stage", "reason"]).agg(n=j.count())
    by_key: dict[tuple[str, str], dict[str, int]] = {}
    for r in reasons.order_by([ibis.desc(reasons.n), reasons.reason]).to_pyarrow().to_pylist():
        by_key.setdefault((r["group"], r["stage"]), {})[r["reason"]] = r["n"]
    return [
        Leak(
            r["group"],
            r["stage"],
            r["lost"],
            float(r["lost_jpy"] or 0.0),
            by_key[(r["group"], r["stage"])],
        )
        for r in totals.to_pyarrow().to_pylist()
    ]
