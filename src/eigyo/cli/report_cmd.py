"""``eigyo report``: write the report of one period as HTML, PDF, Excel or PowerPoint."""

# No ``from __future__ import annotations`` here: Typer reads the commands' annotations on every
# start-up, and string annotations would make it compile and evaluate each twice (issue 20);
# types imported only for checking are written in quotes.

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from eigyo.cli._app import LangOpt, WorkspaceOpt, app, console, lang_of
from eigyo.cli._progress import phase_bars
from eigyo.i18n import t

if TYPE_CHECKING:
    from eigyo.runbook import RunResult
    from eigyo.workspace import Workspace


def _size(n: int) -> str:
    return f"{n / 1_048_576:,.1f} MB" if n >= 1_048_576 else f"{n / 1024:,.0f} KB"


@app.command("report")
def report_cmd(
    period: Annotated[
        str,
        typer.Option(
            "--period", "-p", help="2025-04, FY2025, FY2025-Q1, 今期, last-month or a range."
        ),
    ],
    workspace: WorkspaceOpt = Path("."),
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Output file.")] = None,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="html, pdf, xlsx (Excel) or pptx (PowerPoint).")
    ] = "html",
    lang: LangOpt = "ja",
    send: Annotated[
        bool,
        typer.Option(
            "--send",
            help="Also send it: by email with the file attached and a summary to the webhook "
            "([monitor.email] / [monitor.webhook] of eigyo.toml).",
        ),
    ] = False,
) -> None:
    """Measure, diagnose and write a report (Japanese by default): a self-contained HTML page,
    a PDF, an Excel workbook or a PowerPoint deck; with --send, deliver it (cron, systemd)."""
    from eigyo.cli._period import command_period
    from eigyo.report import FORMATS, default_name
    from eigyo.runbook import build_report
    from eigyo.workspace import open_workspace

    lang = lang_of(lang)
    if fmt not in FORMATS:
        raise typer.BadParameter(
            f"must be one of {', '.join(FORMATS)}; got {fmt!r}", param_hint="--format"
        )
    ws = open_workspace(workspace, read_only=True)
    p = command_period(ws, period, lang)
    target = out or workspace / default_name(p.label, lang, fmt)
    labels = {k: t(f"cli.demo.phase_{k}", lang) for k in ("metrics", "diagnose", "report")}
    with phase_bars("text", labels) as phase:
        res = build_report(ws, p, target, lang=lang, fmt=fmt, progress=phase)
    size = _size(res.report.stat().st_size)
    console.print(
        t(
            "report_files.cli.written",
            lang,
            format=fmt.upper(),
            path=res.report.resolve(),
            size=size,
        )
    )
    if send:
        _send(ws, res, lang)


def _send(ws: "Workspace", res: "RunResult", lang: str) -> None:
    """Deliver the written report through the monitor's sinks; no sink enabled is one line."""
    from eigyo.errors import EigyoError
    from eigyo.monitor import load_config
    from eigyo.monitor.delivery import deliver_report, summary

    cfg = load_config(ws)
    if not (cfg.email.enabled or cfg.webhook.enabled):
        raise EigyoError(key="monitor.report.no_sink")
    company = ws.settings.name
    text = summary(company, res.period, res.findings, lang, ws.settings.currency)
    subject = t("monitor.report.subject", lang, company=company, period=res.period.label)
    done = deliver_report(cfg, res.report, text, subject, lang)
    console.print(
        t("monitor.report.sent", lang, where=", ".join(f"{k} ({v})" for k, v in done.items()))
    )
