"""Turn a flagged gap into yen: what closing the gap would have been worth in the period.

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


ImpactFn = Callable[[Gap, Context], float | None]


def _lost_wins(g: Gap, c: Context) -> float:
    """Wins the group would have had at the baseline's rate × average won deal."""
    return max(0.0, g.baseline - g.value) * g.n * c.avg_won_amount


def _stage_leak(g: Gap, c: Context) -> float:
    """Extra deals advancing at the baseline's rate × their later win rate × average won deal."""
    return max(0.0, g.baseline - g.value) * g.n * g.base_won_rate * c.avg_won_amount


def _missed_sla(g: Gap, c: Context) -> float:
    lv = c.lead_value
    uplift = max(0.0, lv["won_rate_in_sla"] - lv["won_rate_out_sla"])
    return max(0.0, g.baseline - g.value) * g.n * uplift * c.avg_won_amount


def _untouched(g: Gap, c: Context) -> float:
    return (
        max(0.0, g.value - g.baseline) * g.n * c.lead_value["won_rate_answered"] * c.avg_won_amount
    )


def _segment_upside(g: Gap, c: Context) -> float:
    """Doubling the segment's deals at its own rather than the average win rate."""
    return max(0.0, g.value - g.baseline) * g.n * c.avg_won_amount


def _stale_pipeline(g: Gap, c: Context) -> float:
    """Stale open amount × the organization's win rate: pipeline at risk."""
    return g.amount * c.win_rate


def _handoff_losses(g: Gap, c: Context) -> float:
    return max(0.0, g.base_won_rate - (g.won / g.n if g.n else 0.0)) * g.n * c.avg_won_amount


def _admin_hours(g: Gap, c: Context) -> float:
    """Admin hours above the baseline share, given back to selling at revenue per selling hour."""
    return max(0.0, g.value - g.baseline) * g.hours * c.revenue_per_selling_hour


IMPACTS: dict[str, ImpactFn | None] = {
    "lost_wins": _lost_wins,
    "stage_leak": _stage_leak,
    "missed_sla": _missed_sla,
    "untouched": _untouched,
    "segment_upside": _segment_upside,
    "stale_pipeline": _stale_pipeline,
    "handoff_losses": _handoff_losses,
    "admin_hours": _admin_hours,
    "none": None,
}


def estimate(name: str, gap: Gap, ctx: Context) -> float | None:
    fn = IMPACTS[name]
    if fn is None:
        return None
    value = fn(gap, ctx)
    return None if value is None else float(value)
