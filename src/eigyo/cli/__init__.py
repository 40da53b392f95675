"""The ``eigyo`` command line: thin commands that call the library and render its results.

Each command lives in its own module (``cli/<name>_cmd.py``, discovered at import) and
registers itself on :data:`app`.
:func:`main` turns every :class:`~eigyo.errors.EigyoError` into one clear message and exit
status 1; usage errors exit 2 (Typer/Click); a traceback appears only with ``--debug``.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

from eigyo.cli._app import app, state
from eigyo.errors import EigyoError

# Every ``cli/<name>_cmd.py`` registers its commands on ``app`` when imported: discovering them
# keeps this file free of a list that each new command would have to edit.
for _module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    if _module.endswith("_cmd"):
        importlib.import_module(f"{__name__}.{_module}")


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
        _fail(e, args)
    except Exception as e:  # a query engine's own failure (Spark's JVM): one sentence too
        from eigyo.engines import engine_failure

        failure = engine_failure(e, ("engine.spark.step.command", {"command": _command(args)}))
        if failure is None:
            raise
        _fail(failure, args)


def _fail(e: EigyoError, args: list[str]) -> None:
    """Print ``e`` as one sentence in the reader's language and exit 1 (raise with --debug)."""
    if state.debug:
        raise e
    from rich.markup import escape

    from eigyo.cli._app import err_console
    from eigyo.i18n import t

    lang = _lang(args)
    label = t("cli.error.label", lang)
    err_console.print(
        f"[bold red]{label}:[/] {escape(e.localized(lang))}", highlight=False, soft_wrap=True
    )
    sys.exit(1)


def _command(args: list[str]) -> str:
    """The command's name (``diagnose``): the first word that is not an option."""
    return next((a for a in args if not a.startswith("-")), "")


def _lang(args: list[str]) -> str:
    """The ``--lang`` the command line asked for (Japanese by default), for error messages."""
    for i, a in enumerate(args):
        if a == "--lang" and i + 1 < len(args):
            return "en" if args[i + 1] == "en" else "ja"
        if a.startswith("--lang="):
            return "en" if a.split("=", 1)[1] == "en" else "ja"
    return "ja"


__all__ = ["app", "main"]
