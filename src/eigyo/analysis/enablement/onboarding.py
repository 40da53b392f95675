"""Per-rep samples for enablement and time use: new reps' training, admin share of hours."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from eigyo.analysis.common import in_period, reps_with_known_hire_date
from eigyo.analysis.deals import closed_deals
from eigyo.base.periods import Period
from eigyo.base.vocabulary import NO_TEAM, NONE
from eigyo.workspace import Workspace

#: A rep counts as "new" while within this many days of the hire date.
NEW_REP_DAYS = 365
#: Training completed within this many days of hire counts as onboarding.
ONBOARDING_DAYS = 90


def new_rep_deals(ws: Workspace, period: Period) -> ir.Table:
    """Deals closed in the period by reps hired in the year before the deal; ``trained`` = 1
    when the rep completed any training within ONBOARDING_DAYS of hire."""
    reps = reps_with_known_hire_date(ws)
    tr = ws.table("trainings")
    hires = reps.select(_r=reps.rep_id, _h=reps.hire_date)
    j = tr.join(hires, tr.rep_id == hires._r)
    onboard = j.filter(j.completed_at.date() <= j._h + ibis.interval(days=ONBOARDING_DAYS))
    trained = onboard.select(_tr=onboard.rep_id).distinct()
    d = closed_deals(ws, period)
    rh = reps.select(_rid=reps.rep_id, hire_date=reps.hire_date)
    d = d.join(rh, d.rep_id == rh._rid)
    d = d.filter(d.closed_at.date() <= d.hire_date + ibis.interval(days=NEW_REP_DAYS))
    d = d.left_join(trained, d.rep_id == trained._tr)
    return d.select(
        "opportunity_id", "rep_id", "team", "won", "amount", trained=d._tr.notnull().cast("int64")
    )


def admin_share_by_rep(ws: Workspace, period: Period) -> ir.Table:
    """Each rep's admin share of recorded hours in the period (one value per rep)."""
    te = ws.table("time_entries")
    te = te.filter(in_period(te.date.cast("timestamp"), period))
    per = te.group_by("rep_id").agg(
        hours=te.hours.sum(),
        admin=(te.hours * (te.category == "admin").cast("float64")).sum(),
        selling=(te.hours * (te.category == "selling").cast("float64")).sum(),
    )
    reps = ws.table("reps").select(_r=ibis._.rep_id, _team=ibis._.team)
    per = per.left_join(reps, per.rep_id == reps._r)
    per = per.filter(per.hours > 0)
    return per.select(
        "rep_id",
        "hours",
        "admin",
        "selling",
        team=per._team.fill_null(NO_TEAM),
        admin_share=per.admin / per.hours,
    )


def selling_hours_per_win(ws: Workspace, period: Period) -> ir.Table:
    """Per rep with at least one win in the period: selling hours ÷ deals won (a rep without a
    win has no finite value and is left out; the win-rate checks see those reps)."""
    hours = admin_share_by_rep(ws, period)
    won = closed_deals(ws, period)
    wins = won.group_by(_rep=won.rep_id).agg(wins=won.won.sum(), _role=won.role.max())
    j = hours.join(wins, hours.rep_id == wins._rep)
    j = j.filter((j.wins > 0) & (j.selling > 0))
    return j.select(
        "rep_id",
        "team",
        "wins",
        "selling",
        role=j._role.fill_null(NONE),
        hours_per_win=j.selling / j.wins,
    )
