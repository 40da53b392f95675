"""Quotas, trainings, capability assessments and time sheets of the reps.

These tables describe people rather than deals. Two problems are planted here: the three new
福岡 reps never take the onboarding course (problem 7; their deals are weaker in :mod:`_deals`),
and 名古屋 spends far more of its day on admin (problem 10).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from eigyo.demo import _calendar as cal
from eigyo.demo._config import (
    ASSESSMENT_DATES,
    CAPABILITIES,
    MANAGER_TIME_SHARES,
    PROGRAMS,
    QUOTA,
    TIME_SHARES,
    Plant,
)
from eigyo.demo._org import R_AM, R_CLOSER, R_GEN, R_MANAGER, R_SDR, ROLE_NAMES, Org

QUARTER_STARTS = [date(2024 + (3 + 3 * q) // 12, (3 + 3 * q) % 12 + 1, 1) for q in range(9)]
_QS = np.array([cal.day_number(d) for d in QUARTER_STARTS], dtype=np.int64)


def quotas(org: Org, plant: Plant) -> pl.DataFrame:
    """One quota per seller and fiscal quarter; half in the quarter a rep joins.

    SDRs carry a deal quota only while 東京第二 still sells as generalists (FY2024 when planted).
    """
    amount = np.array([QUOTA.get(r, 0) for r in ROLE_NAMES], dtype=np.int64)[org.role]
    rep = np.repeat(np.arange(org.n), 8)
    q = np.tile(np.arange(8), org.n)
    q_start, q_end = _QS[q], _QS[q + 1] - 1
    hire = org.hire_day[rep]
    sdr_ok = q_end < cal.day_number(plant.inside_sales_from)
    seller = np.isin(org.role[rep], (R_GEN, R_CLOSER, R_AM)) | ((org.role[rep] == R_SDR) & sdr_ok)
    keep = seller & (hire <= q_end)
    joined = hire >= q_start
    amt = np.where(joined, amount[rep] // 2, amount[rep])
    amt = (np.rint(amt / 100_000) * 100_000).astype(np.int64)
    return pl.DataFrame(
        {
            "rep": rep[keep],
            "period_start": np.maximum(q_start, hire)[keep],
            "period_end": q_end[keep],
            "amount": amt[keep],
        }
    )


def trainings(rng: np.random.Generator, org: Org) -> pl.DataFrame:
    """Onboarding within 30 days of joining (unless untrained), then occasional courses."""
    seller = org.role != R_MANAGER
    onboard = np.flatnonzero(org.new_hire & seller & ~org.untrained)
    ob_day = org.hire_day[onboard] + rng.integers(5, 28, len(onboard))
    ob_at = cal.at(cal.bd_on_or_after(ob_day), cal.tod(rng, len(onboard), 13, 17))
    reps = np.flatnonzero(seller & ~org.untrained)
    first = np.maximum(org.hire_day[reps] + 35, cal.START_DAY)
    span = np.maximum(cal.END_DAY - first, 0)
    count = rng.poisson(2.0 * span / 365.0)
    rep = np.repeat(reps, count)
    day = np.repeat(first, count) + np.floor(rng.random(len(rep)) * np.repeat(span, count))
    at = cal.at(cal.bd_on_or_after(day.astype(np.int64)), cal.tod(rng, len(rep), 13, 17))
    prog = rng.integers(0, len(PROGRAMS), len(rep))
    names = pl.Series(["新人オンボーディング研修"] + [p for p, _ in PROGRAMS])
    caps = pl.Series(["製品知識"] + [c for _, c in PROGRAMS])
    code = np.concatenate([np.zeros(len(onboard), np.int64), prog + 1])
    n = len(code)
    df = pl.DataFrame(
        {
            "rep": np.concatenate([onboard, rep]),
            "program": names.gather(pl.Series(code)),
            "capability": caps.gather(pl.Series(code)),
            "completed_at": np.concatenate([ob_at, at]),
            "score": rng.integers(60, 101, n),
        }
    )
    df = df.filter(pl.col("completed_at") < cal.END_TS)
    return df.unique(["rep", "program", "completed_at"], maintain_order=True)


def assessments(rng: np.random.Generator, org: Org) -> pl.DataFrame:
    """Half-yearly 1–5 levels; new reps start low and grow, untrained ones lag in 製品知識."""
    reps = np.flatnonzero(org.role != R_MANAGER)
    days = np.array([cal.day_number(d) for d in ASSESSMENT_DATES], dtype=np.int64)
    n_cap = len(CAPABILITIES)
    base = 3.2 + 0.6 * rng.standard_normal((len(reps), n_cap))
    rep = np.repeat(reps, len(days) * n_cap)
    day = np.tile(np.repeat(days, n_cap), len(reps))
    cap = np.tile(np.arange(n_cap), len(reps) * len(days))
    level = np.repeat(base.reshape(len(reps), 1, n_cap), len(days), axis=1).ravel()
    tenure = (day - org.hire_day[rep]) / 365.0
    level = level - 1.3 * np.clip(1.0 - tenure, 0.0, 1.0)
    level = level - 1.0 * (org.untrained[rep] & (CAPABILITIES.index("製品知識") == cap))
    level = level + 0.4 * rng.standard_normal(len(rep))
    keep = day - org.hire_day[rep] >= 60
    return pl.DataFrame(
        {
            "rep": rep[keep],
            "capability": pl.Series(CAPABILITIES).gather(pl.Series(cap[keep])),
            "level": np.clip(np.rint(level), 1, 5).astype(np.int64)[keep],
            "assessed_at": (day * cal.DAY + 17 * 3600)[keep],
        }
    )


def time_entries(rng: np.random.Generator, org: Org, plant: Plant) -> pl.DataFrame:
    """Hours per rep, business day and category (selling, admin, internal, training, travel)."""
    first, last = cal.bd_on_or_after(np.array([cal.START_DAY, cal.END_DAY + 1]))
    bds = np.arange(first, last)
    shares = np.where(
        (org.role == R_MANAGER)[:, None], np.asarray(MANAGER_TIME_SHARES), np.asarray(TIME_SHARES)
    )
    nagoya = org.of_type("nagoya")
    admin = plant.nagoya_admin_share
    shares[nagoya] = shares[nagoya] * (1 - admin) / (1 - shares[nagoya, 1:2])
    shares[nagoya, 1] = admin
    n, d = org.n, len(bds)
    w = shares[:, None, :] * rng.lognormal(0, 0.25, (n, d, 5))
    w[:, :, 3] *= np.where(rng.random((n, d)) < 0.15, 1 / 0.15, 0.0)  # training days
    w[:, :, 4] *= np.where(rng.random((n, d)) < 0.4, 2.5, 0.0)  # travel days
    w /= w.sum(axis=2, keepdims=True)
    total = np.clip(8.5 + 0.7 * rng.standard_normal((n, d)), 6.0, 11.0)
    hours = np.rint(w * total[:, :, None] * 4) / 4
    day = cal.BUSINESS_DAYS[bds]
    present = (day[None, :] >= org.hire_day[:, None]) & (rng.random((n, d)) >= 0.04)
    keep = present[:, :, None] & (hours > 0)
    r, t, c = np.nonzero(keep)
    return pl.DataFrame({"rep": r, "date": day[t], "category": c, "hours": hours[r, t, c]})
