"""Calls, e-mails, meetings, demos and proposals: the trail of work on leads and deals.

A deal gets one meeting when its owner first meets the customer (late for the planted closer of
problem 4), a meeting, demo, proposal or negotiation meeting when it enters the matching stage,
and calls and e-mails at a steady rate while anyone works on it. Abandoned deals (problem 9) get
nothing after their last touch. Leads get the first answer and a few follow-ups.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eigyo.demo import _calendar as cal
from eigyo.demo._config import (
    CALL_CONNECT_P,
    EMAIL_REPLY_P,
    I64,
    MEETING_NO_SHOW_P,
    OPP_TOUCH_PER_DAY,
)
from eigyo.demo._deals import Deals
from eigyo.demo._leads import Leads
from eigyo.demo._stages import Flow

# indices into schema.ACTIVITY_TYPES and schema.ACTIVITY_OUTCOMES
CALL, EMAIL, MEETING, DEMO, PROPOSAL = range(5)
CONNECTED, NO_ANSWER, REPLIED, HELD, NO_SHOW = range(5)


@dataclass(frozen=True)
class Acts:
    rep: I64
    type: I64
    at: I64
    duration: I64
    outcome: I64  # -1: none
    lead: I64  # -1: none
    deal: I64  # -1: none
    account: I64


def _outcomes(rng: np.random.Generator, kind: I64) -> tuple[I64, I64]:
    """(outcome, duration in minutes) by activity type, the same everywhere in the company."""
    n = len(kind)
    u = rng.random(n)
    meeting_like = (kind == MEETING) | (kind == DEMO)
    outcome = np.select(
        [kind == CALL, kind == EMAIL, meeting_like],
        [
            np.where(u < CALL_CONNECT_P, CONNECTED, NO_ANSWER),
            np.where(u < EMAIL_REPLY_P, REPLIED, -1),
            np.where(u < MEETING_NO_SHOW_P, NO_SHOW, HELD),
        ],
        -1,
    )
    talk = rng.integers(1, 5, n) * 5
    duration = np.select(
        [
            outcome == CONNECTED,
            outcome == NO_ANSWER,
            kind == EMAIL,
            outcome == NO_SHOW,
            kind == MEETING,
            kind == DEMO,
        ],
        [
            talk,
            np.ones(n, np.int64),
            np.full(n, 5),
            np.full(n, 15),
            15 * rng.integers(2, 7, n),
            np.full(n, 60),
        ],
        120,
    )
    return outcome.astype(np.int64), duration.astype(np.int64)


def _touches(rng: np.random.Generator, start: I64, end: I64, rate: float) -> tuple[I64, I64]:
    """Poisson calls/e-mails between two timestamps per item: (item index, timestamp)."""
    lo, hi = cal.bd_of_ts(start), cal.bd_of_ts(np.maximum(end, start))
    count = rng.poisson(rate * (hi - lo + 1))
    item = np.repeat(np.arange(len(start)), count)
    span = np.repeat(hi - lo + 1, count)
    bd = np.repeat(lo, count) + np.floor(rng.random(len(item)) * span).astype(np.int64)
    at = cal.at(bd, cal.tod(rng, len(item), 9, 19))
    ok = (at > start[item]) & (at < end[item]) & (at < cal.END_TS)
    return item[ok].astype(np.int64), at[ok]


def deal_activities(rng: np.random.Generator, deals: Deals, flow: Flow) -> Acts:
    """Structured meetings per stage plus calls and e-mails while the deal is worked."""
    n = deals.n
    limit = np.minimum(flow.active_end, cal.END_TS)
    demo_at = flow.entry[:, 2] + cal.DAY + 3600 * rng.integers(0, 5, n)
    structured = [
        (flow.first_meeting, MEETING, np.ones(n, bool)),
        (flow.entry[:, 2], MEETING, flow.shown[:, 2]),
        (demo_at, DEMO, flow.shown[:, 2]),
        (flow.entry[:, 3] + 1800, PROPOSAL, flow.shown[:, 3]),
        (flow.entry[:, 4] + 1800, MEETING, flow.shown[:, 4]),
    ]
    items, ats, kinds = [], [], []
    for at, what, cond in structured:  # five fixed kinds of activity, not rows
        ok = np.flatnonzero(cond & (at < limit))
        items.append(ok)
        ats.append(at[ok])
        kinds.append(np.full(len(ok), what))
    t_item, t_at = _touches(rng, deals.created, limit, OPP_TOUCH_PER_DAY)
    items.append(t_item)
    ats.append(t_at)
    kinds.append(np.where(rng.random(len(t_item)) < 0.55, CALL, EMAIL))
    item = np.concatenate(items).astype(np.int64)
    kind = np.concatenate(kinds).astype(np.int64)
    outcome, duration = _outcomes(rng, kind)
    return Acts(
        deals.owner[item],
        kind,
        np.concatenate(ats).astype(np.int64),
        duration,
        outcome,
        np.full(len(item), -1, np.int64),
        item,
        deals.account[item],
    )


def lead_activities(rng: np.random.Generator, leads: Leads) -> Acts:
    """The first answer to each answered lead, then a few follow-ups until it is settled."""
    answered = np.flatnonzero(leads.response != cal.NA)
    settled = np.where(leads.sql != cal.NA, leads.sql, leads.disqualified)
    settled = np.where(settled == cal.NA, cal.END_TS, settled)[answered]
    f_item, f_at = _touches(rng, leads.response[answered], settled, 0.25)
    item = np.concatenate([answered, answered[f_item]]).astype(np.int64)
    at = np.concatenate([leads.response[answered], f_at]).astype(np.int64)
    kind = np.where(rng.random(len(item)) < 0.6, CALL, EMAIL).astype(np.int64)
    outcome, duration = _outcomes(rng, kind)
    return Acts(
        leads.owner[item],
        kind,
        at,
        duration,
        outcome,
        item,
        np.full(len(item), -1, np.int64),
        leads.account[item],
    )
