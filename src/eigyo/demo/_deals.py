"""Opportunities: new business from qualified leads, expansion and renewal from existing customers.

This module decides who owns each deal, what it is worth and how likely each stage is left
forward; :mod:`_stages` then walks every deal through the funnel in one vectorized pass. The
planted win-rate effects (problems 1, 4, 7, 8 and the inside-sales lift of 11) are multipliers on
the stage probabilities, spread evenly over the five open stages so that none of them shows up as
a single-stage bottleneck; 名古屋 instead gets its own stage profile (problem 2).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eigyo.demo import _calendar as cal
from eigyo.demo._accounts import Accounts
from eigyo.demo._config import (
    AMOUNT_MEDIAN,
    AMOUNT_SIGMA,
    F64,
    I64,
    MANUFACTURING,
    N_OPEN_STAGES,
    PRODUCT_PRICE,
    PRODUCT_WEIGHTS,
    SKIP_NEGOTIATION,
    SKIP_QUALIFICATION,
    STAGE_P_CAP,
    STAGE_P_EXPANSION,
    STAGE_P_NEW,
    STAGE_P_RENEWAL,
    Bool,
    Plant,
)
from eigyo.demo._leads import Leads
from eigyo.demo._org import Org

TYPE_NEW, TYPE_EXPANSION, TYPE_RENEWAL = range(3)


@dataclass
class Deals:
    """One entry per opportunity, chunk-local, in order of creation."""

    lead: I64  # -1 for account-manager deals
    account: I64
    owner: I64
    sdr: I64  # -1 unless handed over by an SDR
    product: I64
    type: I64
    amount: I64  # amount when the deal was created
    created: I64
    p: F64  # (n, 5) probability of leaving each open stage forward
    skip_qualification: Bool
    skip_negotiation: Bool

    @property
    def n(self) -> int:
        return len(self.owner)


def _am_deals(rng: np.random.Generator, acc: Accounts) -> tuple[I64, I64, I64]:
    """(account, created, type) of expansion and renewal deals of the existing customers."""
    cust = np.flatnonzero(acc.customer == 1)
    years = (cal.END_DAY - cal.WARM_DAY) / 365.0
    rate = rng.gamma(2.0, 0.45, len(cust))  # expansions per year, varies by customer
    n_exp = rng.poisson(rate * years)
    exp_acc = np.repeat(cust, n_exp)
    exp_day = rng.integers(cal.WARM_DAY, cal.END_DAY, len(exp_acc))
    anchor = cal.WARM_DAY + rng.integers(0, 365, len(cust))
    ren_day = (anchor[:, None] + 365 * np.arange(3)[None, :]).ravel()
    ren_acc = np.repeat(cust, 3)
    inside = ren_day <= cal.END_DAY
    acc_idx = np.concatenate([exp_acc, ren_acc[inside]])
    day = np.concatenate([exp_day, ren_day[inside]])
    kind = np.concatenate(
        [np.full(len(exp_acc), TYPE_EXPANSION), np.full(inside.sum(), TYPE_RENEWAL)]
    )
    created = cal.at(cal.bd_on_or_after(day), cal.tod(rng, len(day)))
    return acc_idx.astype(np.int64), created, kind.astype(np.int64)


def _amounts(rng: np.random.Generator, acc: Accounts, account: I64, product: I64, kind: I64) -> I64:
    """Log-normal amounts (median ~1.5M yen for new business), larger for larger companies."""
    size = (acc.employees[account] / 250.0) ** 0.2
    base = np.select([kind == TYPE_EXPANSION, kind == TYPE_RENEWAL], [0.4, 0.8], 1.0)
    price = np.asarray(PRODUCT_PRICE)[product]
    raw = AMOUNT_MEDIAN * base * price * size * rng.lognormal(0, AMOUNT_SIGMA, len(account))
    out: I64 = np.maximum(100_000, np.rint(raw / 10_000) * 10_000).astype(np.int64)
    return out


def build_deals(
    rng: np.random.Generator, org: Org, leads: Leads, acc: Accounts, plant: Plant
) -> Deals:
    """Every opportunity of the chunk with its owner, amount and stage probabilities."""
    from_lead = np.flatnonzero(leads.sql != cal.NA)
    am_acc, am_created, am_kind = _am_deals(rng, acc)
    lead = np.concatenate([from_lead, np.full(len(am_acc), -1)]).astype(np.int64)
    account = np.concatenate([leads.account[from_lead], am_acc]).astype(np.int64)
    created = np.concatenate([leads.sql[from_lead], am_created]).astype(np.int64)
    kind = np.concatenate([np.zeros(len(from_lead), np.int64), am_kind])
    sdr_mode = np.concatenate([leads.sdr_mode[from_lead], np.zeros(len(am_acc), bool)])
    lead_owner = leads.owner[from_lead]
    owner = np.concatenate(
        [
            np.where(leads.sdr_mode[from_lead], leads.closer[from_lead], lead_owner),
            acc.owner[am_acc],
        ]
    ).astype(np.int64)
    sdr = np.where(sdr_mode, np.concatenate([lead_owner, np.zeros(len(am_acc), np.int64)]), -1)
    order = np.argsort(created, kind="stable")
    lead, account, created, kind = lead[order], account[order], created[order], kind[order]
    owner, sdr, sdr_mode = owner[order], sdr[order].astype(np.int64), sdr_mode[order]
    n = len(owner)
    product = rng.choice(len(PRODUCT_WEIGHTS), n, p=PRODUCT_WEIGHTS).astype(np.int64)
    skip_q = (rng.random(n) < SKIP_QUALIFICATION) & (kind == TYPE_NEW)
    skip_n = rng.random(n) < SKIP_NEGOTIATION
    p = _stage_probabilities(org, acc, owner, account, kind, sdr_mode, plant)
    p[skip_q, 1] = 1.0
    p[skip_n, 4] = 1.0
    return Deals(
        lead,
        account,
        owner,
        sdr,
        product,
        kind,
        _amounts(rng, acc, account, product, kind),
        created,
        p,
        skip_q,
        skip_n,
    )


def _stage_probabilities(
    org: Org, acc: Accounts, owner: I64, account: I64, kind: I64, sdr_mode: Bool, plant: Plant
) -> F64:
    """Base funnel by deal type, 名古屋's profile, and the planted win multipliers."""
    base = np.array([STAGE_P_NEW, STAGE_P_EXPANSION, STAGE_P_RENEWAL])[kind]
    if plant.nagoya_stage_p is not None:
        nagoya = org.of_type("nagoya")[owner] & (kind == TYPE_NEW)
        base[nagoya] = np.asarray(plant.nagoya_stage_p)
    mult = np.ones(len(owner))
    mult *= np.where(org.of_type("osaka")[owner], plant.osaka_win_mult, 1.0)
    mult *= np.where(org.untrained[owner], plant.untrained_win_mult, 1.0)
    mult *= np.where(acc.industry[account] == MANUFACTURING, plant.manufacturing_win_mult, 1.0)
    mult *= np.where(sdr_mode, plant.sdr_win_mult, 1.0)
    slow = sdr_mode & org.slow_handoff[owner]
    mult *= np.where(slow, plant.slow_handoff_win_mult, 1.0)
    per_stage = mult ** (1.0 / N_OPEN_STAGES)
    return np.minimum(STAGE_P_CAP, base * per_stage[:, None])
