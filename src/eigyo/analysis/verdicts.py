"""Helpers shared by the alignment, enablement and time-use analyses.

The engine aggregates; these helpers only decorate the (small) aggregated frames with Wilson
intervals and verdicts, check the grouping a caller asked for, and hand the engine the calendar
facts it cannot know (Japan's holidays), so that each analysis module stays about its own concern.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import ibis
import ibis.expr.types as ir

from eigyo.base.periods import japan_holidays
from eigyo.base.stats import wilson
from eigyo.errors import InputError

if TYPE_CHECKING:
    import polars as pl


def check_by(by: str, allowed: tuple[str, ...], what: str) -> str:
    """Refuse an unknown grouping, naming the ones that work (an :class:`InputError`)."""
    if by not in allowed:
        raise InputError(f"Unknown grouping {by!r} for {what}. Use one of {', '.join(allowed)}.")
    return by


def with_wilson(df: pl.DataFrame, k: str, n: str, name: str) -> pl.DataFrame:
    """Add ``name``, ``name_low`` and ``name_high``: the rate k/n and its 95% Wilson interval.

    Runs once per aggregated group (tens of rows), not per record; the rate is null where n is 0
    so an empty group never reads as 0%.
    """
    import polars as pl

    ks = [int(v or 0) for v in df[k].to_list()]
    ns = [int(v or 0) for v in df[n].to_list()]
    bounds = [wilson(a, b) if b else (None, None) for a, b in zip(ks, ns, strict=True)]
    return df.with_columns(
        pl.Series(name, [a / b if b else None for a, b in zip(ks, ns, strict=True)], pl.Float64),
        pl.Series(f"{name}_low", [lo for lo, _ in bounds], pl.Float64),
        pl.Series(f"{name}_high", [hi for _, hi in bounds], pl.Float64),
    )


def holiday_table(start: date, end: date) -> ir.Table:
    """Japan's national holidays between two dates as a one-column engine table (``_holiday``)."""
    import polars as pl

    days = japan_holidays(start, end) or [date(1900, 1, 1)]
    return ibis.memtable(pl.DataFrame({"_holiday": days}, schema={"_holiday": pl.Date}))


def is_business_time(
    ts: ir.TimestampValue, holiday: ir.Value, hours: tuple[int, int]
) -> ir.BooleanValue:
    """Monday–Friday, not a Japanese holiday, and the hour within ``[start, end)``.

    Timestamps are stored as naive local time of the workspace time zone, so the engine's hour
    and weekday already are the workspace's (no conversion here).
    """
    hour = ts.hour()
    return (ts.day_of_week.index() < 5) & holiday.isnull() & (hour >= hours[0]) & (hour < hours[1])


def frame(expr: ir.Table) -> pl.DataFrame:
    """Run an expression in the engine and return the (small) result as polars."""
    out: pl.DataFrame = expr.to_polars()
    return out


def json_text(extra: ir.StringValue, keys: tuple[str, ...]) -> ir.StringValue:
    """The first of ``keys`` present as a string in an ``extra`` JSON object (portable JSON)."""
    js = extra.cast("json")
    values = [js[k].unwrap_as("string") for k in keys]
    return ibis.coalesce(*values) if len(values) > 1 else values[0]
