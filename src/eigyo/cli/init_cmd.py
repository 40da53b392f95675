"""``eigyo init W``: create a workspace."""

# No ``from __future__ import annotations`` here: Typer reads the commands' annotations on every
# start-up, and string annotations would make it compile and evaluate each twice (issue 20);
# types imported only for checking are written in quotes.

from pathlib import Path
from typing import Annotated

import typer

from eigyo.cli._app import FormatOpt, LangOpt, app, check_format, console, emit_json, lang_of
from eigyo.i18n import t


@app.command("init")
def init_cmd(
    path: Annotated[Path, typer.Argument(help="Folder to create the workspace in.")],
    name: Annotated[str | None, typer.Option(help="Display name of the organization.")] = None,
    fmt: FormatOpt = "text",
    lang: LangOpt = "ja",
) -> None:
    """Create a workspace: a commented eigyo.toml and an empty DuckDB database."""
    from eigyo import workspace

    check_format(fmt)
    lang = lang_of(lang)
    ws = workspace.init(path, name=name)
    ws.close()
    if fmt == "json":
        emit_json({"workspace": str(path), "settings": str(path / "eigyo.toml")})
    else:
        console.print(t("cli.init.done", lang, path=path))
