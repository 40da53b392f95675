"""``eigyo import PATH``: load canonical files, or an export mapped by a preset or mapping file."""

# No ``from __future__ import annotations`` here: Typer reads the commands' annotations on every
# start-up, and string annotations would make it compile and evaluate each twice (issue 20);
# types imported only for checking are written in quotes.

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

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

if TYPE_CHECKING:  # the importer (Polars, DuckDB) loads when a command runs, never for --help
    from rich.progress import TaskID

    from eigyo.ingest import FileReport, ImportReport
    from eigyo.ingest.load import Progress as ProgressFn

#: :data:`eigyo.ingest.api.MAX_REJECT_RATE`, the option's default: stated here so that the
#: option's help needs no import of the importer (tests/test_cli_startup.py checks they agree).
MAX_REJECT_RATE = 0.5


def presets() -> list[str]:
    """:func:`eigyo.ingest.mapping.presets` (the TOML files in ``eigyo/ingest/presets``), read
    without importing the importer (tests/test_cli_startup.py checks they agree)."""
    folder = Path(__file__).parents[1] / "ingest" / "presets"
    return sorted(p.stem for p in folder.glob("*.toml"))


@contextmanager
def _progress(enabled: bool, lang: str) -> "Iterator[ProgressFn | None]":
    """Bars on standard error, for people only: bytes read (total = file sizes), files written."""
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[amount]}"),
        TimeRemainingColumn(),
        console=err_console,
    )
    tasks: dict[str, TaskID] = {}

    def update(label: str, done: int, total: int) -> None:
        phase = "loading" if label == "load" else "progress"
        if phase not in tasks:
            tasks[phase] = bar.add_task(t(f"ingest.cli.{phase}", lang), total=total, amount="")
        desc = t(f"ingest.cli.{phase}", lang) + ("" if label == "load" else f" {label}")
        amount = (
            f"{done}/{total}" if label == "load" else f"{done / 1e6:,.0f}/{total / 1e6:,.0f} MB"
        )
        bar.update(tasks[phase], completed=done, total=total, description=desc, amount=amount)

    with bar:
        yield update


def _render(report: "ImportReport", lang: str) -> None:
    from eigyo.ingest.import_report import notice_text

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
        if f.encoding:  # which encoding was used (given or detected) is never left implicit
            line = "    " + t("input.read.encoding_used", lang, enc=f.encoding)
            console.print(line, highlight=False, soft_wrap=True, markup=False)
        for reason, count in f.top_reasons():
            ex = f.example_for(reason)
            msg = ex.message(lang) if ex else reason
            console.print(
                "    " + t("ingest.cli.reason", lang, count=f"{count:,}", message=msg),
                highlight=False,
                soft_wrap=True,
                markup=False,
            )
        _render_warnings(f, lang)
        for n in f.notices:
            console.print(
                "    " + t("ingest.cli.notice", lang, message=notice_text(n, lang)),
                highlight=False,
                soft_wrap=True,
                markup=False,
            )
    if report.skipped_files:
        console.print(
            t("ingest.cli.skipped_files", lang, files=", ".join(report.skipped_files)),
            highlight=False,
            soft_wrap=True,
            markup=False,
        )
    console.print(
        t("ingest.cli.total", lang, loaded=f"{report.loaded:,}", rejected=f"{report.rejected:,}"),
        soft_wrap=True,
    )


def _render_warnings(f: "FileReport", lang: str) -> None:
    if not f.warnings:
        return
    from eigyo.ingest.quality import warning_text

    console.print(t("ingest.cli.warnings", lang, n=f"{f.warnings:,}"), highlight=False)
    for reason, count in f.top_warnings():
        msg = f"{f.table}.{warning_text(f.table, reason, lang)}"
        line = t("ingest.cli.warning", lang, count=f"{count:,}", message=msg)
        console.print(line, highlight=False, soft_wrap=True, markup=False)


#: Words that name an action instead of a path: ``eigyo import report`` / ``eigyo import rejects``.
#: To import a folder with one of these names, write ``./report``.
ACTIONS = ("report", "rejects")


@app.command("import")
def import_cmd(
    path: Annotated[
        str,
        typer.Argument(
            help="Folder of canonical files, or one export file; or `report` (reprint a saved "
            "import report) or `rejects` (write rejected rows to CSV)."
        ),
    ],
    ws_path: WorkspaceOpt = Path("."),
    preset: Annotated[
        str | None,
        typer.Option(help=f"Known export: {', '.join(presets())} (docs/import-format.md)."),
    ] = None,
    mapping: Annotated[
        Path | None, typer.Option(help="Mapping file (TOML) for the export.")
    ] = None,
    encoding: Annotated[
        str | None,
        typer.Option(
            help="Text encoding of CSV files, e.g. cp932 or utf-8 (default: detected; an "
            "uncertain guess stops the import and names the candidates)."
        ),
    ] = None,
    sheet: Annotated[
        str | None, typer.Option(help="Sheet of an .xlsx file (default: first).")
    ] = None,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Refuse the whole import if any row is rejected or any value is not in the "
            "preset's value lists.",
        ),
    ] = False,
    max_reject_rate: Annotated[
        float,
        typer.Option(
            "--max-reject-rate",
            min=0.0,
            max=1.0,
            help="Refuse the import when more than this share of rows is rejected (default 0.5).",
        ),
    ] = MAX_REJECT_RATE,
    import_id: Annotated[
        int | None,
        typer.Option("--import-id", help="report/rejects: which import (default: the latest)."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="rejects: CSV file to write (default: rejects-<id>.csv)."),
    ] = None,
    fmt: FormatOpt = "text",
    lang: LangOpt = "ja",
) -> None:
    """Import data into the workspace in one transaction; bad rows are kept with their reasons.

    `eigyo import report` reprints a saved import report; `eigyo import rejects` writes the
    rejected rows (with their original records) to a CSV that Excel opens (UTF-8 with BOM).
    """
    from eigyo import workspace
    from eigyo.ingest import import_path

    check_format(fmt)
    lang = lang_of(lang)
    if path in ACTIONS:
        _action(path, ws_path, import_id, out, fmt, lang)
        return
    ws = workspace.open_workspace(ws_path)
    try:
        with _progress(progress_enabled(fmt), lang) as progress:
            report = import_path(
                ws,
                Path(path),
                preset=preset,
                mapping=mapping,
                encoding=encoding,
                strict=strict,
                progress=progress,
                sheet=sheet,
                lang=lang,
                max_reject_rate=max_reject_rate,
            )
    finally:
        ws.close()
    _show(report, fmt, lang)


def _show(report: "ImportReport", fmt: str, lang: str) -> None:
    if fmt == "json":
        emit_json(report.to_json())
    else:
        _render(report, lang)


def _action(
    name: str, ws_path: Path, import_id: int | None, out: Path | None, fmt: str, lang: str
) -> None:
    """``report``: reprint a saved report; ``rejects``: export rejected rows as CSV."""
    from eigyo import workspace
    from eigyo.ingest.exports import export_rejects, resolve_import, saved_report

    with workspace.open_workspace(ws_path, read_only=True) as ws:
        if name == "report":
            _show(saved_report(ws, import_id, lang), fmt, lang)
            return
        imp = resolve_import(ws, import_id, lang)
        target = out or Path(f"rejects-{imp}.csv")
        n = export_rejects(ws, target, import_id=imp, lang=lang)
    if fmt == "json":
        emit_json({"import_id": imp, "rejected": n, "out": str(target)})
    else:
        console.print(
            t("ingest.export.written", lang, id=imp, n=f"{n:,}", out=target), soft_wrap=True
        )
