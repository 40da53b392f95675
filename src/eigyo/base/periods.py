"""Periods and business days.

A period is a calendar range in the workspace time zone, both end dates included. The forms
(text is NFKC-normalized first, so full-width digits and letters read as ASCII):

- calendar: ``2025-04`` or ``2025年4月`` (month), ``2025-Q1`` or ``2025年第1四半期`` (calendar
  quarter: January–March, whatever the fiscal year);
- fiscal, with the workspace's fiscal year start month: ``FY2025``, ``FY25`` or ``2025年度``
  (fiscal year), ``FY2025-Q1`` or ``2025年度第1四半期`` (fiscal quarter), ``FY2025-H1`` or
  ``2025年度上期`` / ``下期`` (fiscal half). **FY2025 is the fiscal year that starts in 2025**
  (with April: 2025-04-01 .. 2026-03-31, the Japanese 2025年度); a two-digit year is 20xx;
- relative to a ``today`` the caller passes (the CLI and the dashboard pass the workspace's
  today, tests a fixed day): 今期 / this-fy, 前期 / last-fy, 来期 / next-fy, 今四半期 /
  this-quarter, 前四半期 / last-quarter, 今月 / this-month, 先月 / last-month, 上期 / h1 and
  下期 / h2 (halves of the current fiscal year);
- ranges of any two of these (or of two days): ``2025-04-01..2025-06-30``, ``2025-04..2025-09``,
  ``2025年10月〜2026年3月`` (``..``, ``〜`` or ``~``): from the first one's start to the second
  one's end.

A form that a reader may take for another (``2025-Q1`` when the fiscal year does not start in
January; ``FY2025`` when it starts in the second half of the calendar year, where many name it by
the year it ends in) carries a one-line note (:meth:`Period.note`) the caller shows.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache

from eigyo.errors import PeriodError
from eigyo.i18n import t

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$", re.IGNORECASE)
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: FY2025, FY25, FY2025-Q1, FY2025Q1, FY2025-1Q, FY2025-H2.
_FY = re.compile(r"^FY(\d{4}|\d{2})(?:-?(?:Q([1-4])|([1-4])Q|H([12])))?$", re.IGNORECASE)
_NENDO = re.compile(r"^(\d{4})年度$")
_NENDO_QUARTER = re.compile(r"^(\d{4})年度(?:第([1-4])四半期|Q([1-4])|([1-4])Q)$", re.IGNORECASE)
_NENDO_HALF = re.compile(r"^(\d{4})年度(上|下)半?期$")
_JA_MONTH = re.compile(r"^(\d{4})年(\d{1,2})月$")
_JA_QUARTER = re.compile(r"^(\d{4})年(?:第([1-4])四半期|Q([1-4])|([1-4])Q)$", re.IGNORECASE)
#: ``..``, ``〜`` (wave dash) or ``~`` (also full-width ``～``, which NFKC makes ``~``).
_RANGE = re.compile(r"^(.+?)(?:\.\.|〜|~)(.+)$")

#: Relative forms: (unit, step) against the period holding ``today``; a half is (``h``, 1 or 2)
#: of the current fiscal year. Compared after NFKC in lower case, without spaces, ``-`` or ``_``
#: (``Last FY``, ``last_fy`` and ``lastfy`` are ``last-fy``).
RELATIVE: dict[str, tuple[str, int]] = {
    "今期": ("fy", 0),
    "今年度": ("fy", 0),
    "this-fy": ("fy", 0),
    "前期": ("fy", -1),
    "前年度": ("fy", -1),
    "昨年度": ("fy", -1),
    "last-fy": ("fy", -1),
    "来期": ("fy", 1),
    "来年度": ("fy", 1),
    "next-fy": ("fy", 1),
    "今四半期": ("quarter", 0),
    "this-quarter": ("quarter", 0),
    "前四半期": ("quarter", -1),
    "last-quarter": ("quarter", -1),
    "来四半期": ("quarter", 1),
    "next-quarter": ("quarter", 1),
    "今月": ("month", 0),
    "this-month": ("month", 0),
    "先月": ("month", -1),
    "前月": ("month", -1),
    "last-month": ("month", -1),
    "来月": ("month", 1),
    "next-month": ("month", 1),
    "上期": ("h", 1),
    "上半期": ("h", 1),
    "h1": ("h", 1),
    "this-h1": ("h", 1),
    "下期": ("h", 2),
    "下半期": ("h", 2),
    "h2": ("h", 2),
    "this-h2": ("h", 2),
}
_RELATIVE_KEYS = {k.replace("-", ""): v for k, v in RELATIVE.items()}
_EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

HELP = (
    "Use 2025-04 (month), 2025-Q1 (calendar quarter), FY2025 (fiscal year), FY2025-Q1 (fiscal"
    " quarter), FY2025-H1 (fiscal half), this-fy, last-quarter, last-month or"
    " 2025-04-01..2025-06-30."
)
#: The first and last day a period may cover. Analyses step outside a period (the previous one of
#: the same length, the day after its end, a year's history), so ``0001-01`` or ``9999-12`` would
#: overflow the calendar there; no sales record is dated outside these years.
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2199, 12, 31)


@dataclass(frozen=True, order=True)
class Period:
    """An inclusive date range with the label it was asked for.

    ``label`` is what the period is called in titles, file names and links: the text asked for
    for the calendar forms (as before), a canonical form for the fiscal and relative ones
    (``2025年度第1四半期`` and 今四半期 in its quarter are both ``FY2025-Q1``), so that a link
    built from it names the same dates tomorrow. ``note_key`` / ``note_periods`` hold the
    ambiguity note (:meth:`note`); they take no part in comparing or hashing periods.
    """

    start: date
    end: date
    label: str
    note_key: str | None = field(default=None, compare=False, repr=False)
    note_periods: tuple[Period, ...] = field(default=(), compare=False, repr=False)

    def describe(self, lang: str = "ja") -> str:
        """The label with its dates, ``FY2025（2025-04-01〜2026-03-31）`` /
        ``FY2025 (Apr 1, 2025 – Mar 31, 2026)``: a reader never has to guess which months a
        label such as ``2025-Q1`` means. A day range is its dates alone (the label says no more)."""
        start, end = format_day(self.start, lang), format_day(self.end, lang)
        if self.label == f"{self.start.isoformat()}..{self.end.isoformat()}":
            return t("periods.dates", lang, start=start, end=end)
        return t("periods.describe", lang, label=self.label, start=start, end=end)

    def note(self, lang: str = "ja") -> str | None:
        """One line telling a reader how an ambiguous form was read, or None when it is not."""
        if self.note_key is None:
            return None
        described = {f"p{i}": p.describe(lang) for i, p in enumerate(self.note_periods)}
        return t(self.note_key, lang, **described)

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

    def year_ago(self) -> Period:
        """The same dates a year before: whole months stay whole months (February 2025 against
        February 2024, the 29th included), other dates move back a year (29 February to the
        28th). The baseline a seasonal business compares with: a quarter's last month against
        the month after is the season, not a trend."""
        whole = self.start.day == 1 and (self.end + timedelta(days=1)).day == 1
        if whole:
            start = _add_months(self.start, -12)
            end = _add_months(self.end + timedelta(days=1), -12) - timedelta(days=1)
        else:
            start, end = _minus_year(self.start), _minus_year(self.end)
        return Period(start, end, f"{self.label}-yoy")

    def months(self) -> list[Period]:
        """Calendar months overlapping the period, clipped to it."""
        return months_between(self.start, self.end)


def _minus_year(d: date) -> date:
    """The same day a year before; 29 February becomes the 28th."""
    return (
        d.replace(year=d.year - 1, day=28)
        if (d.month, d.day) == (2, 29)
        else d.replace(year=d.year - 1)
    )


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


def format_day(d: date, lang: str = "ja") -> str:
    """A day as a reader of ``lang`` writes it: ``2025-04-01`` in Japanese, ``Apr 1, 2025`` in
    English (month names fixed here, not the process locale's)."""
    if lang == "en":
        return f"{_EN_MONTHS[d.month - 1]} {d.day}, {d.year}"
    return d.isoformat()


def parse_period(
    text: str, fiscal_year_start_month: int = 4, *, today: date | None = None
) -> Period:
    """Parse a period string (the forms of the module docstring); an unknown form raises
    :class:`PeriodError` naming the forms that work.

    ``today`` resolves the relative forms (今期, last-month, …). It is never taken from the
    clock here, so that a parse is the same in every test and every worker: the CLI and the
    dashboard pass the workspace's today; without it a relative form is refused."""
    s = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))
    fym = fiscal_year_start_month
    try:
        if (m := _RANGE.match(s)) and not _RANGE.match(m[2]):
            a = _parse_one(m[1], fym, today, text, in_range=True)
            b = _parse_one(m[2], fym, today, text, in_range=True)
            if a is None or b is None:
                raise PeriodError(key="errors.period.unknown", text=repr(text))
            if b.end < a.start:
                raise PeriodError(key="errors.period.reversed", text=repr(text))
            note = a if a.note_key else b
            return Period(a.start, b.end, f"{a.label}..{b.label}", note.note_key, note.note_periods)
        if (p := _parse_one(s, fym, today, text, in_range=False)) is not None:
            return p
    except ValueError as e:
        if isinstance(e, PeriodError):
            raise
        raise PeriodError(key="errors.period.bad", text=repr(text), detail=str(e)) from None
    raise PeriodError(key="errors.period.unknown", text=repr(text))


def _parse_one(s: str, fym: int, today: date | None, text: str, *, in_range: bool) -> Period | None:
    """One form (no range), or None when ``s`` is none of them. A single day is a form only as
    one end of a range (``2025-04-01..2025-06-30``)."""
    if in_range and _DAY.match(s):
        d = date.fromisoformat(s)
        return _bounded(Period(d, d, s), text)
    if m := _MONTH.match(s):
        return _month(int(m[1]), int(m[2]), s, text)
    if m := _JA_MONTH.match(s):
        y, mo = int(m[1]), int(m[2])
        return _month(y, mo, f"{y:04d}-{mo:02d}", text)
    if m := _QUARTER.match(s):
        return _calendar_quarter(int(m[1]), int(m[2]), s.upper(), fym, text)
    if m := _JA_QUARTER.match(s):
        y, q = int(m[1]), int(m[2] or m[3] or m[4])
        return _calendar_quarter(y, q, f"{y:04d}-Q{q}", fym, text)
    if m := _FY.match(s):
        y = int(m[1]) + (2000 if len(m[1]) == 2 else 0)
        fq, fh = m[2] or m[3], m[4]
        p = _fiscal(y, fym, text, quarter=int(fq) if fq else None, half=int(fh) if fh else None)
        if fym >= 7:  # many name such a year by the year it ends in: say which one this is
            whole = _fiscal(y, fym, text)
            prev = _fiscal(y - 1, fym, text) if y - 1 >= FIRST_DAY.year else whole
            return Period(p.start, p.end, p.label, "periods.note.fy_start_year", (whole, prev))
        return p
    if m := _NENDO.match(s):
        return _fiscal(int(m[1]), fym, text)
    if m := _NENDO_QUARTER.match(s):
        return _fiscal(int(m[1]), fym, text, quarter=int(m[2] or m[3] or m[4]))
    if m := _NENDO_HALF.match(s):
        return _fiscal(int(m[1]), fym, text, half=1 if m[2] == "上" else 2)
    key = s.lower().replace("_", "").replace("-", "")
    if key in _RELATIVE_KEYS:
        if today is None:
            raise PeriodError(key="periods.errors.needs_today", text=repr(text))
        return _relative(*_RELATIVE_KEYS[key], today, fym, text)
    return None


def _month(year: int, month: int, label: str, text: str) -> Period:
    start = _bounded_start(date(year, month, 1), text)
    return _bounded(Period(start, _add_months(start, 1) - timedelta(days=1), label), text)


def _calendar_quarter(year: int, q: int, label: str, fym: int, text: str) -> Period:
    """January–March for Q1, whatever the fiscal year; when the fiscal year starts in another
    month the period notes that, naming the fiscal quarter the reader may have meant."""
    start = _bounded_start(date(year, 3 * q - 2, 1), text)
    p = _bounded(Period(start, _add_months(start, 3) - timedelta(days=1), label), text)
    if fym == 1:
        return p
    fiscal = _fiscal(year, fym, text, quarter=q)
    return Period(p.start, p.end, p.label, "periods.note.calendar_quarter", (p, fiscal))


def _fiscal(
    year: int, fym: int, text: str, *, quarter: int | None = None, half: int | None = None
) -> Period:
    """FY``year`` (starting in month ``fym`` of ``year``), or one of its quarters or halves."""
    start = _bounded_start(date(year, fym, 1), text)
    months, label = 12, f"FY{year:04d}"
    if quarter is not None:
        start, months, label = _add_months(start, 3 * (quarter - 1)), 3, f"{label}-Q{quarter}"
    elif half is not None:
        start, months, label = _add_months(start, 6 * (half - 1)), 6, f"{label}-H{half}"
    return _bounded(Period(start, _add_months(start, months) - timedelta(days=1), label), text)


def _relative(unit: str, step: int, today: date, fym: int, text: str) -> Period:
    """The fiscal year, fiscal quarter or month holding ``today``, ``step`` of them away; a
    half (``unit == "h"``) is half ``step`` of the current fiscal year."""
    fy = fiscal_year_of(today, fym)
    if unit == "fy":
        return _fiscal(fy + step, fym, text)
    if unit == "h":
        return _fiscal(fy, fym, text, half=step)
    if unit == "quarter":
        n = fy * 4 + (today.month - fym) % 12 // 3 + step  # fiscal quarters since year 0
        return _fiscal(n // 4, fym, text, quarter=n % 4 + 1)
    d = month_start(month_index(today) + step)
    return _month(d.year, d.month, month_label(d), text)


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
    # imported here: parsing a period (every command's first step) needs neither library
    import holidays as holidays_lib

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
    import numpy as np

    hol = np.array(japan_holidays(start, end), dtype="datetime64[D]")
    return int(
        np.busday_count(np.datetime64(start), np.datetime64(end + timedelta(days=1)), holidays=hol)
    )
