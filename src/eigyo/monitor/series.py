"""Weekly and monthly series of the key metrics, per organization and team, with their charts.

Each value is :func:`eigyo.metrics.compute` for one week or month, so a point on a chart means
exactly what the metric means everywhere else (the engine does the work; Python only loops over
a few dozen periods). Only complete periods are charted: a week or month still in progress would
look like a drop and raise a false alarm every Monday.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from eigyo.base.periods import Period, months_until
from eigyo.metrics import REGISTRY, compute
from eigyo.metrics._needs import present
from eigyo.monitor.config import MonitorConfig
from eigyo.monitor.control import Chart, chart
from eigyo.workspace import Workspace

Tick = Callable[[str, int, int], None]
ORG = ("", "")  # (dim, group) of the whole organization


@dataclass
class Series:
    """One metric over consecutive periods for one scope, with its control chart."""

    grain: str
    metric: str
    dim: str
    group: str
    chart: Chart

    @property
    def worse(self) -> str:
        """The direction in which this metric gets worse (``up`` for durations and shares)."""
        return "down" if REGISTRY[self.metric].better == "higher" else "up"

    @property
    def scope(self) -> dict[str, str]:
        return {self.dim: self.group} if self.dim else {}


def weeks_until(end: date, n: int) -> list[Period]:
    """The last ``n`` complete Monday–Sunday weeks ending on or before ``end``."""
    sunday = end - timedelta(days=(end.weekday() + 1) % 7)
    out = []
    for k in range(n - 1, -1, -1):
        last = sunday - timedelta(weeks=k)
        first = last - timedelta(days=6)
        iso = first.isocalendar()
        out.append(Period(first, last, f"{iso.year}-W{iso.week:02d}"))
    return out


def _values(
    ws: Workspace, periods: list[Period], cfg: MonitorConfig, tick: Tick, grain: str
) -> dict[tuple[str, str, str], dict[str, float]]:
    """(metric, dim, group) → {period label: value}, skipping periods without a value.

    Metrics whose data the workspace lacks (no activities, no time entries …) are left out
    once, up front: they would be null in every period, and asking for them in each of the
    dozens of periods made the series of a partial export several times slower."""
    out: dict[tuple[str, str, str], dict[str, float]] = {}
    found = present(ws, [n for m in cfg.metrics for n in REGISTRY[m].needs])
    usable = [m for m in cfg.metrics if all(found[n] for n in REGISTRY[m].needs)]
    for i, p in enumerate(periods):
        tick(f"{grain} {p.label}", i, len(periods))
        for dim in (None, *cfg.by):
            ids = [m for m in usable if dim is None or dim in REGISTRY[m].dims]
            for v in compute(ws, p, ids, dim) if ids else []:
                if v.value is None:
                    continue
                d, g = next(iter(v.by.items())) if v.by else ORG
                out.setdefault((v.id, d, g), {})[p.label] = v.value
    tick(grain, len(periods), len(periods))
    return out


def build_series(
    ws: Workspace, end: date, cfg: MonitorConfig, tick: Tick | None = None
) -> list[Series]:
    """Every configured grain × metric × scope as a charted series ending at ``end``."""
    tick = tick or (lambda item, done, total: None)
    out: list[Series] = []
    for grain in cfg.grains:
        if grain == "week":
            periods, recent = weeks_until(end, cfg.weeks), cfg.recent_weeks
        else:
            periods, recent = months_until(end, cfg.months), cfg.recent_months
        values = _values(ws, periods, cfg, tick, grain)
        for (metric, dim, group), by_label in sorted(values.items()):
            labels = [p.label for p in periods if p.label in by_label]
            c = chart(
                labels,
                [by_label[lb] for lb in labels],
                recent=recent,
                baseline_max=max(len(periods), 1),
                method=cfg.method,
                rules=cfg.rules,
            )
            out.append(Series(grain, metric, dim, group, c))
    return out
