"""``eigyo sync salesforce|hubspot|kintone``: read the CRM directly into the workspace.

Thin: :mod:`eigyo.sync` does the work (loaded when the command runs, never for ``--help``).
"""

# No ``from __future__ import annotations`` here: Typer reads the commands' annotations on every
# start-up (see import_cmd.py).

from pathlib import Path
from typing import Annotated

import typer

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


@app.command("sync")
def sync_cmd(
    crm: Annotated[
        str, typer.Argument(help="salesforce, hubspot or kintone (docs/connectors.md).")
    ],
    ws_path: WorkspaceOpt = Path("."),
    full: Annotated[
        bool, typer.Option("--full", help="Fetch everything again instead of what changed.")
    ] = False,
    fmt: FormatOpt = "text",
    lang: LangOpt = "ja",
) -> None:
    """Sync the CRM into the workspace: incremental, all or nothing, resumable after a crash.

    Settings come from the sync.<crm> table of eigyo.toml; credentials only from environment
    variables or the OS keyring. Records go through the CRM's import preset, as file exports.
    """
    from eigyo import workspace
    from eigyo.sync import connector, run_sync

    check_format(fmt)
    lang = lang_of(lang)
    with workspace.open_workspace(ws_path, read_only=True) as ws:
        tz = ws.settings.timezone
    conn = connector(crm, ws_path, tz)
    with progress_bar(fmt, t("sync.cli.fetching", lang)) as tick:

        def progress(stream: str, rows: int, requests: int) -> None:
            item = t("sync.cli.progress", lang, stream=stream, rows=f"{rows:,}", requests=requests)
            tick(item, rows, rows)

        report = run_sync(ws_path, conn, lang=lang, progress=progress, full=full)
    if fmt == "json":
        emit_json(report.as_json())
        return
    if report.resumed:
        console.print(t("sync.cli.resumed", lang), highlight=False)
    if not report.changed:
        console.print(t("sync.cli.nothing", lang, crm=crm), highlight=False)
        return
    console.print(
        t(
            "sync.cli.done",
            lang,
            crm=crm,
            fetched=f"{sum(report.fetched.values()):,}",
            written=f"{sum(report.written.values()):,}",
            removed=f"{report.removed:,}",
            rejected=f"{report.imported.rejected if report.imported else 0:,}",
            requests=f"{report.requests:,}",
            wait=f"{report.rate_wait_s:.1f}",
        ),
        highlight=False,
        soft_wrap=True,
    )
    for note in report.note_texts(lang):
        console.print("  " + note, highlight=False, soft_wrap=True, markup=False)
