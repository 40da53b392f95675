"""``truth.json``: what was planted, where, how strongly, and what eigyo should therefore report.

The diagnosis tests match findings on ``check`` and ``scope``; ``planted`` quotes the generator's
own parameters (from :class:`Plant`) so the truth cannot drift from the data. At larger scales the
template is repeated as sections (課), and every team- or rep-level problem is listed once per
section; segment- and source-level problems and the intervention are listed once.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from eigyo.demo import _writer as w
from eigyo.demo._config import (
    DWELL_MEDIAN,
    FIRST_MEETING_MEDIAN,
    INDUSTRY_WEIGHTS,
    RESPONSE_MEDIAN_MIN,
    SLIP_P,
    STAGE_P_NEW,
    TEAM_TYPES,
    TIME_SHARES,
    UNTOUCHED_P,
    Plant,
    team_name,
)
from eigyo.demo._org import seats_per_replica

INTERVENTION_ID = "INT-001"
INTERVENTION_NAME = "インサイドセールス導入"
INTERVENTION_TEXT = (
    "東京第二営業部をSDR(インサイドセールス)とクローザーに分業。SDRが問い合わせに即時対応し、"
    "商談化した案件をクローザーへ引き渡す。"
)


def _seat(flag: str) -> tuple[int, int]:
    """(team type index, seat index within a replica) of the first member with a flag."""
    seat = 0
    for ti, t in enumerate(TEAM_TYPES):
        seat += 1  # the manager
        for m in t.members:
            if getattr(m, flag):
                return ti, seat
            seat += 1
    raise ValueError(f"no member with {flag}")


def _team(key: str, replica: int, replicas: int) -> str:
    t = next(t for t in TEAM_TYPES if t.key == key)
    return team_name(t, replica, replicas)


def _rep(flag: str, replica: int) -> str:
    return w.ids("rep", [replica * seats_per_replica() + _seat(flag)[1]], 0)[0]  # type: ignore[no-any-return]


#: id number, step, metric and ja/en texts of each check; texts are ``str.format`` templates over
#: the scope (``{team}``, ``{rep_id}``), so the same declaration serves every section.
SPECS: dict[str, tuple[int, str, str, str, str]] = {
    "kpi_gap_by_team": (1, "measure", "win_rate", "{team}の受注率が他部門の約半分",
                        "{team} wins about half as often as other teams"),
    "stage_bottleneck": (2, "process", "stage_conversion",
                         "{team}では提案ステージで案件が滞留し、先へ進むのは約35%",
                         "In {team} only ~35% of deals get past 提案 (proposal), after ~3x longer"),
    "slippage_by_rep": (3, "process", "slippage_rate",
                        "{rep_id}は約70%の案件で完了予定日を何度も延期",
                        "{rep_id} pushes the expected close date on ~70% of deals, repeatedly"),
    "handoff_delay": (4, "specialization", "handoff_to_meeting_days",
                      "SDRからの引き渡し後、{rep_id}の初回商談まで約8日(他は約1.5日)",
                      "After an SDR hand-off {rep_id} takes ~8 days to meet (others ~1.5)"),
    "lead_response_sla": (5, "alignment", "lead_response_sla_rate",
                          "{team}のリード初回対応は中央値約5時間、SLA(60分)達成率は約20%",
                          "{team} answers leads in ~5 h (median); ~20% within the 60-min SLA"),
    "untouched_leads": (6, "alignment", "untouched_lead_rate",
                        "展示会リード(MQL)の約40%が一度も対応されていない",
                        "~40% of trade-show (展示会) MQLs never get a first response"),
    "untrained_new_reps": (7, "enablement", "win_rate",
                           "{team}の新人3名はオンボーディング研修未受講で、受注率が研修済み新人の約半分",
                           "{team}'s 3 new reps skipped onboarding and win half as often"),
    "underserved_segment": (8, "data", "win_rate",
                            "製造業は受注率が約50%と高いのに、商談の約6%しかない",
                            "製造業 (manufacturing) wins ~50% vs ~27% yet gets ~6% of deals"),
    "stale_deals": (9, "data", "stale_open_deals",
                    "{team}に60日以上活動のない未完了案件が多数(完了予定日も未入力)",
                    "{team} holds many open deals untouched for 60+ days, with no close date"),
    "admin_time": (10, "organization", "admin_time_share", "{team}は業務時間の約45%が事務作業",
                   "{team} spends ~45% of its hours on admin"),
    "intervention_effect": (11, "monitor", "lead_response_minutes",
                            "インサイドセールス導入後、対応時間が短縮し商談化率・受注率が向上",
                            "After inside sales started, leads are answered faster and won more"),
}  # fmt: skip

Found = tuple[dict[str, str], dict[str, Any]]  # (scope, planted parameters)


def _problem(
    check: str, scope: dict[str, str], planted: dict[str, Any], sfx: str
) -> dict[str, Any]:
    num, step, metric, ja, en = SPECS[check]
    return {
        "id": f"P{num:02d}{sfx}",
        "step": step,
        "check": check,
        "metric": metric,
        "scope": scope,
        "description": {"ja": ja.format(**scope), "en": en.format(**scope)},
        "planted": planted,
    }


def _deal_problems(p: Plant, r: int, n: int) -> dict[str, Found]:
    """Problems 1–4: how one section's deals are won, moved and handed over."""
    osaka, nagoya = _team("osaka", r, n), _team("nagoya", r, n)
    return {
        "kpi_gap_by_team": ({"team": osaka}, {
            "win_rate_multiplier": p.osaka_win_mult, "expected_win_rate": 0.15, "others": 0.30,
            "spread": "evenly over all five open stages (no single-stage bottleneck)"}),
        "stage_bottleneck": ({"team": nagoya, "stage": "提案"}, {
            "stage_p": list(p.nagoya_stage_p or STAGE_P_NEW), "baseline_stage_p": list(STAGE_P_NEW),
            "dwell_multiplier": p.nagoya_dwell_mult, "baseline_dwell_days": DWELL_MEDIAN[3],
            "note": "earlier stages pass more often: the team's win rate stays ~normal"}),
        "slippage_by_rep": ({"rep_id": _rep("slipper", r)}, {
            "slip_p": p.slip_rep_p, "baseline_slip_p": SLIP_P, "pushes": [2, 4]}),
        "handoff_delay": ({"rep_id": _rep("slow_handoff", r)}, {
            "from": p.inside_sales_from.isoformat(), "median_business_days": p.slow_handoff_median,
            "baseline_business_days": FIRST_MEETING_MEDIAN,
            "win_rate_multiplier": p.slow_handoff_win_mult}),
    }  # fmt: skip


def _team_problems(p: Plant, r: int, n: int) -> dict[str, Found]:
    """Problems 5, 7, 9, 10: one section's team habits."""
    fukuoka = _team("fukuoka", r, n)
    return {
        "lead_response_sla": ({"team": _team("tokyo1", r, n)}, {
            "median_minutes": p.tokyo1_response_median, "sigma": p.tokyo1_response_sigma,
            "baseline_median_minutes": RESPONSE_MEDIAN_MIN, "expected_sla_rate": 0.2,
            "others": 0.75}),
        "untrained_new_reps": ({"team": fukuoka}, {
            "untrained_reps": 3, "win_rate_multiplier": p.untrained_win_mult,
            "hired": ["2025-04-01", "2025-05-07", "2025-06-02"],
            "also_visible_as": {"check": "kpi_gap_by_team", "team": fukuoka}}),
        "stale_deals": ({"team": _team("osaka", r, n)}, {
            "abandon_p": p.osaka_zombie_p, "baseline_abandon_p": p.base_zombie_p,
            "quiet_days_at_least": 75, "expected_close_date": "empty"}),
        "admin_time": ({"team": _team("nagoya", r, n)}, {
            "admin_share": p.nagoya_admin_share, "baseline_admin_share": TIME_SHARES[1]}),
    }  # fmt: skip


def _per_team(p: Plant, r: int, n: int) -> list[dict[str, Any]]:
    """Problems that live in one section's team or rep (repeated per section)."""
    sfx = "" if n == 1 else f"-{r + 1:03d}"
    found = {**_deal_problems(p, r, n), **_team_problems(p, r, n)}
    return [_problem(check, scope, planted, sfx) for check, (scope, planted) in found.items()]


def _global(p: Plant, n: int) -> list[dict[str, Any]]:
    """Problems 6, 8 and 11: a lead source, an industry and the intervention, listed once."""
    teams = ",".join(_team("tokyo2", r, n) for r in range(n))
    found: dict[str, Found] = {
        "untouched_leads": ({"source": "展示会"}, {
            "untouched_p": p.trade_show_untouched_p, "baseline_untouched_p": UNTOUCHED_P}),
        "underserved_segment": ({"industry": "製造業"}, {
            "win_rate_multiplier": p.manufacturing_win_mult, "share": INDUSTRY_WEIGHTS[0]}),
        "intervention_effect": ({"intervention_id": INTERVENTION_ID}, {
            "expected": "worked", "started_at": f"{p.inside_sales_from.isoformat()}T09:00:00",
            "teams": teams, "metrics": ["lead_response_minutes", "lead_conversion_rate"],
            "response_median_minutes": {"before": RESPONSE_MEDIAN_MIN,
                                        "after": p.sdr_response_median},
            "sql_multiplier": p.sdr_sql_mult, "win_rate_multiplier": p.sdr_win_mult}),
    }  # fmt: skip
    return [_problem(check, scope, planted, "") for check, (scope, planted) in found.items()]


def problems(p: Plant, clean: bool, replicas: int) -> list[dict[str, Any]]:
    """Every planted problem, ordered by id; empty for a clean company."""
    if clean:
        return []
    out = [x for r in range(replicas) for x in _per_team(p, r, replicas)] + _global(p, replicas)
    return sorted(out, key=lambda x: (SPECS[x["check"]][0], str(x["id"])))


def interventions(p: Plant, replicas: int) -> list[dict[str, str]]:
    """The intervention rows (none for a clean company)."""
    if not p.intervention:
        return []
    scope = ",".join(_team("tokyo2", r, replicas) for r in range(replicas))
    return [
        {
            "intervention_id": INTERVENTION_ID,
            "name": INTERVENTION_NAME,
            "started_at": f"{p.inside_sales_from.isoformat()}T09:00:00",
            "scope": scope,
            "description": INTERVENTION_TEXT,
        }
    ]


def document(
    company: str,
    seed: int,
    scale: str,
    clean: bool,
    p: Plant,
    replicas: int,
    start: date,
    end: date,
) -> dict[str, Any]:
    return {
        "company": company,
        "seed": seed,
        "scale": scale,
        "clean": clean,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "problems": problems(p, clean, replicas),
    }
