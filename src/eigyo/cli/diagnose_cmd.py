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
    from eigyo.base.periods import Period
    from eigyo.diagnose.model import Finding
    from eigyo.workspace import Workspace

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
    records: Annotated[
        str | None,
        typer.Option(
            "--records",
            metavar="FINDING_ID",
            help="Show the deals, leads or reps behind one finding (its id from --format json).",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="With --records: write them all to FILE.csv or FILE.xlsx."
        ),
    ] = None,
) -> None:
    """Run the troubleshooting runbook: findings with evidence, cause, actions and impact
    (in the workspace currency).

    --format html prints the self-contained HTML report on standard output."""
    from eigyo.cli._period import command_period
    from eigyo.diagnose import diagnose
    from eigyo.diagnose.document import findings_document
    from eigyo.workspace import open_workspace

    check_format(fmt, ("text", "json", "html"))
    lang = lang_of(lang)
    if records is None and out is not None:
        raise typer.BadParameter(t("records.out_needs_records", lang), param_hint="--out")
    if records is not None and fmt == "html":
        raise typer.BadParameter(t("records.no_html", lang), param_hint="--format")
    # closed on every path: an in-process caller (tests, the monitor) may open it for writing next
    with open_workspace(workspace, read_only=True) as ws:
        p = command_period(ws, period, lang, stop_when_empty=fmt != "json")
        with progress_bar(fmt, t("cli.diagnose.progress", lang)) as tick:
            findings = diagnose(ws, p, progress=tick)
        if records is not None:
            _records(ws, p, period, _find(findings, records), out, fmt, lang)
            return
        if fmt == "json":
            emit_json(findings_document(period, ws.settings.currency, findings, lang))
            return
        if fmt == "html":
            from eigyo.runbook import findings_html

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
            f"{f.title.get(lang, f.check)}\n[dim]{f.id}[/]",
            impact,
        )
    console.print(table)
    from eigyo.report.evidence import stake_view

    stake = stake_view(findings, lang, findings[0].currency)
    if stake.total:  # the total over non-overlapping findings, and that it is one
        console.print(stake.total)
        console.print(stake.note)
    if note and not show_all:
        console.print(note)


#: Most records the text output prints (``--out`` writes them all).
SHOWN_ROWS = 50


def _find(findings: "list[Finding]", wanted: str) -> "Finding":
    """The finding with id ``wanted``, else an error naming the nearest ids (the alarms first
    when nothing is near): a mistyped id is answered with the ids that exist."""
    import difflib

    from eigyo.errors import InputError

    by_id = {f.id: f for f in findings}
    if wanted in by_id:
        return by_id[wanted]
    near = difflib.get_close_matches(wanted, list(by_id), n=5, cutoff=0.5)
    if not near:
        near = [f.id for f in findings if f.is_alarm][:5] or list(by_id)[:5]
    raise InputError(key="records.unknown_id", id=wanted, near=", ".join(near) or "-")


def _records(
    ws: "Workspace",
    period: "Period",
    label: str,
    finding: "Finding",
    out: Path | None,
    fmt: str,
    lang: str,
) -> None:
    """Print (first :data:`SHOWN_ROWS`), write (``--out``: every record) or emit as JSON the
    records behind one finding; with ``[crm]`` templates the file and the JSON carry each
    record's CRM link column, built as the dashboard builds it (:mod:`eigyo.report.crm_links`)."""
    from eigyo.report.crm_links import finding_links
    from eigyo.report.evidence import (
        headers,
        reason_text,
        record_list,
        screen_columns,
        shown_rows,
    )
    from eigyo.report.xlsx import write_records

    cur = ws.settings.currency
    limit = 10**9 if out is not None or fmt == "json" else SHOWN_ROWS
    rl = finding_links(record_list(ws, period, finding, limit), ws.settings.crm)
    if out is not None and rl.reason is None:
        write_records(rl, out, lang, cur)
    if fmt == "json":
        emit_json(
            {
                "period": label,
                "currency": cur,
                "finding": {"id": finding.id, "check": finding.check,
                            "title": finding.title.get(lang, "")},
                "columns": rl.columns,
                "labels": headers(rl.columns, lang),
                "rows": [{k: _plain(v) for k, v in r.items()} for r in rl.rows],
                "total": rl.total,
                "reason": None if rl.reason is None else reason_text(rl, lang),
                "out": None if out is None or rl.reason is not None else str(out),
            }
        )  # fmt: skip
        return
    console.print(f"[bold]{finding.title.get(lang, finding.check)}[/] ({finding.id})")
    if rl.reason is not None:
        console.print(reason_text(rl, lang))
        return
    if out is not None:
        console.print(t("records.written", lang, n=rl.total, path=str(out)))
        return
    cols = screen_columns(rl)
    table = Table()
    for h in headers(cols, lang):
        table.add_column(h, overflow="fold")
    for row in shown_rows(rl, lang, cur, cols):
        table.add_row(*row)
    console.print(table)
    if rl.total > len(rl.rows):
        console.print(t("records.shown", lang, shown=len(rl.rows), total=rl.total))


def _plain(v: object) -> object:
    """A JSON value: timestamps and dates as ISO text, NaN as null."""
    from datetime import date, datetime

    if isinstance(v, date | datetime):
        return v.isoformat()
    if isinstance(v, float) and v != v:
        return None
    return v
