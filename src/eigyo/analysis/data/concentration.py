"""Revenue concentration: how much of the period's bookings one customer (or one deal) holds.

A diagnosis that compares groups never notices that half the year's bookings came from one
customer: there is no peer to differ from. The exposure is a fact of the period's bookings, not
an estimate from a sample, so the check that reads this (``revenue_concentration``) judges the
share directly, with enough won deals required for the share to mean anything.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from eigyo.analysis.common import in_period
from eigyo.base.periods import Period
from eigyo.base.vocabulary import UNKNOWN
from eigyo.workspace import Workspace


def bookings_by_account(ws: Workspace, period: Period) -> ir.Table:
    """One row per account with deals won in the period: ``account_id``, ``account`` (the name,
    else the id), ``amount`` (won amount), ``deals`` and ``top_deal`` (the largest won deal).
    Won deals without an account stand alone (each deal its own customer: unknown is not one
    big customer)."""
    o = ws.table("opportunities")
    o = o.filter((o.status == "won") & o.closed_at.notnull() & in_period(o.closed_at, period))
    o = o.filter(o.amount.notnull())
    o = o.mutate(_acct=o.account_id.fill_null(ibis.literal(UNKNOWN + ":") + o.opportunity_id))
    a = ws.table("accounts").select(_aid=ibis._.account_id, _name=ibis._.name)
    g = o.group_by("_acct").agg(amount=o.amount.sum(), deals=o.count(), top_deal=o.amount.max())
    j = g.left_join(a, g._acct == a._aid)
    return j.select(
        account_id=j._acct, account=j._name.fill_null(j._acct), amount=j.amount,
        deals=j.deals, top_deal=j.top_deal,
    )  # fmt: skip
