"""Turn a flagged gap into money: what closing the gap would have been worth in the period, in
the workspace currency (the JSON key ``impact_jpy`` keeps its contract name; amounts are never
converted).

Each function receives the group's tested figures and the shared :class:`Context`; the names
are the ``impact`` values of ``checks.toml``. Estimates are deliberately simple and documented in
the finding's evidence (``impact_basis``) so a manager can redo them by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from eigyo.diagnose.context import Context


@dataclass(frozen=True)
class Gap:
    """A tested group: its size and rate/median against the baseline, and side sums."""

    n: int
    value: float
    baseline: float
    won: float = 0.0  # Σ won over the group's records (when the sample has it)
    amount: float = 0.0  # Σ amount × value (when the sample has amount)
    base_won_rate: float = 0.0  # won per record in the baseline (or per success, for stages)
    hours: float = 0.0


Inputs = dict[str, float]
ImpactFn = Callable[[Gap, Context], tuple[float, Inputs]]


def _lost_wins(g: Gap, c: Context) -> tuple[float, Inputs]:
    """Wins the group would have had at the baseline's rate × average won deal."""
    gap = max(0.0, g.baseline - g.value)
    return gap * g.n * c.avg_won_amount, {"gap": gap, "n": g.n, "avg_won": c.avg_won_amount}


def _stage_leak(g: Gap, c: Context) -> tuple[float, Inputs]:
    """Extra deals advancing at the baseline's rate × their later win rate × average won deal."""
    gap = max(0.0, g.baseline - g.value)
    yen = gap * g.n * g.base_won_rate * c.avg_won_amount
    return yen, {
        "gap": gap,
        "n": g.n,
        "later_win_rate": g.base_won_rate,
        "avg_won": c.avg_won_amount,
    }


def _missed_sla(g: Gap, c: Context) -> tuple[float, Inputs]:
    lv = c.lead_value
    uplift = max(0.0, lv["won_rate_in_sla"] - lv["won_rate_out_sla"])
    gap = max(0.0, g.baseline - g.value)
    return gap * g.n * uplift * c.avg_won_amount, {
        "gap": gap,
        "n": g.n,
        "uplift": uplift,
        "avg_won": c.avg_won_amount,
    }


def _untouched(g: Gap, c: Context) -> tuple[float, Inputs]:
    gap = max(0.0, g.value - g.baseline)
    rate = c.lead_value["won_rate_answered"]
    return gap * g.n * rate * c.avg_won_amount, {
        "gap": gap,
        "n": g.n,
        "won_rate_answered": rate,
        "avg_won": c.avg_won_amount,
    }


def _segment_upside(g: Gap, c: Context) -> tuple[float, Inputs]:
    """Doubling the segment's deals at its own rather than the average win rate."""
    gap = max(0.0, g.value - g.baseline)
    return gap * g.n * c.avg_won_amount, {"gap": gap, "n": g.n, "avg_won": c.avg_won_amount}


def _stale_pipeline(g: Gap, c: Context) -> tuple[float, Inputs]:
    """Stale open amount × the organization's win rate: pipeline at risk."""
    return g.amount * c.win_rate, {"amount": g.amount, "win_rate": c.win_rate}


def _handoff_losses(g: Gap, c: Context) -> tuple[float, Inputs]:
    own = g.won / g.n if g.n else 0.0
    gap = max(0.0, g.base_won_rate - own)
    return gap * g.n * c.avg_won_amount, {"gap": gap, "n": g.n, "avg_won": c.avg_won_amount}


def _admin_hours(g: Gap, c: Context) -> tuple[float, Inputs]:
    """Admin hours above the baseline share, given back to selling at revenue per selling hour."""
    gap = max(0.0, g.value - g.baseline)
    rate = c.revenue_per_selling_hour
    return gap * g.hours * rate, {"gap": gap, "hours": g.hours, "per_hour": rate}


IMPACTS: dict[str, ImpactFn | None] = {
    "lost_wins": _lost_wins,
    "stage_leak": _stage_leak,
    "missed_sla": _missed_sla,
    "untouched": _untouched,
    "segment_upside": _segment_upside,
    "stale_pipeline": _stale_pipeline,
    "handoff_losses": _handoff_losses,
    "admin_hours": _admin_hours,
    # the constraint's yen comes with its stage profile (analysis.process.bottleneck: conversion
    # and time-in-stage gaps to the typical stage), computed by eigyo.diagnose.constraint
    "constraint": None,
    "none": None,
}


def estimate(name: str, gap: Gap, ctx: Context) -> tuple[float | None, Inputs]:
    """The impact (workspace currency) and the figures that produced it (for the formula)."""
    fn = IMPACTS[name]
    if fn is None:
        return None, {}
    yen, inputs = fn(gap, ctx)
    return float(yen), inputs
