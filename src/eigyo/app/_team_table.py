"""Grouped metrics as a table: one row per metric, one column per team, each cell with its value
and a small trend line of the period's months (inline SVG, no chart library).

Why a pivot: a manager compares teams across the row, and a long list of (metric, team) pairs
hides that. The values are the registry's (:func:`eigyo.metrics.compute` grouped by team, and
:func:`eigyo.metrics.compute_series` for the months), on the person's scoped and filtered
workspace, so each cell equals the metrics explorer's grouped value.
"""

from __future__ import annotations

from dataclasses import dataclass

from eigyo.app._scope import ScopedWorkspace
from eigyo.base.periods import Period
from eigyo.metrics import REGISTRY, compute, compute_series, format_metric

#: Width and height of a trend line, in CSS pixels.
SPARK_W, SPARK_H = 64, 18


@dataclass(frozen=True)
class Cell:
    text: str
    value: float | None
    points: str  # SVG polyline points; empty when fewer than two months have a value


@dataclass(frozen=True)
class TeamTable:
    teams: list[str]
    rows: list[tuple[str, str, list[Cell]]]  # (metric id, label, one cell per team)


def spark_points(values: list[float | None]) -> str:
    """The polyline of ``values`` scaled into the sparkline's box (gaps skipped)."""
    known = [(i, v) for i, v in enumerate(values) if v is not None]
    if len(known) < 2:
        return ""
    lo, hi = min(v for _, v in known), max(v for _, v in known)
    span = (hi - lo) or 1.0
    step = SPARK_W / max(len(values) - 1, 1)
    return " ".join(
        f"{i * step:.1f},{SPARK_H - 1 - (v - lo) / span * (SPARK_H - 2):.1f}" for i, v in known
    )


def team_table(
    ws: ScopedWorkspace, period: Period, metric_ids: list[str], lang: str, currency: str
) -> TeamTable:
    """The metrics of ``metric_ids`` by team for ``period``, with their monthly trend."""
    now = compute(ws, period, metric_ids, "team")
    teams = sorted({v.by.get("team", "") for v in now})
    series: dict[tuple[str, str], dict[str, float | None]] = {}
    months = [m.label for m in period.months()]
    for month, mv in compute_series(ws, period, metric_ids, "team"):
        series.setdefault((mv.id, mv.by.get("team", "")), {})[month] = mv.value
    by_key = {(v.id, v.by.get("team", "")): v for v in now}
    rows = []
    for mid in metric_ids:
        cells = []
        for team in teams:
            v = by_key.get((mid, team))
            trend = series.get((mid, team), {})
            cells.append(
                Cell(
                    text=format_metric(v, lang, currency) if v else "—",
                    value=v.value if v else None,
                    points=spark_points([trend.get(m) for m in months]),
                )
            )
        rows.append((mid, REGISTRY[mid].label(lang), cells))
    return TeamTable(teams=teams, rows=rows)
