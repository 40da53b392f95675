"""``eigyo metrics``: compute KPIs for a period (``--period``), and ``eigyo metrics list``.

A Typer sub-app whose callback runs when no subcommand is given, so ``eigyo metrics --period P``
and ``eigyo metrics list`` coexist. The command only parses, calls :mod:`eigyo.metrics` and
renders; JSON output is the contract in docs/cli-json.md.
"""

# No ``from __future__ import annotations`` here: Typer reads the commands' annotations on every
# start-up, and string annotations would make it compile and evaluate each twice (issue 20);
# types imported only for checking are written in quotes.

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

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
from eigyo.cli.engine_cmd import EngineOpt
from eigyo.i18n import t

if TYPE_CHECKING:
    from eigyo.metrics import MetricValue

metrics_app = typer.Typer(
    help="Compute KPIs for a period (--period), or list them (metrics list).",
    no_args_is_help=False,
)
app.add_typer(metrics_app, name="metrics")

PeriodOpt = Annotated[
    str | None,
    typer.Option(
        "--period",
        "-p",
        help="2025-04, FY2025, FY2025-Q1, 2025年度上期, 今期, last-month or 2025-04..2025-06.",
    ),
]
ByOpt = Annotated[
    str | None, typer.Option("--by", help="Group by team, rep_id, role, source, month, …")
]
MetricOpt = Annotated[
    list[str] | None, typer.Option("--metric", "-m", help="Metric id (repeatable; default all).")
]


@metrics_app.callback(invoke_without_command=True)
def metrics_cmd(
    ctx: typer.Context,
    workspace: WorkspaceOpt = Path("."),
    period: PeriodOpt = None,
    by: ByOpt = None,
    metric: MetricOpt = None,
    engine: EngineOpt = None,
    fmt: FormatOpt = "text",
    lang: LangOpt = "ja",
) -> None:
    """Compute KPIs for a period: a table, JSON (--format json) or CSV (--format csv).

    With --engine the queries run in PostgreSQL or Spark, on the copy that
    `eigyo engine push` published there.
    """
    if ctx.invoked_subcommand is not None:
        return
    from eigyo.cli._period import command_period
    from eigyo.metrics import compute
    from eigyo.workspace import open_workspace

    check_format(fmt, ("text", "json", "csv"))
    lang = lang_of(lang)
    if period is None:
        raise typer.BadParameter("is required, e.g. --period 2025-04", param_hint="--period")
    ws = open_workspace(workspace, read_only=True, engine=engine)
    try:
        p = command_period(ws, period, lang, stop_when_empty=fmt != "json")
        values = compute(ws, p, metric or None, by)
        currency = ws.settings.currency
    finally:
        ws.close()
    if fmt == "json":
        emit_json(
            {
                "period": period,
                "currency": currency,
                "metrics": [v.to_json(lang) for v in values],
            }
        )
    elif fmt == "csv":
        _write_csv(values, by, lang)
    else:
        _print_table(values, p.describe(lang), by, lang, currency)


def _write_csv(values: "list[MetricValue]", by: str | None, lang: str) -> None:
    """One row per metric and group; ``value`` unformatted so spreadsheets can compute, and
    empty with its ``reason`` when the metric is not available."""
    import csv

    from eigyo.base.csv_safe import safe_cell
    from eigyo.metrics import REGISTRY

    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(["id", "label", *([by] if by else []), "value", "unit", "reason"])
    for v in values:
        group = [v.by.get(by, "")] if by else []
        value = "" if v.value is None else repr(v.value)
        reason = "" if v.reason is None else v.reason.text(lang)
        # the group is a value from the data (a rep's or team's name): neutralized like text
        w.writerow(
            [v.id, REGISTRY[v.id].label(lang), *map(safe_cell, group), value, v.unit, reason]
        )


def _print_table(
    values: "list[MetricValue]", period: str, by: str | None, lang: str, currency: str
) -> None:
    from eigyo.metrics import REGISTRY, format_metric

    table = Table(title=t("metrics.table.title", lang, period=period))
    table.add_column(t("metrics.table.metric", lang))
    if by:
        table.add_column(by)
    table.add_column(t("metrics.table.value", lang), justify="right")
    for v in values:
        group = [v.by.get(by, "")] if by else []
        table.add_row(REGISTRY[v.id].label(lang), *group, format_metric(v, lang, currency))
    if not values:
        console.print(t("metrics.empty.none", lang, by=by or "-"))
        return
    console.print(table)


@metrics_app.command("list")
def list_cmd(fmt: FormatOpt = "text", lang: LangOpt = "ja") -> None:
    """The metric catalogue with definitions, in the chosen language."""
    from eigyo.metrics import REGISTRY, unit_name

    check_format(fmt)
    lang = lang_of(lang)
    if fmt == "json":
        emit_json(
            {
                "metrics": [
                    {
                        "id": m.id,
                        "label": m.label(lang),
                        "definition": m.definition(lang),
                        "unit": m.unit,
                        "better": m.better,
                        "category": m.category,
                        "kind": m.kind,
                        "groupings": list(m.dims),
                    }
                    for m in REGISTRY.values()
                ]
            }
        )
        return
    table = Table(title=t("metrics.list.title", lang), show_lines=True)
    for key in ("id", "metric", "unit", "better", "definition"):
        table.add_column(t(f"metrics.{'table' if key == 'metric' else 'list'}.{key}", lang))
    for m in REGISTRY.values():
        table.add_row(
            m.id,
            m.label(lang),
            unit_name(m.unit, lang),
            t(f"metrics.list.{m.better}", lang),
            m.definition(lang),
        )
    console.print(table)
