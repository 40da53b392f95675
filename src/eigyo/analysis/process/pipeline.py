"""The pipeline as it stood on any day, rebuilt from ``opportunity_changes``, and the change
waterfall between two days.

"As of day D" means the end of D: every change, stage entry and close up to and including D
counts. A field's value then is the ``new_value`` of its last change on or before D; without such
a change, the ``old_value`` of its first change after D; without any change, today's value. An
opportunity is in the pipeline on D when it was created by then and not closed by then; with a
close-date ``window`` (a period), only when its expected close date as of D falls in the window,
which is how coverage is read ("pipeline closing this quarter").

Waterfall between days A and B: every opportunity in the pipeline on A or on B falls in exactly
one bucket, so start + Σ steps = end holds to the yen. Leaving the pipeline: ``won``/``lost``
(closed by B, at its amount on A), ``pushed_out``/``pulled_out`` (still open but its close date
left the window, later/earlier). Joining: ``new`` (created after A), ``pulled_in`` (open on A with
its close date outside the window), ``reopened`` (closed on A, open on B). Staying:
``amount_up``/``amount_down`` (amount on B − amount on A), ``amount_set`` (no amount on A, one on
B: + its amount), ``amount_cleared`` (an amount on A, none on B: − it).

An amount nobody entered is unknown, never ¥0 (Maven's CRM, for one, has amounts only on closed
deals): the snapshot keeps it NULL, every sum here is over the known amounts and carries how
many of its deals have none (``deals_without_amount``), and a sum whose deals all lack an amount
is None (not available, reason ``no_amounts``) — a pipeline of 1,589 deals is not "¥0".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir

from eigyo.analysis.common import with_rep
from eigyo.analysis.process.dwell import open_at
from eigyo.analysis.process.stages import stage_entries
from eigyo.base.periods import Period
from eigyo.base.vocabulary import NONE
from eigyo.workspace import Workspace

STEPS = (
    "new",
    "pulled_in",
    "reopened",
    "amount_up",
    "amount_down",
    "amount_set",
    "amount_cleared",
    "won",
    "lost",
    "pushed_out",
    "pulled_out",
)


#: Why a sum of amounts is not available: every deal it adds up lacks an amount.
NO_AMOUNTS = "no_amounts"


def known_sum(deals: int, without: int, total: float | None) -> float | None:
    """A sum of amounts as a person may read it: None (not available) when its deals all lack
    an amount, else the sum of the known ones (¥0 when there are no deals at all)."""
    if deals and without >= deals:
        return None
    return float(total or 0.0)


def end_of(day: date) -> datetime:
    """The first instant after ``day``: ``ts < end_of(day)`` is "on or before day"."""
    return datetime.combine(day + timedelta(days=1), time.min)


def field_as_of(ws: Workspace, field: str, until: ir.Value) -> ir.Table:
    """``_opp`` → ``_before`` (new value of the last change before ``until``), ``_after`` (old
    value of the first change from ``until`` on) and whether each exists, for one field."""
    ch = ws.table("opportunity_changes")
    ch = ch.filter(ch.field == field)
    g = ch.group_by(_opp=ch.opportunity_id).agg(
        _has_before=(ch.changed_at < until).any(),
        _before=ch.new_value.argmax(ch.changed_at, where=ch.changed_at < until),
        _has_after=(ch.changed_at >= until).any(),
        _after=ch.old_value.argmin(ch.changed_at, where=ch.changed_at >= until),
    )
    return g


def _value(j: ir.Table, current: ir.Value) -> ir.Value:
    return ibis.cases(
        (j._has_before.fill_null(False), j._before),
        (j._has_after.fill_null(False), j._after),
        else_=current.cast("string"),
    )


def snapshot(ws: Workspace, day: date, window: Period | None = None) -> ir.Table:
    """Every opportunity with its state at the end of ``day``: is_open, in_pipeline, amount
    (NULL when unknown: a missing amount is not ¥0), expected_close_date, stage (last entry by
    then), owner and team."""
    until = ibis.timestamp(end_of(day))
    o = ws.table("opportunities")
    o = o.filter(o.created_at < until)
    amt = field_as_of(ws, "amount", until)
    j = o.left_join(amt, o.opportunity_id == amt._opp).drop("_opp")
    j = j.mutate(_amount=_value(j, j.amount).try_cast("float64"))
    j = j.drop("_has_before", "_before", "_has_after", "_after")
    close = field_as_of(ws, "expected_close_date", until)
    j = j.left_join(close, j.opportunity_id == close._opp).drop("_opp")
    j = j.mutate(_close=_value(j, j.expected_close_date).try_cast("date"))
    last = stage_entries(ws, until=until)
    last = last.filter(last.is_last).select(_sopp=last.opportunity_id, _stage=last.stage)
    j = j.left_join(last, j.opportunity_id == last._sopp)
    is_open = open_at(j, until)
    in_window = (
        ibis.literal(True)
        if window is None
        else j._close.notnull()
        & (j._close >= ibis.date(window.start))
        & (j._close <= ibis.date(window.end))
    )
    j = with_rep(ws, j.mutate(_is_open=is_open, _in=is_open & in_window))
    return j.select(
        "opportunity_id",
        rep_id=j.owner_rep_id,
        team=j.team,
        status=j.status,
        closed_at=j.closed_at,
        created_at=j.created_at,
        stage=j._stage,
        amount=j._amount,
        expected_close_date=j._close,
        is_open=j._is_open,
        in_pipeline=j._in,
    )


def pipeline_as_of(ws: Workspace, day: date, window: Period | None = None) -> ir.Table:
    """The open pipeline at the end of ``day`` (one row per opportunity)."""
    s = snapshot(ws, day, window)
    return s.filter(s.in_pipeline).drop("is_open", "in_pipeline")


def pipeline_by_stage(
    ws: Workspace, day: date, window: Period | None = None
) -> list[dict[str, Any]]:
    """Deals and yen in the pipeline at the end of ``day`` per current stage: ``amount`` over
    the known amounts (None when none is known), ``deals_without_amount`` and ``amount_reason``
    (``no_amounts`` where the amount is not available)."""
    p = pipeline_as_of(ws, day, window)
    p = p.mutate(stage=p.stage.fill_null(NONE))
    g = p.group_by("stage").agg(
        deals=p.count(),
        amount=p.amount.sum(),
        deals_without_amount=p.amount.isnull().cast("int64").sum(),
    )
    g = g.order_by([ibis.desc(g.amount), g.stage])  # unknown sums last
    rows: list[dict[str, Any]] = g.to_pyarrow().to_pylist()
    for r in rows:
        r["amount"] = known_sum(r["deals"], r["deals_without_amount"], r["amount"])
        r["amount_reason"] = NO_AMOUNTS if r["amount"] is None else None
    return rows


@dataclass(frozen=True)
class Waterfall:
    """The pipeline of ``start_day``, each step to ``end_day`` and the pipeline then, each as
    (deals, yen): yen over the known amounts, None where every deal lacks one. ``without`` holds
    the deals without an amount of each (``start``, each step, ``end``)."""

    start_day: date
    end_day: date
    start: tuple[int, float | None]
    steps: dict[str, tuple[int, float | None]]
    end: tuple[int, float | None]
    without: dict[str, int] = field(default_factory=dict)

    def _json(self, key: str, deals: int, amount: float | None) -> dict[str, Any]:
        return {
            "deals": deals,
            "amount": amount,
            "deals_without_amount": self.without.get(key, 0),
            "amount_reason": NO_AMOUNTS if amount is None else None,
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "start_day": self.start_day.isoformat(),
            "end_day": self.end_day.isoformat(),
            "start": self._json("start", *self.start),
            "steps": [{"step": k, **self._json(k, n, a)} for k, (n, a) in self.steps.items()],
            "end": self._json("end", *self.end),
        }


def _bucket(j: ir.Table, window: Period | None) -> ir.Value:
    later = (
        ibis.literal(True)
        if window is None
        else j.b_close.isnull() | (j.b_close > ibis.date(window.end))
    )
    stay = j.a_in & j.b_in
    return ibis.cases(
        (stay & (j.b_amount > j.a_amount), "amount_up"),
        (stay & (j.b_amount < j.a_amount), "amount_down"),
        (stay & j.a_amount.isnull() & j.b_amount.notnull(), "amount_set"),
        (stay & j.a_amount.notnull() & j.b_amount.isnull(), "amount_cleared"),
        (stay, "unchanged"),
        (j.a_in & ~j.b_open & (j.status == "won"), "won"),
        (j.a_in & ~j.b_open, "lost"),
        (j.a_in & later, "pushed_out"),
        (j.a_in, "pulled_out"),
        (j.a_created.isnull(), "new"),
        (j.a_open, "pulled_in"),
        else_="reopened",
    )


def waterfall(ws: Workspace, start: date, end: date, window: Period | None = None) -> Waterfall:
    """How the pipeline of ``start`` became the pipeline of ``end``, bucket by bucket (the
    known amounts reconcile to the yen; deals without an amount are counted, not valued)."""
    a = snapshot(ws, start, window)
    a = a.select(
        _opp=a.opportunity_id,
        a_in=a.in_pipeline,
        a_open=a.is_open,
        a_amount=a.amount,
        a_created=a.created_at,
    )
    b = snapshot(ws, end, window)
    b = b.filter(b.in_pipeline | b.opportunity_id.isin(a.filter(a.a_in)._opp))
    j = b.left_join(a, b.opportunity_id == a._opp)
    j = j.select(
        status=j.status,
        a_in=j.a_in.fill_null(False),
        a_open=j.a_open.fill_null(False),
        a_amount=j.a_amount,
        a_created=j.a_created,
        b_in=j.in_pipeline,
        b_open=j.is_open,
        b_amount=j.amount,
        b_close=j.expected_close_date,
    )
    j = j.filter(j.a_in | j.b_in)
    j = j.mutate(step=_bucket(j, window))
    signed = ibis.cases(
        (j.step.isin(["amount_up", "amount_down", "unchanged"]), j.b_amount - j.a_amount),
        (j.step == "amount_set", j.b_amount),
        (j.a_in, -j.a_amount),
        else_=j.b_amount,
    )
    s = j.mutate(signed=signed)
    g = s.group_by("step").agg(
        n=s.count(), amount=s.signed.sum(), without=s.signed.isnull().cast("int64").sum()
    )
    got = {r["step"]: r for r in g.to_pyarrow().to_pylist()}
    a_known, b_known = j.a_in & j.a_amount.notnull(), j.b_in & j.b_amount.notnull()
    tot = (
        j.aggregate(
            a_n=j.a_in.cast("int64").sum(),
            a_amt=j.a_amount.sum(where=j.a_in),
            a_known=a_known.cast("int64").sum(),
            b_n=j.b_in.cast("int64").sum(),
            b_amt=j.b_amount.sum(where=j.b_in),
            b_known=b_known.cast("int64").sum(),
        )
        .to_pyarrow()
        .to_pylist()[0]
    )
    a_n, b_n = int(tot["a_n"] or 0), int(tot["b_n"] or 0)
    without = {
        "start": a_n - int(tot["a_known"] or 0),
        "end": b_n - int(tot["b_known"] or 0),
        **{k: int(got[k]["without"]) if k in got else 0 for k in STEPS},
    }
    steps = {
        k: (int(got[k]["n"]), known_sum(int(got[k]["n"]), without[k], got[k]["amount"]))
        if k in got
        else (0, 0.0)
        for k in STEPS
    }
    return Waterfall(
        start,
        end,
        (a_n, known_sum(a_n, without["start"], tot["a_amt"])),
        steps,
        (b_n, known_sum(b_n, without["end"], tot["b_amt"])),
        without,
    )
