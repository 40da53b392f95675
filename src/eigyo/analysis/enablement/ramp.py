"""Step 5, install the latest version: how fast new reps ramp, and whether onboarding helps.

Definitions (all computed in the engine):

- **Rep-month**: a seller (roles in ``SELLING_ROLES``) in a calendar month from the month of
  hire (or the first month of data) to the end of the period, the month of ``end_date`` last.
  Its bookings are the amounts of the rep's opportunities won in that month, 0 when none.
- **Tenure month**: 1 in the calendar month of hire, 2 in the next, and so on.
- **Tenured median**: per role, the median monthly bookings of rep-months in the period whose
  tenure month exceeds ``TENURED_AFTER`` (12). A ramp ratio of 1.0 = a typical tenured month.
- **New hire**: a seller hired on or after the first month of data (so tenure month 1 is seen).
  **Onboarded**: completed any training within ``ONBOARDING_DAYS`` of hire (as the diagnosis).
- **Time to first deal**: days from hire_date 00:00 to the first won close, up to period end;
  censored (``first_deal_days`` null) when none yet.
- **Time to productivity**: the first tenure month (≥ 3) where the mean of the last three months'
  bookings reaches ``PRODUCTIVE_SHARE`` (80%) of the role's tenured median; null when not yet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.types as ir

from eigyo.analysis.common import days_between, reps_with_known_hire_date
from eigyo.analysis.enablement.onboarding import ONBOARDING_DAYS, new_rep_deals
from eigyo.analysis.verdicts import frame
from eigyo.base.periods import Period, month_index
from eigyo.base.stats import two_proportions
from eigyo.base.vocabulary import NO_EVIDENCE, NO_TEAM, NOT_ENOUGH_DATA, SELLING_ROLES
from eigyo.workspace import Workspace

TENURED_AFTER = 12
PRODUCTIVE_SHARE = 0.8
ROLLING_MONTHS = 3
#: Closed deals each group (onboarded / not) needs before their win rates are compared.
MIN_NEW_REP_DEALS = 20

if TYPE_CHECKING:
    import polars as pl


def _month_index(d: ir.Value) -> ir.IntegerValue:
    """Months since year 0 (year × 12 + month − 1), portable month arithmetic: the engine's
    side of :func:`eigyo.base.periods.month_index`."""
    return d.year() * 12 + d.month() - 1


def _months(ws: Workspace, period: Period) -> ir.Table:
    """Month indexes from the first month with a won deal (or the period start) to period end."""
    import polars as pl

    o = ws.table("opportunities")
    first = o.filter(o.status == "won").closed_at.min().to_pyarrow().as_py()
    start = min(first.date(), period.start) if first is not None else period.start
    lo, hi = month_index(start), month_index(period.end)
    return ibis.memtable(pl.DataFrame({"m": list(range(lo, hi + 1))}, schema={"m": pl.Int64}))


def data_start(ws: Workspace, period: Period) -> int:
    """Month index of the first month analysed (new hires are those hired on or after it)."""
    return int(frame(_months(ws, period).aggregate(lo=ibis._.m.min()))["lo"][0])


def onboarded_reps(ws: Workspace) -> ir.Table:
    """Reps with any training completed within ONBOARDING_DAYS of hire (column ``_ob``)."""
    tr = ws.table("trainings")
    reps = ws.table("reps").select(_r=ibis._.rep_id, _h=ibis._.hire_date)
    j = tr.join(reps, tr.rep_id == reps._r)
    ok = j.filter(j.completed_at.date() <= j._h + ibis.interval(days=ONBOARDING_DAYS))
    return ok.select(_ob=ok.rep_id).distinct()


def rep_months(ws: Workspace, period: Period) -> ir.Table:
    """One row per seller and month: bookings, won deals, tenure month, tenured flag, onboarded."""
    reps = ws.table("reps").filter(ibis._.role.isin(SELLING_ROLES))
    months = _months(ws, period)
    grid = reps.cross_join(months)
    hire_m = _month_index(grid.hire_date)
    ended = grid.end_date.notnull() & (grid.m > _month_index(grid.end_date))
    grid = grid.filter((grid.m >= hire_m) & ~ended)
    o = ws.table("opportunities")
    won = o.filter((o.status == "won") & o.closed_at.notnull())
    won = won.group_by(_rep=won.owner_rep_id, _m=_month_index(won.closed_at)).agg(
        _book=won.amount.sum(), _won=won.count()
    )
    g = grid.left_join(won, (grid.rep_id == won._rep) & (grid.m == won._m))
    ob = onboarded_reps(ws)
    g = g.left_join(ob, g.rep_id == ob._ob)
    tenure = g.m - _month_index(g.hire_date) + 1
    return g.select(
        "rep_id",
        "role",
        "hire_date",
        "m",
        name=g.name,
        team=g.team.fill_null(NO_TEAM),
        bookings=g._book.fill_null(0.0),
        won_deals=g._won.fill_null(0),
        tenure_month=tenure,
        tenured=(tenure > TENURED_AFTER).cast("int64"),
        onboarded=g._ob.notnull().cast("int64"),
    )


def tenured_median(ws: Workspace, period: Period) -> ir.Table:
    """Per role: the median monthly bookings of tenured rep-months inside the period."""
    rm = rep_months(ws, period)
    lo = month_index(period.start)
    rm = rm.filter((rm.tenured == 1) & (rm.m >= lo))
    return rm.group_by(_role=rm.role).agg(
        role_median=rm.bookings.median(), tenured_months=rm.count()
    )


def new_hire_months(ws: Workspace, period: Period) -> ir.Table:
    """Rep-months of new hires whose hire date is known, with the role's tenured median,
    ``ratio`` and the quarter ``cohort``: the one sample every ramp figure reads."""
    rm = rep_months(ws, period)
    med = tenured_median(ws, period)
    start = data_start(ws, period)
    rm = rm.filter(_month_index(rm.hire_date) >= start)
    known = reps_with_known_hire_date(ws).select(_k=ibis._.rep_id)
    rm = rm.semi_join(known, rm.rep_id == known._k)
    j = rm.left_join(med, rm.role == med._role).drop("_role")
    ratio = ibis.ifelse(j.role_median > 0, j.bookings / j.role_median, ibis.null("float64"))
    quarter = j.hire_date.year().cast("string") + "-Q" + j.hire_date.quarter().cast("string")
    return j.mutate(ratio=ratio, cohort=quarter)


def ramp_curves(ws: Workspace, period: Period) -> pl.DataFrame:
    """Mean monthly bookings by hire cohort (quarter), onboarding and tenure month, and the ratio
    to the role's tenured median (mean of each rep-month's ratio). Columns: cohort, onboarded,
    tenure_month, reps, mean_bookings, ratio."""
    j = new_hire_months(ws, period)
    agg = j.group_by(["cohort", "onboarded", "tenure_month"]).agg(
        reps=j.rep_id.nunique(), mean_bookings=j.bookings.mean(), ratio=j.ratio.mean()
    )
    return frame(agg.order_by(["cohort", "onboarded", "tenure_month"]))


def new_hires(ws: Workspace, period: Period) -> pl.DataFrame:
    """Per new hire: days to the first won deal and months to productivity (null: not yet)."""
    j = new_hire_months(ws, period)
    w = ibis.window(
        group_by=j.rep_id, order_by=j.tenure_month, preceding=ROLLING_MONTHS - 1, following=0
    )
    j = j.mutate(_roll=j.bookings.mean().over(w))
    hit = (j.tenure_month >= ROLLING_MONTHS) & (j._roll >= PRODUCTIVE_SHARE * j.role_median)
    per = j.group_by(["rep_id", "name", "team", "role", "hire_date", "onboarded"]).agg(
        months_observed=j.tenure_month.max(),
        months_to_productivity=ibis.ifelse(hit, j.tenure_month, ibis.null("int64")).min(),
        bookings=j.bookings.sum(),
        ratio=j.ratio.mean(),
    )
    o = ws.table("opportunities")
    won = o.filter((o.status == "won") & (o.closed_at < ibis.timestamp(period.end_ts)))
    first = won.group_by(_rep=won.owner_rep_id).agg(_first=won.closed_at.min())
    per = per.left_join(first, per.rep_id == first._rep)
    days = days_between(per.hire_date.cast("timestamp"), per._first)
    per = per.mutate(first_deal_days=days).drop("_rep", "_first")
    return frame(per.order_by(["hire_date", "rep_id"]))


def onboarding_comparison(ws: Workspace, period: Period) -> dict[str, Any]:
    """Win rate of new reps' deals closed in the period, onboarded vs not (two proportions).

    ``verdict``: ``untrained_worse`` / ``untrained_better`` when q < 0.05, ``no_evidence``
    otherwise, ``not_enough_data`` when either group closed fewer than MIN_NEW_REP_DEALS deals.
    """
    d = new_rep_deals(ws, period)
    agg = frame(d.group_by("trained").agg(n=d.count(), won=d.won.sum()))
    cells = {int(r["trained"]): (int(r["won"]), int(r["n"])) for r in agg.to_dicts()}
    k1, n1 = cells.get(1, (0, 0))
    k0, n0 = cells.get(0, (0, 0))
    out: dict[str, Any] = {
        "onboarded_deals": n1,
        "onboarded_win_rate": k1 / n1 if n1 else None,
        "untrained_deals": n0,
        "untrained_win_rate": k0 / n0 if n0 else None,
        "effect": None,
        "p_value": None,
        "verdict": NOT_ENOUGH_DATA,
    }
    if min(n0, n1) < MIN_NEW_REP_DEALS:
        return out
    cmp = two_proportions(k0, n0, k1, n1)
    verdict = NO_EVIDENCE
    if cmp.p_value < 0.05:
        verdict = "untrained_worse" if cmp.effect < 0 else "untrained_better"
    return out | {"effect": cmp.effect, "p_value": cmp.p_value, "verdict": verdict}
