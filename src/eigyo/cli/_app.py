"""The Typer application object and what every command shares: options, output, progress."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from eigyo.errors import InputError, check_lang

if TYPE_CHECKING:  # the workspace (DuckDB, Ibis) and periods load inside the commands that use them
    from eigyo.base.periods import Period
    from eigyo.workspace import Workspace

app = typer.Typer(
    name="eigyo",
    help="eigyo (営業): troubleshoot a sales organization like a failing program.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)


@dataclass
class _State:
    debug: bool = False


state = _State()


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    state.debug = state.debug or debug


WorkspaceOpt = Annotated[
    Path, typer.Option("--workspace", "-w", help="Workspace folder (default: current folder).")
]
FormatOpt = Annotated[str, typer.Option("--format", "-f", help="text or json.")]
LangOpt = Annotated[str, typer.Option("--lang", help="Language of what you read: ja or en.")]


def check_format(fmt: str, allowed: tuple[str, ...] = ("text", "json")) -> str:
    if fmt not in allowed:
        raise typer.BadParameter(
            f"must be one of {', '.join(allowed)}; got {fmt!r}", param_hint="--format"
        )
    return fmt


def lang_of(lang: str) -> str:
    try:
        return check_lang(lang)
    except InputError as e:
        raise typer.BadParameter(str(e), param_hint="--lang") from None


def emit_json(doc: Any) -> None:
    """Print exactly one JSON document on standard output."""
    import json

    sys.stdout.write(json.dumps(doc, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def progress_enabled(fmt: str) -> bool:
    """Progress bars go to standard error, and only for people (not for JSON consumers)."""
    return fmt == "text" and err_console.is_terminal


def parse_day(text: str, flag: str) -> date:
    """A ``YYYY-MM-DD`` option value; anything else is a usage error naming the flag."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a day like 2025-06-30", param_hint=flag
        ) from None


def open_period(
    workspace: Path, period: str | None, lang: str = "ja"
) -> tuple[Workspace, Period | None]:
    """Open the workspace read-only and parse the optional period with its fiscal year (an
    ambiguous form gets its note on standard error, in ``lang``)."""
    from eigyo.cli._period import noted_period
    from eigyo.workspace import open_workspace

    ws = open_workspace(workspace, read_only=True)
    return ws, noted_period(ws, period, lang) if period else None


def open_required_period(
    workspace: Path, period: str, lang: str = "ja"
) -> tuple[Workspace, Period]:
    """Open the workspace read-only and parse a required period with its fiscal year (an
    ambiguous form gets its note on standard error, in ``lang``)."""
    from eigyo.cli._period import noted_period
    from eigyo.workspace import open_workspace

    ws = open_workspace(workspace, read_only=True)
    return ws, noted_period(ws, period, lang)
