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

    def months(self) -> list[Period]:
        """Calendar months overlapping the period, clipped to it."""
        out: list[Period] = []
        d = self.start.replace(day=1)
        while d <= self.end:
            nxt = _add_months(d, 1)
            out.append(
                Period(
                    max(d, self.start),
                    min(nxt - timedelta(days=1), self.end),
                    f"{d.year:04d}-{d.month:02d}",
                )
            )
            d = nxt
        return out


def _add_months(d: date, n: int) -> date:
    m = d.month - 1 + n
    return date(d.year + m // 12, m % 12 + 1, 1)


def parse_period(text: str, fiscal_year_start_month: int = 4) -> Period:
    """Parse a period string; an unknown form raises :class:`PeriodError` saying what works."""
    s = text.strip()
    try:
        if m := _MONTH.match(s):
            start = date(int(m[1]), int(m[2]), 1)
            return Period(start, _add_months(start, 1) - timedelta(days=1), s)
        if m := _QUARTER.match(s):
            start = date(int(m[1]), 3 * int(m[2]) - 2, 1)
            return Period(start, _add_months(start, 3) - timedelta(days=1), s.upper())
        if m := _FY.match(s):
            start = date(int(m[1]), fiscal_year_start_month, 1)
            return Period(start, _add_months(start, 12) - timedelta(days=1), s.upper())
        if m := _RANGE.match(s):
            a, b = date.fromisoformat(m[1]), date.fromisoformat(m[2])
            if b < a:
                raise PeriodError(key="errors.period.reversed", text=repr(text))
            return Period(a, b, s)
    except ValueError as e:
        if isinstance(e, PeriodError):
            raise
        raise PeriodError(key="errors.period.bad", text=repr(text), detail=str(e)) from None
    raise PeriodError(key="errors.period.unknown", text=repr(text))


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
