"""Periods and business days.

A period is a calendar range in the workspace time zone, both end dates included:
``2025-04`` (month), ``2025-Q1`` (calendar quarter), ``FY2025`` (fiscal year starting in the
configured month), or ``2025-04-01..2025-06-30`` (custom range).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache

import holidays as holidays_lib
import numpy as np

from eigyo.errors import PeriodError

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$", re.IGNORECASE)
_FY = re.compile(r"^FY(\d{4})$", re.IGNORECASE)
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")

HELP = "Use 2025-04 (month), 2025-Q1 (quarter), FY2025 (fiscal year) or 2025-04-01..2025-06-30."
#: The first and last day a period may cover. Analyses step outside a period (the previous one of
#: the same length, the day after its end, a year's history), so ``0001-01`` or ``9999-12`` would
#: overflow the calendar there; no sales record is dated outside these years.
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2199, 12, 31)


@dataclass(frozen=True, order=True)
class Period:
    """An inclusive date range with the label it was asked for."""

    start: date
    end: date
    label: str

    @property
    def start_ts(self) -> datetime:
        """First instant of the period (naive, workspace time zone)."""
        return datetime.combine(self.start, time.min)

    @property
    def end_ts(self) -> datetime:
        """First instant after the period: filter with ``ts < end_ts``."""
        return datetime.combine(self.end + timedelta(days=1), time.min)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The same-length period just before this one (used for change and NRR)."""
        end = self.start - timedelta(days=1)
        return Period(end - timedelta(days=self.days - 1), end, f"{self.label}-prev")

    def previous_aligned(self) -> Period:
        """The previous period on the calendar: whole months give the same number of whole months
        before (March after February, a quarter after the quarter before, FY2024 before
        FY2025), anything else the same-length period just before. A month is never compared
        with "the previous 31 days"."""
        whole = self.start.day == 1 and (self.end + timedelta(days=1)).day == 1
        if not whole:
            return self.previous()
        n = month_index(self.end) - month_index(self.start) + 1
        start = _add_months(self.start, -n)
        return Period(start, self.start - timedelta(days=1), f"{self.label}-prev")

    def months(self) -> list[Period]:
        """Calendar months overlapping the period, clipped to it."""
        return months_between(self.start, self.end)


def _add_months(d: date, n: int) -> date:
    m = d.month - 1 + n
    return date(d.year + m // 12, m % 12 + 1, 1)


# --- months: the one month iteration every analysis, series and forecast uses ----------------


def month_index(d: date) -> int:
    """Months since year 0 (``year × 12 + month − 1``): month arithmetic as integer steps, the
    same number the engines compute with ``year() * 12 + month() - 1``."""
    return d.year * 12 + d.month - 1


def month_start(index: int) -> date:
    """The first day of the month :func:`month_index` numbers ``index``."""
    return date(index // 12, index % 12 + 1, 1)


def month_label(d: date) -> str:
    """``2025-04``: how a calendar month is named in tables, charts and JSON."""
    return f"{d.year:04d}-{d.month:02d}"


def months_between(first: date, last: date) -> list[Period]:
    """The calendar months from the one holding ``first`` to the one holding ``last``, each
    clipped to ``first .. last`` and labelled ``YYYY-MM``; empty when ``last < first``."""
    out: list[Period] = []
    if last < first:
        return out
    for m in range(month_index(first), month_index(last) + 1):
        d = month_start(m)
        end = _add_months(d, 1) - timedelta(days=1)
        out.append(Period(max(d, first), min(end, last), month_label(d)))
    return out


def months_until(end: date, n: int) -> list[Period]:
    """The last ``n`` complete calendar months ending on or before ``end`` (a month still in
    progress is left out: it would look like a drop)."""
    last = month_index(end + timedelta(days=1)) - 1  # the month that ends on or before ``end``
    last_day = _add_months(month_start(last), 1) - timedelta(days=1)
    return months_between(month_start(last - n + 1), last_day)


def parse_period(text: str, fiscal_year_start_month: int = 4) -> Period:
    """Parse a period string; an unknown form raises :class:`PeriodError` saying what works."""
    s = text.strip()
    try:
        if m := _MONTH.match(s):
            start = _bounded_start(date(int(m[1]), int(m[2]), 1), text)
            return _bounded(Period(start, _add_months(start, 1) - timedelta(days=1), s), text)
        if m := _QUARTER.match(s):
            start = _bounded_start(date(int(m[1]), 3 * int(m[2]) - 2, 1), text)
            return _bounded(
                Period(start, _add_months(start, 3) - timedelta(days=1), s.upper()), text
            )
        if m := _FY.match(s):
            start = _bounded_start(date(int(m[1]), fiscal_year_start_month, 1), text)
            return _bounded(
                Period(start, _add_months(start, 12) - timedelta(days=1), s.upper()), text
            )
        if m := _RANGE.match(s):
            a, b = date.fromisoformat(m[1]), date.fromisoformat(m[2])
            if b < a:
                raise PeriodError(key="errors.period.reversed", text=repr(text))
            return _bounded(Period(a, b, s), text)
    except ValueError as e:
        if isinstance(e, PeriodError):
            raise
        raise PeriodError(key="errors.period.bad", text=repr(text), detail=str(e)) from None
    raise PeriodError(key="errors.period.unknown", text=repr(text))


def _bounded_start(start: date, text: str) -> date:
    """``start`` when it lies within the supported years (so that its end can be computed)."""
    if not FIRST_DAY <= start <= LAST_DAY:
        raise PeriodError(
            key="errors.period.range", text=repr(text), first=FIRST_DAY.year, last=LAST_DAY.year
        )
    return start


def _bounded(period: Period, text: str) -> Period:
    """``period`` when it lies within :data:`FIRST_DAY` .. :data:`LAST_DAY`."""
    if period.start < FIRST_DAY or period.end > LAST_DAY:
        raise PeriodError(
            key="errors.period.range", text=repr(text), first=FIRST_DAY.year, last=LAST_DAY.year
        )
    return period


def fiscal_year_of(d: date, fiscal_year_start_month: int = 4) -> int:
    """The fiscal year a date belongs to, named by the calendar year it starts in."""
    return d.year if d.month >= fiscal_year_start_month else d.year - 1


@lru_cache(maxsize=64)
def _jp_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays_lib.country_holidays("JP", years=year).keys())


def japan_holidays(start: date, end: date) -> list[date]:
    """Japan's national holidays between two dates (inclusive)."""
    days: set[date] = set()
    for y in range(start.year, end.year + 1):
        days |= _jp_holidays(y)
    return sorted(d for d in days if start <= d <= end)


def business_days(start: date, end: date) -> int:
    """Monday to Friday between two dates (inclusive), less Japan's national holidays."""
    if end < start:
        return 0
    hol = np.array(japan_holidays(start, end), dtype="datetime64[D]")
    return int(
        np.busday_count(np.datetime64(start), np.datetime64(end + timedelta(days=1)), holidays=hol)
    )
