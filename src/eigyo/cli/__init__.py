"""The ``eigyo`` command line: thin commands that call the library and render its results.

Each command lives in its own module (``cli/<name>.py``) and registers itself on :data:`app`.
:func:`main` turns every :class:`~eigyo.errors.EigyoError` into one clear message and exit
status 1; usage errors exit 2 (Typer/Click); a traceback appears only with ``--debug``.
"""

from __future__ import annotations

import sys

from eigyo.cli._app import app, state
from eigyo.errors import EigyoError

# Importing the command modules registers them on ``app``.
from eigyo.cli import demo_cmd, diagnose_cmd, import_cmd, init_cmd, metrics_cmd, report_cmd  # noqa: F401  isort: skip
from eigyo.cli import process_cmd  # noqa: F401  isort: skip
from eigyo.cli import data_cmd  # noqa: F401  isort: skip


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``eigyo`` script."""
    args = sys.argv[1:] if argv is None else argv
    state.debug = "--debug" in args
    try:
        # standalone mode: Click reports usage errors itself (exit 2); domain errors reach us.
        app(args=args, prog_name="eigyo", standalone_mode=True)
    except SystemExit as e:
        if e.code not in (0, None):
            raise
    except EigyoError as e:
        if state.debug:
            raise
        from eigyo.cli._app import err_console

        err_console.print(f"[bold red]error:[/] {e}", highlight=False, soft_wrap=True)
        sys.exit(1)


__all__ = ["app", "main"]
