"""Revenue concentration: one customer (or one deal) holding a large share of the bookings.

The share is a fact of the period's bookings, not an estimate from a sample, so there is no
q-value to compute: the check needs ``min_n`` won deals (a handful of deals is "not enough data",
not a concentration) and then judges the top customer's share of the won amount — at least
``min_effect`` is a warning, at least twice that an error (docs/evidence-rule.md, the other kinds).
"""

from __future__ import annotations

import ibis

from eigyo.base.formatting import format_value
from eigyo.diagnose.checks import Check
from eigyo.diagnose.context import Context
from eigyo.diagnose.model import Finding, Severity
from eigyo.diagnose.playbook import check_finding, plain_finding


def run_concentration(check: Check, ctx: Context) -> list[Finding]:
    """The largest customer's share of the period's bookings, judged against ``min_effect``."""
    s = ctx.sample(check.sample)
    total = s.aggregate(amount=s.amount.sum(), deals=s.deals.sum(), customers=s.count())
    tot = total.to_pyarrow().to_pylist()[0]
    deals = int(tot["deals"] or 0)
    amount = float(tot["amount"] or 0.0)
    if deals < check.min_n or amount <= 0:
        return [plain_finding(check, "insufficient", {"groups": deals, "min_n": check.min_n})]
    top = s.order_by([ibis.desc("amount"), "account_id"]).limit(1).to_pyarrow().to_pylist()[0]
    biggest = float(s.top_deal.max().to_pyarrow().as_py() or 0.0)
    share = float(top["amount"]) / amount
    sev: Severity | None = (
        "error" if share >= 2 * check.min_effect else "warn" if share >= check.min_effect else None
    )
    ev: dict[str, object] = {
        "n": deals,
        "value": round(share, 4),
        "baseline": check.min_effect,
        "baseline_kind": "target",
        "account_id": str(top["account_id"]),
        "account": str(top["account"]),
        "account_amount": float(top["amount"]),
        "account_deals": int(top["deals"]),
        "bookings": amount,
        "customers": int(tot["customers"]),
        "top_deal_share": round(biggest / amount, 4),
    }
    if sev is None:
        ok = plain_finding(check, "ok", {"groups_tested": int(tot["customers"])})
        ok.evidence.update(value=ev["value"], account=ev["account"], baseline_kind="target")
        return [ok]
    scope = {"account": str(top["account"])}
    texts = {**ev, "top_deal_share_text": format_value(biggest / amount, "ratio", "en")}
    return [check_finding(check, sev, scope, ev, texts=texts, currency=ctx.currency)]
