"""``eigyo diagnose``: run the runbook's checks and print the findings."""

# No ``from __future__ import annotations`` here: Typer reads the commands' annotations on every
# start-up, and string annotations would make it compile and evaluate each twice (issue 20);
# types imported only for checking are written in quotes.

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from eigyo.base.formatting import money
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
from eigyo.i18n import t

if TYPE_CHECKING:
    from eigyo.diagnose.model import Finding

SEVERITY_STYLE = {"error": "bold red", "warn": "yellow", "info": "cyan", "ok": "green"}


@app.command("diagnose")
def diagnose_cmd(
    period: Annotated[
        str,
        typer.Option(
            "--period", "-p", help="2025-04, FY2025, FY2025-Q1, 今期, last-month or a range."
        ),
    ],
    workspace: WorkspaceOpt = Path("."),
    fmt: FormatOpt = "text",
    lang: LangOpt = "ja",
    all_: Annotated[
        bool, typer.Option("--all", help="Also list checks that found nothing.")
    ] = False,
) -> None:
    """Run the troubleshooting runbook: findings with evidence, cause, actions and impact
    (in the workspace currency).

    --format html prints the self-contained HTML report on standard output."""
    from eigyo.cli._period import command_period
    from eigyo.diagnose import diagnose
    from eigyo.runbook import findings_document, findings_html
    from eigyo.workspace import open_workspace

    check_format(fmt, ("text", "json", "html"))
    lang = lang_of(lang)
    # closed on every path: an in-process caller (tests, the monitor) may open it for writing next
    with open_workspace(workspace, read_only=True) as ws:
        p = command_period(ws, period, lang, stop_when_empty=fmt != "json")
        with progress_bar(fmt, t("cli.diagnose.progress", lang)) as tick:
            findings = diagnose(ws, p, progress=tick)
        if fmt == "json":
            emit_json(findings_document(period, ws.settings.currency, findings, lang))
            return
        if fmt == "html":
            sys.stdout.write(findings_html(ws, p, findings, lang))
            return
    _print(findings, lang, show_all=all_)


def _print(findings: "list[Finding]", lang: str, *, show_all: bool) -> None:
    from eigyo.metrics import readable

    shown = [f for f in findings if show_all or f.severity in ("warn", "error")]
    # "No problem found" covers only what the data allowed to check: say what could not be.
    missing = [f for f in findings if f.evidence.get("status") == "not_available"]
    note = None
    if missing:
        needs = sorted({n for f in missing for n in f.evidence.get("needs", [])})
        note = t("report.summary.not_available", lang, n=len(missing), needs=readable(needs, lang))
    if not shown:
        console.print(t("cli.diagnose.none", lang))
        if note:
            console.print(note)
        return
    table = Table(show_lines=True)
    for col in ("severity", "step", "finding", "impact"):
        table.add_column(t(f"cli.diagnose.col_{col}", lang))
    for f in shown:
        impact = money(f.impact_jpy, f.currency)
        style = SEVERITY_STYLE[f.severity]
        table.add_row(
            f"[{style}]{f.severity}[/]",
            t(f"steps.{f.step}.short", lang),
            f.title.get(lang, f.check),
            impact,
        )
    console.print(table)
    if note and not show_all:
        console.print(note)
