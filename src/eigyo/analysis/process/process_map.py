"""The process map of ``eigyo process``: stages, transitions and variants from stage history.

A transition is two consecutive stage entries of one opportunity in the order of
:func:`eigyo.analysis.process.stages.stage_entries` (``entered_at``, ties by configured stage
order, then
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

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

import ibis
import ibis.expr.types as ir

from eigyo.analysis.common import days_between
from eigyo.analysis.process.stages import (
    StageCatalog,
    rows,
    sort_key,
    stage_catalog,
    stage_pairs,
    stage_walk,
)
from eigyo.base.periods import Period
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
        """The ``eigyo process`` contract (docs/cli-json.md); extra keys only ever added, never
        renamed."""
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


def stage_stats(
    entries: ir.Table, catalog: StageCatalog, deals: dict[int, int] | None = None
) -> list[StageStat]:
    """Entries, distinct deals, median and p90 dwell per stage, in configured order.

    Unlisted stages (no configured order) come after, the most entered first, then by name.
    Grouped on the stage rank in the engine; names and kinds come from ``catalog``. ``deals``
    (distinct opportunities per rank), when the caller has them, spares the engine a distinct
    count over every entry — the most expensive aggregate of the map (:func:`deals_by_rank`).
    """
    e = entries
    aggs: dict[str, ir.Value] = {
        "entered": e.count(),
        "median_days": e.dwell_days.median(),
        "p90_days": e.dwell_days.quantile(0.9),
    }
    if deals is None:
        aggs["deals"] = e.opportunity_id.nunique()
    g = e.group_by("stage_rank").agg(**aggs)
    info = catalog.by_rank

    def order(r: dict[str, Any]) -> tuple[int, int, str]:
        i = info[r["stage_rank"]]
        return (sort_key(i.order), -r["entered"], i.name)

    out = []
    for r in sorted(rows(g), key=order):
        i = info[r["stage_rank"]]
        n = r["deals"] if deals is None else deals.get(r["stage_rank"], 0)
        out.append(StageStat(i.name, r["entered"], r["median_days"], n, r["p90_days"], i.kind))
    return out


def transition_stats(entries: ir.Table, catalog: StageCatalog) -> list[TransitionStat]:
    """Counts and median durations of consecutive entry pairs, most frequent first.

    ``entries`` needs stage_rank, next_rank and dwell_days (:func:`stage_entries` or the leaner
    :func:`stage_pairs`); grouping runs on the integer ranks, names come from ``catalog`` after.
    """
    e = entries.filter(entries.next_rank.notnull())
    g = e.group_by(["stage_rank", "next_rank"]).agg(
        count=e.count(), median_days=e.dwell_days.median()
    )
    name = catalog.name
    out = [
        TransitionStat(name(r["stage_rank"]), name(r["next_rank"]), r["count"], r["median_days"])
        for r in rows(g)
    ]
    return sorted(out, key=lambda t: (-t.count, t.source, t.target))


def directly_follows(ws: Workspace, period: Period | None = None) -> list[TransitionStat]:
    """The directly-follows graph alone (transitions, counts, median days), by the lean window."""
    catalog = stage_catalog(ws)
    return transition_stats(stage_pairs(ws, period, catalog=catalog), catalog)


def path_groups(entries: ir.Table, catalog: StageCatalog) -> ir.Table:
    """One row per distinct path: ``path`` (see :func:`_path`), ``count`` (the opportunities
    that took it) and ``median_days`` (first entry → last entry).

    Both the variants and each stage's distinct deals read this table.
    """
    e = entries
    per_deal = e.group_by("opportunity_id").agg(
        path=_path(e, _base(catalog)),
        days=days_between(e.entered_at.min(), e.entered_at.max()),
    )
    return per_deal.group_by("path").agg(count=per_deal.count(), median_days=per_deal.days.median())


def deals_by_rank(groups: ir.Table, catalog: StageCatalog) -> dict[int, int]:
    """Distinct opportunities that entered each stage (by rank), from :func:`path_groups`.

    An opportunity took exactly one path, so the deals of a stage are the opportunities of the
    paths that hold it: a sum over the (few) distinct paths instead of a distinct count over
    every entry, which cost more than the rest of the stage table.
    """
    # each path's ranks, once per path: unnested with a path number and made distinct on plain
    # integers (no lambda: list functions compile to lambdas this DuckDB refuses)
    g = groups.mutate(_pid=ibis.row_number())
    steps = g.select("_pid", n=g["count"], step=g.path.unnest())
    d = steps.select("_pid", "n", rank=steps.step % _base(catalog)).distinct()
    g = d.group_by("rank").agg(deals=d.n.sum())
    return {r["rank"]: r["deals"] for r in rows(g)}


def variants(groups: ir.Table, catalog: StageCatalog, top: int = 10) -> tuple[list[Variant], int]:
    """The ``top`` most frequent paths of :func:`path_groups` (share of all opportunities with
    history) and the total.

    Ties in count are ordered by the path itself so the list is stable; only the paths tied
    with the top-th count become names.
    """
    g = groups
    # All paths tied with the top-th count come back (rank is the minimum rank of ties); the
    # final order, by count and then by the names, is made on those few rows.
    g = g.mutate(
        _total=g["count"].sum().over(ibis.window()),
        _rank=ibis.rank().over(order_by=ibis.desc(g["count"])),
    )
    top_rows = rows(g.filter(g._rank < top))
    total = top_rows[0]["_total"] if top_rows else 0
    base = _base(catalog)
    found = [
        Variant(
            tuple(catalog.name(step % base) for step in r["path"]),
            r["count"],
            r["count"] / total if total else 0.0,
            r["median_days"],
        )
        for r in top_rows
    ]
    found.sort(key=lambda v: (-v.count, VARIANT_SEP.join(v.stages)))
    return found[:top], total


def _base(catalog: StageCatalog) -> int:
    """The number base of :func:`_path`'s steps: one more than the highest stage rank."""
    return max(len(catalog.by_rank), 1)


def _path(e: ir.Table, base: int) -> ir.ArrayValue:
    """One deal's path, as a value to group deals by: the sorted array of ``seq * base + rank``.

    ``seq`` counts 0, 1, … in every deal and ``rank < base``, so sorting the steps puts them in
    entry order and two arrays are equal exactly when the rank sequences are; a step's rank is
    ``step % base``. An unordered collect plus a sort of each small array costs a third less
    than an aggregate ordered by ``seq`` on DuckDB, and every engine can run it.
    """
    return (e.seq * base + e.stage_rank).collect().sort()


def process_map(
    ws: Workspace, period: Period | None = None, *, top_variants: int = 10
) -> ProcessMap:
    """Stages, transitions and top variants of opportunities created in ``period``.

    Without a period every stage-history row counts, including rows of opportunities the
    ``opportunities`` table does not hold (an imported event log, say).
    """
    catalog = stage_catalog(ws)
    with _once(ws, stage_walk(ws, period, catalog)) as entries:
        with _once(ws, path_groups(entries, catalog)) as groups:
            found, total = variants(groups, catalog, top_variants)
            deals = deals_by_rank(groups, catalog)
        stages = stage_stats(entries, catalog, deals)
        return ProcessMap(stages, transition_stats(entries, catalog), found, total)


@contextmanager
def _once(ws: Workspace, entries: ir.Table) -> Iterator[ir.Table]:
    """``entries`` computed once for the summaries that read it, where the engine can hold it.

    The ordered window (and the paths grouped from it) are the expensive parts: each goes into a
    temporary table, dropped on leaving the block. Where the engine cannot cache an expression
    that joins the in-memory stage catalogue (``EngineSpec.caches_memtables``), each summary runs
    the window itself.
    """
    if not ws.engine_spec.caches_memtables:
        yield entries
        return
    with entries.cache() as cached:
        yield cached
