"""The Monday pipeline review: open deals with their risk flags, and what changed since a date.

Why its own module: the review is a manager's list, not a check's verdict, but its facts are the
ones the diagnosis uses — open deals and days idle from
:func:`eigyo.analysis.deals.open_deals_at_end`, close-date pushes from
:func:`eigyo.analysis.process.slippage.date_moves`, each deal's state on a day from
:func:`eigyo.analysis.process.pipeline.snapshot` — so a deal flagged idle here is the deal the
stale-pipeline finding counts.

Flags: **stuck** (in its current stage longer than ``stuck_days``), **pushed** (close date moved
later at least ``push_min`` times), **past_due** (expected close date before the review day),
**idle** (no activity for more than ``idle_days``; unknown when no activity is linked to deals).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import ibis

from eigyo.analysis.common import days_between
from eigyo.analysis.deals import open_deals_at_end
from eigyo.analysis.process.pipeline import NO_AMOUNTS, end_of, known_sum, snapshot
from eigyo.analysis.process.slippage import date_moves
from eigyo.analysis.process.stages import stage_entries
from eigyo.base.periods import FIRST_DAY, Period
from eigyo.workspace import Workspace

#: Days in one stage after which a deal counts as stuck.
STUCK_DAYS = 30
#: Days without activity after which a deal counts as idle.
IDLE_DAYS = 14
#: Close-date pushes from which a deal counts as pushed repeatedly.
PUSH_MIN = 2
#: The flags, in the order a page shows them.
FLAGS: tuple[str, ...] = ("stuck", "pushed", "past_due", "idle")
#: What changed for a deal between two days, in the order a page shows them.
CHANGES: tuple[str, ...] = ("new", "won", "lost", "stage", "close_date", "amount")


def open_deals_review(
    ws: Workspace,
    as_of: date,
    *,
    stuck_days: int = STUCK_DAYS,
    idle_days: int = IDLE_DAYS,
    push_min: int = PUSH_MIN,
) -> list[dict[str, Any]]:
    """Each deal open at the end of ``as_of``: owner, team, stage, amount, close date, days in
    stage, days idle, pushes and the four flags (1/0; idle None when unknown); flagged deals and
    larger amounts first."""
    day = Period(as_of, as_of, as_of.isoformat())
    deals = open_deals_at_end(ws, day, idle_days)
    until = ibis.timestamp(end_of(as_of))
    st = stage_entries(ws, until=until)
    st = st.filter(st.is_last).select(_o=st.opportunity_id, stage=st.stage, _in=st.entered_at)
    moves = date_moves(ws, Period(FIRST_DAY, as_of, "all"))
    push = moves.filter(moves.days > 0)
    push = push.group_by(_p=push.opportunity_id).agg(pushes=push.count())
    o = ws.table("opportunities").select(
        _id="opportunity_id", close=ws.table("opportunities").expected_close_date
    )
    r = ws.table("reps").select(_r="rep_id", rep_name="name")
    j = deals.left_join(st, deals.opportunity_id == st._o)
    j = j.left_join(push, j.opportunity_id == push._p)
    j = j.left_join(o, j.opportunity_id == o._id)
    j = j.left_join(r, j.rep_id == r._r)
    in_stage = days_between(j._in, until)
    pushes = j.pushes.fill_null(0)
    j = j.select(
        "opportunity_id",
        "rep_id",
        "rep_name",
        "team",
        "stage",
        "amount",
        expected_close_date=j.close,
        days_in_stage=in_stage,
        idle_days=j.idle_days,
        pushes=pushes,
        stuck=(in_stage > stuck_days).fill_null(False).cast("int64"),
        pushed=(pushes >= push_min).cast("int64"),
        past_due=(j.close < ibis.date(as_of)).fill_null(False).cast("int64"),
        idle=(j.idle_days > idle_days).cast("int64"),
    )
    rows: list[dict[str, Any]] = j.to_pyarrow().to_pylist()
    for row in rows:
        row["flags"] = [f for f in FLAGS if row.get(f)]
    rows.sort(key=lambda x: (-len(x["flags"]), -(x["amount"] or 0.0), str(x["opportunity_id"])))
    return rows


def open_amount(deals: list[dict[str, Any]]) -> dict[str, Any]:
    """The yen of the review's deals as its table lists them (so the total is its column's):
    ``deals``, ``amount`` over the known amounts — None with ``amount_reason`` ``no_amounts``
    where every deal lacks one — and ``deals_without_amount``. The list is already the page's,
    one row per open deal; this adds up what it holds."""
    without = sum(d["amount"] is None for d in deals)
    total = known_sum(len(deals), without, sum(d["amount"] or 0.0 for d in deals))
    return {"deals": len(deals), "amount": total, "deals_without_amount": without,
            "amount_reason": NO_AMOUNTS if total is None else None}  # fmt: skip


def changes_since(ws: Workspace, since: date, as_of: date) -> list[dict[str, Any]]:
    """What changed for each deal between the end of ``since`` and the end of ``as_of``: created,
    won, lost, moved stage, moved its close date, changed its amount (one row per deal with the
    list of ``changes`` and the before/after values)."""
    before = snapshot(ws, since).select(
        _id="opportunity_id", _open=ibis._.is_open, _stage=ibis._.stage,
        _close=ibis._.expected_close_date, _amount=ibis._.amount,
    )  # fmt: skip
    now = snapshot(ws, as_of)
    j = now.left_join(before, now.opportunity_id == before._id)
    rows = j.to_pyarrow().to_pylist()
    out = []
    for x in rows:
        changes: list[str] = []
        if x["_id"] is None:
            changes.append("new")
        if x["status"] in ("won", "lost") and x["closed_at"] is not None:
            closed = x["closed_at"].date() if hasattr(x["closed_at"], "date") else x["closed_at"]
            if since < closed <= as_of:
                changes.append(x["status"])
        if x["_id"] is not None:
            if (x["stage"] or None) != (x["_stage"] or None):
                changes.append("stage")
            if x["expected_close_date"] != x["_close"]:
                changes.append("close_date")
            if x["amount"] != x["_amount"]:  # unknown → known is a change; unknown is not ¥0
                changes.append("amount")
        if changes:
            out.append({"opportunity_id": x["opportunity_id"], "rep_id": x["rep_id"],
                        "team": x["team"], "changes": changes, "stage_before": x["_stage"],
                        "stage": x["stage"], "close_before": x["_close"],
                        "close": x["expected_close_date"], "amount_before": x["_amount"],
                        "amount": x["amount"]})  # fmt: skip
    out.sort(key=lambda r: (CHANGES.index(r["changes"][0]), str(r["opportunity_id"])))
    return out
