"""Forecast: won so far + Σ p(win) × amount of open deals expected in the period + run rate.

Why three parts: a manager's forecast is what is already booked, what the open pipeline should
bring, and what has not been created yet but usually is (deals created and won within the same
month). The pipeline part uses :mod:`eigyo.analysis.data.winprob`, trained only on what was known
at the
as-of day, so the monthly backtest measures the forecast a manager would really have had.
Accuracy is 1 − |actual − forecast| / actual per month, with MAPE, next to a naive baseline (the
trailing three-month mean) so that the model has to earn its place.

An open deal's unknown amount is unknown, never ¥0 (the convention of
:mod:`eigyo.analysis.process.pipeline`): ``pipeline`` and ``expected_from_pipeline`` sum the known
amounts and ``deals_without_amount`` counts the others; where every open deal of the period lacks
one, both — and the forecast and coverage built on them — are None with ``amount_reason``
``no_amounts`` (Maven's CRM has amounts only on closed deals: its pipeline is not "¥0"). Where
deals are open and none has an expected close date (``undated_deals``: all of them), none can be
placed in the period: the same numbers are None with ``amount_reason`` ``no_close_dates``.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import ibis
import numpy as np
import polars as pl

from eigyo.analysis.common import in_period
from eigyo.analysis.data.winprob import MIN_TRAIN, Snapshots, data_span, fit, predict
from eigyo.analysis.process.pipeline import NO_AMOUNTS, known_sum
from eigyo.base.periods import Period, months_between
from eigyo.workspace import Workspace

#: Months of history behind the run rate and the naive baseline.
RUN_RATE_MONTHS = 6
#: Why the pipeline's yen is not available although deals are open: none has a close date, so
#: none can be placed in the period (the reason :mod:`eigyo.analysis.data.forecast_calls` gives).
NO_CLOSE_DATES = "no_close_dates"
#: Months of history before the first backtested month (the model needs training data).
WARMUP_MONTHS = 9


def monthly_bookings(ws: Workspace) -> pl.DataFrame:
    """Bookings per calendar month, total and the part created in the same month it was won."""
    o = ws.table("opportunities")
    o = o.filter((o.status == "won") & o.closed_at.notnull())
    month = o.closed_at.truncate("M")
    same = month == o.created_at.truncate("M")
    g = o.group_by(month=month.date()).agg(
        bookings=o.amount.sum(), same_month=o.amount.sum(where=same).fill_null(0)
    )
    df = pl.from_arrow(g.order_by("month").to_pyarrow())
    assert isinstance(df, pl.DataFrame)
    return df


def _run_rate(book: pl.DataFrame, start: date) -> float:
    """Mean monthly bookings of deals created and won in the same month, trailing months."""
    past = book.filter(
        (pl.col("month") < start)
        & (pl.col("month") >= start - timedelta(days=31 * RUN_RATE_MONTHS))
    )
    return float(past["same_month"].mean() or 0.0) if past.height else 0.0  # type: ignore[arg-type]


def _won_so_far(ws: Workspace, period: Period, as_of: date) -> float:
    o = ws.table("opportunities")
    upto = Period(period.start, min(period.end, as_of), period.label)
    if upto.end < upto.start:
        return 0.0
    o = o.filter((o.status == "won") & in_period(o.closed_at, upto))
    return float(o.amount.sum().fill_null(0).to_pyarrow().as_py())


def quota_for(ws: Workspace, period: Period) -> float:
    """Quota pro-rated to the period by overlapping days (both ends included)."""
    q = ws.table("quotas")
    q = q.filter(
        (q.period_start <= ibis.date(period.end)) & (q.period_end >= ibis.date(period.start))
    )
    df = pl.from_arrow(q.select("period_start", "period_end", "amount").to_pyarrow())
    assert isinstance(df, pl.DataFrame)
    if df.height == 0:
        return 0.0
    lo = df["period_start"].clip(lower_bound=period.start)
    hi = df["period_end"].clip(upper_bound=period.end)
    overlap = (hi - lo).dt.total_days() + 1
    length = (df["period_end"] - df["period_start"]).dt.total_days() + 1
    return float((df["amount"] * overlap / length).sum())


def forecast(
    ws: Workspace, period: Period, as_of: date, snaps: Snapshots | None = None
) -> dict[str, Any]:
    """Forecast bookings of ``period`` as seen at the end of ``as_of``, with pipeline coverage;
    the pipeline's parts over the known amounts, None where every open deal lacks one."""
    snaps = snaps or Snapshots(ws)
    won = _won_so_far(ws, period, as_of)
    open_now = snaps.at(as_of)
    undated = open_now["expected_close_date"].null_count()
    live = open_now.filter(pl.col("expected_close_date").is_between(period.start, period.end))
    # a training frame holds one row per known outcome and month-end (13 at most): when even
    # that bound is short of MIN_TRAIN, or one class is missing, skip building it (each snapshot
    # costs queries; the dashboard's headline asks for a forecast on every cold overview)
    known = snaps.outcomes.filter(pl.col("known") <= as_of)
    possible = known.height * 13 >= MIN_TRAIN and known["won"].n_unique() == 2
    train = snaps.training(as_of) if possible else pl.DataFrame()
    enough = possible and train.height >= MIN_TRAIN and train["won"].n_unique() == 2
    p = predict(fit(train), live) if enough and live.height else np.zeros(live.height)
    amounts = live["amount"]
    without = amounts.null_count()
    pipeline = known_sum(live.height, without, float(amounts.sum() or 0.0))
    reason = NO_AMOUNTS if pipeline is None else None
    if open_now.height and undated == open_now.height:  # no deal can be placed in the period
        pipeline, reason = None, NO_CLOSE_DATES
    # Σ p × amount over the known amounts (an unknown one adds nothing: it is not valued)
    valued = float(np.dot(p, amounts.fill_null(0).to_numpy()))
    expected = None if pipeline is None else valued
    remaining = max(0, (period.end - max(as_of, period.start - timedelta(days=1))).days)
    run = _run_rate(monthly_bookings(ws), period.start) * remaining / 30.4375
    quota = quota_for(ws, period)
    total = None if expected is None else won + expected + run
    return {
        "period": period.label,
        "as_of": as_of.isoformat(),
        "status": "ok" if enough else "not_enough_data",
        "won_so_far": won,
        "open_deals": live.height,
        "undated_deals": undated,
        "deals_without_amount": without,
        "amount_reason": reason,
        "pipeline": pipeline,
        "expected_from_pipeline": expected,
        "run_rate": run,
        "forecast": total,
        "quota": quota or None,
        "coverage": pipeline / quota if quota and pipeline is not None else None,
        "coverage_of_remaining": (
            pipeline / (quota - won) if quota > won and pipeline is not None else None
        ),
    }


def backtest(
    ws: Workspace, snaps: Snapshots | None = None, last_months: int | None = None
) -> dict[str, Any]:
    """Forecast every month (or the last ``last_months``) from the day before it starts, and
    compare with what was booked."""
    snaps = snaps or Snapshots(ws)
    first, last = data_span(ws)
    book = monthly_bookings(ws)
    actual = dict(zip(book["month"].to_list(), book["bookings"].to_list(), strict=True))
    rows = []
    months = months_between(first, last)[WARMUP_MONTHS:]
    for m in months[-last_months:] if last_months else months:
        if m.days < 28:
            continue  # a clipped last month is not a month
        f = forecast(ws, m, m.start - timedelta(days=1), snaps)
        a = float(actual.get(m.start, 0.0))
        past = book.filter(
            (pl.col("month") < m.start) & (pl.col("month") >= m.start - timedelta(days=92))
        )
        naive = float(past["bookings"].mean() or 0.0) if past.height else None  # type: ignore[arg-type]
        rows.append({"month": m.label, "actual": a, "forecast": f["forecast"], "naive": naive,
                     "status": f["status"], "coverage": f["coverage"],
                     "amount_reason": f["amount_reason"]})  # fmt: skip
    return {"months": rows, "summary": _accuracy(rows)}


def _accuracy(rows: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [r for r in rows if r["status"] == "ok" and r["actual"] > 0 and r["naive"] is not None
          and r["forecast"] is not None]  # fmt: skip
    if len(ok) < 3:
        return {"status": "not_enough_data", "months": len(ok)}
    a = np.array([r["actual"] for r in ok])
    f = np.array([r["forecast"] for r in ok])
    n = np.array([r["naive"] for r in ok])
    ape, ape_n = np.abs(a - f) / a, np.abs(a - n) / a
    return {
        "status": "ok",
        "months": len(ok),
        "accuracy": float(np.mean(1 - ape)),
        "mape": float(np.mean(ape)),
        "bias": float(np.mean((f - a) / a)),
        "naive_accuracy": float(np.mean(1 - ape_n)),
        "naive_mape": float(np.mean(ape_n)),
    }
