"""Building blocks shared by the analyses: period filters, durations, rep and account attributes.

Every record belongs to the rep who owns it and to that rep's team and role (docs/metrics.md);
these helpers attach those attributes with one join so no analysis re-implements it.
"""

from __future__ import annotations

from datetime import date, datetime

import ibis
import ibis.expr.types as ir

from eigyo.base.periods import Period
from eigyo.base.vocabulary import NO_TEAM
from eigyo.workspace import Workspace


def in_period(col: ir.TimestampValue, period: Period) -> ir.BooleanValue:
    """``col`` falls within the period (both end dates included)."""
    return (col >= ibis.timestamp(period.start_ts)) & (col < ibis.timestamp(period.end_ts))


#: The timestamps that say how far the data reaches: deals created and closed, leads created,
#: activities done. One list, so the monitor's series, the forecast's backtest, the simulator's
#: window and the dashboard's default period all end on the same day.
DATA_CLOCKS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("opportunities", ("created_at", "closed_at")),
    ("leads", ("created_at",)),
    ("activities", ("occurred_at",)),
)


def data_end(ws: Workspace) -> date | None:
    """The last day the data reaches (the latest of :data:`DATA_CLOCKS`), or None when the
    workspace holds none of those records. Never today's date: an export from last March must
    not be measured as if it ran until now."""
    days: list[date] = []
    for table, cols in DATA_CLOCKS:
        t = ws.table(table)
        row = t.aggregate(**{c: t[c].max() for c in cols}).to_pyarrow().to_pylist()[0]
        days += [v.date() if isinstance(v, datetime) else v for v in row.values() if v is not None]
    return max(days) if days else None


#: Every dated fact a period can measure: the span the CLI checks a period against. Wider
#: than :data:`DATA_CLOCKS` — a workspace of orders only (a retailer's transactions, CDNOW)
#: has data although it holds no deals, leads or activities.
RECORD_CLOCKS: tuple[tuple[str, tuple[str, ...]], ...] = (
    *DATA_CLOCKS,
    ("stage_history", ("entered_at",)),
    ("orders", ("ordered_at",)),
    ("time_entries", ("date",)),
)


def record_span(ws: Workspace) -> tuple[date, date] | None:
    """The first and last day of any dated record (:data:`RECORD_CLOCKS`), or None when the
    workspace holds none: a period outside it holds no data, and the CLI says so ("no data in
    FY2030") instead of printing ¥0."""
    firsts: list[date] = []
    lasts: list[date] = []
    for table, cols in RECORD_CLOCKS:
        t = ws.table(table)
        aggs = {f"{c}_min": t[c].min() for c in cols} | {f"{c}_max": t[c].max() for c in cols}
        row = t.aggregate(**aggs).to_pyarrow().to_pylist()[0]
        for key, v in row.items():
            if v is None:
                continue
            day = v.date() if isinstance(v, datetime) else v
            (firsts if key.endswith("_min") else lasts).append(day)
    return (min(firsts), max(lasts)) if firsts and lasts else None


#: The share of a baseline period the data may miss at its start and still be a baseline: a CRM
#: whose first deal is dated a few days into the year still has that year's history.
HISTORY_GRACE = 0.10


def deal_data_start(ws: Workspace) -> date | None:
    """The first day any opportunity was created or closed: where a deal history begins."""
    o = ws.table("opportunities")
    row = o.aggregate(c=o.created_at.min(), d=o.closed_at.min()).to_pyarrow().to_pylist()[0]
    days = [v.date() if isinstance(v, datetime) else v for v in (row["c"], row["d"]) if v]
    return min(days) if days else None


def covers(start: date | None, baseline: Period) -> bool:
    """Deals starting on ``start`` cover ``baseline``, missing at most ``HISTORY_GRACE`` of it."""
    return start is not None and (start - baseline.start).days <= HISTORY_GRACE * baseline.days


def history_period(ws: Workspace, period: Period, start: date | None = None) -> Period:
    """The period a history check compares ``period`` with: the same dates a year before when the
    deal history covers them — a seasonal business (quarter-end pushes, summer lulls) is judged
    against its own season, not against the month next to it — else the previous calendar
    period (:meth:`Period.previous_aligned`). A year or longer is compared with the period
    before it, which is the year before. ``start``: the deal data's first day, when known."""
    if period.days > 366:
        return period.previous_aligned()
    year_ago = period.year_ago()
    return year_ago if covers(start or deal_data_start(ws), year_ago) else period.previous_aligned()


def before(col: ir.TimestampValue, period: Period) -> ir.BooleanValue:
    """``col`` is earlier than the first instant of the period."""
    return col < ibis.timestamp(period.start_ts)


def days_between(start: ir.TimestampValue, end: ir.TimestampValue) -> ir.FloatingValue:
    """Fractional days between two timestamps, from epoch seconds (portable across engines)."""
    return _seconds(start, end) / 86400.0


def minutes_between(start: ir.TimestampValue, end: ir.TimestampValue) -> ir.FloatingValue:
    """Fractional minutes between two timestamps (as :func:`days_between`)."""
    return _seconds(start, end) / 60.0


def _seconds(start: ir.TimestampValue, end: ir.TimestampValue) -> ir.FloatingValue:
    """Seconds between two timestamps as a double. Divided as an integer, Spark reads the
    literal ``86400.0`` as a decimal and divides in decimals rounded to 6 places: 9.00625 days
    there, 9.006249999… in DuckDB, and a median printed to 4 decimals differed between the two
    engines. In doubles every engine computes the same IEEE quotient."""
    return (end.epoch_seconds() - start.epoch_seconds()).cast("float64")


#: What ``reps.extra`` holds for a rep made from an owner's name at import, whose hire date is
#: only the day of their first record (:data:`eigyo.ingest.load.SYNTHESIZED_REP`).
ASSUMED_HIRE_DATE = '"eigyo:hire_date"'


def reps_with_known_hire_date(ws: Workspace) -> ir.Table:
    """Reps whose hire date is a fact: ramp and new-hire analyses must not time a rep from a
    date the importer assumed (a rep known only by name in a CRM report)."""
    reps = ws.table("reps")
    return reps.filter(reps.extra.isnull() | ~reps.extra.contains(ASSUMED_HIRE_DATE))


def with_rep(ws: Workspace, t: ir.Table, rep_col: str = "owner_rep_id") -> ir.Table:
    """Attach ``team`` and ``role`` of the rep named by ``rep_col`` (left join, keeps every row)."""
    reps = ws.table("reps").select(
        _rep=ibis._.rep_id, _team=ibis._.team.fill_null(NO_TEAM), _role=ibis._.role
    )
    j = t.left_join(reps, t[rep_col] == reps._rep)
    return j.mutate(team=j._team.fill_null(NO_TEAM), role=j._role).drop("_rep", "_team", "_role")


def with_account(
    ws: Workspace, t: ir.Table, cols: tuple[str, ...] = ("industry", "region")
) -> ir.Table:
    """Attach account attributes (industry, region …) through ``account_id``."""
    acc = ws.table("accounts")
    acc = acc.select(_acc=acc.account_id, **{f"_{c}": acc[c] for c in cols})
    j = t.left_join(acc, t.account_id == acc._acc)
    return j.mutate(**{c: j[f"_{c}"] for c in cols}).drop("_acc", *[f"_{c}" for c in cols])
