"""Segment performance: which industries, sizes, regions, sources, products and titles win.

Why: "where should we sell?" is answered by comparing each segment with the rest of the
organization, but with dozens of segments some look better by luck alone. Every win rate carries
a Wilson interval, every segment is tested against the rest (two proportions), and the p-values
of all segments together go through Benjamini-Hochberg before anything is called better or worse.
Segments with too few closed deals are reported as "not enough data", never ranked.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import ibis
import ibis.expr.types as ir

from eigyo.analysis.common import days_between, in_period
from eigyo.base.periods import Period
from eigyo.base.stats import benjamini_hochberg, two_proportions, wilson
from eigyo.base.vocabulary import SIZE_BANDS, UNKNOWN
from eigyo.workspace import Workspace

DIMENSIONS = ("industry", "size_band", "region", "source", "product", "title", "type")
#: Closed deals a segment needs before its win rate is compared with the rest.
MIN_DEALS = 20
Q_LEVEL = 0.05


@dataclass(frozen=True)
class Segment:
    """One segment's figures and its verdict against the rest of the organization."""

    dimension: str
    value: str
    closed: int
    won: int
    win_rate: float
    low: float
    high: float
    median_cycle_days: float | None
    avg_deal_size: float | None
    velocity_jpy_per_day: float | None
    effect: float | None
    p_value: float | None
    q_value: float | None
    verdict: str  # better | worse | same | not_enough_data


def size_band(employees: ir.IntegerValue) -> ir.StringValue:
    """Employee count → band label (the metric registry's bands: ``--by size_band`` and this
    analysis group alike, the usual Japanese SME cut at 300); unknown counts stay unknown."""
    cases = [(employees >= lo, label) for lo, label in reversed(SIZE_BANDS)]
    return ibis.cases(*cases, else_=UNKNOWN).cast("string")


def deal_sample(ws: Workspace, period: Period) -> ir.Table:
    """Opportunities closed in the period with every segment attribute (one row per deal)."""
    o = ws.table("opportunities")
    o = o.filter(o.status.isin(["won", "lost"]) & in_period(o.closed_at, period))
    acc = ws.table("accounts").select(
        _acc="account_id", _ind="industry", _reg="region", _emp="employees"
    )
    leads = ws.table("leads").select(_lead="lead_id", _src="source", _title="title")
    j = o.left_join(acc, o.account_id == acc._acc)
    j = j.left_join(leads, j.lead_id == leads._lead)
    return j.select(
        "opportunity_id",
        "amount",
        industry=j._ind.fill_null(UNKNOWN),
        size_band=ibis.ifelse(j._emp.isnull(), UNKNOWN, size_band(j._emp)),
        region=j._reg.fill_null(UNKNOWN),
        source=j._src.fill_null(UNKNOWN),
        product=j.product.fill_null(UNKNOWN),
        title=j._title.fill_null(UNKNOWN),
        type=j.type.fill_null(UNKNOWN),
        won=(j.status == "won").cast("int64"),
        cycle_days=days_between(j.created_at, j.closed_at),
    )


def _by(sample: ir.Table, dim: str) -> list[dict[str, Any]]:
    """Counts, medians and means per value of one dimension, computed in the engine."""
    is_won = sample.won == 1
    g = sample.group_by(value=sample[dim]).agg(
        closed=sample.count(),
        won=sample.won.sum(),
        median_cycle=sample.cycle_days.median(where=is_won),
        mean_cycle=sample.cycle_days.mean(where=is_won),
        avg_size=sample.amount.mean(where=is_won),
    )
    rows: list[dict[str, Any]] = g.order_by("value").to_pyarrow().to_pylist()
    return rows


def _segment(dim: str, r: dict[str, Any], total_n: int, total_k: int) -> Segment:
    n, k = int(r["closed"]), int(r["won"])
    rate = k / n if n else 0.0
    low, high = wilson(k, n)
    enough = n >= MIN_DEALS and total_n - n >= MIN_DEALS
    cmp = two_proportions(k, n, total_k - k, total_n - n) if enough else None
    velocity = None
    if r["avg_size"] is not None and r["mean_cycle"]:
        velocity = rate * float(r["avg_size"]) / max(float(r["mean_cycle"]), 1.0)
    return Segment(
        dimension=dim,
        value=str(r["value"]),
        closed=n,
        won=k,
        win_rate=rate,
        low=low,
        high=high,
        median_cycle_days=None if r["median_cycle"] is None else float(r["median_cycle"]),
        avg_deal_size=None if r["avg_size"] is None else float(r["avg_size"]),
        velocity_jpy_per_day=velocity,
        effect=None if cmp is None else cmp.effect,
        p_value=None if cmp is None else cmp.p_value,
        q_value=None,
        verdict="same" if enough else "not_enough_data",
    )


def _flag(segs: list[Segment]) -> list[Segment]:
    """Benjamini-Hochberg over every tested segment of every dimension at once."""
    tested = [i for i, s in enumerate(segs) if s.p_value is not None]
    qs = benjamini_hochberg([segs[i].p_value or 1.0 for i in tested])
    out = list(segs)
    for i, q in zip(tested, qs, strict=True):
        s = segs[i]
        verdict = "same"
        if q < Q_LEVEL and s.effect is not None:
            verdict = "better" if s.effect > 0 else "worse"
        out[i] = Segment(**{**asdict(s), "q_value": q, "verdict": verdict})
    return out


def segments(
    ws: Workspace, period: Period, dimensions: tuple[str, ...] = DIMENSIONS
) -> dict[str, Any]:
    """Win rate (Wilson 95%), cycle, deal size and velocity per segment; BH q < 0.05 flags."""
    unknown = [d for d in dimensions if d not in DIMENSIONS]
    if unknown:
        from eigyo.errors import InputError

        raise InputError(
            f"Unknown segment dimension {unknown[0]!r}. Use one of: {', '.join(DIMENSIONS)}."
        )
    sample = deal_sample(ws, period)
    tot = sample.aggregate(n=sample.count(), k=sample.won.sum()).to_pyarrow().to_pylist()[0]
    total_n, total_k = int(tot["n"]), int(tot["k"] or 0)
    segs = [_segment(d, r, total_n, total_k) for d in dimensions for r in _by(sample, d)]
    segs = _flag(segs)
    return {
        "period": period.label,
        "closed": total_n,
        "won": total_k,
        "win_rate": total_k / total_n if total_n else None,
        "min_deals": MIN_DEALS,
        "segments": [asdict(s) for s in segs],
    }
