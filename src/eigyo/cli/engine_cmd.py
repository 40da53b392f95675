"""``eigyo engine push``: publish the workspace's canonical tables to PostgreSQL or Spark.

The data stays in the workspace's DuckDB file; this copies it to the engine named by
``--engine`` (default: ``engine`` in ``eigyo.toml``) so that ``eigyo metrics --engine …`` and
every other command can run their queries there. See ``docs/engines.md``.
"""

# No ``from __future__ import annotations`` here: Typer reads the commands' annotations on every
# start-up, and string annotations would make it compile and evaluate each twice (issue 20);
# types imported only for checking are written in quotes.

from pathlib import Path
from typing import Annotated

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
from eigyo.i18n import t

engine_app = typer.Typer(help="Query engines: publish the workspace to PostgreSQL or Spark.")
app.add_typer(engine_app, name="engine")

EngineOpt = Annotated[
    str | None,
    typer.Option(
        "--engine",
        "-e",
        help="postgresql://USER@HOST:PORT/DB[?schema=NAME] or spark[?path=FOLDER] "
        "(default: engine in eigyo.toml).",
    ),
]


@engine_app.command("push")
def push_cmd(
    workspace: WorkspaceOpt = Path("."),
    engine: EngineOpt = None,
    fmt: FormatOpt = "text",
    lang: LangOpt = "ja",
) -> None:
    """Copy every canonical table to the engine, replacing its previous copy (all or nothing)."""
    from eigyo import engines
    from eigyo.workspace import open_workspace

    check_format(fmt)
    lang = lang_of(lang)
    ws = open_workspace(workspace, read_only=True, engine=engine)
    try:
        result = engines.push(ws, ws.engine_spec)
    finally:
        ws.close()
    if fmt == "json":
        emit_json(result.to_json())
        return
    table = Table(
        title=t(
            "engine.push.title",
            lang,
            engine=result.engine,
            import_id=result.import_id if result.import_id is not None else "-",
            seconds=result.seconds,
        )
    )
    table.add_column(t("engine.push.col_table", lang))
    table.add_column(t("engine.push.col_rows", lang), justify="right")
    for name, rows in result.rows.items():
        table.add_row(name, f"{rows:,}")
    console.print(table)
    console.print(t("engine.push.next", lang, workspace=workspace, engine=ws.engine_spec.display))
