"""Step 7, the time half: where the hours go, what they buy, and what admin work costs.

- **Shares**: hours of time entries in the period by category, selling / admin / other (every
  other category), ÷ all hours of the group; a team's share weights reps by their hours, as the
  metric ``admin_time_share`` does. The trend is the same per calendar month.
- **Efficiency**: selling hours and activities in the period ÷ opportunities won in the period
  (null when none was won); revenue per selling hour = bookings ÷ selling hours.
- **Call windows**: calls in the period by hour and weekday of ``occurred_at`` (stored local time,
  so the workspace time zone), connect rate with a 95% Wilson interval. A *best window* has at
  least ``MIN_WINDOW_CALLS`` calls and a connect rate above the overall rate by an exact binomial
  test whose Benjamini–Hochberg q-value (across all windows shown) is below 0.05: with 168
  hour × weekday cells, some beat the average by chance.
- **Reclaimable time**: per rep, admin hours above the target share (``[targets]
  admin_time_share``, default 0.25) of the rep's hours; valued at the team's revenue per selling
  hour (the rep's own rate is too noisy), summed to the team.
"""

from __future__ import annotations

import ibis.expr.types as ir
import polars as pl

from eigyo.analysis.common import in_period, with_rep
from eigyo.analysis.verdicts import check_by, frame, with_wilson
from eigyo.base.periods import Period
from eigyo.base.stats import benjamini_hochberg, binomial
from eigyo.workspace import Workspace

SHARE_BY = ("rep_id", "team")
CALL_BY = ("hour", "weekday", "window")
MIN_WINDOW_CALLS = 30


def entries_in(ws: Workspace, period: Period) -> ir.Table:
    """Time entries dated in the period with the rep's team and role: every hour figure reads
    this one population."""
    te = ws.table("time_entries")
    te = te.filter(in_period(te.date.cast("timestamp"), period))
    return with_rep(ws, te, "rep_id")


def _hours(te: ir.Table) -> dict[str, ir.Value]:
    def of(cat: str) -> ir.Value:
        return (te.hours * (te.category == cat).cast("float64")).sum()

    return {"hours": te.hours.sum(), "selling_hours": of("selling"), "admin_hours": of("admin")}


def _with_shares(df: pl.DataFrame) -> pl.DataFrame:
    other = pl.col("hours") - pl.col("selling_hours") - pl.col("admin_hours")
    return df.with_columns(other_hours=other).with_columns(
        selling_share=pl.col("selling_hours") / pl.col("hours"),
        admin_share=pl.col("admin_hours") / pl.col("hours"),
        other_share=pl.col("other_hours") / pl.col("hours"),
    )


def time_shares(ws: Workspace, period: Period, by: str = "team") -> pl.DataFrame:
    """Selling, admin and other hours and shares per rep or team (groups with hours only)."""
    check_by(by, SHARE_BY, "time shares")
    te = entries_in(ws, period)
    keys = ["rep_id", "team"] if by == "rep_id" else ["team"]
    agg = te.group_by(keys).agg(**_hours(te))
    return _with_shares(frame(agg.filter(agg.hours > 0).order_by(keys)))


def time_trend(ws: Workspace, period: Period, by: str = "team") -> pl.DataFrame:
    """The shares of :func:`time_shares` per calendar month (``month`` = YYYY-MM)."""
    check_by(by, SHARE_BY, "the time trend")
    te = entries_in(ws, period)
    te = te.mutate(month=te.date.truncate("M").cast("string").substr(0, 7))
    agg = te.group_by([by, "month"]).agg(**_hours(te))
    return _with_shares(frame(agg.filter(agg.hours > 0).order_by([by, "month"])))


def _won(ws: Workspace, period: Period) -> ir.Table:
    o = ws.table("opportunities")
    o = o.filter((o.status == "won") & o.closed_at.notnull() & in_period(o.closed_at, period))
    o = with_rep(ws, o)
    return o.group_by(rep_id=o.owner_rep_id).agg(won_deals=o.count(), bookings=o.amount.sum())


def efficiency(ws: Workspace, period: Period, by: str = "team") -> pl.DataFrame:
    """Per rep or team: selling hours, activities, won deals, bookings, selling hours and
    activities per won deal, revenue per selling hour."""
    check_by(by, SHARE_BY, "time efficiency")
    te = entries_in(ws, period)
    hrs = te.group_by("rep_id").agg(selling_hours=_hours(te)["selling_hours"])
    a = ws.table("activities")
    a = a.filter(in_period(a.occurred_at, period))
    acts = a.group_by("rep_id").agg(activities=a.count())
    reps = with_rep(ws, ws.table("reps").select("rep_id"), "rep_id").select("rep_id", "team")
    j = reps.left_join(hrs, "rep_id").drop("rep_id_right")
    j = j.left_join(acts, "rep_id").drop("rep_id_right")
    won = _won(ws, period)
    j = j.left_join(won, "rep_id").drop("rep_id_right")
    keys = ["rep_id", "team"] if by == "rep_id" else ["team"]
    agg = j.group_by(keys).agg(
        selling_hours=j.selling_hours.sum().fill_null(0.0),
        activities=j.activities.sum().fill_null(0),
        won_deals=j.won_deals.sum().fill_null(0),
        bookings=j.bookings.sum().fill_null(0.0),
    )
    agg = agg.filter((agg.selling_hours > 0) | (agg.activities > 0) | (agg.won_deals > 0))
    df = frame(agg.order_by(keys))
    won_n = pl.col("won_deals")
    return df.with_columns(
        selling_hours_per_won=pl.when(won_n > 0).then(pl.col("selling_hours") / won_n),
        activities_per_won=pl.when(won_n > 0).then(pl.col("activities") / won_n),
        revenue_per_selling_hour=pl.when(pl.col("selling_hours") > 0).then(
            pl.col("bookings") / pl.col("selling_hours")
        ),
    )


def call_windows(ws: Workspace, period: Period, by: str = "window") -> pl.DataFrame:
    """Connect rate of calls per hour, weekday (0 = Monday) or both (``window``), with Wilson
    intervals and ``best`` = 1 for windows reliably above the overall connect rate."""
    check_by(by, CALL_BY, "call windows")
    a = ws.table("activities")
    a = a.filter((a.type == "call") & in_period(a.occurred_at, period))
    a = a.mutate(hour=a.occurred_at.hour(), weekday=a.occurred_at.day_of_week.index())
    a = a.mutate(_c=(a.outcome == "connected").fill_null(False).cast("int64"))
    keys = ["weekday", "hour"] if by == "window" else [by]
    df = frame(a.group_by(keys).agg(calls=a.count(), connected=a._c.sum()).order_by(keys))
    df = with_wilson(df, "connected", "calls", "connect_rate")
    total = int(df["calls"].sum()) if df.height else 0
    overall = int(df["connected"].sum()) / total if total else 0.0
    pairs = zip(df["connected"].to_list(), df["calls"].to_list(), strict=True)
    q = benjamini_hochberg([binomial(int(k), int(n), overall) for k, n in pairs])
    df = df.with_columns(q_value=pl.Series(q, dtype=pl.Float64), overall_rate=pl.lit(overall))
    best = (
        (pl.col("calls") >= MIN_WINDOW_CALLS)
        & (pl.col("connect_rate") > overall)
        & (pl.col("q_value") < 0.05)
    )
    return df.with_columns(best=best.cast(pl.Int64))


def reclaimable_time(ws: Workspace, period: Period, by: str = "team") -> pl.DataFrame:
    """Admin hours above target per rep, valued at the team's revenue per selling hour.

    Columns: group, hours, admin_hours, target_share, excess_admin_hours,
    revenue_per_selling_hour (the team's), reclaimable_jpy. Sorted by yen, largest first.
    """
    check_by(by, SHARE_BY, "reclaimable time")
    target = ws.settings.targets.get("admin_time_share", 0.25)
    reps = time_shares(ws, period, "rep_id")
    rate = efficiency(ws, period, "team").select("team", "revenue_per_selling_hour")
    excess = (pl.col("admin_hours") - target * pl.col("hours")).clip(lower_bound=0.0)
    df = reps.join(rate, on="team", how="left").with_columns(
        target_share=pl.lit(target), excess_admin_hours=excess
    )
    df = df.with_columns(
        reclaimable_jpy=pl.col("excess_admin_hours")
        * pl.col("revenue_per_selling_hour").fill_null(0.0)
    )
    if by == "team":
        df = df.group_by("team").agg(
            pl.col("hours", "admin_hours", "excess_admin_hours", "reclaimable_jpy").sum(),
            pl.col("target_share", "revenue_per_selling_hour").first(),
        )
    cols = [c for c in ("rep_id", "team") if c in df.columns]
    return df.select(
        *cols, "hours", "admin_hours", "target_share", "excess_admin_hours",
        "revenue_per_selling_hour", "reclaimable_jpy",
    ).sort(["reclaimable_jpy", *cols], descending=[True, *[False] * len(cols)])  # fmt: skip
