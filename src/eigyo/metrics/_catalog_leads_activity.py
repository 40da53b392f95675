"""Declarations of the lead, activity, time-use and customer metrics.

Definitions of the contract metrics repeat docs/metrics.md ("Metric definitions that tests rely
on", rendered from ``contract.md``);
change one only together with that table and its test.
"""

from __future__ import annotations

from typing import TypedDict

from eigyo.metrics._catalog_sales import CLOSED, MINUTE, declare
from eigyo.metrics._model import (
    ACCOUNT_DIMS,
    ACCOUNT_ONLY_DIMS,
    ACTIVITY_DIMS,
    LEAD_DIMS,
    ORDER_DIMS,
    REP_ONLY_DIMS,
    Metric,
)


class _Response(TypedDict):
    """The response metrics' shared parameters (typed, so ``**`` cannot hide a ``needs``)."""

    where: str
    start: str
    end: str
    per: float


_RESPONSE: _Response = {
    "where": "answered_mql_leads_created_in_p",
    "start": "mql_at",
    "end": "first_response_at",
    "per": MINUTE,
}
#: Response metrics: MQL times and first responses. Without any first response every lead
#: would count as "missed", a 0% SLA that is really "not recorded".
_ANSWERED = ("leads.mql_at", "leads.first_response_at")
#: A lead reaches its opportunity through either link.
_LEAD_LINK = "leads.opportunity_id | opportunities.lead_id"


def _per_rep_day(activity: str, ja: str, en: str) -> Metric:
    return declare(
        f"{activity}s_per_rep_day", "per_day", "higher", "activity", "per_rep_day",
        REP_ONLY_DIMS,
        (f"1人1営業日あたり{ja}数", f"{en} per rep-day"),
        (
            f"期間内の{ja}数 ÷（期間内に{ja}または工数記録のある営業の人数 × 期間の営業日数）。"
            "営業日は月〜金から日本の祝日を除いた日。",
            f"{en} in P ÷ (reps with {en.lower()} or time entries in P × business days in P); "
            "business days are Monday to Friday less Japan's national holidays.",
        ),
        activity=activity, needs=(f"activities.type={activity}",), empty="active_reps",
        drill="calls_in_p" if activity == "call" else "activities_in_p",
    )  # fmt: skip


# fmt: off
LEAD_METRICS: tuple[Metric, ...] = (
    declare(
        "lead_response_minutes", "minutes", "lower", "process", "quantile_duration", LEAD_DIMS,
        ("リード初回対応時間（中央値）", "Lead response time (median)"),
        (
            "期間内に作成され MQL 日時があり対応済みのリードについて、MQL から初回対応までの"
            "分数の中央値。",
            "Median minutes from mql_at to first_response_at, leads created in P with mql_at "
            "that were answered.",
        ),
        **_RESPONSE,
        needs=_ANSWERED,
    ),
    declare(
        "lead_response_p90_minutes", "minutes", "lower", "process", "quantile_duration",
        LEAD_DIMS,
        ("リード初回対応時間（90パーセンタイル）", "Lead response time (p90)"),
        (
            "期間内に作成され MQL 日時があり対応済みのリードについて、MQL から初回対応までの"
            "分数の90パーセンタイル（線形補間）。",
            "90th percentile (interpolated) of minutes from mql_at to first_response_at, leads "
            "created in P with mql_at that were answered.",
        ),
        q=0.9, **_RESPONSE,
        needs=_ANSWERED,
    ),
    declare(
        "lead_response_sla_rate", "ratio", "higher", "process", "ratio", LEAD_DIMS,
        ("リード SLA 内対応率", "Lead response within SLA"),
        (
            "期間内に作成され MQL 日時があるリードのうち、MQL から SLA（eigyo.toml、既定60分）"
            "以内に対応した割合。未対応は SLA 未達として数える。",
            "Among leads created in P with mql_at, the share answered within the SLA after "
            "mql_at (eigyo.toml, default 60 minutes); unanswered count as missed.",
        ),
        where="mql_leads_created_in_p", condition="within_sla",
        needs=_ANSWERED,
    ),
    declare(
        "untouched_lead_rate", "ratio", "lower", "process", "ratio", LEAD_DIMS,
        ("未対応リード率", "Untouched lead rate"),
        (
            "期間内に作成され MQL 日時があるリードのうち、まだ一度も対応（first_response_at）"
            "していないものの割合。",
            "Among leads created in P with mql_at, the share never answered (no "
            "first_response_at).",
        ),
        where="mql_leads_created_in_p", condition="untouched",
        needs=_ANSWERED,
    ),
    declare(
        "mql_to_sql_rate", "ratio", "higher", "process", "ratio", LEAD_DIMS,
        ("MQL→SQL 転換率", "MQL to SQL rate"),
        (
            "期間内に作成され MQL 日時があるリードのうち、SQL 日時があるものの割合。",
            "Among leads created in P with mql_at, the share with sql_at.",
        ),
        where="mql_leads_created_in_p", condition="has_sql",
        needs=("leads.mql_at", "leads.sql_at"),
    ),
    declare(
        "lead_conversion_rate", "ratio", "higher", "process", "cohort_conversion", LEAD_DIMS,
        ("リード受注転換率", "Lead conversion rate"),
        (
            "期間内に作成されたリードのうち、その商談（leads.opportunity_id、または lead_id が"
            "そのリードの商談）が現時点で受注しているものの割合。",
            "Leads created in P whose opportunity (leads.opportunity_id, or one whose lead_id "
            "is the lead) is won by now ÷ leads created in P.",
        ),
        where="leads_created_in_p", reach="won",
        needs=("leads", _LEAD_LINK),
    ),
    declare(
        "lead_to_opportunity_rate", "ratio", "higher", "process", "cohort_conversion",
        LEAD_DIMS,
        ("リード商談化率", "Lead to opportunity rate"),
        (
            "期間内に作成されたリードのうち、商談（leads.opportunity_id、または lead_id が"
            "そのリードの商談）があるものの割合。",
            "Leads created in P that have an opportunity (leads.opportunity_id, or one whose "
            "lead_id is the lead) ÷ leads created in P.",
        ),
        where="leads_created_in_p", reach="any",
        needs=("leads", _LEAD_LINK),
    ),
)

ACTIVITY_METRICS: tuple[Metric, ...] = (
    _per_rep_day("call", "架電", "Calls"),
    _per_rep_day("email", "メール", "Emails"),
    _per_rep_day("meeting", "商談（面談）", "Meetings"),
    declare(
        "call_connect_rate", "ratio", "higher", "activity", "ratio", ACTIVITY_DIMS,
        ("架電接続率", "Call connect rate"),
        (
            "期間内の架電のうち、結果が connected（接続）のものの割合。",
            "Calls in P with outcome connected ÷ calls in P.",
        ),
        where="calls_in_p", condition="connected",
        needs=("activities.type=call", "activities.outcome"),
    ),
    declare(
        "activities_per_won_deal", "count", "lower", "activity", "ratio_of",
        (*REP_ONLY_DIMS, *ACCOUNT_DIMS),
        ("受注1件あたり活動数", "Activities per won deal"),
        (
            "期間内の活動数（全種類）÷ 期間内の受注件数。",
            "Activities of every type in P ÷ opportunities won in P.",
        ),
        num_where="activities_in_p", den_where="won_in_p",
        needs=("activities", CLOSED), drill="activities_in_p",
    ),
    declare(
        "admin_time_share", "ratio", "lower", "activity", "ratio", REP_ONLY_DIMS,
        ("事務作業時間の割合", "Admin time share"),
        (
            "期間内の工数記録で、事務（admin）の時間 ÷ 全時間。",
            "Admin hours ÷ all hours, time entries in P.",
        ),
        where="time_entries_in_p", condition="admin", weight="hours",
        needs=("time_entries",),
    ),
    declare(
        "selling_time_share", "ratio", "higher", "activity", "ratio", REP_ONLY_DIMS,
        ("営業活動時間の割合", "Selling time share"),
        (
            "期間内の工数記録で、営業活動（selling）の時間 ÷ 全時間。",
            "Selling hours ÷ all hours, time entries in P.",
        ),
        where="time_entries_in_p", condition="selling", weight="hours",
        needs=("time_entries",),
    ),
    declare(
        "selling_hours", "hours", "higher", "activity", "sum", REP_ONLY_DIMS,
        ("営業活動時間（営業キャパシティ）", "Selling hours (sales capacity)"),
        (
            "期間内の工数記録で、営業活動（selling）の時間の合計。",
            "Sum of selling hours, time entries in P.",
        ),
        where="selling_time_entries_in_p", value="hours",
        needs=("time_entries",),
    ),
    declare(
        "selling_hours_per_win", "hours", "lower", "activity", "ratio_of", REP_ONLY_DIMS,
        ("受注1件あたり営業時間", "Selling hours per win"),
        (
            "期間内の工数記録の営業活動（selling）時間 ÷ 期間内の受注件数。",
            "Selling hours of time entries in P ÷ opportunities won in P.",
        ),
        num_where="selling_time_entries_in_p", num_value="hours", den_where="won_in_p",
        needs=("time_entries", CLOSED), drill="selling_time_entries_in_p",
    ),
)

CUSTOMER_METRICS: tuple[Metric, ...] = (
    declare(
        "order_revenue", "yen", "higher", "customer", "sum", ORDER_DIMS,
        ("注文売上", "Order revenue"),
        ("期間内の注文の金額合計。", "Sum of amount of orders placed in P."),
        where="orders_in_p", value="amount",
        needs=("orders",),
    ),
    declare(
        "nrr", "ratio", "higher", "customer", "nrr", ACCOUNT_ONLY_DIMS,
        ("売上継続率（NRR）", "Net revenue retention (NRR)"),
        (
            "直前の同じ長さの期間に注文があった顧客の、期間内の注文売上 ÷ 直前期間の注文売上。",
            "Order revenue in P from accounts that ordered in the same-length period just "
            "before P ÷ their revenue in that earlier period.",
        ),
        needs=("orders",), empty="prior_orders", drill="orders_in_p",
    ),
    declare(
        "repeat_customer_rate", "ratio", "higher", "customer", "repeat_customers",
        ACCOUNT_ONLY_DIMS,
        ("リピート顧客率", "Repeat customer rate"),
        (
            "期間末までに2回以上注文した顧客数 ÷ 1回以上注文した顧客数。",
            "Accounts with two or more orders up to the end of P ÷ accounts with at least one.",
        ),
        needs=("orders",), empty="orders_to_date", drill="orders_in_p",
    ),
    declare(
        "churned_accounts", "count", "lower", "customer", "churned_accounts",
        ACCOUNT_ONLY_DIMS,
        ("離反顧客数", "Churned accounts"),
        (
            "直前の同じ長さの期間に注文があり、期間内に注文がない顧客の数。",
            "Accounts that ordered in the same-length period just before P and not in P.",
        ),
        needs=("orders",),
    ),
)
# fmt: on
