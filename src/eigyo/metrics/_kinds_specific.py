"""Compile functions of the kinds that one or a few metrics need: each follows the contract's
text (docs/metrics.md, "Metric definitions that tests rely on").

They still build one Ibis expression per metric, joining per-rep or per-account intermediate
results (grouped through the ``rep`` / ``account`` links) instead of looping in Python.
"""

from __future__ import annotations

from datetime import datetime

import ibis
import ibis.expr.types as ir

from eigyo.base.periods import business_days
from eigyo.metrics._groups import with_group
from eigyo.metrics._kinds import Kind, aggregate, combine, duration, finish, grouped, ratio
from eigyo.metrics._model import Metric
from eigyo.metrics._vocab import POPULATIONS, Ctx, date_in_period, in_period

#: Bookings reach a quota when they fall short of it by less than this (float rounding only).
QUOTA_TOLERANCE_YEN = 1e-6


def _pred(name: str, t: ir.Table, c: Ctx) -> ir.BooleanValue:
    return POPULATIONS[name][1](t, c)


def _days(a: ir.DateValue, b: ir.DateValue) -> ir.NumericValue:
    """Whole days from date a to date b, from epoch seconds (portable)."""
    return (b.cast("timestamp").epoch_seconds() - a.cast("timestamp").epoch_seconds()) / 86400


def prorated_quotas(c: Ctx) -> ir.Table:
    """Per rep with a quota overlapping P: the sum of quotas pro-rated to P by overlapping days
    (both ends of a quota row and of P included)."""
    q, p = c.table("quotas"), c.period
    q = q.filter((q.period_start <= p.end) & (q.period_end >= p.start))
    lo = ibis.greatest(q.period_start, ibis.literal(p.start))
    hi = ibis.least(q.period_end, ibis.literal(p.end))
    share = ratio(_days(lo, hi) + 1, _days(q.period_start, q.period_end) + 1)
    return q.group_by("rep_id").aggregate(quota=(q.amount * share).sum())


def _bookings_by_rep(c: Ctx) -> ir.Table:
    o = c.table("opportunities")
    o = o.filter(_pred("won_in_p", o, c))
    return o.group_by(rep_id=o.owner_rep_id).aggregate(booked=o.amount.sum())


def _pipeline_velocity(m: Metric, c: Ctx) -> ir.Table:
    """Created in P × win rate × average deal size ÷ mean cycle days, in one pass."""
    o = c.table("opportunities")
    keep = [_pred(n, o, c) for n in ("opportunities_created_in_p", "won_in_p", "lost_in_p")]
    t = with_group(o.filter(keep[0] | keep[1] | keep[2]), "opportunities", c)
    won, lost = _pred("won_in_p", t, c), _pred("lost_in_p", t, c)
    a = aggregate(
        t,
        c,
        created=t.count(where=_pred("opportunities_created_in_p", t, c)),
        won=t.count(where=won),
        closed=t.count(where=won | lost),
        size=t.amount.mean(where=won),
        cycle=duration(m, t).mean(where=won),
    )
    value = a.created * ratio(a.won, a.closed) * a.size / a.cycle.nullif(0)
    return finish(a, value, c)


def _per_quota_rep(m: Metric, c: Ctx) -> ir.Table:
    """A sum (bookings) ÷ the number of reps with a quota overlapping P."""
    t = grouped(m.text("where"), c)
    num = aggregate(t, c, num=t[m.text("value")].sum())
    reps = with_group(prorated_quotas(c), "rep", c)
    den = aggregate(reps, c, den=reps.count())
    j = combine(num, den, c)
    return finish(j, ratio(j.num.fill_null(0), j.den.fill_null(0)), c)


def _quota_attainment(m: Metric, c: Ctx) -> ir.Table:
    """Share of reps with a quota overlapping P whose bookings in P reach the pro-rated quota."""
    q, b = prorated_quotas(c), _bookings_by_rep(c)
    j = q.left_join(b, q.rep_id == b.rep_id)
    per_rep = j.select(q.rep_id, quota=j.quota, booked=j.booked.fill_null(0))
    t = with_group(per_rep, "rep", c)
    reached = t.booked >= t.quota - QUOTA_TOLERANCE_YEN
    a = aggregate(t, c, num=t.count(where=reached), den=t.count())
    return finish(a, ratio(a.num, a.den), c)


def _date_text(s: ir.StringValue) -> ir.DateValue:
    """A stored ISO date (``YYYY-MM-DD``, possibly followed by a time) as a date."""
    return s.substr(0, 10).nullif("").cast("date")


def _first_close_date_change(c: Ctx, since: datetime | None) -> ir.Table:
    """Per opportunity, ``old_value`` of its earliest expected_close_date change (at or after
    ``since`` when given): the value the date had before that change."""
    ch = c.table("opportunity_changes")
    ch = ch.filter(ch.field == "expected_close_date")
    if since is not None:
        ch = ch.filter(ch.changed_at >= since)
    first = ch.group_by(oid="opportunity_id").aggregate(at=ch.changed_at.min())
    j = ch.join(first, (ch.opportunity_id == first.oid) & (ch.changed_at == first.at))
    return j.select(oid=j.oid, old=_date_text(j.old_value))


def _close_date_as_of(o: ir.Table, c: Ctx, since: datetime | None) -> ir.Table:
    """Opportunities with ``ecd``: their expected_close_date as it stood at ``since`` (or first)."""
    first = _first_close_date_change(c, since)
    j = o.left_join(first, o.opportunity_id == first.oid)
    ecd = ibis.ifelse(j.oid.notnull(), j.old, j.expected_close_date)
    return j.select(*o.columns, ecd=ecd)


def _slippage(m: Metric, c: Ctx) -> ir.Table:
    """Among opportunities whose first expected close date falls in P, the share not closed on
    or before that date."""
    o = _close_date_as_of(c.table("opportunities"), c, None)
    o = with_group(o.filter(date_in_period(o.ecd, c.period)), "opportunities", c)
    slipped = o.closed_at.isnull() | (o.closed_at.date() > o.ecd)
    a = aggregate(o, c, num=o.count(where=slipped), den=o.count())
    return finish(a, ratio(a.num, a.den), c)


def _pipeline_coverage(m: Metric, c: Ctx) -> ir.Table:
    """Open pipeline at the start of P due in P (dates rebuilt from the change log) ÷ quota."""
    o, start = c.table("opportunities"), c.period.start_ts
    o = o.filter((o.created_at < start) & (o.closed_at.isnull() | (o.closed_at >= start)))
    o = _close_date_as_of(o, c, start)
    o = with_group(o.filter(date_in_period(o.ecd, c.period)), "opportunities", c)
    num = aggregate(o, c, num=o.amount.sum())
    q = with_group(prorated_quotas(c), "rep", c)
    den = aggregate(q, c, den=q.quota.sum())
    j = combine(num, den, c)
    return finish(j, ratio(j.num.fill_null(0), j.den), c)


def _per_rep_day(m: Metric, c: Ctx) -> ir.Table:
    """Activities of one type in P ÷ (reps with such activities or time entries in P ×
    business days in P)."""
    a = c.table("activities")
    a = a.filter((a.type == m.text("activity")) & in_period(a.occurred_at, c.period))
    te = c.table("time_entries")
    te = te.filter(date_in_period(te.date, c.period))
    reps = ibis.union(a.select("rep_id"), te.select("rep_id"), distinct=True)
    reps = with_group(reps, "rep", c)
    ga = with_group(a, "activities", c)
    num = aggregate(ga, c, num=ga.count())
    den = aggregate(reps, c, den=reps.count())
    j = combine(num, den, c)
    days = business_days(c.period.start, c.period.end)
    return finish(j, ratio(j.num.fill_null(0), j.den.fill_null(0) * days), c)


def _account_orders(c: Ctx) -> ir.Table:
    """Per account: order revenue and count in P and in the same-length period before it."""
    o, p, prev = c.table("orders"), c.period, c.period.previous()
    o = o.filter((o.ordered_at >= prev.start_ts) & (o.ordered_at < p.end_ts))
    o = o.filter(o.account_id.notnull())
    before = o.ordered_at < p.start_ts
    return o.group_by("account_id").aggregate(
        prev=o.amount.sum(where=before),
        cur=o.amount.sum(where=~before),
        n_prev=o.count(where=before),
        n_cur=o.count(where=~before),
    )


def _nrr(m: Metric, c: Ctx) -> ir.Table:
    """Revenue in P of accounts that ordered in the period before ÷ their revenue then."""
    acc = _account_orders(c)
    acc = with_group(acc.filter(acc.n_prev > 0), "account", c)
    a = aggregate(acc, c, num=acc.cur.sum(), den=acc.prev.sum())
    return finish(a, ratio(a.num.fill_null(0), a.den), c)


def _churned_accounts(m: Metric, c: Ctx) -> ir.Table:
    """Accounts that ordered in the period before P and not in P."""
    acc = _account_orders(c)
    acc = with_group(acc.filter((acc.n_prev > 0) & (acc.n_cur == 0)), "account", c)
    a = aggregate(acc, c, n=acc.count())
    return finish(a, a.n, c)


def _repeat_customers(m: Metric, c: Ctx) -> ir.Table:
    """Accounts with two or more orders up to the end of P ÷ accounts with at least one."""
    o = c.table("orders")
    o = o.filter((o.ordered_at < c.period.end_ts) & o.account_id.notnull())
    acc = with_group(o.group_by("account_id").aggregate(n=o.count()), "account", c)
    a = aggregate(acc, c, num=acc.count(where=acc.n >= 2), den=acc.count())
    return finish(a, ratio(a.num, a.den), c)


SPECIAL_KINDS: tuple[Kind, ...] = (
    Kind("pipeline_velocity", _pipeline_velocity, ("start", "end", "per")),
    Kind("per_quota_rep", _per_quota_rep, ("where", "value")),
    Kind("quota_attainment", _quota_attainment, ()),
    Kind("slippage", _slippage, ()),
    Kind("pipeline_coverage", _pipeline_coverage, ()),
    Kind("per_rep_day", _per_rep_day, ("activity",)),
    Kind("nrr", _nrr, ()),
    Kind("churned_accounts", _churned_accounts, ()),
    Kind("repeat_customers", _repeat_customers, ()),
)
