"""The findings a filtered view shows: the organization's diagnosis narrowed, never re-tested.

The dashboard's filters (team, rep, product, segment: :mod:`eigyo.app._filters`) narrow every
number a page computes. The findings cannot be narrowed the same way: diagnosing team A's rows
alone would compare team A with itself (no team finding could fire) and test fewer deals than
the diagnosis the organization reads, so a filtered page would show different, weaker statistics
under the same names. The diagnosis is therefore computed once per period
(:mod:`eigyo.app._findings_scope`) and this module only *selects* from it:

* a finding whose scope names something the filter excludes — another team, a rep outside the
  chosen team or not the chosen rep, another product, another industry — is left out at once;
* a finding with records (:mod:`eigyo.diagnose.behind`) is kept when at least one of its records
  lies in the filter (its population read through the filtered workspace is not empty): the
  organization's idle deals under ``team=A`` keep the finding when team A has idle deals;
* a finding without records (ok, not enough data, an intervention's effect) is kept when its
  scope does not conflict: it states something about the organization that stays true.

Kept findings are the organization's findings unchanged (texts, numbers, q-values): the page says
which filter applies and how many findings it hides (:class:`Narrowing`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import ibis
import ibis.expr.types as ir

from eigyo.app._filters import FilteredWorkspace, ViewFilter
from eigyo.app._scope import ScopedWorkspace
from eigyo.base.periods import Period
from eigyo.diagnose import Finding, behind
from eigyo.diagnose.context import SAMPLES

#: Scope keys compared with a filter directly: scope key → the filter field it must match.
SCOPE_FILTER: dict[str, str] = {"product": "product", "industry": "segment"}


@dataclass(frozen=True)
class Narrowing:
    """What a page says about its findings under a filter: the filters chosen (name, value),
    and how many of the scope's findings are shown and hidden."""

    filters: tuple[tuple[str, str], ...]
    shown: int
    hidden: int


def chosen(f: ViewFilter, names: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """The chosen filters as ``(name, value)`` pairs in the form's order, a rep by their name."""
    out = [(k, v) for k in ("team", "rep", "product", "segment") if (v := getattr(f, k))]
    return tuple((k, names.get(v, v) if k == "rep" else v) for k, v in out)


def _conflicts(
    scope: dict[str, str], f: ViewFilter, reps: frozenset[str], team_of: dict[str, str]
) -> bool:
    """Whether the finding's scope names something the filter leaves out (no query needed)."""
    for key, value in scope.items():
        if key == "team" and (f.team or f.rep) and value not in {team_of.get(r) for r in reps}:
            return True
        if key == "rep_id" and (f.team or f.rep) and value not in reps:
            return True
        field = SCOPE_FILTER.get(key)
        if field is not None and getattr(f, field) and getattr(f, field) != value:
            return True
    return False


def _samples(ws: ScopedWorkspace, period: Period) -> Callable[[str], ir.Table]:
    """Each sample built once (lazily, as an engine expression) for every finding of a page."""
    cache: dict[str, ir.Table] = {}

    def sample(name: str) -> ir.Table:
        if name not in cache:
            cache[name] = SAMPLES[name](ws, period)
        return cache[name]

    return sample


def _populations(
    ws: ScopedWorkspace, period: Period, found: Sequence[Finding], sample: behind.Samples
) -> dict[int, ir.Table]:
    """Per index of ``found``, the finding's population read through the filtered workspace
    (an engine expression); findings without records (:class:`behind.NoRecords`) are absent."""
    out: dict[int, ir.Table] = {}
    for i, f in enumerate(found):
        try:
            out[i] = behind.population(ws, period, f, sample).table
        except behind.NoRecords:
            continue
    return out


def _meeting(tables: dict[int, ir.Table]) -> set[int]:
    """The indexes whose population holds at least one row, in one engine query (a union of
    one-row probes) rather than one round trip per finding."""
    if not tables:
        return set()
    probes = [t.select(_i=ibis.literal(i, "int64")).limit(1) for i, t in tables.items()]
    return {int(r["_i"]) for r in ibis.union(*probes).to_pyarrow().to_pylist()}


def narrow(
    ws: ScopedWorkspace, period: Period, found: Sequence[Finding]
) -> tuple[list[Finding], Narrowing | None]:
    """The findings of ``found`` a filtered view shows (the module docstring's rules) and what
    the page says about them; ``found`` unchanged and None when no filter is chosen."""
    if not isinstance(ws, FilteredWorkspace) or not ws.filter.active:
        return list(found), None
    f = ws.filter
    rep_rows = ws.table("reps").select("rep_id", "name", "team").to_pyarrow().to_pylist()
    reps = frozenset(str(r["rep_id"]) for r in rep_rows)
    team_of = {str(r["rep_id"]): str(r["team"]) for r in rep_rows if r["team"] is not None}
    candidates = [x for x in found if not _conflicts(dict(x.scope), f, reps, team_of)]
    tables = _populations(ws, period, candidates, _samples(ws, period))
    meeting = _meeting(tables)
    kept = [x for i, x in enumerate(candidates) if i not in tables or i in meeting]
    ids = {x.id for x in kept}
    kept = [replace(x, overlaps=[i for i in x.overlaps if i in ids]) for x in kept]
    names = {str(r["rep_id"]): str(r["name"]) for r in rep_rows if r["name"]}
    return kept, Narrowing(chosen(f, names), len(kept), len(found) - len(kept))
