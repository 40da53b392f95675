"""The process map of ``eigyo process``: stages, transitions and variants from stage history.

A transition is two consecutive stage entries of one opportunity in the order of
:func:`eigyo.analysis.stages.stage_entries` (``entered_at``, ties by configured stage order, then
name). Self-loops (a stage entered twice in a row, common in event logs) are transitions too, as in
a process-mining directly-follows graph, so counts match such tools.

Durations:

- a stage's ``median_days`` is the median time from entering it to the opportunity's *next*
  entry. The last entry of each opportunity has no next entry and is left out (its clock is still
  running, or the stage ended the deal), so a stage that only ever ends deals (受注, 失注) has
  ``median_days`` null. ``p90_days`` is the continuous 90th percentile of the same sample.
- a transition's ``median_days`` is the median of ``to.entered_at - from.entered_at``.
- medians of an even count average the two middle values (DuckDB ``quantile_cont``).

Everything is computed in the engine; Python only turns the small result rows into dataclasses.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import ibis
import ibis.expr.types as ir

from eigyo.analysis.common import days_between
from eigyo.analysis.stages import UNLISTED_ORDER, stage_entries
from eigyo.periods import Period
from eigyo.workspace import Workspace

#: Separator of stage names inside a variant key (a character no CRM puts in a stage name).
VARIANT_SEP = "\x1f"


@dataclass(frozen=True)
class StageStat:
    stage: str
    entered: int
    median_days: float | None
    deals: int
    p90_days: float | None
    kind: str | None


@dataclass(frozen=True)
class TransitionStat:
    source: str
    target: str
    count: int
    median_days: float | None


@dataclass(frozen=True)
class Variant:
    """One distinct path through the stages: how many opportunities took it, how long it took."""

    stages: tuple[str, ...]
    count: int
    share: float
    median_days: float | None


@dataclass(frozen=True)
class ProcessMap:
    stages: list[StageStat]
    transitions: list[TransitionStat]
    variants: list[Variant] = field(default_factory=list)
    opportunities: int = 0

    def to_json(self) -> dict[str, Any]:
        """The ``eigyo process`` contract (DESIGN.md); extra keys only ever added, never renamed."""
        return {
            "stages": [asdict(s) for s in self.stages],
            "transitions": [
                {"from": t.source, "to": t.target, "count": t.count, "median_days": t.median_days}
                for t in self.transitions
            ],
            "variants": [
                {
                    "stages": list(v.stages),
                    "count": v.count,
                    "share": v.share,
                    "median_days": v.median_days,
                }
                for v in self.variants
            ],
            "opportunities": self.opportunities,
        }


def _rows(expr: ir.Table) -> list[dict[str, Any]]:
    return expr.to_pyarrow().to_pylist()  # type: ignore[no-any-return]


def stage_stats(entries: ir.Table) -> list[StageStat]:
    """Entries, distinct deals, median and p90 dwell per stage, in configured order."""
    e = entries
    g = e.group_by("stage").agg(
        entered=e.count(),
        deals=e.opportunity_id.nunique(),
        median_days=e.dwell_days.median(),
        p90_days=e.dwell_days.quantile(0.9),
        kind=e.kind.max(),
        _sort=e.stage_order.min().fill_null(UNLISTED_ORDER),
    )
    g = g.order_by([g._sort, ibis.desc(g.entered), g.stage])
    return [
        StageStat(r["stage"], r["entered"], r["median_days"], r["deals"], r["p90_days"], r["kind"])
        for r in _rows(g)
    ]


def transition_stats(entries: ir.Table) -> list[TransitionStat]:
    """Counts and median durations of consecutive entry pairs, most frequent first."""
    e = entries.filter(entries.next_stage.notnull())
    g = e.group_by(["stage", "next_stage"]).agg(count=e.count(), median_days=e.dwell_days.median())
    g = g.order_by([ibis.desc(g["count"]), g.stage, g.next_stage])
    return [
        TransitionStat(r["stage"], r["next_stage"], r["count"], r["median_days"]) for r in _rows(g)
    ]


def variants(entries: ir.Table, top: int = 10) -> tuple[list[Variant], int]:
    """The ``top`` most frequent paths (share of all opportunities with history) and the total.

    A path's duration is first entry → last entry of the opportunity; ties in count are ordered
    by the path itself so the list is stable.
    """
    e = entries
    per_deal = e.group_by("opportunity_id").agg(
        path=e.stage.group_concat(VARIANT_SEP, order_by=e.seq),
        days=days_between(e.entered_at.min(), e.entered_at.max()),
    )
    g = per_deal.group_by("path").agg(count=per_deal.count(), median_days=per_deal.days.median())
    total = per_deal.count().to_pyarrow().as_py()
    g = g.order_by([ibis.desc(g["count"]), g.path]).limit(top)
    out = [
        Variant(
            tuple(r["path"].split(VARIANT_SEP)),
            r["count"],
            r["count"] / total if total else 0.0,
            r["median_days"],
        )
        for r in _rows(g)
    ]
    return out, int(total or 0)


def process_map(
    ws: Workspace, period: Period | None = None, *, top_variants: int = 10
) -> ProcessMap:
    """Stages, transitions and top variants of opportunities created in ``period``.

    Without a period every stage-history row counts, including rows of opportunities the
    ``opportunities`` table does not hold (an imported event log, say).
    """
    entries = stage_entries(ws, period)
    found, total = variants(entries, top_variants)
    return ProcessMap(stage_stats(entries), transition_stats(entries), found, total)
