"""Bottleneck ranking: each stage's conversion and dwell gap, against target, history and peers,
turned into money (the workspace currency; ``impact_jpy`` keeps its name), so the stage to fix
first is the one worth the most.

Per stage (from :func:`~eigyo.analysis.process.stages.stage_exits`, opportunities created in P):
conversion = advanced ÷ decided entries; dwell = median days of the entries that advanced.
Baselines: ``target`` (``eigyo.toml`` ``[targets]`` keys ``"conversion.<stage>"`` and
``"dwell_days.<stage>"``, else the defaults ``stage_conversion`` / ``stage_dwell_days`` are shown
beside the constraint), ``history`` (the previous calendar period: a month against the month
before, :meth:`~eigyo.base.periods.Period.previous_aligned`) and ``peers`` (the
best team with at least ``min_n`` decided entries: highest conversion, lowest dwell).

Yen, for one baseline:

- conversion gap: decided × (baseline − conversion) more deals would have advanced; each wins
  as often as the deals that did advance from that stage (won ÷ closed) at the cohort's average
  won amount;
- dwell gap: the advanced deals × (median − baseline) days sooner; a deal that wins ``d`` days
  earlier moves d ÷ (period days) of its bookings into the period.

A gap in the right direction counts as zero. A stage's impact is its largest yen over the three
baselines; the ranking sorts stages by it and marks the first with impact above zero as the top.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import ibis
import ibis.expr.types as ir

from eigyo.analysis.process.stages import stage_exits
from eigyo.base.periods import Period
from eigyo.workspace import Workspace

BASELINES = ("target", "history", "peers")


@dataclass(frozen=True)
class Bottleneck:
    stage: str
    decided: int
    conversion: float | None
    dwell_days: float | None
    win_after: float
    impact_jpy: float
    basis: str | None
    gaps: dict[str, dict[str, float | None]] = field(default_factory=dict)
    top: bool = False


def _stats(ex: ir.Table, by: list[str]) -> list[dict[str, Any]]:
    d = ex.filter(ex.advanced.notnull())
    adv = d.advanced == 1
    closed = adv & d.status.isin(["won", "lost"])
    g = d.group_by(by).agg(
        decided=d.count(),
        advanced=d.advanced.sum(),
        won_after=d.won.sum(where=closed),
        closed_after=closed.cast("int64").sum(),
        _order=d.stage_order.min(),
    )
    # The median of the entries that moved on, filtered first: Spark cannot take a percentile
    # with a row condition (median(where=…)), and every engine computes it the same this way.
    a = d.filter(adv)
    medians = {
        tuple(r[k] for k in by): r["dwell"]
        for r in a.group_by(by).agg(dwell=a.dwell_days.median()).to_pyarrow().to_pylist()
    }
    rows: list[dict[str, Any]] = g.to_pyarrow().to_pylist()
    for r in rows:
        r["dwell"] = medians.get(tuple(r[k] for k in by))
    return rows


def _avg_won(ws: Workspace, period: Period) -> float:
    ex = stage_exits(ws, period)
    won = ex.filter(ex.won == 1).select("opportunity_id", "amount").distinct()
    v = won.amount.mean().to_pyarrow().as_py()
    return float(v or 0.0)


def _gap_value(
    s: dict[str, Any], conv: float | None, dwell: float | None, value: float, days: int
) -> float:
    """Yen of closing the gap to one baseline (conversion and dwell parts added)."""
    rate = s["advanced"] / s["decided"]
    out = 0.0
    if conv is not None and conv > rate:
        out += s["decided"] * (conv - rate) * value
    if dwell is not None and s["dwell"] is not None and s["dwell"] > dwell:
        out += s["advanced"] * value * (s["dwell"] - dwell) / days
    return out


def _peers(rows: list[dict[str, Any]], stage: str, min_n: int) -> tuple[float | None, float | None]:
    teams = [r for r in rows if r["stage"] == stage and r["decided"] >= min_n]
    if not teams:
        return None, None
    conv = max(r["advanced"] / r["decided"] for r in teams)
    dwells = [r["dwell"] for r in teams if r["dwell"] is not None]
    return conv, (min(dwells) if dwells else None)


def bottlenecks(ws: Workspace, period: Period, *, min_n: int = 20) -> list[Bottleneck]:
    """Stages ranked by the yen their conversion and dwell gaps cost in the period."""
    now = _stats(stage_exits(ws, period), ["stage"])
    prev = {r["stage"]: r for r in _stats(stage_exits(ws, period.previous_aligned()), ["stage"])}
    teams = _stats(stage_exits(ws, period), ["stage", "team"])
    avg_won = _avg_won(ws, period)
    targets = ws.settings.targets
    out: list[Bottleneck] = []
    for s in sorted(now, key=lambda r: (r["_order"] is None, r["_order"] or 0, r["stage"])):
        win_after = s["won_after"] / s["closed_after"] if s["closed_after"] else 0.0
        value = win_after * avg_won
        h = prev.get(s["stage"])
        base = {
            "target": (
                targets.get(f"conversion.{s['stage']}"),
                targets.get(f"dwell_days.{s['stage']}"),
            ),
            "history": (h["advanced"] / h["decided"], h["dwell"]) if h else (None, None),
            "peers": _peers(teams, s["stage"], min_n),
        }
        gaps = {
            k: {"conversion": c, "dwell_days": d, "jpy": _gap_value(s, c, d, value, period.days)}
            for k, (c, d) in base.items()
        }
        basis = max(BASELINES, key=lambda k: gaps[k]["jpy"] or 0.0)
        impact = float(gaps[basis]["jpy"] or 0.0)
        out.append(
            Bottleneck(
                s["stage"],
                s["decided"],
                s["advanced"] / s["decided"],
                s["dwell"],
                win_after,
                impact,
                basis if impact > 0 else None,
                gaps,
            )
        )
    out.sort(key=lambda b: -b.impact_jpy)
    if out and out[0].impact_jpy > 0:
        out[0] = Bottleneck(**{**out[0].__dict__, "top": True})
    return out


@dataclass(frozen=True)
class StageProfile:
    """One stage against the typical stage of the same funnel: the constraint's sample.

    ``typical_conversion`` and ``typical_dwell`` are the medians over the *other* stages (so the
    stage does not pull its own baseline), and ``impact_jpy`` is :func:`_gap_value` against them:
    the yen of closing the gap to the typical stage.
    """

    stage: str
    order: int | None
    decided: int
    advanced: int
    conversion: float
    dwell_days: float | None
    win_after: float
    #: What one more deal moving on from the stage is worth: win_after × the average won deal.
    deal_value: float
    typical_conversion: float | None
    typical_dwell: float | None
    impact_jpy: float
    #: Entries that moved on with a known time in stage, and how many of them took longer than
    #: the typical stage's median: a sign test of "this stage takes longer" needs no record rows.
    dwell_n: int = 0
    dwell_above: int = 0
    #: Each team's decided entries and conversion at the stage: whether the organization shares
    #: the gap or one team carries it (then the team check reports it, at its own level).
    teams: dict[str, tuple[int, float]] = field(default_factory=dict)


def _median(values: list[float]) -> float | None:
    v = sorted(values)
    if not v:
        return None
    mid = len(v) // 2
    return v[mid] if len(v) % 2 else (v[mid - 1] + v[mid]) / 2


def _dwell_signs(ex: ir.Table, typical: dict[str, float]) -> dict[str, tuple[int, int]]:
    """Per stage: entries that moved on with a time in stage other than the typical stage's
    median, and how many of them took longer (one GROUP BY against a small table of medians)."""
    if not typical:
        return {}
    med = ibis.memtable({"_stage": list(typical), "_typical": list(typical.values())})
    d = ex.filter((ex.advanced == 1) & ex.dwell_days.notnull())
    j = d.join(med, d.stage == med._stage)
    j = j.filter(j.dwell_days != j._typical)
    g = j.group_by("stage").agg(n=j.count(), above=(j.dwell_days > j._typical).cast("int64").sum())
    rows = g.to_pyarrow().to_pylist()
    return {str(r["stage"]): (int(r["n"]), int(r["above"] or 0)) for r in rows}


def stage_profiles(
    ws: Workspace, period: Period, exits: ir.Table | None = None
) -> list[StageProfile]:
    """Every stage of the organization's funnel against the typical stage (org-wide, not per team).

    Conversion and dwell are those of :func:`bottlenecks` (``_stats`` over
    :func:`~eigyo.analysis.process.stages.stage_exits`, the sample the bottleneck check reads),
    so the constraint, the funnel's ★ and the team check count the same entries. ``exits`` lets
    the diagnosis pass the sample it already built.
    """
    ex = stage_exits(ws, period) if exits is None else exits
    rows = [r for r in _stats(ex, ["stage"]) if r["decided"]]
    by_team: dict[str, dict[str, tuple[int, float]]] = {}
    for r in _stats(ex, ["stage", "team"]):
        if r["decided"]:
            team = by_team.setdefault(str(r["stage"]), {})
            team[str(r["team"])] = (int(r["decided"]), r["advanced"] / r["decided"])
    won = ex.filter(ex.won == 1).select("opportunity_id", "amount").distinct()
    avg_won = float(won.amount.mean().to_pyarrow().as_py() or 0.0)
    typical: dict[str, tuple[float | None, float | None]] = {}
    for s in rows:
        others = [r for r in rows if r is not s]
        typical[str(s["stage"])] = (
            _median([r["advanced"] / r["decided"] for r in others]),
            _median([float(r["dwell"]) for r in others if r["dwell"] is not None]),
        )
    signs = _dwell_signs(ex, {k: v[1] for k, v in typical.items() if v[1] is not None})
    out: list[StageProfile] = []
    for s in sorted(rows, key=lambda r: (r["_order"] is None, r["_order"] or 0, r["stage"])):
        conv, dwell = typical[str(s["stage"])]
        win_after = s["won_after"] / s["closed_after"] if s["closed_after"] else 0.0
        yen = _gap_value(s, conv, dwell, win_after * avg_won, period.days)
        out.append(
            StageProfile(
                stage=str(s["stage"]),
                order=s["_order"],
                decided=int(s["decided"]),
                advanced=int(s["advanced"] or 0),
                conversion=s["advanced"] / s["decided"],
                dwell_days=None if s["dwell"] is None else float(s["dwell"]),
                win_after=win_after,
                deal_value=win_after * avg_won,
                typical_conversion=conv,
                typical_dwell=dwell,
                impact_jpy=float(yen),
                teams=by_team.get(str(s["stage"]), {}),
                dwell_n=signs.get(str(s["stage"]), (0, 0))[0],
                dwell_above=signs.get(str(s["stage"]), (0, 0))[1],
            )
        )
    return out
