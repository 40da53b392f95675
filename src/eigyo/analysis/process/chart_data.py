"""Step 2 (process): the chart data of the funnel, time in stage and stage conversion.

Each chart reads the process analysis that defines its number: stage entries and their dwell
from :func:`~eigyo.analysis.process.process_map.stage_stats` (the process map's table), and
conversion from :func:`~eigyo.analysis.process.stages.stage_exits`, the sample the
``stage_bottleneck`` check tests. "Advanced" therefore means what the check means: the next
entry is not a loss; entries still waiting (open deals) count for neither side.
"""

from __future__ import annotations

import polars as pl

from eigyo.analysis.process.process_map import stage_stats
from eigyo.analysis.process.stages import stage_catalog, stage_entries, stage_exits
from eigyo.analysis.verdicts import frame
from eigyo.base.periods import Period
from eigyo.workspace import Workspace

_FUNNEL_SCHEMA = {
    "stage": pl.String,
    "kind": pl.String,
    "position": pl.Int64,
    "entered": pl.Int64,
    "median_days": pl.Float64,
}


def stage_funnel(ws: Workspace, period: Period) -> pl.DataFrame:
    """Per stage: opportunities (created in the period) that entered it and the median days to
    their next entry, in the process map's order (configured stages first)."""
    catalog = stage_catalog(ws)
    stats = stage_stats(stage_entries(ws, period, attrs=catalog.table), catalog)
    rows = [
        (s.stage, s.kind, ws.settings.stage_order(s.stage), s.deals, s.median_days) for s in stats
    ]
    return pl.DataFrame(rows, schema=_FUNNEL_SCHEMA, orient="row")


def stage_conversion_by_team(ws: Workspace, period: Period) -> pl.DataFrame:
    """Team × stage: decided entries (``n``), how many advanced, and the share: the groups and
    the rate of the ``stage_bottleneck`` check. Unlisted stages come after the listed ones."""
    e = stage_exits(ws, period)
    e = e.filter(e.advanced.notnull())
    g = e.group_by(["team", "stage"]).agg(
        n=e.count(), advanced=e.advanced.sum(), position=e.stage_order.min()
    )
    g = g.mutate(conversion=(g.advanced / g.n).cast("float64"))
    return frame(g).sort(["team", "position", "stage"], nulls_last=True)
