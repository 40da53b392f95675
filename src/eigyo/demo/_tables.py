"""One chunk of the company as the thirteen canonical tables.

Generation runs from WARM so that FY2024 opens with deals in flight; here whatever had finished
before START is dropped (deals closed before it, leads that went nowhere before it, activities and
orders before it), and chunk-local indices become global ids through the running offsets.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from eigyo.demo import _calendar as cal
from eigyo.demo import _writer as w
from eigyo.demo._accounts import REGIONS, Accounts
from eigyo.demo._activities import Acts
from eigyo.demo._config import (
    I64,
    INDUSTRIES,
    LEAD_TITLES,
    LOST_REASONS,
    PRODUCTS,
    SOURCES,
    STAGES,
    Bool,
)
from eigyo.demo._deals import Deals
from eigyo.demo._history import Dates, StageRows
from eigyo.demo._leads import MONTH_STARTS, Leads
from eigyo.demo._names import company_names
from eigyo.demo._orders import Orders
from eigyo.demo._org import ROLE_NAMES, Org
from eigyo.demo._stages import LOST, OPEN, WON, Flow
from eigyo.schema import (
    ACTIVITY_OUTCOMES,
    ACTIVITY_TYPES,
    CHANGE_FIELDS,
    LEAD_STATUSES,
    OPPORTUNITY_STATUSES,
    OPPORTUNITY_TYPES,
    TIME_CATEGORIES,
)

_STATUS = {OPEN: "open", WON: "won", LOST: "lost"}
assert tuple(_STATUS[i] for i in range(3)) == OPPORTUNITY_STATUSES[:3]  # demo: no unknown


@dataclass
class Offsets:
    """Global number of the first row of each id kind in the next chunk."""

    n: dict[str, int] = field(default_factory=lambda: dict.fromkeys(w.ID_FORMATS, 0))


def remap(keep: Bool) -> I64:
    """New index of every kept row, -1 for dropped rows."""
    return np.where(keep, np.cumsum(keep) - 1, -1).astype(np.int64)


@dataclass(frozen=True)
class Keep:
    """Which leads, deals and activities survive the cut at START, and their new indices."""

    lead: I64
    deal: I64


def keep_rows(leads: Leads, deals: Deals, flow: Flow) -> Keep:
    deal_keep = (flow.status == OPEN) | (flow.close >= cal.START_TS)
    lead_deal = np.full(leads.n, -1, dtype=np.int64)
    has = deals.lead >= 0
    lead_deal[deals.lead[has]] = np.flatnonzero(has)
    via_deal = (lead_deal >= 0) & deal_keep[np.maximum(lead_deal, 0)]
    lead_keep = (leads.created >= cal.START_TS) | via_deal
    return Keep(remap(lead_keep), remap(deal_keep))


def reps(org: Org, off: Offsets) -> pl.DataFrame:
    o = off.n["rep"]
    return pl.DataFrame(
        {
            "rep_id": w.ids("rep", np.arange(org.n), o),
            "name": org.names,
            "team": w.labels(org.team_names, org.team),
            "role": w.labels(ROLE_NAMES, org.role),
            "hire_date": w.dates(org.hire_day),
            "end_date": w.dates(np.full(org.n, cal.NA)),
            "manager_id": w.ids("rep", org.manager, o),
            "monthly_cost": org.monthly_cost,
        }
    )


def accounts(rng: np.random.Generator, acc: Accounts, off: Offsets) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "account_id": w.ids("account", np.arange(acc.n), off.n["account"]),
            "name": company_names(rng, acc.industry),
            "industry": w.labels(INDUSTRIES, acc.industry),
            "employees": acc.employees,
            "annual_revenue": acc.revenue,
            "region": w.labels(REGIONS, acc.region),
            "created_at": w.ts(acc.created),
            "owner_rep_id": w.ids("rep", acc.owner, off.n["rep"]),
        }
    )


def _campaigns(source: I64, month: I64) -> pl.Series:
    """Campaign name per lead from its source and month (紹介 and テレアポ have none)."""
    names = []
    for s in SOURCES:  # six sources × thirty months: a fixed catalogue, not rows
        for m in range(len(MONTH_STARTS) - 1):
            d = np.datetime64(int(MONTH_STARTS[m]), "D").item()
            fy = d.year if d.month >= 4 else d.year - 1
            half = "上期" if 4 <= d.month <= 9 else "下期"
            names.append(
                {
                    "Web問い合わせ": "公式サイト問い合わせフォーム",
                    "展示会": f"バックオフィスDXPO {fy}年度{half}",
                    "ウェビナー": f"{PRODUCTS[d.month % 4]}セミナー {d.year}年{d.month}月",
                    "広告": f"リスティング広告 {fy}年度",
                }.get(s, "")
            )
    codes = np.where(np.isin(source, (3, 4)), -1, source * (len(MONTH_STARTS) - 1) + month)
    return w.labels(tuple(names), codes)


def leads(lds: Leads, keep: Keep, deal_of_lead: I64, off: Offsets) -> pl.DataFrame:
    k = keep.lead >= 0
    opp = np.where(deal_of_lead >= 0, keep.deal[np.maximum(deal_of_lead, 0)], -1)
    return pl.DataFrame(
        {
            "lead_id": w.ids("lead", keep.lead[k], off.n["lead"]),
            "created_at": w.ts(lds.created[k]),
            "source": w.labels(SOURCES, lds.source[k]),
            "campaign": _campaigns(lds.source, lds.month).filter(pl.Series(k)),
            "account_id": w.ids("account", lds.account[k], off.n["account"]),
            "title": w.labels(LEAD_TITLES, lds.title[k]),
            "owner_rep_id": w.ids("rep", lds.owner[k], off.n["rep"]),
            "mql_at": w.ts(lds.mql[k]),
            "first_response_at": w.ts(lds.response[k]),
            "sql_at": w.ts(lds.sql[k]),
            "disqualified_at": w.ts(lds.disqualified[k]),
            "status": w.labels(LEAD_STATUSES, lds.status[k]),
            "opportunity_id": w.ids("opportunity", opp[k], off.n["opportunity"]),
        }
    )


def opportunities(
    deals: Deals, flow: Flow, dates: Dates, amount: I64, keep: Keep, off: Offsets
) -> pl.DataFrame:
    k = keep.deal >= 0
    lead = np.where(deals.lead >= 0, keep.lead[np.maximum(deals.lead, 0)], -1)
    closed = np.where(flow.status == OPEN, cal.NA, flow.close)
    r = off.n["rep"]
    return pl.DataFrame(
        {
            "opportunity_id": w.ids("opportunity", keep.deal[k], off.n["opportunity"]),
            "account_id": w.ids("account", deals.account[k], off.n["account"]),
            "owner_rep_id": w.ids("rep", deals.owner[k], r),
            "sdr_rep_id": w.ids("rep", deals.sdr[k], r),
            "lead_id": w.ids("lead", lead[k], off.n["lead"]),
            "product": w.labels(PRODUCTS, deals.product[k]),
            "type": w.labels(OPPORTUNITY_TYPES, deals.type[k]),
            "amount": amount[k],
            "created_at": w.ts(deals.created[k]),
            "expected_close_date": w.dates(dates.current[k]),
            "closed_at": w.ts(closed[k]),
            "status": w.labels(OPPORTUNITY_STATUSES, flow.status[k]),
            "lost_reason": w.labels(LOST_REASONS, flow.lost_reason[k]),
            # no CRM forecast category: the forecast page derives one from the stage
            "forecast_category": pl.Series([None] * int(k.sum()), dtype=pl.String),
        }
    )


def stage_history(rows: StageRows, keep: Keep, off: Offsets) -> pl.DataFrame:
    new = keep.deal[rows.deal]
    k = new >= 0
    return pl.DataFrame(
        {
            "opportunity_id": w.ids("opportunity", new[k], off.n["opportunity"]),
            "stage": w.labels(STAGES, rows.stage[k]),
            "entered_at": w.ts(rows.at[k]),
            "rep_id": w.ids("rep", rows.rep[k], off.n["rep"]),
        }
    )


def opportunity_changes(chg: pl.DataFrame, keep: Keep, off: Offsets) -> pl.DataFrame:
    new = keep.deal[chg["deal"].to_numpy()]
    k = pl.Series(new >= 0)
    return pl.DataFrame(
        {
            "opportunity_id": w.ids("opportunity", new, off.n["opportunity"]),
            "changed_at": w.ts(chg["changed_at"].to_numpy()),
            "field": w.labels(CHANGE_FIELDS, chg["field"].to_numpy()),
            "old_value": chg["old_value"],
            "new_value": chg["new_value"],
        }
    ).filter(k)


def activities(a: Acts, keep: Keep, off: Offsets) -> pl.DataFrame:
    lead = np.where(a.lead >= 0, keep.lead[np.maximum(a.lead, 0)], -1)
    deal = np.where(a.deal >= 0, keep.deal[np.maximum(a.deal, 0)], -1)
    ok = (a.at >= cal.START_TS) & ((a.lead < 0) | (lead >= 0)) & ((a.deal < 0) | (deal >= 0))
    idx = np.flatnonzero(ok)
    idx = idx[np.argsort(a.at[idx], kind="stable")]
    r = off.n["rep"]
    return pl.DataFrame(
        {
            "activity_id": w.ids("activity", np.arange(len(idx)), off.n["activity"]),
            "rep_id": w.ids("rep", a.rep[idx], r),
            "type": w.labels(ACTIVITY_TYPES, a.type[idx]),
            "occurred_at": w.ts(a.at[idx]),
            "duration_minutes": a.duration[idx],
            "outcome": w.labels(ACTIVITY_OUTCOMES, a.outcome[idx]),
            "lead_id": w.ids("lead", lead[idx], off.n["lead"]),
            "opportunity_id": w.ids("opportunity", deal[idx], off.n["opportunity"]),
            "account_id": w.ids("account", a.account[idx], off.n["account"]),
        }
    )


def orders(o: Orders, keep: Keep, off: Offsets) -> pl.DataFrame:
    deal = np.where(o.deal >= 0, keep.deal[np.maximum(o.deal, 0)], -1)
    idx = np.flatnonzero(o.at >= cal.START_TS)
    idx = idx[np.argsort(o.at[idx], kind="stable")]
    return pl.DataFrame(
        {
            "order_id": w.ids("order", np.arange(len(idx)), off.n["order"]),
            "account_id": w.ids("account", o.account[idx], off.n["account"]),
            "ordered_at": w.ts(o.at[idx]),
            "amount": o.amount[idx],
            "product": w.labels(PRODUCTS, o.product[idx]),
            "opportunity_id": w.ids("opportunity", deal[idx], off.n["opportunity"]),
        }
    )


def people(name: str, df: pl.DataFrame, off: Offsets) -> pl.DataFrame:
    """quotas, trainings, assessments, time_entries: chunk-local ``rep`` to ids, typed dates."""
    out = df.with_columns(rep_id=w.ids("rep", df["rep"].to_numpy(), off.n["rep"])).drop("rep")
    conv = {
        "quotas": {"period_start": w.dates, "period_end": w.dates},
        "trainings": {"completed_at": w.ts},
        "assessments": {"assessed_at": w.ts},
        "time_entries": {"date": w.dates},
    }[name]
    out = out.with_columns([f(out[c].to_numpy()).alias(c) for c, f in conv.items()])
    if name == "time_entries":
        out = out.with_columns(category=w.labels(TIME_CATEGORIES, out["category"].to_numpy()))
    return out
