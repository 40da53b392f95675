"""Stage history and field changes of opportunities, derived from the deals' flow.

Expected close dates are set when a deal is created: most reps set a date the deal will meet, some
deals slip and have their date pushed once or twice, and the planted rep (problem 3) misjudges most
deals and pushes them several times. Amount changes and every stage move are recorded as well, as a
CRM's field history would hold them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from eigyo.demo import _calendar as cal
from eigyo.demo._config import (
    AMOUNT_CHANGE_P,
    I64,
    LOST_STAGE,
    N_OPEN_STAGES,
    SLIP_P,
    STAGES,
    WON_STAGE,
    Bool,
    Plant,
)
from eigyo.demo._deals import Deals
from eigyo.demo._org import Org
from eigyo.demo._stages import LOST, WON, Flow

MAX_PUSHES = 4
F_EXPECTED, F_AMOUNT, F_STAGE = 0, 1, 2  # indices into schema.CHANGE_FIELDS


@dataclass(frozen=True)
class Dates:
    """Expected close dates: the first one, the current one (NA if none) and every push."""

    first: I64
    current: I64
    push_deal: I64
    push_at: I64
    push_old: I64
    push_new: I64


def expected_dates(
    rng: np.random.Generator, org: Org, deals: Deals, flow: Flow, plant: Plant
) -> Dates:
    """First expected close date per deal and its pushes, cut at the end of the data."""
    n = deals.n
    created_day = deals.created // cal.DAY
    close_day = flow.close // cal.DAY
    life = close_day - created_day
    p_slip = np.where(org.slipper[deals.owner], plant.slip_rep_p, SLIP_P)
    slip = (rng.random(n) < p_slip) & (life >= 10) & ~flow.undated
    early = created_day + np.maximum(7, np.floor(life * rng.uniform(0.35, 0.85, n)))
    first = np.where(slip, early, close_day + rng.integers(0, 21, n)).astype(np.int64)
    heavy = org.slipper[deals.owner] & (plant.slip_rep_p > SLIP_P)
    k = np.where(heavy, rng.integers(2, 5, n), 1 + (rng.random(n) < 0.3))
    k = np.where(slip, k, 0)
    final = close_day + rng.integers(0, 14, n)
    j = np.arange(1, MAX_PUSHES + 1)[None, :]
    new = first[:, None] + np.rint(j * (final - first)[:, None] / np.maximum(k, 1)[:, None])
    old = np.concatenate([first[:, None], new[:, :-1]], axis=1)
    jitter = rng.integers(0, 4, n)[:, None]
    day = np.maximum(np.minimum(old, close_day[:, None] - 1) - jitter, created_day[:, None] + 1)
    at = cal.at(cal.bd_of_ts(day * cal.DAY), (cal.tod(rng, n)[:, None] + j * 60)).reshape(n, -1)
    valid = (j <= k[:, None]) & (at < cal.END_TS) & (at > deals.created[:, None])
    kept = valid.sum(axis=1)
    current = np.where(kept > 0, new[np.arange(n), np.maximum(kept - 1, 0)], first)
    current = np.where(flow.undated, cal.NA, current).astype(np.int64)
    first = np.where(flow.undated, cal.NA, first).astype(np.int64)
    rows, cols = np.nonzero(valid)
    return Dates(
        first,
        current,
        rows.astype(np.int64),
        at[rows, cols],
        old[rows, cols].astype(np.int64),
        new[rows, cols].astype(np.int64),
    )


@dataclass(frozen=True)
class StageRows:
    deal: I64
    stage: I64  # index into STAGES
    at: I64
    rep: I64


def stage_rows(deals: Deals, flow: Flow) -> StageRows:
    """Every stage entry in time order per deal: the open stages, a fall-back, the close."""
    n = deals.n
    stage = np.zeros((n, 8), dtype=np.int64)
    stage[:, :N_OPEN_STAGES] = np.arange(N_OPEN_STAGES)
    stage[:, 5], stage[:, 6] = 3, 4
    stage[:, 7] = np.where(flow.status == WON, WON_STAGE, LOST_STAGE)
    at = np.concatenate([flow.entry, flow.back_at, flow.close[:, None]], axis=1)
    shown = np.concatenate(
        [
            flow.shown,
            (flow.back[:, None] & (flow.back_at < cal.END_TS)),
            np.isin(flow.status, (WON, LOST))[:, None],
        ],
        axis=1,
    )
    rep = np.repeat(deals.owner[:, None], 8, axis=1)
    rep[:, 0] = np.where(deals.sdr >= 0, deals.sdr, deals.owner)  # the SDR opened it
    rows, cols = np.nonzero(shown)
    return StageRows(rows.astype(np.int64), stage[rows, cols], at[rows, cols], rep[rows, cols])


def _amount_changes(rng: np.random.Generator, deals: Deals, flow: Flow) -> tuple[Bool, I64, I64]:
    """Which deals had their amount revised, when, and to what (yen, rounded to 10,000)."""
    n = deals.n
    end = np.minimum(flow.active_end, flow.close) - 3600
    span = end - deals.created
    at = deals.created + (rng.random(n) * np.maximum(span, 0)).astype(np.int64)
    at = at - at % 60
    has = (rng.random(n) < AMOUNT_CHANGE_P) & (span > 3 * cal.DAY) & (at < cal.END_TS)
    new = np.maximum(100_000, np.rint(deals.amount * rng.uniform(0.8, 1.15, n) / 1e4) * 1e4)
    return has, at, new.astype(np.int64)


def changes(
    rng: np.random.Generator, deals: Deals, flow: Flow, dates: Dates, stages: StageRows
) -> tuple[pl.DataFrame, I64]:
    """(changes frame with a chunk-local ``deal`` column, the deals' current amounts)."""
    has, amount_at, new_amount = _amount_changes(rng, deals, flow)
    current_amount = np.where(has, new_amount, deals.amount).astype(np.int64)
    same = np.concatenate([[False], stages.deal[1:] == stages.deal[:-1]])
    nxt = np.flatnonzero(same)
    stage_names = pl.Series(STAGES)
    amt = np.flatnonzero(has)
    frames = [
        pl.DataFrame(
            {
                "deal": dates.push_deal,
                "changed_at": dates.push_at,
                "field": np.full(len(dates.push_deal), F_EXPECTED),
                "old_value": _date_text(dates.push_old),
                "new_value": _date_text(dates.push_new),
            }
        ),
        pl.DataFrame(
            {
                "deal": amt,
                "changed_at": amount_at[amt],
                "field": np.full(len(amt), F_AMOUNT),
                "old_value": pl.Series(deals.amount[amt]).cast(pl.Utf8),
                "new_value": pl.Series(new_amount[amt]).cast(pl.Utf8),
            }
        ),
        pl.DataFrame(
            {
                "deal": stages.deal[nxt],
                "changed_at": stages.at[nxt],
                "field": np.full(len(nxt), F_STAGE),
                "old_value": stage_names.gather(pl.Series(stages.stage[nxt - 1])),
                "new_value": stage_names.gather(pl.Series(stages.stage[nxt])),
            }
        ),
    ]
    frames = [f.cast({"deal": pl.Int64, "changed_at": pl.Int64, "field": pl.Int64}) for f in frames]
    out = pl.concat(frames).sort(["deal", "changed_at", "field"])
    return out, current_amount


def _date_text(days: I64) -> pl.Series:
    return pl.Series(days.astype(np.int64)).cast(pl.Date).cast(pl.Utf8)
