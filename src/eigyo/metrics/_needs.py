"""Which data a metric cannot do without, and why a value is missing: "not available" ≠ 0.

Real exports often lack whole columns (no first-response times, no SQL dates) or whole tables
(no activities, no time entries). Computed anyway, such a metric reads as a confident failure —
"lead SLA 0.0%, target missed" — when the truth is "unknown". So every metric declares its
inputs as data (``needs``), the engine checks them with one cheap count query per compute
call, and a metric whose inputs are absent gets ``value=None`` with a :class:`Reason` instead
of a number. A value that is undefined for the period although the data exists (a rate over
zero closed deals) gets a reason too, naming the empty population.

A need is written ``table`` (the table has rows), ``table.column`` (some row has a value) or
``table.column=value`` (some row has that value); ``a | b`` is satisfied by either.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import ibis
import ibis.expr.types as ir

from eigyo.i18n import t
from eigyo.schema import TABLES_BY_NAME
from eigyo.workspace import Workspace

ReasonCode = Literal["missing_data", "no_records"]


@dataclass(frozen=True)
class Need:
    """One alternative of a need: rows of a table, values of a column, or one value."""

    table: str
    column: str | None = None
    equals: str | None = None

    @property
    def key(self) -> str:
        col = f".{self.column}" if self.column else ""
        return f"{self.table}{col}" + (f"={self.equals}" if self.equals is not None else "")


def parse(spec: str) -> tuple[Need, ...]:
    """``"leads.sql_at"`` → one Need; ``"a | b"`` → two alternatives."""
    out = []
    for part in spec.split("|"):
        part = part.strip()
        cond, _, equals = part.partition("=")
        table, _, column = cond.partition(".")
        out.append(Need(table.strip(), column.strip() or None, equals.strip() if equals else None))
    return tuple(out)


def problems(spec: str) -> list[str]:
    """What is wrong with a need as written (unknown table or column), for registry validation."""
    out = []
    for n in parse(spec):
        table = TABLES_BY_NAME.get(n.table)
        if table is None:
            out.append(f"need {spec!r}: unknown table {n.table!r}")
        elif n.column and n.column not in {c.name for c in table.columns}:
            out.append(f"need {spec!r}: table {n.table} has no column {n.column!r}")
        elif n.equals is not None and not n.column:
            out.append(f"need {spec!r}: a value needs a column (table.column=value)")
    return out


def _present(ws: Workspace, n: Need) -> ir.Table:
    """One row: the need's key and how many rows meet it (a count the engine runs cheaply)."""
    tab = ws.table(n.table)
    if n.column is None:
        count = tab.count()
    elif n.equals is None:
        count = tab.count(where=tab[n.column].notnull())
    else:
        count = tab.count(where=(tab[n.column].cast("string") == n.equals).fill_null(False))
    return tab.aggregate(n=count.cast("int64")).select(key=ibis.literal(n.key), n="n")


def present(ws: Workspace, specs: Iterable[str]) -> dict[str, bool]:
    """Whether each need (as written) is met: all alternatives counted in one query."""
    specs = list(dict.fromkeys(specs))
    alts = {n.key: n for s in specs for n in parse(s)}
    if not alts:
        return {}
    parts = [_present(ws, n) for n in alts.values()]
    rows = ibis.union(*parts, distinct=False).to_pyarrow().to_pylist()
    found = {r["key"]: int(r["n"] or 0) > 0 for r in rows}
    return {s: any(found.get(n.key, False) for n in parse(s)) for s in specs}


def unmet(ws: Workspace, specs: Iterable[str]) -> list[str]:
    """The needs (as written) that the workspace's data does not meet."""
    return [s for s, ok in present(ws, specs).items() if not ok]


def readable(specs: Iterable[str], lang: str = "ja") -> str:
    """Needs as a person reads them: ``a | b`` becomes "a or b" (「a または b」)."""
    alt = t("metrics.reason.or", lang)
    return ", ".join(alt.join(n.key for n in parse(s)) for s in specs)


@dataclass(frozen=True)
class Reason:
    """Why a value is ``None``: inputs absent (``missing_data``, with the needs unmet) or no
    record in the period to compute it over (``no_records``, with the population's name)."""

    code: ReasonCode
    needs: tuple[str, ...] = ()
    population: str | None = None

    def text(self, lang: str = "ja") -> str:
        """``needs leads.first_response_at`` / ``no closed deals in the period``."""
        if self.code == "missing_data":
            return t("metrics.reason.missing_data", lang, needs=readable(self.needs, lang))
        key = f"metrics.population.{self.population}"
        return t(key, lang) if self.population else t("metrics.reason.no_records", lang)

    def label(self, lang: str = "ja") -> str:
        """What a table cell or a KPI tile shows: 「データなし（…）」 / "not available (…)"."""
        return t("metrics.reason.label", lang, reason=self.text(lang))

    def to_json(self, lang: str = "ja") -> dict[str, Any]:
        """``{"code", "needs", "text"}``: the same shape for every metric (docs/metrics.md)."""
        return {"code": self.code, "needs": list(self.needs), "text": self.text(lang)}
