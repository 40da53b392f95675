"""``eigyo import PATH``: load canonical files, or an export mapped by a preset or mapping file."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from eigyo import workspace
from eigyo.cli._app import (
    FormatOpt,
    LangOpt,
    WorkspaceOpt,
    app,
    check_format,
    console,
    emit_json,
    err_console,
    lang_of,
    progress_enabled,
)
from eigyo.i18n import t
from eigyo.ingest import ImportReport, import_path
from eigyo.ingest.load import Progress as ProgressFn


@contextmanager
def _progress(enabled: bool, lang: str) -> Iterator[ProgressFn | None]:
    """A rich bar per phase (files read, files written) on standard error, for people only."""
    if not enabled:
        yield None
        return
    bar = Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=err_console
    )
    tasks: dict[str, TaskID] = {}

    def update(label: str, done: int, total: int) -> None:
        phase = "loading" if label == "load" else "progress"
        if phase not in tasks:
            tasks[phase] = bar.add_task(t(f"ingest.cli.{phase}", lang), total=total)
        desc = t(f"ingest.cli.{phase}", lang) + ("" if label == "load" else f" {label}")
        bar.update(tasks[phase], completed=done, total=total, description=desc)

    with bar:
        yield update


def _render(report: ImportReport, lang: str) -> None:
    console.print(
        t("ingest.cli.header", lang, id=report.import_id, source=report.source), soft_wrap=True
    )
    for f in report.files:
        console.print(
            "  "
            + t(
                "ingest.cli.file",
                lang,
                file=f.file,
                table=f.table,
                rows=f"{f.rows:,}",
                loaded=f"{f.loaded:,}",
                rejected=f"{f.rejected:,}",
                replaced=f"{f.replaced:,}",
            ),
            highlight=False,
            soft_wrap=True,
        )
        for reason, count in f.top_reasons():
            ex = f.example_for(reason)
            msg = ex.message(lang) if ex else reason
            console.print(
                "    " + t("ingest.cli.reason", lang, count=f"{count:,}", message=msg),
                highlight=False,
                soft_wrap=True,
                markup=False,
            )
    console.print(
        t("ingest.cli.total", lang, loaded=f"{report.loaded:,}", rejected=f"{report.rejected:,}"),
        soft_wrap=True,
    )


@app.command("import")
def import_cmd(
    path: Annotated[Path, typer.Argument(help="Folder of canonical files, or one export file.")],
    ws_path: WorkspaceOpt = Path("."),
    preset: Annotated[
        str | None, typer.Option(help="Known export: salesforce, hubspot, kintone.")
    ] = None,
    mapping: Annotated[
        Path | None, typer.Option(help="Mapping file (TOML) for the export.")
    ] = None,
    encoding: Annotated[
        str | None, typer.Option(help="Text encoding of CSV files (default: detected).")
    ] = None,
    sheet: Annotated[
        str | None, typer.Option(help="Sheet of an .xlsx file (default: first).")
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Refuse the whole import if any row is rejected.")
    ] = False,
    fmt: FormatOpt = "text",
    lang: LangOpt = "ja",
) -> None:
    """Import data into the workspace in one transaction; bad rows are kept with their reasons."""
    check_format(fmt)
    lang = lang_of(lang)
    ws = workspace.open_workspace(ws_path)
    try:
        with _progress(progress_enabled(fmt), lang) as progress:
            report = import_path(
                ws,
                path,
                preset=preset,
                mapping=mapping,
                encoding=encoding,
                strict=strict,
                progress=progress,
                sheet=sheet,
                lang=lang,
            )
    finally:
        ws.close()
    if fmt == "json":
        emit_json(report.to_json())
    else:
        _render(report, lang)
