"""Bottleneck ranking: each stage's conversion and dwell gap, against target, history and peers,
turned into money (the workspace currency; ``impact_jpy`` keeps its name), so the stage to fix
first is the one worth the most.

Per stage (from :func:`~eigyo.analysis.process.stages.stage_exits`, opportunities created in P):
conversion = advanced ÷ decided entries; dwell = median days of the entries that advanced.
Baselines: ``target`` (``eigyo.toml`` ``[targets]`` keys ``"conversion.<stage>"`` and
``"dwell_days.<stage>"``), ``history`` (the same-length period just before P) and ``peers`` (the
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
        dwell=d.dwell_days.median(where=adv),
        won_after=d.won.sum(where=closed),
        closed_after=closed.cast("int64").sum(),
        _order=d.stage_order.min(),
    )
    return g.to_pyarrow().to_pylist()  # type: ignore[no-any-return]


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
    prev = {r["stage"]: r for r in _stats(stage_exits(ws, period.previous()), ["stage"])}
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
