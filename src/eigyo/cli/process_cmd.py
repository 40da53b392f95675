"""``eigyo process``: the process map of stage history (stages, transitions, variants)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from eigyo.analysis.availability import check, unavailable
from eigyo.analysis.process.bottleneck import bottlenecks
from eigyo.analysis.process.dwell import stuck_deals, time_in_stage
from eigyo.analysis.process.funnel import check_dimension, funnel, leakage
from eigyo.analysis.process.pipeline import end_of, pipeline_by_stage, waterfall
from eigyo.analysis.process.process_map import ProcessMap, process_map
from eigyo.analysis.process.rework import move_summary, skipped_stages
from eigyo.analysis.process.slippage import pushes
from eigyo.base.currency import DEFAULT_CURRENCY, money, unit_label
from eigyo.base.periods import Period, parse_period
from eigyo.cli._app import (
    FormatOpt,
    LangOpt,
    WorkspaceOpt,
    app,
    check_format,
    console,
    emit_json,
    lang_of,
    open_period,
    parse_day,
)
from eigyo.cli._unavailable import say_not_available, say_section, sections_json
from eigyo.i18n import t
from eigyo.workspace import Workspace

PeriodOpt = Annotated[
    str | None,
    typer.Option("--period", "-p", help="Opportunities created in: 2025-04, 2025-Q1, FY2025…"),
]
TOP_TRANSITIONS = 20


def days(v: float | None) -> str:
    return "—" if v is None else f"{v:,.1f}"


@app.command("process")
def process_cmd(
    workspace: WorkspaceOpt = Path("."),
    period: PeriodOpt = None,
    top: Annotated[int, typer.Option("--variants", help="How many variants to list.")] = 10,
    fmt: FormatOpt = "text",
    lang: LangOpt = "ja",
) -> None:
    """Process map: stage entries, transitions with median days, and the top variants."""
    check_format(fmt)
    lang = lang_of(lang)
    ws, p = open_period(workspace, period)
    with ws:
        if na := check(ws, "process"):
            say_not_available(na, fmt, lang, period=period)
            return
        pm = process_map(ws, p, top_variants=top)
    if fmt == "json":
        emit_json(pm.to_json())
        return
    _print(pm, lang)


def _print(pm: ProcessMap, lang: str) -> None:
    if not pm.stages:
        console.print(t("process.cli.empty", lang))
        return
    st = Table(title=t("process.cli.stages_title", lang, n=f"{pm.opportunities:,}"))
    for key in ("stage", "entered", "deals", "median", "p90"):
        st.add_column(
            t(f"process.cli.col_{key}", lang), justify="left" if key == "stage" else "right"
        )
    for s in pm.stages:
        st.add_row(s.stage, f"{s.entered:,}", f"{s.deals:,}", days(s.median_days), days(s.p90_days))
    console.print(st)
    tt = Table(title=t("process.cli.transitions_title", lang, n=TOP_TRANSITIONS))
    for key in ("from", "to", "count", "median"):
        tt.add_column(
            t(f"process.cli.col_{key}", lang),
            justify="right" if key in ("count", "median") else "left",
        )
    for tr in pm.transitions[:TOP_TRANSITIONS]:
        tt.add_row(tr.source, tr.target, f"{tr.count:,}", days(tr.median_days))
    console.print(tt)
    vt = Table(title=t("process.cli.variants_title", lang))
    for key in ("path", "count", "share", "median"):
        vt.add_column(
            t(f"process.cli.col_{key}", lang), justify="left" if key == "path" else "right"
        )
    for v in pm.variants:
        vt.add_row(" → ".join(v.stages), f"{v.count:,}", f"{v.share:.1%}", days(v.median_days))
    console.print(vt)


def _table(title: str, heads: list[str], rows: list[list[str]]) -> None:
    """One Rich table: first column left-aligned, numbers right-aligned."""
    tb = Table(title=title)
    for i, h in enumerate(heads):
        tb.add_column(h, justify="left" if i == 0 else "right")
    for r in rows:
        tb.add_row(*r)
    console.print(tb)


def _c(key: str, lang: str, cur: str = DEFAULT_CURRENCY) -> str:
    """A column header; those that name the currency (``Lost $``) get the workspace's."""
    return t(f"process.cli.col_{key}", lang, currency=unit_label(cur, lang))


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v:.1%}"


def _yen(v: float | None, cur: str = DEFAULT_CURRENCY) -> str:
    """An amount in the workspace currency ``cur`` (the name stays from when it was yen only)."""
    return "—" if v is None else money(v, cur)


@app.command("funnel")
def funnel_cmd(
    period: Annotated[
        str, typer.Option("--period", "-p", help="Cohort: opportunities created in P.")
    ],
    workspace: WorkspaceOpt = Path("."),
    by: Annotated[
        str | None,
        typer.Option("--by", help="team, rep_id, source, industry, region, product, type."),
    ] = None,
    fmt: FormatOpt = "text",
    lang: LangOpt = "ja",
) -> None:
    """Cohort funnel, leakage (count, amount, lost reasons), time in stage, bottlenecks, rework."""
    check_format(fmt)
    lang = lang_of(lang)
    ws, p = open_period(workspace, period)
    assert p is not None
    by = check_dimension(by)
    with ws:
        if na := check(ws, "funnel"):
            say_not_available(na, fmt, lang, period=period, by=by)
            return
        doc = step2_report(ws, p, by)
        cur = ws.settings.currency
    if fmt == "json":  # lost_jpy / impact_jpy are amounts in ``currency``
        emit_json({"period": period, "currency": cur, **doc})
        return
    _print_funnel(doc, lang, cur)


def step2_report(ws: Workspace, p: Period, by: str | None) -> dict[str, Any]:
    """Everything ``eigyo funnel`` shows, as plain JSON-ready data."""
    f = funnel(ws, p, by)
    return {
        "by": by,
        "created": f.created,
        "funnel": [asdict(s) for s in f.steps],
        "leakage": [asdict(x) for x in leakage(ws, p, by)],
        "time_in_stage": [asdict(d) for d in time_in_stage(ws, p, by)],
        "bottlenecks": [asdict(b) for b in bottlenecks(ws, p)],
        "rework": {"moves": move_summary(ws, p), "skipped": skipped_stages(ws, p)},
    }


def _print_funnel(doc: dict[str, Any], lang: str, cur: str = DEFAULT_CURRENCY) -> None:
    _table(
        t("process.cli.funnel_title", lang, by=doc["by"] or "—"),
        [
            _c("group", lang),
            _c("stage", lang),
            _c("reached", lang),
            _c("next", lang),
            _c("cumulative", lang),
        ],
        [
            [
                s["group"],
                s["stage"],
                f"{s['reached']:,}",
                _pct(s["next_rate"]),
                _pct(s["cumulative"]),
            ]
            for s in doc["funnel"]
        ],
    )
    _table(
        t("process.cli.leak_title", lang),
        [
            _c("group", lang),
            _c("stage", lang),
            _c("lost", lang),
            _c("lost_jpy", lang, cur),
            _c("reasons", lang),
        ],
        [
            [
                x["group"],
                x["stage"],
                f"{x['lost']:,}",
                _yen(x["lost_jpy"], cur),
                ", ".join(f"{k} {v}" for k, v in list(x["reasons"].items())[:3]),
            ]
            for x in doc["leakage"]
        ],
    )
    _table(
        t("process.cli.dwell_title", lang),
        [
            _c("group", lang),
            _c("stage", lang),
            _c("count", lang),
            _c("median", lang),
            _c("p90", lang),
        ],
        [
            [d["group"], d["stage"], f"{d['stays']:,}", days(d["median_days"]), days(d["p90_days"])]
            for d in doc["time_in_stage"]
        ],
    )
    _table(
        t("process.cli.bottleneck_title", lang, currency=unit_label(cur, lang)),
        [
            _c("stage", lang),
            _c("conversion", lang),
            _c("median", lang),
            _c("baseline", lang),
            _c("impact", lang),
        ],
        [
            [
                ("★ " if b["top"] else "") + b["stage"],
                _pct(b["conversion"]),
                days(b["dwell_days"]),
                t(f"process.baseline.{b['basis']}", lang) if b["basis"] else "—",
                _yen(b["impact_jpy"], cur),
            ]
            for b in doc["bottlenecks"]
        ],
    )


@app.command("pipeline")
def pipeline_cmd(
    as_of: Annotated[str, typer.Option("--as-of", help="Day (YYYY-MM-DD): pipeline at its end.")],
    workspace: WorkspaceOpt = Path("."),
    since: Annotated[
        str | None, typer.Option("--from", help="Waterfall from this day to --as-of.")
    ] = None,
    window: Annotated[
        str | None, typer.Option("--window", help="Only deals expected to close in this period.")
    ] = None,
    period: PeriodOpt = None,
    fmt: FormatOpt = "text",
    lang: LangOpt = "ja",
) -> None:
    """Pipeline as of a day, its change waterfall, stuck deals, close-date pushes in a period."""
    check_format(fmt)
    lang = lang_of(lang)
    ws, p = open_period(workspace, period)
    day, start = parse_day(as_of, "--as-of"), parse_day(since, "--from") if since else None
    with ws:
        win = parse_period(window, ws.settings.fiscal_year_start_month) if window else None
        wanted = ["pipeline", "pipeline.stuck"] + (["pipeline.slippage"] if p else [])
        missing = unavailable(ws, wanted)
        if na := missing.pop("pipeline", None):
            say_not_available(na, fmt, lang, as_of=day.isoformat())
            return
        doc: dict[str, Any] = {
            "as_of": day.isoformat(),
            "by_stage": pipeline_by_stage(ws, day, win),
            "stuck": None if "pipeline.stuck" in missing else stuck_deals(ws, end_of(day)),
        }
        if start is not None:
            doc["waterfall"] = waterfall(ws, start, day, win).to_json()
        if p is not None and "pipeline.slippage" not in missing:
            doc["slippage"] = {"rep_id": pushes(ws, p, "rep_id"), "team": pushes(ws, p, "team")}
        cur = ws.settings.currency
    if fmt == "json":  # every amount is in ``currency``
        emit_json({**doc, "currency": cur, **sections_json(missing, lang)})
        return
    _print_pipeline(doc, lang, cur)
    for key, na in missing.items():
        say_section(na, key.split(".", 1)[1], lang)


def _print_pipeline(doc: dict[str, Any], lang: str, cur: str = DEFAULT_CURRENCY) -> None:
    _table(
        t("process.cli.pipeline_title", lang, as_of=doc["as_of"]),
        [_c("stage", lang), _c("deals", lang), _c("amount", lang)],
        [[r["stage"], f"{r['deals']:,}", _yen(r["amount"], cur)] for r in doc["by_stage"]],
    )
    if "waterfall" in doc:
        w = doc["waterfall"]
        rows = [
            [
                t("process.waterfall.start", lang),
                f"{w['start']['deals']:,}",
                _yen(w["start"]["amount"], cur),
            ]
        ]
        rows += [
            [t(f"process.waterfall.{s['step']}", lang), f"{s['deals']:,}", _yen(s["amount"], cur)]
            for s in w["steps"]
        ]
        rows.append(
            [
                t("process.waterfall.end", lang),
                f"{w['end']['deals']:,}",
                _yen(w["end"]["amount"], cur),
            ]
        )
        _table(
            t("process.cli.waterfall_title", lang, start=w["start_day"], end=w["end_day"]),
            [_c("item", lang), _c("deals", lang), _c("amount", lang)],
            rows,
        )
    if doc["stuck"] is not None:
        _table(
            t("process.cli.stuck_title", lang, as_of=doc["as_of"]),
            [
                _c("opportunity", lang),
                _c("rep", lang),
                _c("stage", lang),
                _c("days", lang),
                _c("p90", lang),
                _c("amount", lang),
            ],
            [
                [
                    s["opportunity_id"],
                    s["rep_id"],
                    s["stage"],
                    days(s["days_in_stage"]),
                    days(s["p90_days"]),
                    _yen(s["amount"], cur),
                ]
                for s in doc["stuck"][:30]
            ],
        )
    if "slippage" in doc:
        _table(
            t("process.cli.slippage_title", lang),
            [_c("rep", lang), _c("pushes", lang), _c("pushed_days", lang), _c("pushed_jpy", lang)],
            [
                [
                    r["rep_id"],
                    f"{r['pushes']:,}",
                    days(r["days_pushed"]),
                    _yen(r["amount_pushed"], cur),
                ]
                for r in doc["slippage"]["rep_id"][:20]
            ],
        )
