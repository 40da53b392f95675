"""``eigyo alignment``, ``eigyo enablement`` and ``eigyo time``: steps 4, 5 and the time half of 7.

Thin: each command calls the analyses, then prints Rich tables (ja/en) or one JSON document
whose sections are the analyses' frames as lists of rows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import polars as pl
import typer
from rich.table import Table

from eigyo.analysis import alignment as al
from eigyo.analysis import alignment_value as av
from eigyo.analysis import enablement as en
from eigyo.analysis import enablement_skills as es
from eigyo.analysis import time_use as tu
from eigyo.cli._app import (
    FormatOpt,
    LangOpt,
    WorkspaceOpt,
    app,
    check_format,
    console,
    emit_json,
    lang_of,
    open_required_period,
)
from eigyo.i18n import t

PeriodOpt = Annotated[str, typer.Option("--period", "-p", help="2025-04, 2025-Q1, FY2025 …")]
ByOpt = Annotated[str, typer.Option("--by", help="Grouping (team, rep_id, source …).")]
PCT = {"rate", "share", "sla_rate", "won_rate", "untouched_rate", "connect_rate"}


def _cell(col: str, v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        if col in PCT or col.endswith("_share"):
            return f"{v:.1%}"
        return f"¥{v:,.0f}" if col.endswith("jpy") or col.startswith("cost") else f"{v:,.1f}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def _table(df: pl.DataFrame, cols: list[str], title: str, lang: str) -> None:
    if df.is_empty():
        console.print(t("people.title.empty", lang))
        return
    tb = Table(title=title)
    for c in cols:
        tb.add_column(
            t(f"people.col.{c}", lang), justify="left" if df[c].dtype == pl.String else "right"
        )
    for row in df.select(cols).iter_rows():
        tb.add_row(*[_cell(c, v) for c, v in zip(cols, row, strict=True)])
    console.print(tb)


def _json(sections: dict[str, Any], period: str) -> None:
    doc: dict[str, Any] = {"period": period}
    for k, v in sections.items():
        doc[k] = v.to_dicts() if isinstance(v, pl.DataFrame) else v
    emit_json(doc)


@app.command("alignment")
def alignment_cmd(
    period: PeriodOpt,
    workspace: WorkspaceOpt = Path("."),
    by: ByOpt = "source",
    costs: Annotated[
        Path | None, typer.Option("--costs", help="Campaign costs CSV (campaign|source, cost).")
    ] = None,
    fmt: FormatOpt = "text",
    lang: LangOpt = "ja",
) -> None:
    """Sales–marketing alignment: lead funnel, response time and SLA, speed vs conversion, ¥."""
    check_format(fmt)
    lang = lang_of(lang)
    ws, p = open_required_period(workspace, period)
    cost_file = costs or (ws.path / av.COSTS_FILE)
    cost_df = av.load_costs(cost_file) if cost_file.exists() else None
    with ws:
        out: dict[str, Any] = {
            "overall": al.response_overall(ws, p),
            "funnel": al.funnel(ws, p, by),
            "response_by_team": al.response_times(ws, p, "team"),
            "response_by_source": al.response_times(ws, p, "source"),
            "response_by_arrival": al.response_times(ws, p, "business_hours"),
            "response_curve": av.response_curve(ws, p).to_json(),
            "value": av.source_value(
                ws, p, by if by in ("source", "campaign") else "source", cost_df
            ),
            "disqualifications": al.disqualifications(ws, p, "source"),
        }
        sla = ws.settings.lead_sla_minutes
    if fmt == "json":
        _json(out, period)
        return
    o = out["overall"]
    console.print(
        t("people.title.overall", lang, mql=f"{o['mql']:,}", median=_cell("m", o["median_minutes"]),
          sla=_cell("sla_rate", o["sla_rate"]), outside=f"{o['outside_hours']:,}")
    )  # fmt: skip
    cols = ["mql", "sql", "opportunity", "won", "won_rate", "pipeline_jpy", "won_jpy"]
    _table(
        out["funnel"],
        [by, *cols],
        t("people.title.funnel", lang, by=t(f"people.col.{by}", lang)),
        lang,
    )
    rcols = ["mql", "median_minutes", "p90_minutes", "sla_rate", "untouched", "untouched_rate"]
    for key in ("team", "source"):
        title = t("people.title.response", lang, by=t(f"people.col.{key}", lang), sla=f"{sla:g}")
        _table(out[f"response_by_{key}"], [key, *rcols], title, lang)
    _print_curve(out["response_curve"], lang)
    vby = "campaign" if by == "campaign" else "source"
    vcols = [vby, "pipeline_jpy", "won_jpy", "cost", "cost_per_lead", "cost_per_won"]
    _table(out["value"], vcols, t("people.title.value", lang), lang)


def _print_curve(c: dict[str, Any], lang: str) -> None:
    unanswered = t("people.col.untouched", lang)
    df = pl.DataFrame(c["bins"]).with_columns(pl.col("bin").replace(av.UNANSWERED, unanswered))
    title = t("people.title.curve", lang, outcome=t(f"people.outcome.{c['outcome']}", lang))
    _table(df, ["bin", "n", "rate"], title, lang)
    console.print(
        t("people.title.curve_verdict", lang, verdict=t(f"people.verdict.{c['verdict']}", lang),
          r1=_cell("rate", c["within_sla_rate"]), r2=_cell("rate", c["beyond_sla_rate"]),
          effect=_cell("rate", c["effect"]),
          p="—" if c["p_value"] is None else f"{c['p_value']:.3g}")
    )  # fmt: skip


@app.command("enablement")
def enablement_cmd(
    period: PeriodOpt,
    workspace: WorkspaceOpt = Path("."),
    fmt: FormatOpt = "text",
    lang: LangOpt = "ja",
) -> None:
    """Enablement: new-rep ramp, onboarding, training effect (DiD), skill gaps, coaching list."""
    check_format(fmt)
    lang = lang_of(lang)
    ws, p = open_required_period(workspace, period)
    with ws:
        out: dict[str, Any] = {
            "ramp": en.ramp_curves(ws, p),
            "new_hires": en.new_hires(ws, p),
            "onboarding": en.onboarding_comparison(ws, p),
            "training_effect": es.training_effect(ws, p),
            "capability_gaps": es.capability_gaps(ws, p),
            "coaching": es.coaching_priorities(ws, p),
        }
    if fmt == "json":
        _json(out, period)
        return
    hcols = ["rep_id", "team", "hire_date", "onboarded", "ratio", "first_deal_days"]
    _table(
        out["new_hires"],
        [*hcols, "months_to_productivity"],
        t("people.title.new_hires", lang),
        lang,
    )
    ob = out["onboarding"]
    console.print(
        t("people.title.onboarding", lang, verdict=t(f"people.verdict.{ob['verdict']}", lang),
          r1=_cell("rate", ob["onboarded_win_rate"]), r0=_cell("rate", ob["untrained_win_rate"]))
    )  # fmt: skip
    tr = out["training_effect"].with_columns(
        verdict=pl.col("verdict").map_elements(lambda v: t(f"people.verdict.{v}", lang), pl.String)
    )
    _table(
        tr,
        ["program", "treated_reps", "effect", "q_value", "verdict"],
        t("people.title.training", lang),
        lang,
    )
    ccols = ["rep_id", "team", "gap_points", "first_capability", "at_stake_jpy"]
    _table(out["coaching"].head(10), ccols, t("people.title.coaching", lang), lang)


@app.command("time")
def time_cmd(
    period: PeriodOpt,
    workspace: WorkspaceOpt = Path("."),
    by: ByOpt = "team",
    fmt: FormatOpt = "text",
    lang: LangOpt = "ja",
) -> None:
    """Time use: selling / admin shares, time per win, best call windows, reclaimable ¥."""
    check_format(fmt)
    lang = lang_of(lang)
    ws, p = open_required_period(workspace, period)
    with ws:
        out: dict[str, Any] = {
            "shares": tu.time_shares(ws, p, by),
            "trend": tu.time_trend(ws, p, "team"),
            "efficiency": tu.efficiency(ws, p, by),
            "call_windows": tu.call_windows(ws, p, "window"),
            "reclaimable": tu.reclaimable_time(ws, p, by),
        }
    if fmt == "json":
        _json(out, period)
        return
    keys = ["rep_id", "team"] if by == "rep_id" else ["team"]
    scols = ["selling_share", "admin_share", "other_share"]
    _table(
        out["shares"],
        [*keys, *scols],
        t("people.title.shares", lang, by=t(f"people.col.{by}", lang)),
        lang,
    )
    ecols = ["selling_hours_per_won", "activities_per_won", "revenue_per_selling_hour"]
    _table(out["efficiency"], [*keys, *ecols], t("people.title.efficiency", lang), lang)
    _print_best(out["call_windows"], lang)
    rc = out["reclaimable"]
    target = f"{ws.settings.targets.get('admin_time_share', 0.25):.0%}"
    _table(
        rc,
        [*keys, "excess_admin_hours", "reclaimable_jpy"],
        t("people.title.reclaim", lang, target=target),
        lang,
    )
    console.print(
        t("people.title.reclaim_total", lang, hours=f"{rc['excess_admin_hours'].sum():,.0f}",
          jpy=f"{rc['reclaimable_jpy'].sum():,.0f}")
    )  # fmt: skip


def _print_best(df: pl.DataFrame, lang: str) -> None:
    best = df.filter(pl.col("best") == 1) if df.height else df
    if best.is_empty():
        console.print(t("people.title.no_best_calls", lang))
        return
    from eigyo.analysis.people_stats import WEEKDAYS

    windows = ", ".join(
        f"{t(f'people.weekday.{WEEKDAYS[d]}', lang)} {h}:00 ({r:.0%})"
        for d, h, r in best.select("weekday", "hour", "connect_rate").iter_rows()
    )
    console.print(t("people.title.best_calls", lang, windows=windows))
