"""Declarations of the deal and quota metrics (outcome and pipeline).

Definitions of the contract metrics repeat docs/metrics.md ("Metric definitions that tests rely
on", rendered from ``contract.md``);
change one only together with that table and its test.
"""

from __future__ import annotations

from eigyo.metrics._model import OPPORTUNITY_DIMS, REP_ONLY_DIMS, Category, Direction, Metric, Unit

DAY = 86400.0
MINUTE = 60.0

#: Deals count as won or lost in P by their close timestamp: without any, "0 won" would be a lie.
CLOSED = "opportunities.closed_at"
#: Money metrics add up amounts: an export without any amount gives "unknown", not ¥0.
AMOUNT = "opportunities.amount"
#: The first expected close date comes from the change log or the deal itself.
CLOSE_DATE = "opportunities.expected_close_date | opportunity_changes.field=expected_close_date"


def declare(
    id: str,
    unit: Unit,
    better: Direction,
    category: Category,
    kind: str,
    dims: tuple[str, ...],
    label: tuple[str, str],
    definition: tuple[str, str],
    *,
    needs: tuple[str, ...] = (),
    empty: str | None = None,
    drill: str | None = None,
    **params: str | float,
) -> Metric:
    """One metric: texts as (ja, en) pairs, the data it needs (``needs``, see
    :mod:`eigyo.metrics._needs`), the population its drill-down lists when the kind has no
    ``where`` (``drill``), then the kind's parameters by name."""
    return Metric(
        id=id,
        label_ja=label[0],
        label_en=label[1],
        definition_ja=definition[0],
        definition_en=definition[1],
        unit=unit,
        better=better,
        category=category,
        kind=kind,
        params=params,
        dims=dims,
        needs=needs,
        empty=empty,
        drill=drill,
    )


# fmt: off
SALES_METRICS: tuple[Metric, ...] = (
    declare(
        "bookings", "yen", "higher", "outcome", "sum", OPPORTUNITY_DIMS,
        ("受注金額", "Bookings"),
        ("期間内に受注した商談の金額合計。", "Sum of amount of opportunities won in P."),
        where="won_in_p", value="amount",
        needs=(CLOSED, AMOUNT),
    ),
    declare(
        "won_deals", "count", "higher", "outcome", "count", OPPORTUNITY_DIMS,
        ("受注件数", "Won deals"),
        ("期間内に受注した商談の件数。", "Count of opportunities won in P."),
        where="won_in_p",
        needs=(CLOSED,),
    ),
    declare(
        "lost_deals", "count", "lower", "outcome", "count", OPPORTUNITY_DIMS,
        ("失注件数", "Lost deals"),
        ("期間内に失注した商談の件数。", "Count of opportunities lost in P."),
        where="lost_in_p",
        needs=(CLOSED,),
    ),
    declare(
        "win_rate", "ratio", "higher", "outcome", "ratio", OPPORTUNITY_DIMS,
        ("受注率", "Win rate"),
        (
            "期間内にクローズした商談のうち、受注 ÷（受注 + 失注）。",
            "won / (won + lost), among opportunities closed in P.",
        ),
        where="closed_in_p", condition="won",
        needs=(CLOSED,),
    ),
    declare(
        "win_rate_by_value", "ratio", "higher", "outcome", "ratio", OPPORTUNITY_DIMS,
        ("金額ベース受注率", "Win rate by value"),
        (
            "期間内にクローズした商談の金額のうち、受注した商談の金額の割合。",
            "Amount won ÷ amount won or lost, among opportunities closed in P.",
        ),
        where="closed_in_p", condition="won", weight="amount",
        needs=(CLOSED, AMOUNT), empty="closed_amount_in_p",
    ),
    declare(
        "avg_deal_size", "yen", "higher", "outcome", "mean", OPPORTUNITY_DIMS,
        ("平均受注単価", "Average deal size"),
        ("期間内に受注した商談の金額の平均。", "Mean amount of opportunities won in P."),
        where="won_in_p", value="amount",
        needs=(CLOSED, AMOUNT),
    ),
    declare(
        "sales_cycle_days", "days", "lower", "process", "quantile_duration", OPPORTUNITY_DIMS,
        ("営業サイクル（中央値）", "Sales cycle (median)"),
        (
            "期間内に受注した商談の、作成からクローズまでの日数（小数）の中央値。",
            "Median of (closed_at − created_at) in fractional days, opportunities won in P.",
        ),
        where="won_in_p", start="created_at", end="closed_at", per=DAY,
        needs=(CLOSED,),
    ),
    declare(
        "pipeline_velocity", "yen/day", "higher", "process", "pipeline_velocity",
        OPPORTUNITY_DIMS,
        ("パイプライン速度", "Pipeline velocity"),
        (
            "期間内に作成された商談数 × 受注率 × 平均受注単価 ÷ 期間内に受注した商談の"
            "サイクル日数の平均（1日あたりの円）。",
            "Opportunities created in P × win_rate × avg_deal_size ÷ mean cycle days of "
            "opportunities won in P (yen per day).",
        ),
        start="created_at", end="closed_at", per=DAY,
        needs=(CLOSED, AMOUNT), empty="closed_in_p", drill="won_in_p",
    ),
    declare(
        "avg_revenue_per_rep", "yen", "higher", "outcome", "per_quota_rep", REP_ONLY_DIMS,
        ("営業1人あたり受注金額", "Bookings per rep"),
        (
            "受注金額 ÷ 期間と重なる目標（クォータ）を持つ営業の人数。",
            "bookings ÷ number of reps with a quota overlapping P.",
        ),
        where="won_in_p", value="amount",
        needs=("quotas", CLOSED, AMOUNT), empty="quota_reps",
    ),
    declare(
        "quota_attainment_rate", "ratio", "higher", "outcome", "quota_attainment", REP_ONLY_DIMS,
        ("目標達成者率", "Quota attainment rate"),
        (
            "期間と重なる目標を持つ営業のうち、期間内の受注金額が期間に按分した目標"
            "（重なる日数で按分、両端日を含む）に達した人の割合。",
            "Share of reps with a quota overlapping P whose bookings in P reach their quota "
            "pro-rated to P by overlapping days (both end dates included).",
        ),
        needs=("quotas", CLOSED, AMOUNT), empty="quota_reps",
    ),
    declare(
        "opportunities_created", "count", "higher", "process", "count", OPPORTUNITY_DIMS,
        ("商談創出件数", "Opportunities created"),
        ("期間内に作成された商談の件数。", "Count of opportunities created in P."),
        where="opportunities_created_in_p",
    ),
    declare(
        "slippage_rate", "ratio", "lower", "process", "slippage", OPPORTUNITY_DIMS,
        ("完了予定日の遅延率", "Slippage rate"),
        (
            "最初の完了予定日（最も古い変更履歴の変更前の値、履歴がなければ現在の値）が期間内に"
            "ある商談のうち、その日までにクローズしなかった割合。",
            "Among opportunities whose first expected_close_date (the old_value of its earliest "
            "change, else the current value) falls in P, the share not closed on or before "
            "that date.",
        ),
        needs=(CLOSE_DATE,), empty="due_in_p",
    ),
    declare(
        "pipeline_coverage", "ratio", "higher", "process", "pipeline_coverage", REP_ONLY_DIMS,
        ("パイプラインカバレッジ", "Pipeline coverage"),
        (
            "期間開始時点でオープン（開始前に作成、開始前にクローズしていない）で、開始時点の"
            "完了予定日（変更履歴から復元）が期間内にある商談の金額合計 ÷ 期間の目標"
            "（按分後）。",
            "Amount of opportunities open at the start of P (created before it, not closed "
            "before it) whose expected_close_date as it stood at the start of P (rebuilt from "
            "opportunity_changes) falls in P ÷ quota for P (pro-rated).",
        ),
        needs=("quotas", CLOSE_DATE, AMOUNT), empty="quota_reps",
    ),
)
# fmt: on
