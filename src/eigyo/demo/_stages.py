"""Walk every deal through 見込み → 評価 → 商談 → 提案 → 交渉 → 受注/失注 in one vectorized pass.

Each deal draws, once, whether it leaves each stage forward and how many business days it stays
there; the stage where it first fails is where it is lost, and a deal that passes all five is
won. Some deals skip 評価 or 交渉, a few fall back from 交渉 to 提案 once. Anything dated after the
end of the data has not happened: such deals stay open in the stage they had reached.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eigyo.demo import _calendar as cal
from eigyo.demo._config import (
    BACKWARD,
    DWELL_MEDIAN,
    DWELL_SIGMA,
    FIRST_MEETING_MEDIAN,
    I64,
    LOST_REASONS,
    N_OPEN_STAGES,
    Bool,
    Plant,
)
from eigyo.demo._deals import TYPE_NEW, Deals
from eigyo.demo._org import Org

OPEN, WON, LOST = range(3)
#: A zombie's last touch is at least this long before the end of the data (problem 9 needs 60).
ZOMBIE_QUIET_DAYS = 75


@dataclass(frozen=True)
class Flow:
    """Where each deal went and when; timestamps are :mod:`_calendar` seconds."""

    fail: I64  # stage index where the deal was lost, N_OPEN_STAGES when won
    entry: I64  # (n, 5) when each open stage was (or would be) entered
    shown: Bool  # (n, 5) the entry happened (reached, not skipped, before the end)
    back: Bool  # fell back from 交渉 to 提案 (both re-entries shown when before the end)
    back_at: I64  # (n, 2) re-entry of 提案 and of 交渉
    first_meeting: I64
    close: I64  # when the deal closes or would close
    status: I64  # OPEN, WON, LOST as seen at the end of the data
    zombie: Bool  # abandoned: stays open, nobody touches it again
    undated: Bool  # zombie whose expected close date was cleared (problem 9)
    active_end: I64  # last moment anyone works on the deal
    lost_reason: I64  # index into LOST_REASONS, -1 unless lost


def _dwell(rng: np.random.Generator, org: Org, deals: Deals, plant: Plant) -> I64:
    """(n, 5) business days in each open stage; 名古屋 deals sit in 提案 longer (problem 2)."""
    n = deals.n
    median = np.tile(np.asarray(DWELL_MEDIAN), (n, 1))
    nagoya = org.of_type("nagoya")[deals.owner] & (deals.type == TYPE_NEW)
    median[nagoya, 3] *= plant.nagoya_dwell_mult
    d = np.maximum(1, np.rint(median * rng.lognormal(0, DWELL_SIGMA, (n, N_OPEN_STAGES))))
    d[deals.skip_qualification, 1] = 0
    d[deals.skip_negotiation, 4] = 0
    return d.astype(np.int64)


def _first_meeting_bd(rng: np.random.Generator, org: Org, deals: Deals, plant: Plant) -> I64:
    """Business days from creation to the first meeting: slow for one closer (problem 4)."""
    slow = (deals.sdr >= 0) & org.slow_handoff[deals.owner]
    median = np.where(slow, plant.slow_handoff_median, FIRST_MEETING_MEDIAN)
    return cal.lognormal_bd(rng, median, 0.5, deals.n)


def build_flow(rng: np.random.Generator, org: Org, deals: Deals, plant: Plant) -> Flow:
    """Outcome, stage entries, close and activity window of every deal."""
    n = deals.n
    advance = rng.random((n, N_OPEN_STAGES)) < deals.p
    fail = np.where(advance.all(axis=1), N_OPEN_STAGES, np.argmin(advance, axis=1))
    d = _dwell(rng, org, deals, plant)
    c0 = cal.bd_of_ts(deals.created)
    fm_bd = c0 + _first_meeting_bd(rng, org, deals, plant)
    ebd = np.empty((n, N_OPEN_STAGES + 1), dtype=np.int64)  # entries, then exit of 交渉
    ebd[:, 0] = c0
    ebd[:, 1] = fm_bd + d[:, 0]
    for s in range(2, N_OPEN_STAGES):  # five fixed stages, not rows
        ebd[:, s] = ebd[:, s - 1] + d[:, s - 1]
    back = (fail >= 4) & ~deals.skip_negotiation & (rng.random(n) < BACKWARD)
    back_bd = np.stack([ebd[:, 4] + cal.lognormal_bd(rng, 4.0, 0.5, n), np.zeros(n, np.int64)], 1)
    back_bd[:, 1] = back_bd[:, 0] + cal.lognormal_bd(rng, 5.0, 0.5, n)
    ebd[:, 5] = np.where(back, back_bd[:, 1], ebd[:, 4]) + d[:, 4]
    tods = cal.tod(rng, n * 8).reshape(n, 8)
    entry = cal.at(ebd[:, :5].ravel(), tods[:, :5].ravel()).reshape(n, 5)
    entry[:, 0] = deals.created
    close = cal.at(ebd[np.arange(n), np.minimum(fail + 1, 5)], tods[:, 5])
    back_at = cal.at(back_bd.ravel(), tods[:, 6:8].ravel()).reshape(n, 2)
    reached = np.arange(N_OPEN_STAGES)[None, :] <= fail[:, None]
    reached[deals.skip_qualification, 1] = False
    reached[deals.skip_negotiation, 4] = False
    first_meeting = cal.at(fm_bd, cal.tod(rng, n))
    return _outcome(
        rng, org, deals, plant, fail, entry, reached, back, back_at, first_meeting, close
    )


def _outcome(
    rng: np.random.Generator,
    org: Org,
    deals: Deals,
    plant: Plant,
    fail: I64,
    entry: I64,
    reached: Bool,
    back: Bool,
    back_at: I64,
    first_meeting: I64,
    close: I64,
) -> Flow:
    """Status at the end of the data, abandoned deals (problem 9) and the activity window."""
    n = deals.n
    osaka = org.of_type("osaka")[deals.owner]
    zombie_p = np.where(osaka, plant.osaka_zombie_p, plant.base_zombie_p)
    quiet = close < cal.END_TS - ZOMBIE_QUIET_DAYS * cal.DAY
    zombie = (fail < N_OPEN_STAGES) & quiet & (rng.random(n) < zombie_p)
    undated = zombie & osaka & (plant.osaka_zombie_p > plant.base_zombie_p)
    closed = (close < cal.END_TS) & ~zombie
    status = np.where(closed, np.where(fail == N_OPEN_STAGES, WON, LOST), OPEN)
    active_end = np.where(closed, close, cal.END_TS - 1)
    active_end = np.where(zombie, close - cal.DAY, active_end)
    reason = np.where(status == LOST, rng.integers(0, len(LOST_REASONS), n), -1)
    return Flow(
        fail=fail.astype(np.int64),
        entry=entry,
        shown=reached & (entry < cal.END_TS),
        back=back,
        back_at=back_at,
        first_meeting=first_meeting,
        close=close,
        status=status.astype(np.int64),
        zombie=zombie,
        undated=undated,
        active_end=active_end.astype(np.int64),
        lost_reason=reason.astype(np.int64),
    )
