"""Customer and prospect companies: one regional pool per team, plus the account managers' book.

Leads pick a company from their team's regional pool, so several leads can come from one company
over two years. The only planted trait here is the industry mix: 製造業 (manufacturing) is a small
share of the pool (problem 8 makes it the segment that wins most often).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eigyo.demo import _calendar as cal
from eigyo.demo._config import (
    AM_ACCOUNTS_PER_REP,
    I64,
    INDUSTRY_WEIGHTS,
    REGIONS_AM,
    TEAM_TYPES,
)
from eigyo.demo._leads import Leads
from eigyo.demo._org import R_AM, Org

REGIONS = REGIONS_AM  # 関東 関西 中部 九州 東北 北海道
_TEAM_REGION = np.array(
    [REGIONS.index(t.region) if t.region in REGIONS else -1 for t in TEAM_TYPES], dtype=np.int64
)
LEADS_PER_ACCOUNT = 1.6


@dataclass(frozen=True)
class Accounts:
    """One entry per company, chunk-local."""

    industry: I64
    employees: I64
    revenue: I64
    region: I64
    created: I64
    owner: I64  # chunk-local rep, -1 when nobody owns it yet
    customer: I64  # 1 for the account managers' existing customers

    @property
    def n(self) -> int:
        return len(self.industry)


def _profile(rng: np.random.Generator, n: int) -> tuple[I64, I64, I64]:
    """Industry, employees and annual revenue (yen): the same distribution for every team."""
    industry = rng.choice(len(INDUSTRY_WEIGHTS), n, p=INDUSTRY_WEIGHTS).astype(np.int64)
    employees = np.clip(np.rint(250 * rng.lognormal(0, 1.1, n)), 10, 30_000).astype(np.int64)
    per_head = 20_000_000 * rng.lognormal(0, 0.35, n)
    revenue = (np.rint(employees * per_head / 1_000_000) * 1_000_000).astype(np.int64)
    return industry, employees, revenue


def build_accounts(rng: np.random.Generator, org: Org, leads: Leads) -> Accounts:
    """Prospect pools sized to each team's leads, then the existing customers; links the leads."""
    n_teams = len(org.team_names)
    lead_team = org.team[leads.owner]
    per_team = np.bincount(lead_team, minlength=n_teams)
    pool = np.where(per_team > 0, np.maximum(20, np.ceil(per_team / LEADS_PER_ACCOUNT)), 0)
    pool = pool.astype(np.int64)
    pool_start = np.concatenate([[0], np.cumsum(pool)[:-1]]).astype(np.int64)
    n_prospects = int(pool.sum())
    leads.account = pool_start[lead_team] + np.floor(rng.random(leads.n) * pool[lead_team]).astype(
        np.int64
    )
    prospect_team = np.repeat(np.arange(n_teams), pool)
    ams = np.flatnonzero(org.role == R_AM)
    am_owner = np.repeat(ams, AM_ACCOUNTS_PER_REP)
    n = n_prospects + len(am_owner)
    industry, employees, revenue = _profile(rng, n)
    region = np.concatenate(
        [
            _TEAM_REGION[org.team_type[np.searchsorted(org.team, prospect_team)]],
            rng.integers(0, len(REGIONS), len(am_owner)),
        ]
    ).astype(np.int64)
    created, owner = _created_and_owner(rng, leads, n_prospects, am_owner)
    customer = np.concatenate([np.zeros(n_prospects), np.ones(len(am_owner))]).astype(np.int64)
    return Accounts(industry, employees, revenue, region, created, owner, customer)


def _created_and_owner(
    rng: np.random.Generator, leads: Leads, n_prospects: int, am_owner: I64
) -> tuple[I64, I64]:
    """A prospect is created with its first lead and owned by that lead's rep; customers are old."""
    order = np.lexsort((leads.created, leads.account))
    first = cal.first_index(leads.account[order], n_prospects)
    has = first >= 0
    first_lead = order[np.where(has, first, 0)]
    lo, hi = cal.day_number_of(2019, 4, 1), cal.END_DAY
    random_created = rng.integers(lo, hi, n_prospects) * cal.DAY + cal.tod(rng, n_prospects)
    created = np.where(has, leads.created[first_lead], random_created)
    owner = np.where(has, leads.owner[first_lead], -1)
    am_lo, am_hi = cal.day_number_of(2012, 4, 1), cal.day_number_of(2023, 3, 31)
    am_created = rng.integers(am_lo, am_hi, len(am_owner)) * cal.DAY + cal.tod(rng, len(am_owner))
    return (
        np.concatenate([created, am_created]).astype(np.int64),
        np.concatenate([owner, am_owner]).astype(np.int64),
    )
