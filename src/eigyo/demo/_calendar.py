"""The company calendar as integer arrays, so every timestamp is computed with numpy.

A timestamp is an ``int64`` count of seconds since 1970-01-01 in local (Asia/Tokyo) wall-clock time,
a day an ``int64`` count of days; :data:`NA` marks a missing value. Work happens on business days
(Monday to Friday, less Japan's national holidays and the 年末年始 closure), addressed by their
index in :data:`BUSINESS_DAYS` so that "three business days later" is an addition.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from eigyo.base.periods import japan_holidays
from eigyo.demo._config import END, F64, I64, START, WARM

NA = np.iinfo(np.int64).min
DAY = 86_400
_EPOCH = date(1970, 1, 1)
#: Business days are listed this far beyond END so that censored (future) events still map.
_HORIZON = date(2027, 3, 31)


def day_number(d: date) -> int:
    """Days since 1970-01-01."""
    return (d - _EPOCH).days


def day_number_of(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a calendar date."""
    return day_number(date(year, month, day))


def _closures(start: date, end: date) -> list[date]:
    """Japan's national holidays plus the 12/29 – 1/3 year-end closure most companies keep."""
    out = set(japan_holidays(start, end))
    for y in range(start.year, end.year + 1):
        out.update({date(y, 12, 29), date(y, 12, 30), date(y, 12, 31)})
        out.update({date(y, 1, 2), date(y, 1, 3)})
    return sorted(out)


def _business_days() -> I64:
    first = WARM - timedelta(days=200)
    days = np.arange(
        np.datetime64(first.isoformat()), np.datetime64(_HORIZON.isoformat()), dtype="datetime64[D]"
    )
    hol = np.array([h.isoformat() for h in _closures(first, _HORIZON)], dtype="datetime64[D]")
    mask = np.is_busday(days, holidays=hol)
    return days[mask].astype(np.int64)


BUSINESS_DAYS: I64 = _business_days()
START_DAY, END_DAY, WARM_DAY = day_number(START), day_number(END), day_number(WARM)
START_TS = START_DAY * DAY
#: First second after the data ends: everything at or after it has not happened yet.
END_TS = (END_DAY + 1) * DAY


def bd_on_or_after(days: I64) -> I64:
    """Index of the first business day on or after each day."""
    return np.searchsorted(BUSINESS_DAYS, days, side="left").astype(np.int64)


def bd_of_ts(ts: I64) -> I64:
    """Index of the business day on or before each timestamp's day."""
    idx = np.searchsorted(BUSINESS_DAYS, ts // DAY, side="right") - 1
    return np.clip(idx, 0, len(BUSINESS_DAYS) - 1).astype(np.int64)


def at(bd: I64, tod: I64) -> I64:
    """Timestamp of a business-day index at a second of the day (indices past the horizon clip)."""
    idx = np.clip(bd, 0, len(BUSINESS_DAYS) - 1)
    return (BUSINESS_DAYS[idx] * DAY + tod).astype(np.int64)


def tod(rng: np.random.Generator, n: int, first_hour: int = 9, last_hour: int = 18) -> I64:
    """Random times of day on the minute between two hours: CRM users log on the minute."""
    return (rng.integers(first_hour * 60, last_hour * 60, n) * 60).astype(np.int64)


def lognormal_bd(rng: np.random.Generator, median: float | F64, sigma: float, n: int) -> I64:
    """Business-day counts (at least one) with a log-normal spread around a median."""
    return np.maximum(1, np.rint(median * rng.lognormal(0.0, sigma, n))).astype(np.int64)


def first_index(idx: I64, n: int) -> I64:
    """For each of ``n`` groups, the position of its first element in ``idx`` (-1 when none)."""
    out = np.full(n, -1, dtype=np.int64)
    uniq, pos = np.unique(idx, return_index=True)
    out[uniq] = pos
    return out
