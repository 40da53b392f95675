"""``eigyo simulate`` (organization what-ifs) and ``eigyo skills`` (the skill matrix).

Thin: parse the options, call :mod:`eigyo.simulate` or
:mod:`eigyo.analysis.specialization.skills`, render.
``--format json`` prints the document of docs/cli-json.md; replications show a progress bar.
"""

# No ``from __future__ import annotations`` here: Typer reads the commands' annotations on every
# start-up, and string annotations would make it compile and evaluate each twice (issue 20);
# types imported only for checking are written in quotes.

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from eigyo.base.currency import DEFAULT_CURRENCY
from eigyo.base.formatting import format_value
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
)
from eigyo.cli._progress import progress_bar
from eigyo.cli._unavailable import say_not_available, say_section, sections_json
from eigyo.i18n import t

if TYPE_CHECKING:  # the simulation (SimPy, NumPy) loads when a command runs, never for --help
    from eigyo.simulate import NotEnoughToSimulate

UNITS = {
    "bookings": "yen",
    "won_deals": "count",
    "lead_response_minutes": "minutes",
    "cycle_days": "days",
    "cost_per_won_deal": "yen",
    "handoff_losses": "count",
}


@app.command("simulate")
def simulate_cmd(
    workspace: WorkspaceOpt = Path("."),
    structure: Annotated[
        str,
        typer.Option("--structure", help="current, generalist, assembly_line, pod or hybrid."),
    ] = "current",
    headcount: Annotated[
        str | None, typer.Option("--headcount", help="Seats per role, e.g. sdr=3,closer=6,am=2.")
    ] = None,
    horizon: Annotated[int, typer.Option("--horizon", help="Months to simulate.")] = 12,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same result).")] = 0,
    replications: Annotated[
        int, typer.Option("--replications", help="Runs behind each interval.")
    ] = 10,
    backtest: Annotated[
        str | None,
        typer.Option("--backtest", help="With --structure current: replay a period, e.g. FY2025."),
    ] = None,
    all_structures: Annotated[
        bool, typer.Option("--compare", help="Every structure against the current one.")
    ] = False,
    fmt: FormatOpt = "text",
    lang: LangOpt = "ja",
) -> None:
    """Simulate a sales structure on the organization's own data (90% intervals)."""
    from eigyo.analysis.availability import not_enough, unavailable
    from eigyo.cli._period import noted_period
    from eigyo.simulate import (
        STRUCTURES,
        NotEnoughToSimulate,
        Options,
        check_limits,
        compare,
        parse_headcount,
        simulate,
    )
    from eigyo.workspace import open_workspace

    check_format(fmt)
    lang = lang_of(lang)
    ws = open_workspace(workspace, read_only=True)
    try:
        p = noted_period(ws, backtest, lang) if backtest else None
        opts = Options(structure, parse_headcount(headcount), horizon, seed, replications, p)
        check_limits(opts, len(STRUCTURES) if all_structures else 1)  # before any work
        missing = unavailable(
            ws, ["simulate", "simulate.cost_per_won_deal", "simulate.lead_response_minutes"]
        )
        if na := missing.pop("simulate", None):
            say_not_available(na, fmt, lang, structure=structure, horizon_months=horizon)
            return
        try:
            with progress_bar(fmt, t("simulate.sim.progress", lang)) as tick:
                doc = compare(ws, opts, tick) if all_structures else simulate(ws, opts, tick)
            cur = ws.settings.currency
        except NotEnoughToSimulate as e:
            na = not_enough("simulate", _too_little(e, lang))
            say_not_available(na, fmt, lang, structure=structure, horizon_months=horizon)
            return
    finally:
        ws.close()
    if fmt == "json":  # bookings and cost per won deal are amounts in ``currency``
        extra = {"comparison": _comparison(doc, lang, cur)} if all_structures else {}
        emit_json({**doc, "currency": cur, **sections_json(missing, lang), **extra})
        return
    if all_structures:
        _print_compare(doc, lang, cur)
    else:
        _print_one(doc, lang, cur)
    for key, na in missing.items():
        say_section(na, key.split(".", 1)[1], lang)


def _too_little(e: "NotEnoughToSimulate", lang: str) -> str:
    """What the calibration window lacked, in the reader's language."""
    return t(f"analysis_na.detail.sim_{e.what}", lang, window=e.window or DASH)


def _interval(o: dict[str, Any], unit: str, lang: str, cur: str = DEFAULT_CURRENCY) -> str:
    """``low – high`` of one outcome; amounts in the workspace currency ``cur``."""
    low, high = format_value(o["low"], unit, lang, cur), format_value(o["high"], unit, lang, cur)
    return f"{low} – {high}"


def _print_one(doc: dict[str, Any], lang: str, cur: str = DEFAULT_CURRENCY) -> None:
    name = t(f"simulate.structure.{doc['structure']}", lang)
    title = t(
        "simulate.sim.title",
        lang,
        structure=name,
        months=doc["horizon_months"],
        n=doc["replications"],
    )
    table = Table(title=title)
    for key in ("col_outcome", "col_mean", "col_interval"):
        table.add_column(
            t(f"simulate.sim.{key}", lang), justify="left" if key == "col_outcome" else "right"
        )
    actual = doc.get("actual")
    if actual:
        table.add_column(t("simulate.sim.col_actual", lang), justify="right")
        table.add_column(t("simulate.sim.col_gap", lang), justify="right")
    rows = {**doc["outcomes"], "handoff_losses": doc["handoff_losses"]}
    for k, o in rows.items():
        unit = UNITS[k]
        cells = [
            t(f"simulate.outcome.{k}", lang),
            format_value(o["mean"], unit, lang, cur),
            _interval(o, unit, lang, cur),
        ]
        if actual:
            a = actual.get(k)
            gap = (o["mean"] / a - 1) if a and o["mean"] is not None else None
            cells += [format_value(a, unit, lang, cur), format_value(gap, "ratio", lang)]
        table.add_row(*cells)
    console.print(table)
    util = ", ".join(
        f"{t(f'simulate.role.{r}', lang)} {format_value(u['mean'], 'ratio', lang)}"
        for r, u in doc["utilization"].items()
    )
    console.print(f"{t('simulate.sim.utilization', lang)}: {util}")
    hc = ", ".join(f"{t(f'simulate.role.{r}', lang)} {n}" for r, n in doc["headcount"].items())
    console.print(f"{t('simulate.sim.headcount', lang)}: {hc}")
    moved = [a for a in doc["assignment"] if a["from"] != a["to"]]
    if doc["structure"] != "current":
        hires = sum(a["hired"] for a in moved)
        days = int(doc["assumptions"]["ramp_days"])
        console.print(t("simulate.sim.moves", lang, n=len(moved) - hires, hires=hires, days=days))
    for note in doc["assumptions"]["notes"]:
        console.print(t(f"simulate.sim.{note}", lang))


def _comparison(doc: dict[str, Any], lang: str, cur: str) -> dict[str, Any]:
    """The structures against today and the recommendation: the rule the dashboard's
    simulation page applies too (:mod:`eigyo.simulate.comparison`)."""
    from eigyo.simulate.comparison import comparison

    return comparison(doc["structures"], lang, cur)


def _print_compare(doc: dict[str, Any], lang: str, cur: str = DEFAULT_CURRENCY) -> None:
    from eigyo.simulate import OUTCOMES

    table = Table(title=t("simulate.sim.compare_title", lang, months=doc["horizon_months"]))
    table.add_column(t("simulate.sim.col_structure", lang))
    for k in OUTCOMES:
        table.add_column(t(f"simulate.outcome.{k}", lang), justify="right")
    for d in doc["structures"]:
        cells = [t(f"simulate.structure.{d['structure']}", lang)]
        for k in OUTCOMES:
            o = d["outcomes"][k]
            mean, interval = (
                format_value(o["mean"], UNITS[k], lang, cur),
                _interval(o, UNITS[k], lang, cur),
            )
            cells.append(f"{mean}\n({interval})")
        table.add_row(*cells)
    console.print(table)
    verdict = _comparison(doc, lang, cur)
    console.print(verdict["recommendation"]["text"], style="bold", highlight=False)
    console.print(verdict["rule_text"], style="dim", highlight=False)


@app.command("skills")
def skills_cmd(
    workspace: WorkspaceOpt = Path("."),
    period: Annotated[
        str | None, typer.Option("--period", "-p", help="Default: the last twelve months.")
    ] = None,
    fmt: FormatOpt = "text",
    lang: LangOpt = "ja",
) -> None:
    """Each rep's conversion at every step, shrunk toward the team, with credible intervals."""
    from eigyo.analysis.availability import check, not_enough
    from eigyo.analysis.specialization.skills import skill_matrix
    from eigyo.cli._period import noted_period
    from eigyo.simulate import NotEnoughToSimulate, default_window
    from eigyo.workspace import open_workspace

    check_format(fmt)
    lang = lang_of(lang)
    ws = open_workspace(workspace, read_only=True)
    try:
        p = noted_period(ws, period, lang) if period else None
        if na := check(ws, "skills"):
            say_not_available(na, fmt, lang, period=period)
            return
        try:
            p = p or default_window(ws)
        except NotEnoughToSimulate as e:
            say_not_available(not_enough("skills", _too_little(e, lang)), fmt, lang, period=period)
            return
        m = skill_matrix(ws, p)
    finally:
        ws.close()
    if m.height == 0:  # no record in the window: an empty answer, stated the same way
        detail = t("simulate.skills.empty", lang)
        say_not_available(not_enough("skills", detail), fmt, lang, period=p.label)
        return
    if fmt == "json":
        emit_json({"period": p.label, "skills": m.to_dicts()})
        return
    _print_skills(m.to_dicts(), p.label, lang)


def _print_skills(rows: list[dict[str, Any]], period: str, lang: str) -> None:
    from eigyo.analysis.specialization.skills import SKILLS

    table = Table(title=t("simulate.skills.title", lang, period=period), show_lines=False)
    table.add_column(t("simulate.skills.col_rep", lang))
    table.add_column(t("simulate.skills.col_team", lang))
    for s in SKILLS:
        table.add_column(t(f"simulate.skills.{s}", lang), justify="right")
    by_rep: dict[str, dict[str, dict[str, Any]]] = {}
    for r in rows:
        by_rep.setdefault(r["rep_id"], {})[r["skill"]] = r
    for rep_id, cells in by_rep.items():
        first = next(iter(cells.values()))
        out = [f"{first['name'] or rep_id}", str(first["team"])]
        for s in SKILLS:
            c = cells.get(s)
            if c is None:
                out.append(DASH)
                continue
            text = f"{c['mean'] * 100:.0f}% ({c['low'] * 100:.0f}–{c['high'] * 100:.0f})"
            out.append(
                text if c["enough"] else f"{text}\n[dim]{t('simulate.skills.not_enough', lang)}[/]"
            )
        table.add_row(*out)
    console.print(table)
