"""Chart data for the overview report: one small aggregate per chart, computed in the engine.

Every function takes the workspace (and usually the period), builds one Ibis expression over the
canonical tables and returns its (small) result as a polars frame, so the heavy work runs in
DuckDB today and on PostgreSQL or Spark later. Durations come from ``epoch_seconds()`` because
engines disagree on date differences. Stage order and kinds come from ``eigyo.toml``; stage names
it does not list are kept under their own names, after the listed ones. Empty tables give empty
frames with the documented columns, never an error: the report shows "no data" for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import ibis
import polars as pl

from eigyo.analysis.alignment.leads import mql_leads
from eigyo.base.periods import Period
from eigyo.workspace import Workspace

_DAY = 86_400.0
_MONTH_DAYS = 30.4375
#: Ramp curves stop after this many tenure months: ramp is about the first two years.
RAMP_MONTHS = 24


def _frame(expr: Any) -> pl.DataFrame:
    """Execute an expression; its result is one small aggregate, so polars holds it easily."""
    df: pl.DataFrame = expr.to_polars()
    return df


def _within(col: Any, period: Period) -> Any:
    """Timestamp (or date) column inside the period, end exclusive at the next midnight."""
    return (col >= period.start_ts) & (col < period.end_ts)


def _days(start: Any, end: Any) -> Any:
    """Fractional days between two timestamps, portable across engines."""
    return (end.epoch_seconds() - start.epoch_seconds()) / _DAY


def _reps(ws: Workspace) -> Any:
    """Rep attributes every chart groups by, renamed so joins never collide."""
    r = ws.table("reps")
    return r.select(
        rep_id=r.rep_id, rep_name=r.name, team=r.team, role=r.role, hire_date=r.hire_date
    )


def _owned(t: Any, ws: Workspace, key: str) -> Any:
    """Attach the owning rep's team, role and name (left join: unknown reps stay in)."""
    r = _reps(ws)
    return t.left_join(r, t[key] == r.rep_id)


def _closed(ws: Workspace, period: Period) -> Any:
    """Opportunities won or lost in the period, with a 0/1 ``won`` flag."""
    o = ws.table("opportunities")
    o = o.filter(o.status.isin(["won", "lost"]), _within(o.closed_at, period))
    return o.mutate(won=(o.status == "won").cast("int64"))


def _stage_position(ws: Workspace, stage: Any) -> Any:
    """Funnel position of a stage from the settings (NULL for stages the settings do not list)."""
    branches = [(stage == s.name, i) for i, s in enumerate(ws.settings.stages)]
    return ibis.cases(*branches, else_=ibis.null("int64")) if branches else ibis.null("int64")


def _win_rate(t: Any) -> Any:
    return t.mutate(lost=t.closed - t.won, win_rate=(t.won / t.closed.nullif(0)).cast("float64"))


def bookings_by_month(ws: Workspace) -> pl.DataFrame:
    """Won amount per calendar month and team over the whole history (team may be null)."""
    o = ws.table("opportunities")
    o = o.filter(o.status == "won", o.closed_at.notnull())
    j = _owned(o, ws, "owner_rep_id")
    month = j.closed_at.truncate("M").cast("date")
    out = j.group_by(month=month, team=j.team).agg(bookings=j.amount.sum(), deals=j.count())
    return _frame(out.order_by(["month", "team"]))


def win_rate_by_team(ws: Workspace, period: Period) -> pl.DataFrame:
    """Won, lost and win rate per team among opportunities closed in the period."""
    j = _owned(_closed(ws, period), ws, "owner_rep_id")
    out = _win_rate(j.group_by(team=j.team).agg(won=j.won.sum(), closed=j.count()))
    return _frame(out.order_by("team"))


def rep_win_rates(ws: Workspace, period: Period) -> pl.DataFrame:
    """Per rep: deals closed in the period and win rate, with role and team for colouring."""
    j = _owned(_closed(ws, period), ws, "owner_rep_id")
    g = j.group_by(rep_id=j.owner_rep_id, rep_name=j.rep_name, role=j.role, team=j.team).agg(
        won=j.won.sum(), closed=j.count()
    )
    return _frame(_win_rate(g).order_by("rep_id"))


def _history_in(ws: Workspace, period: Period) -> Any:
    """Stage entries of opportunities created in the period, with the next entry's time."""
    o = ws.table("opportunities")
    o = o.filter(_within(o.created_at, period)).select(
        opp=o.opportunity_id, owner=o.owner_rep_id, closed_at=o.closed_at
    )
    sh = ws.table("stage_history")
    j = sh.join(o, sh.opportunity_id == o.opp)
    w = ibis.window(group_by=j.opportunity_id, order_by=[j.entered_at, j.stage])
    return j.mutate(left_at=ibis.coalesce(j.entered_at.lead().over(w), j.closed_at))


def stage_funnel(ws: Workspace, period: Period) -> pl.DataFrame:
    """Opportunities (created in P) that entered each stage, and median days spent in it.

    Days in a stage run to the next stage entered, else to the close; open deals still in the
    stage are left out. Rows are in funnel order: settings order, then unlisted stages by name.
    """
    h = _history_in(ws, period)
    g = h.group_by(stage=h.stage).agg(
        entered=h.opportunity_id.nunique(), median_days=_days(h.entered_at, h.left_at).median()
    )
    return _order_stages(ws, _frame(g))


def _order_stages(ws: Workspace, df: pl.DataFrame) -> pl.DataFrame:
    """Add ``kind`` and ``position`` to a per-stage aggregate (a handful of rows) and sort it."""
    st = ws.settings
    names = df.get_column("stage").to_list() if df.height else []
    kinds = [st.stage_kind(n) for n in names]
    pos = [st.stage_order(n) for n in names]
    df = df.with_columns(
        pl.Series("kind", kinds, dtype=pl.String), pl.Series("position", pos, dtype=pl.Int64)
    )
    return df.sort(["position", "stage"], nulls_last=True)


def stage_conversion_by_team(ws: Workspace, period: Period) -> pl.DataFrame:
    """Team × stage: share of opportunities (created in P) that entered a listed open stage and
    later reached a further listed stage that is not a loss. Shows where each team's deals stop.
    """
    h = _history_in(ws, period)
    lost = [s.name for s in ws.settings.stages if s.kind == "lost"]
    terminal = [s.name for s in ws.settings.stages if s.kind in ("won", "lost")]
    e = h.filter(~h.stage.isin(lost)).mutate(position=_stage_position(ws, h.stage))
    e = e.filter(e.position.notnull()).select("opportunity_id", "owner", "stage", "position")
    e = e.distinct()
    w = ibis.window(group_by=e.opportunity_id)
    e = e.mutate(reach=e.position.max().over(w))
    e = e.filter(~e.stage.isin(terminal))
    j = _owned(e, ws, "owner")
    g = j.group_by(team=j.team, stage=j.stage, position=j.position).agg(
        entered=j.count(), advanced=(j.position < j.reach).cast("int64").sum()
    )
    g = g.mutate(conversion=(g.advanced / g.entered).cast("float64"))
    return _frame(g.order_by(["team", "position"]))


def handoff_to_meeting(ws: Workspace, period: Period) -> pl.DataFrame:
    """Per closer: median days from an SDR's hand-off (opportunity created in P with
    ``sdr_rep_id``) to the first meeting logged on the opportunity."""
    o = ws.table("opportunities")
    o = o.filter(o.sdr_rep_id.notnull(), _within(o.created_at, period))
    a = ws.table("activities")
    a = a.filter(a.type == "meeting", a.opportunity_id.notnull())
    a = a.group_by(opp=a.opportunity_id).agg(first_meeting=a.occurred_at.min())
    j = o.join(a, o.opportunity_id == a.opp)
    j = j.filter(j.first_meeting >= j.created_at)
    j = _owned(j, ws, "owner_rep_id")
    g = j.group_by(closer_id=j.owner_rep_id, closer_name=j.rep_name, team=j.team).agg(
        handoffs=j.count(), median_days=_days(j.created_at, j.first_meeting).median()
    )
    return _frame(g.order_by("closer_id"))


def _answered_leads(ws: Workspace) -> Any:
    """Leads with an MQL time and a first response, with response minutes and owner team."""
    le = ws.table("leads")
    le = le.filter(le.mql_at.notnull(), le.first_response_at.notnull())
    le = le.mutate(minutes=(le.first_response_at.epoch_seconds() - le.mql_at.epoch_seconds()) / 60)
    return _owned(le, ws, "owner_rep_id")


def lead_response_by_team(ws: Workspace, period: Period) -> pl.DataFrame:
    """Distribution of lead response minutes per team (leads created in P): box statistics
    computed in the engine so that no lead row leaves it."""
    j = _answered_leads(ws)
    j = j.filter(_within(j.created_at, period))
    m = j.minutes
    g = j.group_by(team=j.team).agg(
        leads=j.count(),
        p10=m.quantile(0.1),
        q1=m.quantile(0.25),
        median=m.median(),
        q3=m.quantile(0.75),
        p90=m.quantile(0.9),
    )
    return _frame(g.order_by("team"))


def untouched_by_source(ws: Workspace, period: Period) -> pl.DataFrame:
    """Per source: MQLs created in P, how many never got a first response, and that share —
    the same population and definition as the ``untouched_leads`` check, so chart and finding
    agree."""
    s = mql_leads(ws, period)
    g = s.group_by("source").agg(leads=s.count(), untouched=s.untouched.sum())
    g = g.mutate(share=(g.untouched / g.leads).cast("float64"))
    return _frame(g.order_by("source"))


def ramp_curves(ws: Workspace, period: Period) -> pl.DataFrame:
    """Mean cumulative bookings per rep by tenure month, per fiscal-year hire cohort.

    Only reps hired after the data begins (their first months are in the data) and who sell
    (not managers) count; each cohort's curve stops at the tenure its newest rep has reached by
    the end of the period, so curves are never flattened by months nobody has lived yet.
    """
    o = ws.table("opportunities")
    start = o.created_at.min().as_scalar()
    fy = ws.settings.fiscal_year_start_month
    r = _reps(ws)
    r = r.filter(r.hire_date.notnull(), r.role != "manager", r.hire_date >= start.cast("date"))
    r = r.mutate(cohort=r.hire_date.year() - (r.hire_date.month() < fy).cast("int64"))
    hired = r.hire_date.cast("timestamp")
    won = o.filter(o.status == "won", o.closed_at < period.end_ts)
    j = won.join(r, won.owner_rep_id == r.rep_id)
    tenure = (_days(j.hire_date.cast("timestamp"), j.closed_at) / _MONTH_DAYS).floor()
    j = j.mutate(tenure_month=tenure.cast("int64"))
    b = j.group_by("cohort", "tenure_month").agg(bookings=j.amount.sum())
    end = ibis.literal(period.end_ts)
    c = r.group_by("cohort").agg(
        reps=r.count(), lived=((_days(hired, end) / _MONTH_DAYS).floor().min()).cast("int64")
    )
    grid = ibis.memtable({"tenure_month": list(range(RAMP_MONTHS))})
    g = c.cross_join(grid)
    g = g.filter(g.tenure_month <= g.lived)
    g = g.left_join(b, (g.cohort == b.cohort) & (g.tenure_month == b.tenure_month))
    g = g.select("cohort", "reps", "tenure_month", bookings=ibis.coalesce(g.bookings, 0.0))
    w = ibis.window(group_by=g.cohort, order_by=g.tenure_month, preceding=None, following=0)
    g = g.mutate(cumulative_per_rep=g.bookings.sum().over(w) / g.reps)
    return _frame(g.order_by(["cohort", "tenure_month"]))


def segment_matrix(ws: Workspace, period: Period) -> pl.DataFrame:
    """Per industry: deals closed in P, their share of all closed deals, win rate, bookings."""
    o = _closed(ws, period)
    ac = ws.table("accounts")
    ac = ac.select(acc=ac.account_id, industry=ac.industry)
    j = o.left_join(ac, o.account_id == ac.acc)
    g = j.group_by(industry=j.industry).agg(
        won=j.won.sum(), closed=j.count(), bookings=(j.amount * j.won).sum()
    )
    g = _win_rate(g)
    g = g.mutate(share=(g.closed / g.closed.sum().over(ibis.window())).cast("float64"))
    return _frame(g.order_by(ibis.desc("closed")))


def time_share(ws: Workspace, period: Period) -> pl.DataFrame:
    """Hours per team and time category in P, and each category's share of the team's hours."""
    te = ws.table("time_entries")
    te = te.filter(te.date >= period.start, te.date <= period.end)
    j = _owned(te, ws, "rep_id")
    g = j.group_by(team=j.team, category=j.category).agg(hours=j.hours.sum())
    w = ibis.window(group_by=g.team)
    g = g.mutate(share=(g.hours / g.hours.sum().over(w)).cast("float64"))
    return _frame(g.order_by(["team", "category"]))


@dataclass(frozen=True)
class Intervention:
    """The intervention a monitor chart measures."""

    intervention_id: str
    name: str
    started_at: datetime
    scope: tuple[str, ...]


def latest_intervention(ws: Workspace, period: Period) -> Intervention | None:
    """The most recent intervention started before the end of the period, if any."""
    iv = ws.table("interventions")
    iv = iv.filter(iv.started_at < period.end_ts).order_by(ibis.desc("started_at")).limit(1)
    rows = _frame(iv).to_dicts()
    if not rows:
        return None
    row = rows[0]
    scope = tuple(s.strip() for s in str(row.get("scope") or "").split(",") if s.strip())
    return Intervention(str(row["intervention_id"]), str(row["name"]), row["started_at"], scope)


def response_by_scope(ws: Workspace, scope: tuple[str, ...]) -> pl.DataFrame:
    """Monthly median lead response minutes (by lead creation month) for leads owned by the
    intervention's scope (its teams or reps) versus the rest; an empty scope means everyone."""
    j = _answered_leads(ws)
    if scope:
        in_scope = j.owner_rep_id.isin(list(scope)) | j.team.isin(list(scope))
        j = j.mutate(in_scope=ibis.coalesce(in_scope, False))
    else:
        j = j.mutate(in_scope=ibis.literal(True))
    g = j.group_by(month=j.created_at.truncate("M").cast("date"), in_scope=j.in_scope).agg(
        leads=j.count(), median_minutes=j.minutes.median()
    )
    return _frame(g.order_by(["in_scope", "month"]))
