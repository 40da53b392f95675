"""Which findings rest on the same records, and a total at stake that counts each record once.

Two findings overlap when their populations (:func:`eigyo.diagnose.behind.population`) share a
record of the same kind: a deal (``opportunity_id``), a lead (``lead_id``) or a rep
(``rep_id``). 大阪営業部's win-rate gap and the win-rate gap of one of its reps count the same
lost deals; their impacts do not add up, and a summary that adds them promises more money than
there is. Records of different kinds never overlap (a team's idle open deals and its lost closed
deals are different money).

:func:`mark` sets ``Finding.overlaps`` both ways for the alarms (warn, error) that carry an
impact. It builds every such finding's key set as one engine table (``finding index, kind,
key``), joins it with itself and reads back only the overlapping pairs: one query for the
whole diagnosis (in steps of :data:`CHUNK` populations past that many) — the keys never
travel to Python.

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

from eigyo.diagnose.behind import NoRecords, Samples, population
from eigyo.diagnose.model import Finding

if TYPE_CHECKING:
    from eigyo.diagnose.context import Context


def _weighed(findings: Sequence[Finding]) -> list[Finding]:
    """The alarms with a positive impact: the findings a total at stake adds up."""
    return [f for f in findings if f.is_alarm and f.impact_jpy is not None and f.impact_jpy > 0]


#: Populations per statement when the key table is built in steps (see :func:`key_table`).
CHUNK = 64


def key_table(
    findings: Sequence[Finding],
    ctx: Context,
    samples: Samples | None = None,
    hold: list[ir.Table] | None = None,
) -> ir.Table | None:
    """One engine table of ``(i, kind, key)``: the distinct record ids of each finding's
    population (``i`` its index in ``findings``), or None when none has a population.
    ``samples``: where the populations read their samples (default: the diagnosis's).

    ``hold``: build it in steps of :data:`CHUNK` populations, each computed into a temporary
    engine table (appended to ``hold``, for the caller to release). The large demo raises 1,840
    findings; their populations in one statement made Spark's planner run out of a 1 GB driver's
    heap (``OutOfMemoryError`` after 22 minutes of diagnosis). In steps, no statement holds more
    than :data:`CHUNK` of them, whatever the number of findings."""
    samples = samples or ctx.sample
    parts: list[ir.Table] = []
    for i, f in enumerate(findings):
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
            ).distinct()
        )
    if not parts:
        return None
    if hold is None or len(parts) <= CHUNK:
        return _balanced_union(parts)
    steps = [_balanced_union(parts[k : k + CHUNK]).cache() for k in range(0, len(parts), CHUNK)]
    hold.extend(steps)
    return _balanced_union(steps)


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
    cached: dict[str, ir.Table] = {}

    def sample(name: str) -> ir.Table:
        """Each sample computed once, into a temporary table of the engine: a hundred
        populations over one sample would otherwise compile and run it a hundred times (6 of
        the medium demo's 12 s of diagnosis)."""
        if name not in cached:
            cached[name] = ctx.sample(name).cache()
        return cached[name]

    steps: list[ir.Table] = []
    try:
        keys = key_table(findings, ctx, sample, hold=steps)
        if keys is None:
            return set()
        a = keys.view()
        b = keys.view()
        j = a.join(b, (a.kind == b.kind) & (a.key == b.key) & (a.i < b.i))
        both = j.select(x=a.i, y=b.i).distinct()
        return {(int(r["x"]), int(r["y"])) for r in both.to_pyarrow().to_pylist()}
    finally:
        for t in [*steps, *cached.values()]:
            t.release()


def mark(findings: list[Finding], ctx: Context) -> None:
    """Set ``overlaps`` (finding ids, both ways) on the alarms with an impact whose populations
    share a deal, lead or rep. Other findings keep an empty list: nothing of theirs is summed."""
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
