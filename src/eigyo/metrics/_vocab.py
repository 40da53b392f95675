"""The words metric declarations are written in: populations, conditions and values, by name.

A declaration says ``where="won_in_p"`` rather than holding code, so the registry stays data and
is validated at import (every name it uses must exist here). Each population names the table it
filters. All expressions are portable Ibis: no engine-specific SQL, durations from epoch seconds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import ibis.expr.types as ir

from eigyo.base.periods import Period
from eigyo.workspace import Workspace


@dataclass(frozen=True)
class Ctx:
    """Everything a compile function needs: the data, the period and the grouping (or None)."""

    ws: Workspace
    period: Period
    dim: str | None

    def table(self, name: str) -> ir.Table:
        return self.ws.table(name)


Pred = Callable[[ir.Table, Ctx], ir.BooleanValue]
Val = Callable[[ir.Table, Ctx], ir.NumericValue]


def in_period(ts: ir.TimestampValue, p: Period) -> ir.BooleanValue:
    """Timestamp within P: from its first instant, before the first instant after it."""
    return (ts >= p.start_ts) & (ts < p.end_ts)


def date_in_period(d: ir.DateValue, p: Period) -> ir.BooleanValue:
    """Date within P, both ends included."""
    return (d >= p.start) & (d <= p.end)


def seconds_between(start: ir.TimestampValue, end: ir.TimestampValue) -> ir.NumericValue:
    """Elapsed seconds, portable to every engine (epoch seconds), as a double: divided by a
    literal such as ``86400.0`` an integer would be divided in decimals by Spark (rounded to 6
    places) and in doubles by DuckDB (eigyo.analysis.common._seconds)."""
    return (end.epoch_seconds() - start.epoch_seconds()).cast("float64")


def flag(cond: ir.BooleanValue) -> ir.BooleanValue:
    """A condition where unknown (NULL) counts as false, so counts never lose rows."""
    return cond.fill_null(False)


def _won(t: ir.Table, c: Ctx) -> ir.BooleanValue:
    return t.status == "won"


def _closed_in_p(t: ir.Table, c: Ctx) -> ir.BooleanValue:
    return t.status.isin(("won", "lost")) & in_period(t.closed_at, c.period)


def _calls_in_p(t: ir.Table, c: Ctx) -> ir.BooleanValue:
    return (t.type == "call") & in_period(t.occurred_at, c.period)


def _mql_in_p(t: ir.Table, c: Ctx) -> ir.BooleanValue:
    return in_period(t.created_at, c.period) & t.mql_at.notnull()


def _within_sla(t: ir.Table, c: Ctx) -> ir.BooleanValue:
    limit = c.ws.settings.lead_sla_minutes * 60
    return t.first_response_at.notnull() & (seconds_between(t.mql_at, t.first_response_at) <= limit)


#: name → (table it filters, predicate). A metric's ``where`` picks one.
POPULATIONS: dict[str, tuple[str, Pred]] = {
    "won_in_p": ("opportunities", lambda t, c: _won(t, c) & in_period(t.closed_at, c.period)),
    "lost_in_p": (
        "opportunities",
        lambda t, c: (t.status == "lost") & in_period(t.closed_at, c.period),
    ),
    "closed_in_p": ("opportunities", _closed_in_p),
    "opportunities_created_in_p": (
        "opportunities",
        lambda t, c: in_period(t.created_at, c.period),
    ),
    "leads_created_in_p": ("leads", lambda t, c: in_period(t.created_at, c.period)),
    "mql_leads_created_in_p": ("leads", _mql_in_p),
    "answered_mql_leads_created_in_p": (
        "leads",
        lambda t, c: _mql_in_p(t, c) & t.first_response_at.notnull(),
    ),
    "calls_in_p": ("activities", _calls_in_p),
    "activities_in_p": ("activities", lambda t, c: in_period(t.occurred_at, c.period)),
    "time_entries_in_p": ("time_entries", lambda t, c: date_in_period(t.date, c.period)),
    "selling_time_entries_in_p": (
        "time_entries",
        lambda t, c: date_in_period(t.date, c.period) & (t.category == "selling"),
    ),
    "orders_in_p": ("orders", lambda t, c: in_period(t.ordered_at, c.period)),
}

#: name → condition on a population's rows (the numerator of a ratio).
CONDITIONS: dict[str, Pred] = {
    "won": _won,
    "connected": lambda t, c: t.outcome == "connected",
    "has_sql": lambda t, c: t.sql_at.notnull(),
    "within_sla": _within_sla,
    "untouched": lambda t, c: t.first_response_at.isnull(),
    "admin": lambda t, c: t.category == "admin",
    "selling": lambda t, c: t.category == "selling",
}

#: name → value per row (what a sum, mean or weighted ratio adds up); ``one`` counts rows.
VALUES: dict[str, Val] = {
    "amount": lambda t, c: t.amount,
    "hours": lambda t, c: t.hours,
}

#: Activity types a per-rep-day rate may count (schema ``activities.type``).
ACTIVITY_TYPES: tuple[str, ...] = ("call", "email", "meeting", "demo", "proposal", "other")


def population(name: str, c: Ctx) -> tuple[str, ir.Table]:
    """The named population as a filtered table, with the name of the table it comes from."""
    base, pred = POPULATIONS[name]
    t = c.table(base)
    return base, t.filter(pred(t, c))
