"""Leads and their hand-off to sales: arrival, MQL, first response, SQL or disqualification.

Leads arrive per rep and month (a Poisson count scaled by the business days the rep was on the
team and by a new hire's ramp), so the volume follows headcount. How fast a lead is answered and
how likely it becomes a deal depend on who owns it: this is where problems 5, 6 and 11 live.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from eigyo.demo import _calendar as cal
from eigyo.demo._config import (
    F64,
    I64,
    LEAD_TITLES,
    LEADS_PER_REP_DAY,
    MQL_P,
    RESPONSE_MEDIAN_MIN,
    RESPONSE_SIGMA,
    SOURCE_WEIGHTS,
    SQL_P,
    SQL_RESPONSE_FLOOR,
    SQL_RESPONSE_SCALE,
    TRADE_SHOW,
    UNTOUCHED_P,
    WARM,
    Bool,
    Plant,
)
from eigyo.demo._org import R_CLOSER, R_GEN, R_SDR, Org

STATUS_OPEN, STATUS_WORKING, STATUS_CONVERTED, STATUS_DISQUALIFIED = range(4)
#: First day of each month from WARM to END, plus the day after END.
MONTH_STARTS: I64 = np.array(
    [cal.day_number(date(2023 + (m + 9) // 12, (m + 9) % 12 + 1, 1)) for m in range(31)],
    dtype=np.int64,
)
N_MONTHS = len(MONTH_STARTS) - 1
assert cal.day_number(WARM) < MONTH_STARTS[1]


@dataclass
class Leads:
    """One entry per lead, chunk-local; timestamps are :mod:`_calendar` seconds, NA if missing."""

    owner: I64
    created: I64
    month: I64  # index into MONTH_STARTS
    source: I64
    title: I64
    account: I64  # filled by the accounts step
    mql: I64
    response: I64
    sql: I64
    disqualified: I64
    status: I64
    sdr_mode: Bool  # owned by an SDR who hands SQLs to a closer
    closer: I64  # the closer who receives the deal in SDR mode, else -1

    @property
    def n(self) -> int:
        return len(self.owner)


def _rep_months(org: Org, lead_owner: Bool) -> tuple[I64, I64, I64, F64]:
    """Business-day window and ramp of every (lead-owning rep, month) pair."""
    reps = np.flatnonzero(lead_owner)
    rep = np.repeat(reps, N_MONTHS)
    month = np.tile(np.arange(N_MONTHS), len(reps))
    start = np.maximum(MONTH_STARTS[month], org.hire_day[rep])
    start = np.maximum(start, cal.WARM_DAY)
    end = np.minimum(MONTH_STARTS[month + 1], cal.END_DAY + 1)  # exclusive
    lo, hi = cal.bd_on_or_after(start), cal.bd_on_or_after(end)  # [lo, hi)
    tenure = (MONTH_STARTS[month] + 15 - org.hire_day[rep]).astype(np.float64)
    ramp = np.clip(0.4 + 0.6 * tenure / 90.0, 0.0, 1.0)
    return rep, lo, hi, ramp


def _arrivals(rng: np.random.Generator, org: Org) -> tuple[I64, I64, I64]:
    """(owner, created timestamp, month) of every lead, in order of arrival."""
    owns = np.isin(org.role, (R_GEN, R_SDR, R_CLOSER))
    rep, lo, hi, ramp = _rep_months(org, owns)
    days = np.maximum(hi - lo, 0)
    count = rng.poisson(LEADS_PER_REP_DAY * days * ramp)
    month_of = np.repeat(np.tile(np.arange(N_MONTHS), int(owns.sum())), count)
    owner = np.repeat(rep, count)
    bd = np.repeat(lo, count) + np.floor(rng.random(len(owner)) * np.repeat(days, count))
    created = cal.at(bd.astype(np.int64), cal.tod(rng, len(owner), 8, 19))
    order = np.argsort(created, kind="stable")
    return owner[order], created[order], month_of[order].astype(np.int64)


def _route(rng: np.random.Generator, org: Org, owner: I64, created: I64, plant: Plant) -> I64:
    """東京第二 in SDR mode: the lead goes to one of the team's SDRs; returns the closer (or -1)."""
    sdr_mode = org.of_type("tokyo2")[owner] & (
        created >= cal.day_number(plant.inside_sales_from) * cal.DAY
    )
    team_first = np.searchsorted(org.team, org.team[owner])  # the manager's index
    sdr = team_first + 1 + rng.integers(0, 3, len(owner))
    closer = team_first + 4 + rng.integers(0, 4, len(owner))
    not_yet = org.hire_day[closer] * cal.DAY > created
    closer = np.where(not_yet, team_first + 4 + rng.integers(0, 3, len(owner)), closer)
    owner[:] = np.where(sdr_mode, sdr, owner)
    return np.where(sdr_mode, closer, -1).astype(np.int64)


def _response_minutes(rng: np.random.Generator, org: Org, leads: Leads, plant: Plant) -> F64:
    """Minutes from MQL to first answer: team habits, or the SDRs' fast answers (problem 5, 11)."""
    n = leads.n
    tokyo1 = org.of_type("tokyo1")[leads.owner]
    median = np.where(tokyo1, plant.tokyo1_response_median, RESPONSE_MEDIAN_MIN)
    sigma = np.where(tokyo1, plant.tokyo1_response_sigma, RESPONSE_SIGMA)
    median = np.where(leads.sdr_mode, plant.sdr_response_median, median)
    sigma = np.where(leads.sdr_mode, plant.sdr_response_sigma, sigma)
    out: F64 = np.maximum(1.0, np.rint(median * np.exp(sigma * rng.standard_normal(n))))
    return out


def build_leads(rng: np.random.Generator, org: Org, plant: Plant) -> Leads:
    """Every lead of the chunk with its MQL, answer, SQL or disqualification and status."""
    owner, created, month = _arrivals(rng, org)
    n = len(owner)
    closer = _route(rng, org, owner, created, plant)
    source = rng.choice(len(SOURCE_WEIGHTS), n, p=SOURCE_WEIGHTS).astype(np.int64)
    leads = Leads(
        owner=owner,
        created=created,
        month=month,
        source=source,
        title=rng.integers(0, len(LEAD_TITLES), n).astype(np.int64),
        account=np.full(n, -1, dtype=np.int64),
        mql=np.full(n, cal.NA, dtype=np.int64),
        response=np.full(n, cal.NA, dtype=np.int64),
        sql=np.full(n, cal.NA, dtype=np.int64),
        disqualified=np.full(n, cal.NA, dtype=np.int64),
        status=np.full(n, STATUS_OPEN, dtype=np.int64),
        sdr_mode=closer >= 0,
        closer=closer,
    )
    _funnel(rng, org, leads, plant)
    return leads


def _funnel(rng: np.random.Generator, org: Org, leads: Leads, plant: Plant) -> None:
    """MQL → first response → SQL or disqualified, censored at the end of the data."""
    n = leads.n
    is_mql = rng.random(n) < MQL_P
    mql = leads.created + rng.integers(0, 90, n) * 60
    untouched_p = np.where(leads.source == TRADE_SHOW, plant.trade_show_untouched_p, UNTOUCHED_P)
    minutes = _response_minutes(rng, org, leads, plant)
    response = mql + (minutes * 60).astype(np.int64)
    answered = is_mql & (rng.random(n) >= untouched_p) & (response < cal.END_TS)
    factor = SQL_RESPONSE_FLOOR + (1 - SQL_RESPONSE_FLOOR) * np.exp(-minutes / SQL_RESPONSE_SCALE)
    p_sql = np.minimum(0.95, SQL_P * factor * np.where(leads.sdr_mode, plant.sdr_sql_mult, 1.0))
    will_sql = answered & (rng.random(n) < p_sql)
    rbd = cal.bd_of_ts(response)
    sql = cal.at(rbd + cal.lognormal_bd(rng, 2.0, 0.7, n), cal.tod(rng, n))
    dq = cal.at(rbd + cal.lognormal_bd(rng, 5.0, 0.7, n), cal.tod(rng, n))
    is_sql = will_sql & (sql < cal.END_TS)
    is_dq = answered & ~will_sql & (dq < cal.END_TS)
    leads.mql = np.where(is_mql, mql, cal.NA)
    leads.response = np.where(answered, response, cal.NA)
    leads.sql = np.where(is_sql, sql, cal.NA)
    leads.disqualified = np.where(is_dq, dq, cal.NA)
    leads.status = np.select(
        [is_sql, is_dq, answered],
        [STATUS_CONVERTED, STATUS_DISQUALIFIED, STATUS_WORKING],
        STATUS_OPEN,
    ).astype(np.int64)
