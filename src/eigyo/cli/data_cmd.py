"""Step 6 commands (search the data): ``ltv``, ``segments``, ``winprob``, ``forecast``, ``icp``,
``customers``. Each parses its options, calls :mod:`eigyo.analysis` and renders a Rich table in
ja/en or one JSON document; ``eigyo ltv --format json`` is the contract in docs/cli-json.md."""

# No ``from __future__ import annotations`` here: Typer reads the commands' annotations on every
# start-up, and string annotations would make it compile and evaluate each twice (issue 20);
# types imported only for checking are written in quotes.

from collections.abc import Callable
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
    parse_day,
)
from eigyo.cli._unavailable import say_not_available
from eigyo.i18n import t

if TYPE_CHECKING:  # the models (scikit-learn, SciPy, Polars) load when a command runs, not --help
    from eigyo.analysis.document import StepDocument
    from eigyo.workspace import Workspace


def _run_or_say(
    workspace: Path, fmt: str, lang: str, build: "Callable[[Workspace], StepDocument]"
) -> dict[str, Any] | None:
    """Open the workspace read-only, build the step document (:mod:`eigyo.analysis.data.
    document`), close: the commands never hold it open. The document as JSON-ready data, or
    None after saying "not available: needs X" (one line or one JSON document, exit 0)."""
    from eigyo.workspace import open_workspace

    ws = open_workspace(workspace, read_only=True)
    try:
        doc = build(ws)
    finally:
        ws.close()
    if doc.not_available is not None:
        say_not_available(doc.not_available, fmt, lang, **doc.context)
        return None
    return doc.to_json(lang)


def table(title: str, heads: list[str], rows: list[list[str]]) -> None:
    """One Rich table: first column left-aligned, the rest (numbers) right-aligned."""
    tb = Table(title=title)
    for i, h in enumerate(heads):
        tb.add_column(h, justify="left" if i == 0 else "right")
    for r in rows:
        tb.add_row(*r)
    console.print(tb)


UnitOpt = Annotated[str, typer.Option("--unit", help="Time unit of the fit: week or day.")]


@app.command("ltv")
def ltv_cmd(
    until: Annotated[str, typer.Option("--until", help="Fit on orders up to this day.")],
    workspace: WorkspaceOpt = Path("."),
    unit: UnitOpt = "week",
    months: Annotated[int, typer.Option("--months", help="CLV horizon in months.")] = 12,
    rate: Annotated[float, typer.Option("--discount", help="Annual discount rate.")] = 0.10,
    top: Annotated[int, typer.Option("--top", help="Accounts to list.")] = 20,
    fmt: FormatOpt = "text",
    lang: LangOpt = "ja",
) -> None:
    """Customer value: BG/NBD + Gamma-Gamma, discounted CLV per account, cohort LTV and NRR."""
    from eigyo.analysis.data import clv
    from eigyo.analysis.data.document import ltv_document

    check_format(fmt)
    lang = lang_of(lang)
    if unit not in clv.UNIT_DAYS:
        raise typer.BadParameter(f"must be week or day; got {unit!r}", param_hint="--unit")
    day = parse_day(until, "--until")
    doc = _run_or_say(
        workspace, fmt, lang, lambda ws: ltv_document(ws, day, unit, months, rate, top, lang)
    )
    if doc is None:
        return
    if fmt == "json":
        emit_json(doc)
        return
    _print_ltv(doc, lang)


def _print_ltv(doc: dict[str, Any], lang: str) -> None:
    cur = doc.get("currency", DEFAULT_CURRENCY)
    params = [("BG/NBD", k, v) for k, v in doc["bg_nbd"].items()]
    params += [("Gamma-Gamma", k, v) for k, v in doc["gamma_gamma"].items()]
    table(
        t("data.ltv.fit_title", lang, until=doc["until"], unit=doc["unit"]),
        [t("data.ltv.col_param", lang), t("data.ltv.col_value", lang)],
        [[f"{m} {k}", number(v, 4)] for m, k, v in params],
    )
    f = doc["fit"]
    console.print(t("data.ltv.customers", lang, n=f["customers"], k=f["repeat_customers"]))
    table(
        t("data.ltv.top_title", lang, months=doc["horizon_months"],
          rate=doc["annual_discount_rate"]),
        [t(f"data.ltv.col_{k}", lang) for k in
         ("account", "frequency", "p_alive", "expected", "value_each", "clv")],
        [[a["account_id"], str(a["frequency"]), percent(a["p_alive"]),
          number(a["expected_purchases"], 2), money(a["expected_order_value"], cur),
          money(a["clv"], cur)] for a in doc["accounts"]],
    )  # fmt: skip
    tot = doc["totals"]
    console.print(
        t("data.ltv.total", lang, clv=money(tot["clv"], cur), n=tot["expected_purchases"])
    )
    table(
        t("data.ltv.cohort_title", lang),
        [t(f"data.ltv.col_{k}", lang) for k in
         ("cohort", "accounts", "simple_ltv", "repeat", "nrr")],
        [[c["cohort"], count(c["accounts"]), money(c["simple_ltv"], cur), percent(c["repeat_rate"]),
          percent(c["nrr"])] for c in doc["cohorts"]],
    )  # fmt: skip


@app.command("segments")
def segments_cmd(
    period: Annotated[
        str, typer.Option("--period", "-p", help="Deals closed in: FY2025, 2025-Q1…")
    ],
    workspace: WorkspaceOpt = Path("."),
    by: Annotated[
        list[str] | None, typer.Option("--by", help="Dimension (repeatable; default all).")
    ] = None,
    fmt: FormatOpt = "text",
    lang: LangOpt = "ja",
) -> None:
    """Win rate (Wilson 95%), cycle, deal size and velocity per segment, BH-flagged."""
    from eigyo.analysis.data import segments
    from eigyo.analysis.data.document import segments_document

    check_format(fmt)
    lang = lang_of(lang)
    dims = tuple(by) if by else segments.DIMENSIONS

    doc = _run_or_say(workspace, fmt, lang, lambda ws: segments_document(ws, period, dims, lang))
    if doc is None:
        return
    if fmt == "json":
        emit_json(doc)
        return
    cols = ("dimension", "value", "closed", "win_rate", "interval", "cycle", "size", "velocity",
            "verdict")  # fmt: skip
    cur = doc.get("currency", DEFAULT_CURRENCY)
    table(
        t("data.segments.title", lang, period=doc["period"], rate=percent(doc["win_rate"]),
          n=doc["closed"]),
        [t(f"data.segments.col_{c}", lang, currency=unit_label(cur, lang)) for c in cols],
        [[s["dimension"], s["value"], count(s["closed"]), percent(s["win_rate"]),
          f"{percent(s['low'], 0)}–{percent(s['high'], 0)}", number(s["median_cycle_days"], 1),
          money(s["avg_deal_size"], cur), money(s["velocity_jpy_per_day"], cur),
          t(f"data.segments.{s['verdict']}", lang)] for s in doc["segments"]],
    )  # fmt: skip
    console.print(t("data.segments.note", lang, n=doc["min_deals"]))


AsOfOpt = Annotated[str, typer.Option("--as-of", help="Day (YYYY-MM-DD): what was known then.")]
BacktestOpt = Annotated[bool, typer.Option("--backtest", help="Also run the time-split backtest.")]


@app.command("winprob")
def winprob_cmd(
    as_of: AsOfOpt,
    workspace: WorkspaceOpt = Path("."),
    backtest: BacktestOpt = False,
    top: Annotated[int, typer.Option("--top", help="Deals to list.")] = 30,
    fmt: FormatOpt = "text",
    lang: LangOpt = "ja",
) -> None:
    """Win probability of the deals open on --as-of, from what was known that day."""
    from eigyo.analysis.data.document import winprob_document

    check_format(fmt)
    lang = lang_of(lang)
    day = parse_day(as_of, "--as-of")

    doc = _run_or_say(workspace, fmt, lang, lambda ws: winprob_document(ws, day, backtest, lang))
    if doc is None:
        return
    if fmt == "json":
        emit_json(doc)
        return
    _print_winprob(doc, lang, top)


def _w(key: str, lang: str) -> str:
    return t(f"data.winprob.col_{key}", lang)


def _print_winprob(doc: dict[str, Any], lang: str, top: int) -> None:
    cur = doc.get("currency", DEFAULT_CURRENCY)
    if doc["status"] != "ok":
        console.print(t("data.common.not_enough", lang))
        if not doc["deals"] and "backtest" not in doc:
            return
    table(
        t("data.winprob.title", lang, as_of=doc["as_of"], train=doc["train"]),
        [_w(k, lang) for k in ("opportunity", "rep", "stage", "amount", "close", "p")],
        [[d["opportunity_id"], d["owner_rep_id"] or DASH, d["stage"], money(d["amount"], cur),
          str(d["expected_close_date"] or DASH), percent(d["p_win"])] for d in doc["deals"][:top]],
    )  # fmt: skip
    table(
        t("data.winprob.drivers_title", lang),
        [_w("feature", lang), _w("coef", lang)],
        [[d["feature"], f"{d['coefficient']:+.2f}"] for d in doc["drivers"]],
    )
    if "backtest" in doc:
        _print_backtest(doc["backtest"], lang)


def _print_backtest(bt: dict[str, Any], lang: str) -> None:
    table(
        t("data.winprob.backtest_title", lang),
        [_w(k, lang) for k in ("cutoff", "train", "test", "auc", "brier", "base_auc")],
        [[r["cutoff"], count(r["train"]), count(r["test"]), number(r["auc"], 3),
          number(r["brier"], 3), number(r["baseline_auc"], 3)] for r in bt["cutoffs"]],
    )  # fmt: skip
    p = bt["pooled"]
    if not p or p["auc"] is None:
        console.print(t("data.common.not_enough", lang))
        return
    console.print(
        t(
            "data.winprob.pooled",
            lang,
            auc=number(p["auc"], 3),
            brier=number(p["brier"], 3),
            bauc=number(p["baseline_auc"], 3),
            bbrier=number(p["baseline_brier"], 3),
            n=p["n"],
        )
    )
    table(
        t("data.winprob.calibration_title", lang),
        [_w(k, lang) for k in ("band", "test", "predicted", "observed")],
        [[f"{percent(c['low'], 0)}–{percent(c['high'], 0)}", count(c["n"]), percent(c["predicted"]),
          percent(c["observed"])] for c in bt["calibration"]],
    )  # fmt: skip


@app.command("forecast")
def forecast_cmd(
    period: Annotated[str, typer.Option("--period", "-p", help="Period to forecast: 2026-03…")],
    as_of: AsOfOpt,
    workspace: WorkspaceOpt = Path("."),
    backtest: BacktestOpt = False,
    fmt: FormatOpt = "text",
    lang: LangOpt = "ja",
) -> None:
    """Forecast = won so far + Σ p(win) × amount + run rate; coverage; monthly backtest."""
    from eigyo.analysis.data.document import forecast_document

    check_format(fmt)
    lang = lang_of(lang)
    day = parse_day(as_of, "--as-of")

    doc = _run_or_say(
        workspace, fmt, lang, lambda ws: forecast_document(ws, period, day, backtest, lang)
    )
    if doc is None:
        return
    if fmt == "json":
        emit_json(doc)
        return
    _print_forecast(doc, lang)


#: The forecast's amounts built on the open pipeline: not available where its yen is not.
PIPELINE_PARTS = ("pipeline", "expected_from_pipeline", "forecast")


def _forecast_money(doc: dict[str, Any], key: str, cur: str, lang: str) -> str:
    """One amount of the forecast: "not available (no amounts)" where every open deal of the
    period lacks an amount, "(no close dates)" where no open deal has one (the pipeline and what
    is built on it), never ¥0."""
    reason = doc.get("amount_reason")
    if doc[key] is None and reason and key in PIPELINE_PARTS:
        short = "no_amounts_short" if reason == "no_amounts" else "short"  # else no_close_dates
        return t(f"forecast.na.{short}", lang)
    return money(doc[key], cur)


def _print_forecast(doc: dict[str, Any], lang: str) -> None:
    cur = doc.get("currency", DEFAULT_CURRENCY)
    if doc["status"] != "ok":
        console.print(t("data.common.not_enough", lang))
    items = ("won_so_far", "expected_from_pipeline", "run_rate", "forecast", "pipeline", "quota")
    table(
        t("data.forecast.title", lang, period=doc["period"], as_of=doc["as_of"]),
        [t("data.forecast.col_item", lang), t("data.forecast.col_value", lang)],
        [[t(f"data.forecast.{k}", lang), _forecast_money(doc, k, cur, lang)] for k in items],
    )
    console.print(t("data.forecast.coverage", lang, c=number(doc["coverage"], 2),
                    r=number(doc["coverage_of_remaining"], 2)))  # fmt: skip
    if doc.get("amount_reason") == "no_close_dates":
        console.print(t("data.forecast.no_close_dates", lang, n=count(doc["undated_deals"])))
    elif doc.get("deals_without_amount"):
        console.print(t("data.forecast.without_amount", lang, n=count(doc["deals_without_amount"]),
                        deals=count(doc["open_deals"])))  # fmt: skip
    for key, na in doc.get("sections_not_available", {}).items():
        name = t(f"analysis_na.section_name.{key}", lang)
        console.print(t("analysis_na.section", lang, section=name, reason=na["text"]))
    if "backtest" not in doc:
        return
    bt = doc["backtest"]
    table(
        t("data.forecast.backtest_title", lang),
        [t(f"data.forecast.col_{k}", lang) for k in ("month", "actual", "forecast", "naive",
                                                     "error")],
        [[r["month"], money(r["actual"], cur), _forecast_money(r, "forecast", cur, lang),
          money(r["naive"], cur),
          percent((r["forecast"] - r["actual"]) / r["actual"])
          if r["actual"] and r["forecast"] is not None else DASH]
         for r in bt["months"]],
    )  # fmt: skip
    s = bt["summary"]
    if s["status"] != "ok":
        console.print(t("data.common.not_enough", lang))
        return
    console.print(t("data.forecast.summary", lang, acc=percent(s["accuracy"]),
                    mape=percent(s["mape"]), bias=percent(s["bias"]),
                    nacc=percent(s["naive_accuracy"]),
                    nmape=percent(s["naive_mape"]), n=s["months"]))  # fmt: skip


@app.command("icp")
def icp_cmd(
    workspace: WorkspaceOpt = Path("."),
    top: Annotated[int, typer.Option("--top", help="Prospects to list.")] = 20,
    fmt: FormatOpt = "text",
    lang: LangOpt = "ja",
) -> None:
    """ICP fit score validated on a later window, its drivers, and ROAD coverage classes."""
    from eigyo.analysis.data.document import icp_document

    check_format(fmt)
    lang = lang_of(lang)
    doc = _run_or_say(workspace, fmt, lang, lambda ws: icp_document(ws, top, lang))
    if doc is None:
        return
    if fmt == "json":
        emit_json(doc)
        return
    _print_icp(doc, lang)


def _i(key: str, lang: str) -> str:
    return t(f"data.icp.col_{key}", lang)


def _print_icp(doc: dict[str, Any], lang: str) -> None:
    v = doc["validation"]
    if doc["status"] != "ok" or v["status"] != "ok":
        console.print(t("data.common.not_enough", lang))
        if not doc["road"]:
            return
    else:
        console.print(t("data.icp.validation", lang, test=v["test"], auc=number(v["auc"], 3),
                        brier=number(v["brier"], 3), base=number(v["baseline_brier"], 3),
                        split=v["split_day"]))  # fmt: skip
    table(
        t("data.icp.coef_title", lang),
        [_i("feature", lang), _i("coef", lang)],
        [[c["feature"], f"{c['coefficient']:+.2f}"] for c in doc["coefficients"][:12]],
    )
    table(
        t("data.icp.importance_title", lang),
        [_i("feature", lang), _i("drop", lang)],
        [[c["feature"], number(c["auc_drop"], 3)] for c in v.get("permutation_importance", [])],
    )
    table(
        t("data.icp.road_title", lang),
        [_i(k, lang) for k in ("class", "accounts", "fit", "coverage")],
        [
            [
                t(f"data.road.{r['class']}", lang),
                count(r["accounts"]),
                percent(r["mean_fit"]),
                r["coverage"],
            ]
            for r in doc["road"]
        ],
    )
    table(
        t("data.icp.top_title", lang),
        [_i(k, lang) for k in ("account", "industry", "size", "region", "fit")],
        [[a["account_id"], a["industry"], a["size_band"], a["region"], percent(a["fit"])]
         for a in doc["accounts"]],
    )  # fmt: skip


@app.command("customers")
def customers_cmd(
    until: Annotated[str, typer.Option("--until", help="Orders up to this day.")],
    workspace: WorkspaceOpt = Path("."),
    fmt: FormatOpt = "text",
    lang: LangOpt = "ja",
) -> None:
    """Customer segments: RFM from orders, k-means with k chosen by silhouette."""
    from eigyo.analysis.data.document import customers_document

    check_format(fmt)
    lang = lang_of(lang)
    day = parse_day(until, "--until")
    doc = _run_or_say(workspace, fmt, lang, lambda ws: customers_document(ws, day, lang))
    if doc is None:
        return
    if fmt == "json":
        emit_json(doc)
        return
    if doc["status"] != "ok":
        console.print(t("data.common.not_enough", lang))
        return
    table(
        t("data.rfm.title", lang, k=doc["k"], until=doc["until"]),
        [t(f"data.rfm.col_{k}", lang) for k in ("segment", "customers", "share", "description")],
        [[s["label"], count(s["customers"]), percent(s["revenue_share"]), s["description"]]
         for s in doc["segments"]],
    )  # fmt: skip
