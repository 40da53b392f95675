"""``eigyo process``: the process map of stage history (stages, transitions, variants)."""

# No ``from __future__ import annotations`` here: Typer reads the commands' annotations on every
# start-up, and string annotations would make it compile and evaluate each twice (issue 20);
# types imported only for checking are written in quotes.

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from eigyo.base.currency import DEFAULT_CURRENCY, unit_label
from eigyo.base.formatting import count, money, number, percent
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
    open_period,
    parse_day,
)
from eigyo.cli._unavailable import say_not_available, say_section
from eigyo.i18n import t

if TYPE_CHECKING:  # the analysis (Polars, DuckDB) loads when a command runs, never for --help
    from eigyo.analysis.document import StepDocument
    from eigyo.analysis.process.process_map import ProcessMap

PeriodOpt = Annotated[
    str | None,
    typer.Option("--period", "-p", help="Opportunities created in: 2025-04, 2025-Q1, FY2025…"),
]
TOP_TRANSITIONS = 20
#: :data:`eigyo.analysis.process.document.TOP_VARIANTS`, the default of ``--variants``: stated
#: here so that the option's help needs no import of the analysis (tests/test_cli_startup.py).
TOP_VARIANTS = 10


@app.command("process")
def process_cmd(
    workspace: WorkspaceOpt = Path("."),
    period: PeriodOpt = None,
    top: Annotated[
        int, typer.Option("--variants", help="How many variants to list.")
    ] = TOP_VARIANTS,
    fmt: FormatOpt = "text",
    lang: LangOpt = "ja",
) -> None:
    """Process map: stage entries, transitions with median days, and the top variants."""
    from eigyo.analysis.process.document import process_document

    check_format(fmt)
    lang = lang_of(lang)
    ws, p = open_period(workspace, period, lang)
    with ws:
        doc = process_document(ws, p, period, top)
    if _said_not_available(doc, fmt, lang):
        return
    if fmt == "json":
        emit_json(doc.to_json(lang))
        return
    _print(doc.source, lang)


def _said_not_available(doc: "StepDocument", fmt: str, lang: str) -> bool:
    """Print the document's "not available: needs X" (line or JSON) when it has one."""
    if doc.not_available is None:
        return False
    say_not_available(doc.not_available, fmt, lang, **doc.context)
    return True


def _print(pm: "ProcessMap", lang: str) -> None:
    if not pm.stages:
        console.print(t("process.cli.empty", lang))
        return
    st = Table(title=t("process.cli.stages_title", lang, n=count(pm.opportunities)))
    for key in ("stage", "entered", "deals", "median", "p90"):
        st.add_column(
            t(f"process.cli.col_{key}", lang), justify="left" if key == "stage" else "right"
        )
    for s in pm.stages:
        st.add_row(
            s.stage,
            count(s.entered),
            count(s.deals),
            number(s.median_days, 1),
            number(s.p90_days, 1),
        )
    console.print(st)
    tt = Table(title=t("process.cli.transitions_title", lang, n=TOP_TRANSITIONS))
    for key in ("from", "to", "count", "median"):
        tt.add_column(
            t(f"process.cli.col_{key}", lang),
            justify="right" if key in ("count", "median") else "left",
        )
    for tr in pm.transitions[:TOP_TRANSITIONS]:
        tt.add_row(tr.source, tr.target, count(tr.count), number(tr.median_days, 1))
    console.print(tt)
    vt = Table(title=t("process.cli.variants_title", lang))
    for key in ("path", "count", "share", "median"):
        vt.add_column(
            t(f"process.cli.col_{key}", lang), justify="left" if key == "path" else "right"
        )
    for v in pm.variants:
        vt.add_row(" → ".join(v.stages), count(v.count), percent(v.share), number(v.median_days, 1))
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
    from eigyo.analysis.process.document import funnel_document
    from eigyo.analysis.process.funnel import check_dimension

    check_format(fmt)
    lang = lang_of(lang)
    ws, p = open_period(workspace, period, lang)
    assert p is not None
    by = check_dimension(by)
    with ws:
        doc = funnel_document(ws, p, period, by)
        cur = ws.settings.currency
    if _said_not_available(doc, fmt, lang):
        return
    if fmt == "json":  # lost_jpy / impact_jpy are amounts in ``currency``
        emit_json(doc.to_json(lang))
        return
    _print_funnel(doc, lang, cur)


def _print_funnel(doc: "StepDocument", lang: str, cur: str = DEFAULT_CURRENCY) -> None:
    _table(
        t("process.cli.funnel_title", lang, by=doc["by"] or DASH),
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
                count(s["reached"]),
                percent(s["next_rate"]),
                percent(s["cumulative"]),
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
                count(x["lost"]),
                money(x["lost_jpy"], cur),
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
            [
                d["group"],
                d["stage"],
                count(d["stays"]),
                number(d["median_days"], 1),
                number(d["p90_days"], 1),
            ]
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
                percent(b["conversion"]),
                number(b["dwell_days"], 1),
                t(f"process.baseline.{b['basis']}", lang) if b["basis"] else DASH,
                money(b["impact_jpy"], cur),
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
    from eigyo.analysis.process.document import pipeline_document
    from eigyo.cli._period import noted_period

    check_format(fmt)
    lang = lang_of(lang)
    ws, p = open_period(workspace, period, lang)
    day, start = parse_day(as_of, "--as-of"), parse_day(since, "--from") if since else None
    with ws:
        win = noted_period(ws, window, lang) if window else None
        doc = pipeline_document(ws, day, start, win, p)
        cur = ws.settings.currency
    if _said_not_available(doc, fmt, lang):
        return
    if fmt == "json":  # every amount is in ``currency``
        emit_json(doc.to_json(lang))
        return
    _print_pipeline(doc.sections, lang, cur)
    for key, na in doc.missing.items():
        say_section(na, key.split(".", 1)[1], lang)


def _amount_cells(r: dict[str, Any], lang: str, cur: str) -> list[str]:
    """Deals, yen and deals without an amount of one pipeline row: the yen "not available"
    where every deal lacks an amount (never ¥0)."""
    amount = t("process.cli.no_amounts", lang) if r["amount"] is None else money(r["amount"], cur)
    return [count(r["deals"]), amount, count(r.get("deals_without_amount", 0))]


def _print_pipeline(doc: dict[str, Any], lang: str, cur: str = DEFAULT_CURRENCY) -> None:
    heads = [_c("deals", lang), _c("amount", lang), _c("without_amount", lang)]
    _table(
        t("process.cli.pipeline_title", lang, as_of=doc["as_of"]),
        [_c("stage", lang), *heads],
        [[r["stage"], *_amount_cells(r, lang, cur)] for r in doc["by_stage"]],
    )
    if "waterfall" in doc:
        w = doc["waterfall"]
        rows = [[t("process.waterfall.start", lang), *_amount_cells(w["start"], lang, cur)]]
        rows += [
            [t(f"process.waterfall.{s['step']}", lang), *_amount_cells(s, lang, cur)]
            for s in w["steps"]
        ]
        rows.append([t("process.waterfall.end", lang), *_amount_cells(w["end"], lang, cur)])
        _table(
            t("process.cli.waterfall_title", lang, start=w["start_day"], end=w["end_day"]),
            [_c("item", lang), *heads],
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
                    number(s["days_in_stage"], 1),
                    number(s["p90_days"], 1),
                    money(s["amount"], cur),
                ]
                for s in doc["stuck"][:30]
            ],
        )
    if "slippage" in doc:
        cols = ("rep", "pushes", "pushed_days", "pushed_jpy", "without_amount")
        _table(
            t("process.cli.slippage_title", lang),
            [_c(h, lang) for h in cols],
            [
                [r["rep_id"], count(r["pushes"]), number(r["days_pushed"], 1),
                 *_amount_cells({**r, "deals": r["deals_pushed"], "amount": r["amount_pushed"]},
                                lang, cur)[1:]]
                for r in doc["slippage"]["rep_id"][:20]
            ],
        )  # fmt: skip
