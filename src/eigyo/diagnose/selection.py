"""A compared finding's population written as data: which sample, and which values each column
must take.

:func:`eigyo.diagnose.behind.population` reads the rows behind a finding by filtering the check's
sample. For a comparing check (a team, a rep, a source, a rolled-up group …) that filter is only
equalities — the check's subject, the finding's scope, the group's keys from the evidence or a
roll-up's members — plus "the value was counted" and, for the organization against a target,
"missed it". :class:`Selection` holds exactly that, so one definition serves two readers:

* :meth:`Selection.apply` filters the sample (the records page, the report's evidence sheet);
* :func:`eigyo.diagnose.overlap.key_table` joins the sample with a small table of many findings'
  accepted values at once. The large demo raises 1,483 alarms with an impact; a filter
  expression per alarm made 1,483 plan branches that took 22 s to compile on DuckDB and ran a
  1 GB Spark driver out of memory, while their selections fall into a few dozen *shapes* (same
  sample, same columns), each one join.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import ibis.expr.types as ir

#: What identifies one record, in order of preference: a sample with an opportunity id lists
#: deals, else leads, else reps (the admin-time and capability samples hold one row per rep).
KEYS: tuple[str, ...] = ("opportunity_id", "lead_id", "rep_id")

#: Accepted values by column: ``((column, (value, …)), …)``, columns in name order.
Accept = tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True)
class Selection:
    """The rows of ``sample`` whose every ``accept`` column (cast to text) is one of its values,
    whose ``notnull`` column is set and, with ``target``, whose ``target[0]`` equals
    ``target[1]``. ``key`` names the record; ``value`` and ``bad_high`` order the records worst
    first. An ``accept`` column with no value selects nothing (a scope and a roll-up's members
    that do not meet)."""

    sample: str
    key: str
    accept: Accept
    notnull: str | None = None
    target: tuple[str, int] | None = None
    value: str | None = None
    bad_high: bool = True

    @property
    def shape(self) -> tuple[str, str, tuple[str, ...], str | None, tuple[str, int] | None]:
        """What selections share to be read by one join: the sample, the key, the accepted
        columns, and the fixed conditions."""
        return (self.sample, self.key, tuple(c for c, _ in self.accept), self.notnull, self.target)

    def fixed(self, t: ir.Table) -> ir.Table:
        """``t`` with the conditions every selection of this shape shares (not-null, target)."""
        where: list[ir.BooleanValue] = []
        if self.notnull is not None:
            where.append(t[self.notnull].notnull())
        if self.target is not None:
            where.append(t[self.target[0]] == self.target[1])
        return t.filter(*where) if where else t

    def apply(self, t: ir.Table) -> ir.Table:
        """The selected rows of ``t`` (the sample), as one filter: a chained filter per condition
        is another Ibis node to build, validate and compile."""
        where: list[ir.BooleanValue] = []
        for column, values in self.accept:
            text = t[column].cast("string")
            if len(values) == 1:
                where.append(text == values[0])
            else:  # none (an empty IN selects nothing) or several
                where.append(text.isin(list(values)))
        t = self.fixed(t)
        return t.filter(*where) if where else t

    def rows(self) -> list[tuple[str, ...]]:
        """Every combination of accepted values, one per row of the join's finding table: with
        one value a column is an equality, with several an ``IN`` (a combination of a row
        matches exactly when every column is one of its values)."""
        out: list[tuple[str, ...]] = [()]
        for _, values in self.accept:
            out = [(*row, v) for row in out for v in values]
        return out


def accept(
    conditions: Sequence[tuple[str, Sequence[Any]]],
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Conditions ``(column, accepted values)`` as a selection's ``accept``: values as text, a
    column named twice keeps the values both accept (a scope's team and a roll-up's members),
    columns in name order so that selections over the same columns share one shape."""
    merged: dict[str, set[str]] = {}
    for column, values in conditions:
        text = {str(v) for v in values}
        merged[column] = merged[column] & text if column in merged else text
    return tuple((c, tuple(sorted(merged[c]))) for c in sorted(merged))
