"""The peers of bench/metrics_engines.py: the contract metrics grouped by team for one period,
(a) as one hand-written DuckDB SQL and (b) as a straightforward pandas program.

Both follow DESIGN.md's definitions the way eigyo's registry does (a record's team is its rep's
team, ``(none)`` when unknown; empty denominators give no value). The benchmark checks that all
three agree before it reports any time.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

NONE = "(none)"
METRICS = (
    "bookings", "won_deals", "win_rate", "avg_deal_size", "sales_cycle_days",
    "pipeline_velocity", "avg_revenue_per_rep", "quota_attainment_rate", "slippage_rate",
    "pipeline_coverage", "lead_response_minutes", "lead_response_sla_rate", "mql_to_sql_rate",
    "lead_conversion_rate", "calls_per_rep_day", "call_connect_rate", "admin_time_share",
)  # fmt: skip

SQL = """
WITH
team AS (SELECT rep_id, coalesce(CAST(team AS VARCHAR), '(none)') AS g FROM reps),
o AS (SELECT o.*, coalesce(t.g, '(none)') AS g,
        epoch(closed_at) - epoch(created_at) AS secs,
        status = 'won' AND closed_at >= $s AND closed_at < $e AS won_p,
        status = 'lost' AND closed_at >= $s AND closed_at < $e AS lost_p,
        created_at >= $s AND created_at < $e AS created_p
      FROM opportunities o LEFT JOIN team t ON o.owner_rep_id = t.rep_id),
opp AS (
  SELECT g, sum(amount) FILTER (won_p) AS bookings, count(*) FILTER (won_p) AS won,
    count(*) FILTER (won_p OR lost_p) AS closed, avg(amount) FILTER (won_p) AS size,
    quantile_cont(secs / 86400, 0.5) FILTER (won_p) AS cycle_median,
    avg(secs / 86400) FILTER (won_p) AS cycle_mean, count(*) FILTER (created_p) AS created
  FROM o WHERE won_p OR lost_p OR created_p GROUP BY g),
q AS (
  SELECT rep_id, sum(amount * ((date_diff('day', greatest(period_start, $sd),
      least(period_end, $ed)) + 1) / (date_diff('day', period_start, period_end) + 1))) AS quota
  FROM quotas WHERE period_start <= $ed AND period_end >= $sd GROUP BY rep_id),
booked AS (SELECT owner_rep_id AS rep_id, sum(amount) AS b FROM o WHERE won_p GROUP BY 1),
qr AS (SELECT q.rep_id, q.quota, coalesce(b.b, 0) AS booked, coalesce(t.g, '(none)') AS g
       FROM q LEFT JOIN booked b USING (rep_id) LEFT JOIN team t USING (rep_id)),
quota AS (SELECT g, count(*) AS reps, sum(quota) AS quota,
          count(*) FILTER (booked >= quota - 1e-6) AS reached FROM qr GROUP BY g),
ch AS (SELECT opportunity_id, changed_at, CAST(nullif(substr(old_value, 1, 10), '') AS DATE) AS old
       FROM opportunity_changes WHERE field = 'expected_close_date'),
first_ch AS (SELECT c.opportunity_id, c.old FROM ch c JOIN (SELECT opportunity_id,
    min(changed_at) AS at FROM ch GROUP BY 1) m
    ON c.opportunity_id = m.opportunity_id AND c.changed_at = m.at),
start_ch AS (SELECT c.opportunity_id, c.old FROM ch c JOIN (SELECT opportunity_id,
    min(changed_at) AS at FROM ch WHERE changed_at >= $s GROUP BY 1) m
    ON c.opportunity_id = m.opportunity_id AND c.changed_at = m.at),
slip AS (
  SELECT o.g, count(*) AS n, count(*) FILTER (o.closed_at IS NULL
      OR CAST(o.closed_at AS DATE) > CASE WHEN f.opportunity_id IS NOT NULL THEN f.old
                                          ELSE o.expected_close_date END) AS slipped
  FROM o LEFT JOIN first_ch f USING (opportunity_id)
  WHERE (CASE WHEN f.opportunity_id IS NOT NULL THEN f.old ELSE o.expected_close_date END)
        BETWEEN $sd AND $ed GROUP BY o.g),
cover AS (
  SELECT o.g, sum(o.amount) AS amount FROM o LEFT JOIN start_ch c USING (opportunity_id)
  WHERE o.created_at < $s AND (o.closed_at IS NULL OR o.closed_at >= $s)
    AND (CASE WHEN c.opportunity_id IS NOT NULL THEN c.old ELSE o.expected_close_date END)
        BETWEEN $sd AND $ed GROUP BY o.g),
l AS (SELECT l.*, coalesce(t.g, '(none)') AS g,
        (epoch(first_response_at) - epoch(mql_at)) AS rsecs
      FROM leads l LEFT JOIN team t ON l.owner_rep_id = t.rep_id
      WHERE created_at >= $s AND created_at < $e),
won_opps AS (SELECT opportunity_id, lead_id FROM opportunities WHERE status = 'won'),
lead AS (
  SELECT g,
    quantile_cont(rsecs / 60, 0.5) FILTER (mql_at IS NOT NULL AND first_response_at IS NOT NULL)
      AS response,
    count(*) FILTER (mql_at IS NOT NULL) AS mql,
    count(*) FILTER (mql_at IS NOT NULL AND first_response_at IS NOT NULL) AS answered,
    count(*) FILTER (mql_at IS NOT NULL AND first_response_at IS NOT NULL
                     AND rsecs <= $sla) AS in_sla,
    count(*) FILTER (mql_at IS NOT NULL AND sql_at IS NOT NULL) AS has_sql,
    count(*) AS leads,
    count(*) FILTER (opportunity_id IN (SELECT opportunity_id FROM won_opps)
      OR lead_id IN (SELECT lead_id FROM won_opps WHERE lead_id IS NOT NULL)) AS converted
  FROM l GROUP BY g),
calls AS (SELECT a.rep_id, a.outcome, coalesce(t.g, '(none)') AS g FROM activities a
          LEFT JOIN team t ON a.rep_id = t.rep_id
          WHERE a.type = 'call' AND a.occurred_at >= $s AND a.occurred_at < $e),
call AS (SELECT g, count(*) AS calls, count(*) FILTER (outcome = 'connected') AS connected
         FROM calls GROUP BY g),
te AS (SELECT e.*, coalesce(t.g, '(none)') AS g FROM time_entries e
       LEFT JOIN team t ON e.rep_id = t.rep_id WHERE e.date BETWEEN $sd AND $ed),
time AS (SELECT g, sum(hours) FILTER (category = 'admin') AS admin, sum(hours) AS hours
         FROM te GROUP BY g),
active AS (SELECT g, count(*) AS reps FROM (SELECT rep_id, g FROM calls UNION
           SELECT rep_id, g FROM te) GROUP BY g),
vals AS (
  SELECT 'bookings' AS id, g, coalesce(bookings, 0) AS value FROM opp WHERE won > 0
  UNION ALL SELECT 'won_deals', g, won FROM opp WHERE won > 0
  UNION ALL SELECT 'win_rate', g, won / nullif(closed, 0) FROM opp WHERE closed > 0
  UNION ALL SELECT 'avg_deal_size', g, size FROM opp WHERE won > 0
  UNION ALL SELECT 'sales_cycle_days', g, cycle_median FROM opp WHERE won > 0
  UNION ALL SELECT 'pipeline_velocity', g,
    created * (won / nullif(closed, 0)) * size / nullif(cycle_mean, 0) FROM opp
  UNION ALL SELECT 'avg_revenue_per_rep', g, coalesce(b.bookings, 0) / nullif(q.reps, 0)
    FROM (SELECT g, bookings FROM opp WHERE won > 0) b FULL JOIN quota q USING (g)
  UNION ALL SELECT 'quota_attainment_rate', g, reached / reps FROM quota
  UNION ALL SELECT 'slippage_rate', g, slipped / n FROM slip
  UNION ALL SELECT 'pipeline_coverage', g, coalesce(c.amount, 0) / nullif(q.quota, 0)
    FROM cover c FULL JOIN quota q USING (g)
  UNION ALL SELECT 'lead_response_minutes', g, response FROM lead WHERE answered > 0
  UNION ALL SELECT 'lead_response_sla_rate', g, in_sla / mql FROM lead WHERE mql > 0
  UNION ALL SELECT 'mql_to_sql_rate', g, has_sql / mql FROM lead WHERE mql > 0
  UNION ALL SELECT 'lead_conversion_rate', g, converted / leads FROM lead
  UNION ALL SELECT 'calls_per_rep_day', g, coalesce(c.calls, 0) / nullif(a.reps * $days, 0)
    FROM call c FULL JOIN active a USING (g)
  UNION ALL SELECT 'call_connect_rate', g, connected / calls FROM call
  UNION ALL SELECT 'admin_time_share', g, coalesce(admin, 0) / nullif(hours, 0) FROM time)
SELECT id, g, CAST(value AS DOUBLE) AS value FROM vals
"""


def sql_params(p: Any, days: int, sla_minutes: float) -> dict[str, Any]:
    """Bind values of :data:`SQL` for a period ``p`` (an eigyo Period)."""
    return {"s": p.start_ts, "e": p.end_ts, "sd": p.start, "ed": p.end, "days": days,
            "sla": sla_minutes * 60}  # fmt: skip


# ---------------------------------------------------------------------------------------------
# (b) pandas: the same definitions, one metric after another, as an analyst would write them.


def _team(df: pd.DataFrame, key: str, team: pd.Series) -> pd.Series:
    return df[key].map(team).fillna(NONE)


def _median(s: pd.Series) -> float:
    return float(s.median()) if len(s) else float("nan")


def _out(rows: list[tuple[str, str, float]], mid: str, s: pd.Series) -> None:
    rows.extend((mid, str(g), float(v)) for g, v in s.items())


def _opportunities(d: dict[str, pd.DataFrame], p: Any, team: pd.Series, rows: list[Any]) -> None:
    o = d["opportunities"].copy()
    o["g"] = _team(o, "owner_rep_id", team)
    closed_p = (o.closed_at >= p.start_ts) & (o.closed_at < p.end_ts)
    won, lost = o[(o.status == "won") & closed_p], o[(o.status == "lost") & closed_p]
    created = o[(o.created_at >= p.start_ts) & (o.created_at < p.end_ts)]
    days = (won.closed_at - won.created_at).dt.total_seconds() / 86400
    n_won, n_lost = won.groupby("g").size(), lost.groupby("g").size()
    closed = n_won.add(n_lost, fill_value=0)
    _out(rows, "bookings", won.groupby("g").amount.sum())
    _out(rows, "won_deals", n_won)
    _out(rows, "win_rate", n_won.reindex(closed.index, fill_value=0) / closed)
    size = won.groupby("g").amount.mean()
    _out(rows, "avg_deal_size", size)
    _out(rows, "sales_cycle_days", days.groupby(won.g).median())
    groups = closed.index.union(created.g.unique())
    velocity = (created.groupby("g").size().reindex(groups, fill_value=0)
                * (n_won.reindex(groups, fill_value=0) / closed.reindex(groups))
                * size.reindex(groups) / days.groupby(won.g).mean().reindex(groups))  # fmt: skip
    _out(rows, "pipeline_velocity", velocity.replace([np.inf, -np.inf], np.nan))


def _quotas(d: dict[str, pd.DataFrame], p: Any, team: pd.Series) -> pd.DataFrame:
    q = d["quotas"]
    q = q[(q.period_start <= pd.Timestamp(p.end)) & (q.period_end >= pd.Timestamp(p.start))]
    lo = q.period_start.clip(lower=pd.Timestamp(p.start))
    hi = q.period_end.clip(upper=pd.Timestamp(p.end))
    share = ((hi - lo).dt.days + 1) / ((q.period_end - q.period_start).dt.days + 1)
    per_rep = (q.amount * share).groupby(q.rep_id).sum().rename("quota").to_frame()
    per_rep["g"] = per_rep.index.map(team).fillna(NONE)
    return per_rep


def _quota_metrics(d: dict[str, pd.DataFrame], p: Any, team: pd.Series, rows: list[Any]) -> None:
    o = d["opportunities"]
    won = o[(o.status == "won") & (o.closed_at >= p.start_ts) & (o.closed_at < p.end_ts)]
    q = _quotas(d, p, team)
    q["booked"] = won.groupby("owner_rep_id").amount.sum().reindex(q.index).fillna(0)
    reps = q.groupby("g").size()
    bookings = won.amount.groupby(_team(won, "owner_rep_id", team)).sum()
    groups = reps.index.union(bookings.index)
    per_rep = bookings.reindex(groups, fill_value=0) / reps.reindex(groups).replace(0, np.nan)
    _out(rows, "avg_revenue_per_rep", per_rep)
    _out(rows, "quota_attainment_rate", (q.booked >= q.quota - 1e-6).groupby(q.g).mean())
    _coverage(d, p, team, q.groupby("g").quota.sum(), rows)


def _first_change(d: dict[str, pd.DataFrame], since: Any) -> pd.Series:
    ch = d["opportunity_changes"]
    ch = ch[ch.field == "expected_close_date"]
    if since is not None:
        ch = ch[ch.changed_at >= since]
    first = ch[ch.changed_at == ch.groupby("opportunity_id").changed_at.transform("min")]
    old = pd.to_datetime(first.old_value.str.slice(0, 10).replace("", None))
    return pd.Series(old.to_numpy(), index=first.opportunity_id)


def _due(o: pd.DataFrame, first: pd.Series) -> pd.DataFrame:
    """Rows of ``o`` (one per matching first change) with ``ecd`` as it stood."""
    j = o.merge(first.rename("old"), left_on="opportunity_id", right_index=True, how="left",
                indicator=True)  # fmt: skip
    j["ecd"] = j.old.where(j._merge == "both", j.expected_close_date)
    return j


def _coverage(
    d: dict[str, pd.DataFrame], p: Any, team: pd.Series, quota: pd.Series, rows: list[Any]
) -> None:
    o = d["opportunities"]
    o = o[(o.created_at < p.start_ts) & (o.closed_at.isna() | (o.closed_at >= p.start_ts))]
    j = _due(o, _first_change(d, p.start_ts))
    j = j[(j.ecd >= pd.Timestamp(p.start)) & (j.ecd <= pd.Timestamp(p.end))]
    amount = j.amount.groupby(_team(j, "owner_rep_id", team)).sum()
    groups = amount.index.union(quota.index)
    cover = amount.reindex(groups, fill_value=0) / quota.reindex(groups).replace(0, np.nan)
    _out(rows, "pipeline_coverage", cover)


def _slippage(d: dict[str, pd.DataFrame], p: Any, team: pd.Series, rows: list[Any]) -> None:
    j = _due(d["opportunities"], _first_change(d, None))
    j = j[(j.ecd >= pd.Timestamp(p.start)) & (j.ecd <= pd.Timestamp(p.end))]
    slipped = j.closed_at.isna() | (j.closed_at.dt.normalize() > j.ecd)
    _out(rows, "slippage_rate", slipped.groupby(_team(j, "owner_rep_id", team)).mean())


def _leads(
    d: dict[str, pd.DataFrame], p: Any, team: pd.Series, sla: float, rows: list[Any]
) -> None:
    le = d["leads"]
    le = le[(le.created_at >= p.start_ts) & (le.created_at < p.end_ts)].copy()
    le["g"] = _team(le, "owner_rep_id", team)
    mql = le[le.mql_at.notna()]
    minutes = (mql.first_response_at - mql.mql_at).dt.total_seconds() / 60
    answered = mql.first_response_at.notna()
    _out(rows, "lead_response_minutes", minutes[answered].groupby(mql.g[answered]).median())
    _out(rows, "lead_response_sla_rate", (answered & (minutes <= sla)).groupby(mql.g).mean())
    _out(rows, "mql_to_sql_rate", mql.sql_at.notna().groupby(mql.g).mean())
    o = d["opportunities"]
    won = o[o.status == "won"]
    hit = le.opportunity_id.isin(won.opportunity_id) | le.lead_id.isin(won.lead_id.dropna())
    _out(rows, "lead_conversion_rate", hit.groupby(le.g).mean())


def _activity(
    d: dict[str, pd.DataFrame], p: Any, team: pd.Series, days: int, rows: list[Any]
) -> None:
    a = d["activities"]
    calls = a[(a.type == "call") & (a.occurred_at >= p.start_ts) & (a.occurred_at < p.end_ts)]
    te = d["time_entries"]
    te = te[(te.date >= pd.Timestamp(p.start)) & (te.date <= pd.Timestamp(p.end))]
    reps = pd.Series(pd.concat([calls.rep_id, te.rep_id]).unique())
    active = reps.groupby(reps.map(team).fillna(NONE)).size()
    n_calls = calls.groupby(_team(calls, "rep_id", team)).size()
    groups = active.index.union(n_calls.index)
    per_day = n_calls.reindex(groups, fill_value=0) / (active.reindex(groups) * days)
    _out(rows, "calls_per_rep_day", per_day)
    connected = (calls.outcome == "connected").groupby(_team(calls, "rep_id", team)).mean()
    _out(rows, "call_connect_rate", connected)
    g = _team(te, "rep_id", team)
    admin = te.hours.where(te.category == "admin", 0).groupby(g).sum()
    _out(rows, "admin_time_share", admin / te.hours.groupby(g).sum().replace(0, np.nan))


def pandas_metrics(
    d: dict[str, pd.DataFrame], p: Any, days: int, sla_minutes: float
) -> list[tuple[str, str, float]]:
    """Every metric of :data:`METRICS` by team, as (id, team, value) rows."""
    reps = d["reps"]
    team = pd.Series(reps.team.fillna(NONE).astype(str).to_numpy(), index=reps.rep_id)
    rows: list[tuple[str, str, float]] = []
    _opportunities(d, p, team, rows)
    _quota_metrics(d, p, team, rows)
    _slippage(d, p, team, rows)
    _leads(d, p, team, sla_minutes, rows)
    _activity(d, p, team, days, rows)
    return rows
