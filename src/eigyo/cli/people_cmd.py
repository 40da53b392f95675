"""``eigyo alignment``, ``eigyo enablement`` and ``eigyo time``: steps 4, 5 and the time half of 7.

Thin: each command calls the analyses, then prints Rich tables (ja/en) or one JSON document
whose sections are the analyses' frames as lists of rows.
"""

# No ``from __future__ import annotations`` here: Typer reads the commands' annotations on every
# start-up, and string annotations would make it compile and evaluate each twice (issue 20);
# types imported only for checking are written in quotes.

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from eigyo.base.currency import DEFAULT_CURRENCY, unit_label
from eigyo.base.formatting import count, is_missing, money, number, p_value, percent
from eigyo.base.vocabulary import DASH
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
from eigyo.cli._unavailable import say_not_available, say_section
from eigyo.i18n import t

if TYPE_CHECKING:  # the analyses (Polars, DuckDB) load when a command runs, never for --help
    import polars as pl

    from eigyo.analysis.document import StepDocument

PeriodOpt = Annotated[str, typer.Option("--period", "-p", help="2025-04, 2025-Q1, FY2025 …")]
ByOpt = Annotated[str, typer.Option("--by", help="Grouping (team, rep_id, source …).")]
PCT = {"rate", "share", "sla_rate", "won_rate", "untouched_rate", "connect_rate"}


def _cell(col: str, v: Any, cur: str = DEFAULT_CURRENCY) -> str:
    """One table cell; amounts (``*_jpy``, ``cost*`` columns) in the workspace currency ``cur``,
    whatever the column's name says (``_jpy`` names are kept for the JSON readers)."""
    if is_missing(v):
        return DASH
    if isinstance(v, float):
        if col in PCT or col.endswith("_share"):
            return percent(v)
        return money(v, cur) if col.endswith("jpy") or col.startswith("cost") else number(v, 1)
    return count(v) if isinstance(v, int) else str(v)


def _table(
    df: "pl.DataFrame", cols: list[str], title: str, lang: str, cur: str = DEFAULT_CURRENCY
) -> None:
    """A Rich table of ``cols``; headers that name the currency (``Won $``) get ``cur``'s."""
    import polars as pl

    if df.is_empty():
        console.print(t("people.title.empty", lang))
        return
    tb = Table(title=title)
    for c in cols:
        tb.add_column(
            t(f"people.col.{c}", lang, currency=unit_label(cur, lang)),
            justify="left" if df[c].dtype == pl.String else "right",
        )
    for row in df.select(cols).iter_rows():
        tb.add_row(*[_cell(c, v, cur) for c, v in zip(cols, row, strict=True)])
    console.print(tb)


def _said(doc: "StepDocument", fmt: str, lang: str) -> bool:
    """Print the document when it is all there is to print: "not available: needs X" (line or
    JSON), or the JSON document itself; ``currency`` in it says what the ``*_jpy`` amounts are
    in (the key names stay as readers know them, the amounts are in the workspace currency)."""
    if doc.not_available is not None:
        say_not_available(doc.not_available, fmt, lang, **doc.context)
        return True
    if fmt == "json":
        emit_json(doc.to_json(lang))
        return True
    return False


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
    """Sales–marketing alignment: lead funnel, response time and SLA, speed vs conversion, value."""
    from eigyo.analysis.alignment import lead_value as av
    from eigyo.analysis.alignment.document import alignment_document

    check_format(fmt)
    lang = lang_of(lang)
    ws, p = open_required_period(workspace, period, lang)
    cost_file = costs or (ws.path / av.COSTS_FILE)
    cost_df = av.load_costs(cost_file) if cost_file.exists() else None
    with ws:
        out = alignment_document(ws, p, period, by, cost_df)
        sla = ws.settings.lead_sla_minutes
        cur = ws.settings.currency
    if _said(out, fmt, lang):
        return
    missing = out.missing
    answered = "alignment.response" not in missing
    o = out["overall"]
    outside = count(o["outside_hours"])
    console.print(
        t("people.title.overall", lang, mql=count(o["mql"] or 0),
          median=_cell("m", o["median_minutes"]), sla=_cell("sla_rate", o["sla_rate"]),
          outside=outside)
    )  # fmt: skip
    cols = ["mql", "sql", "opportunity", "won", "won_rate", "pipeline_jpy", "won_jpy"]
    _table(
        out["funnel"],
        [by, *cols],
        t("people.title.funnel", lang, by=t(f"people.col.{by}", lang)),
        lang,
        cur,
    )
    rcols = ["mql", "median_minutes", "p90_minutes", "sla_rate", "untouched", "untouched_rate"]
    if answered:
        for key in ("team", "source"):
            title = t(
                "people.title.response", lang, by=t(f"people.col.{key}", lang), sla=f"{sla:g}"
            )
            _table(out[f"response_by_{key}"], [key, *rcols], title, lang)
        _print_curve(out["response_curve"], lang)
    vby = "campaign" if by == "campaign" else "source"
    vcols = [vby, "pipeline_jpy", "won_jpy", "cost", "cost_per_lead", "cost_per_won"]
    _table(out["value"], vcols, t("people.title.value", lang), lang, cur)
    for key, na in missing.items():
        say_section(na, key.split(".", 1)[1], lang)


def _print_curve(c: dict[str, Any], lang: str) -> None:
    import polars as pl

    from eigyo.analysis.alignment import lead_value as av

    unanswered = t("people.col.untouched", lang)
    df = pl.DataFrame(c["bins"]).with_columns(pl.col("bin").replace(av.UNANSWERED, unanswered))
    title = t("people.title.curve", lang, outcome=t(f"people.outcome.{c['outcome']}", lang))
    _table(df, ["bin", "n", "rate"], title, lang)
    console.print(
        t("people.title.curve_verdict", lang, verdict=t(f"people.verdict.{c['verdict']}", lang),
          r1=_cell("rate", c["within_sla_rate"]), r2=_cell("rate", c["beyond_sla_rate"]),
          effect=_cell("rate", c["effect"]),
          p=p_value(c["p_value"]))
    )  # fmt: skip


@app.command("enablement")
def enablement_cmd(
    period: PeriodOpt,
    workspace: WorkspaceOpt = Path("."),
    fmt: FormatOpt = "text",
    lang: LangOpt = "ja",
) -> None:
    """Enablement: new-rep ramp, onboarding, training effect (DiD), skill gaps, coaching list."""
    import polars as pl

    from eigyo.analysis.enablement.document import enablement_document

    check_format(fmt)
    lang = lang_of(lang)
    ws, p = open_required_period(workspace, period, lang)
    with ws:
        out = enablement_document(ws, p, period)
        cur = ws.settings.currency
    if _said(out, fmt, lang):
        return
    missing = out.missing
    trained = "enablement.training" not in missing
    assessed = "enablement.capability" not in missing
    hcols = ["rep_id", "team", "hire_date", "onboarded", "ratio", "first_deal_days"]
    _table(
        out["new_hires"],
        [*hcols, "months_to_productivity"],
        t("people.title.new_hires", lang),
        lang,
    )
    if trained:
        ob = out["onboarding"]
        console.print(
            t("people.title.onboarding", lang, verdict=t(f"people.verdict.{ob['verdict']}", lang),
              r1=_cell("rate", ob["onboarded_win_rate"]),
              r0=_cell("rate", ob["untrained_win_rate"]))
        )  # fmt: skip
        tr = out["training_effect"].with_columns(
            verdict=pl.col("verdict").map_elements(
                lambda v: t(f"people.verdict.{v}", lang), pl.String
            )
        )
        _table(
            tr,
            ["program", "treated_reps", "effect", "q_value", "verdict"],
            t("people.title.training", lang),
            lang,
            cur,
        )
    if assessed:
        ccols = ["rep_id", "team", "gap_points", "first_capability", "at_stake_jpy"]
        _table(out["coaching"].head(10), ccols, t("people.title.coaching", lang), lang, cur)
    for key, na in missing.items():
        say_section(na, key.split(".", 1)[1], lang)


@app.command("time")
def time_cmd(
    period: PeriodOpt,
    workspace: WorkspaceOpt = Path("."),
    by: ByOpt = "team",
    fmt: FormatOpt = "text",
    lang: LangOpt = "ja",
) -> None:
    """Time use: selling / admin shares, time per win, best call windows, reclaimable bookings."""
    from eigyo.analysis.organization.document import time_document

    check_format(fmt)
    lang = lang_of(lang)
    ws, p = open_required_period(workspace, period, lang)
    with ws:
        out = time_document(ws, p, period, by)
        cur = ws.settings.currency
        admin_target = ws.settings.targets.get("admin_time_share", 0.25)
    if _said(out, fmt, lang):
        return
    missing = out.missing
    logged = "time.shares" not in missing
    keys = ["rep_id", "team"] if by == "rep_id" else ["team"]
    scols = ["selling_share", "admin_share", "other_share"]
    if logged:
        _table(
            out["shares"],
            [*keys, *scols],
            t("people.title.shares", lang, by=t(f"people.col.{by}", lang)),
            lang,
        )
    ecols = ["selling_hours_per_won", "activities_per_won", "revenue_per_selling_hour"]
    _table(out["efficiency"], [*keys, *ecols], t("people.title.efficiency", lang), lang)
    if out["call_windows"] is not None:
        _print_best(out["call_windows"], lang)
    if logged:
        rc = out["reclaimable"]
        target = percent(admin_target, 0)
        _table(
            rc,
            [*keys, "excess_admin_hours", "reclaimable_jpy"],
            t("people.title.reclaim", lang, target=target),
            lang,
            cur,
        )
        console.print(
            t("people.title.reclaim_total", lang, hours=number(rc["excess_admin_hours"].sum(), 0),
              amount=money(rc["reclaimable_jpy"].sum(), cur))
        )  # fmt: skip
    for key, na in missing.items():
        say_section(na, key.split(".", 1)[1], lang)


def _print_best(df: "pl.DataFrame", lang: str) -> None:
    import polars as pl

    best = df.filter(pl.col("best") == 1) if df.height else df
    if best.is_empty():
        console.print(t("people.title.no_best_calls", lang))
        return
    from eigyo.base.vocabulary import WEEKDAYS

    windows = ", ".join(
        f"{t(f'people.weekday.{WEEKDAYS[d]}', lang)} {h}:00 ({percent(r, 0)})"
        for d, h, r in best.select("weekday", "hour", "connect_rate").iter_rows()
    )
    console.print(t("people.title.best_calls", lang, windows=windows))
