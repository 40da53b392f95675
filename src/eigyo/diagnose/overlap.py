"""Which findings rest on the same records, and a total at stake that counts each record once.

Two findings overlap when their populations (:func:`eigyo.diagnose.behind.population`) share a
record of the same kind: a deal (``opportunity_id``), a lead (``lead_id``) or a rep
(``rep_id``). 大阪営業部's win-rate gap and the win-rate gap of one of its reps count the same
lost deals; their impacts do not add up, and a summary that adds them promises more money than
there is. Records of different kinds never overlap (a team's idle open deals and its lost closed
deals are different money).

:func:`mark` sets ``Finding.overlaps`` both ways for the alarms (warn, error) that carry an
impact. It builds every such finding's key set as one engine table (``finding index, kind,
key``) — the findings' populations written as data (:mod:`eigyo.diagnose.selection`), each shape
of them one join of its sample with a small table of the findings' accepted values — groups
the records by the findings that hold them and reads back only the distinct sets of two
findings or more: one query for the whole diagnosis, whose size grows with the kinds of
findings, not their number (in steps of :data:`CHUNK` parts past that many). The keys never
travel to Python, and no row is made per record and pair of findings. The pairs are every two
findings of a set.

:func:`non_overlapping_total` is the executive summary's rule: take the alarms by impact,
largest first; add a finding's impact unless it overlaps one already added. The total is then a
sum over disjoint populations (never more than is at stake), and the largest estimate of each
overlapping cluster is the one that counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa
from scipy import sparse

from eigyo.diagnose.behind import NoRecords, Samples, population, selection
from eigyo.diagnose.model import Finding
from eigyo.diagnose.selection import Selection
from eigyo.engines import engine_step

if TYPE_CHECKING:
    from eigyo.diagnose.context import Context


def _weighed(findings: Sequence[Finding]) -> list[Finding]:
    """The alarms with a positive impact: the findings a total at stake adds up."""
    return [f for f in findings if f.is_alarm and f.impact_jpy is not None and f.impact_jpy > 0]


#: Parts (:func:`key_parts`) per statement when the key table is built in steps.
CHUNK = 64


def key_table(
    findings: Sequence[Finding],
    ctx: Context,
    samples: Samples | None = None,
    hold: list[ir.Table] | None = None,
) -> ir.Table | None:
    """One engine table of ``(i, kind, key)``: the record ids of each finding's population
    (``i`` its index in ``findings``; a record may repeat, :func:`_holders` counts it once), or
    None when none has a population.
    ``samples``: where the populations read their samples (default: the diagnosis's).

    A compared group's population is data (:func:`eigyo.diagnose.behind.selection`): the
    findings whose selections have one shape — the same sample and columns — are read by one
    join of the sample with a small table of their accepted values, whatever their number. A
    filter expression per finding made the large demo's 1,483 alarms 1,483 plan branches: 22 s
    of compiling on DuckDB, and Spark's planner ran out of a 1 GB driver's heap. The other
    populations (a constraint's stage, a customer's deals, import warnings) are a few
    expressions of their own.

    ``hold``: past :data:`CHUNK` parts, build the table in steps of that many, each computed
    into a temporary engine table (appended to ``hold``, for the caller to release), so that
    no statement grows with the number of findings."""
    parts = key_parts(findings, ctx, samples or ctx.sample)
    if not parts:
        return None
    if hold is None or len(parts) <= CHUNK:
        return _balanced_union(parts)
    steps: list[ir.Table] = []
    for k in range(0, len(parts), CHUNK):
        step = _balanced_union(parts[k : k + CHUNK]).cache()
        hold.append(step)
        # Computed now, one step a job: Spark caches lazily, and left to the final query the
        # steps would run as one job again. DuckDB has already written the table.
        step.count().execute()
        steps.append(step)
    return _balanced_union(steps)


def key_parts(findings: Sequence[Finding], ctx: Context, samples: Samples) -> list[ir.Table]:
    """The ``(i, kind, key)`` tables :func:`key_table` unites: one per shape of selections
    (:func:`_joined`) and one per population of its own kind — their number grows with the
    kinds of findings, not with the findings."""
    parts: list[ir.Table] = []
    shapes: dict[tuple[object, ...], list[tuple[int, Selection]]] = {}
    for i, f in enumerate(findings):
        sel = selection(f, samples)
        if sel is not None:
            shapes.setdefault(sel.shape, []).append((i, sel))
            continue
        try:
            pop = population(ctx.ws, ctx.period, f, samples)
        except NoRecords:
            continue
        t = pop.table
        parts.append(
            t.select(
                i=ibis.literal(i, "int64"),
                kind=ibis.literal(pop.key),
                key=t[pop.key].cast("string"),
            )
        )
    for group in shapes.values():
        part = _joined(group, samples)
        if part is not None:
            parts.append(part)
    return parts


def _joined(group: list[tuple[int, Selection]], samples: Samples) -> ir.Table | None:
    """The ``(i, kind, key)`` rows of selections of one shape: their sample, with the shape's
    fixed conditions, joined on every accepted column with a table of ``(finding index,
    accepted values)`` — a row per combination of values (:meth:`Selection.rows`)."""
    first = group[0][1]
    columns = [c for c, _ in first.accept]
    rows = [(i, *row) for i, sel in group for row in sel.rows()]
    if not rows:
        return None
    wanted = ibis.memtable(
        pa.table(
            {
                "_i": pa.array([r[0] for r in rows], pa.int64()),
                **{
                    f"_m{n}": pa.array([r[n + 1] for r in rows], pa.string())
                    for n in range(len(columns))
                },
            }
        )
    )
    t = first.fixed(samples(first.sample))
    s = t.select(
        _k=t[first.key].cast("string"),
        **{f"_c{n}": t[c].cast("string") for n, c in enumerate(columns)},
    )
    if columns:
        j = s.join(wanted, [s[f"_c{n}"] == wanted[f"_m{n}"] for n in range(len(columns))])
    else:  # no condition but the fixed ones (the organization against a target): every row
        j = s.cross_join(wanted)
    return j.select(i=j._i, kind=ibis.literal(first.key), key=j._k)


def _balanced_union(parts: list[ir.Table]) -> ir.Table:
    """``UNION ALL`` of ``parts`` as a balanced tree: a left-deep chain nests one level per
    finding, and with fifteen findings over deep samples the SQL compiler ran out of recursion
    (RecursionError on the medium demo); a balanced tree nests log₂ of them."""
    while len(parts) > 1:
        paired = [a.union(b, distinct=False) for a, b in zip(parts[::2], parts[1::2], strict=False)]
        parts = paired + ([parts[-1]] if len(parts) % 2 else [])
    return parts[0]


def pairs(findings: Sequence[Finding], ctx: Context) -> set[tuple[int, int]]:
    """The index pairs ``(i, j)``, ``i < j``, of findings that share a record (one query)."""
    cached: list[ir.Table] = []
    steps: list[ir.Table] = []
    try:
        with engine_step("engine.spark.step.overlap"):  # Spark's failure: one sentence
            keys = key_table(findings, ctx, _held(ctx, cached), hold=steps)
            if keys is None:
                return set()
            held = _holders(keys).to_pyarrow().column("held")
        return _pairs_of(held, len(findings))
    finally:
        for t in [*steps, *cached]:
            t.release()


def _held(ctx: Context, cached: list[ir.Table]) -> Samples:
    """The samples as the key table reads them: a diagnosis's context holds them in engine
    tables already (a copy would only cost time and memory); a bare context's are computed once
    here, into temporary tables appended to ``cached`` for the caller to release — the key
    table reads a sample once per shape of findings over it."""
    if ctx.holds:
        return ctx.sample
    samples: dict[str, ir.Table] = {}

    def sample(name: str) -> ir.Table:
        if name not in samples:
            samples[name] = ctx.sample(name).cache()
            cached.append(samples[name])
        return samples[name]

    return sample


def _holders(keys: ir.Table) -> ir.Table:
    """The distinct sets of findings that hold one same record (``held``: their indices, sorted),
    over the records that two findings or more hold.

    Grouping the records by the findings that hold them is what bounds the work: joining the
    key table with itself made a row for every record and every pair of findings holding it —
    the large demo's 1,483 alarms over a million deals ran a 1 GB Spark driver out of memory —
    while the distinct sets are few (a rep's deals are held by the same findings: the rep's,
    the team's, the segments'), so what leaves the engine grows with those sets, never with
    the records."""
    held = keys.group_by("kind", "key").aggregate(held=keys.i.collect(distinct=True))
    held = held.filter(held.held.length() > 1)
    return held.select(held=held.held.sort()).distinct()


def _pairs_of(sets: pa.ChunkedArray, n: int) -> set[tuple[int, int]]:
    """Every pair ``(i, j)``, ``i < j``, that one of ``sets`` (lists of finding indices below
    ``n``) holds together. The sets become the rows of a sparse incidence matrix ``M`` (set ×
    finding); ``Mᵀ·M`` is non-zero exactly where two findings share a set, computed in C:
    a Python loop over every pair of every set would run once per pair per set."""
    lists = sets.combine_chunks()
    if len(lists) == 0:
        return set()
    cols = lists.flatten().to_numpy(zero_copy_only=False).astype(np.int64)
    ptr = lists.offsets.to_numpy(zero_copy_only=False).astype(np.int64)
    ptr -= ptr[0]  # a slice's offsets start where it starts in the values
    m = sparse.csr_matrix((np.ones(len(cols), np.int32), cols, ptr), shape=(len(lists), n))
    both = sparse.triu(m.T @ m, k=1).tocoo()
    return set(zip(both.row.tolist(), both.col.tolist(), strict=True))


def mark(findings: list[Finding], ctx: Context) -> None:
    """Set ``overlaps`` (finding ids, both ways) on the alarms with an impact whose populations
    share a deal, lead or rep. Other findings keep an empty list: nothing of theirs is summed.

    Each list is in the findings' own order (:meth:`Finding.sort_key`: the largest impact
    first), not in the order the findings arrived here — that follows the engine's GROUP BY
    order, and the report's "overlaps with" lists read differently on Spark and DuckDB."""
    weighed = _weighed(findings)
    if len(weighed) < 2:
        return
    for x, y in sorted(pairs(weighed, ctx)):
        a, b = weighed[x], weighed[y]
        if a.id == b.id:
            continue
        if b.id not in a.overlaps:
            a.overlaps.append(b.id)
        if a.id not in b.overlaps:
            b.overlaps.append(a.id)
    rank = {f.id: f.sort_key() for f in weighed}
    for f in weighed:
        f.overlaps.sort(key=rank.__getitem__)


def non_overlapping_total(findings: Sequence[Finding]) -> tuple[float, list[str], list[str]]:
    """The total at stake over non-overlapping populations: ``(total, counted ids, skipped
    ids)``. Alarms with an impact are taken largest impact first; one whose ``overlaps`` names
    a finding already counted is skipped (its records are in that larger estimate already).
    Ties keep the diagnosis's order (:meth:`Finding.sort_key`), so the result is stable."""
    ranked = sorted(_weighed(findings), key=lambda f: -(f.impact_jpy or 0.0))
    total = 0.0
    counted: list[str] = []
    skipped: list[str] = []
    for f in ranked:
        if any(o in counted for o in f.overlaps):
            skipped.append(f.id)
            continue
        counted.append(f.id)
        total += f.impact_jpy or 0.0
    return total, counted, skipped
