"""The command line starts fast: ``eigyo --help``, and ``eigyo <command> --help`` for every
command, load none of the heavy libraries (issue 20). Each command imports what it needs when it
runs; what Typer needs to register it (option types, defaults, help texts) stays light.

Each check runs in a fresh interpreter, since this test process has long since imported them
all. No timing is asserted here; ``bench/cli_startup.py`` measures the start-up.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

#: Third-party libraries whose import costs tenths of seconds (bench/cli_startup.py has the same).
HEAVY = (
    "duckdb", "ibis", "polars", "pyarrow", "pandas", "numpy", "scipy", "sklearn", "plotly",
    "matplotlib", "reportlab", "pptx", "xlsxwriter", "openpyxl", "simpy", "fastapi", "starlette",
    "uvicorn", "jinja2", "pyspark", "psycopg", "holidays",
)  # fmt: skip


def _run(code: str) -> dict[str, list[str]]:
    """Run ``code`` in a fresh interpreter; it prints one JSON document, returned."""
    prelude = f"import json, sys\nHEAVY = set({HEAVY!r})\n"
    prelude += "def heavy():\n    return sorted({m.split('.')[0] for m in sys.modules} & HEAVY)\n"
    out = subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    result: dict[str, list[str]] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def test_importing_the_cli_loads_no_heavy_library() -> None:
    assert _run("import eigyo.cli\nprint(json.dumps({'heavy': heavy()}))") == {"heavy": []}


def test_eigyo_help_loads_no_heavy_library() -> None:
    """The real entry point, as the ``eigyo`` script runs it."""
    doc = _run(
        """
        import contextlib, io
        from eigyo.cli import main
        with contextlib.redirect_stdout(io.StringIO()) as out:
            main(["--help"])
        assert "diagnose" in out.getvalue(), out.getvalue()
        print(json.dumps({"heavy": heavy()}))
        """
    )
    assert doc == {"heavy": []}


def test_every_command_help_loads_no_heavy_library() -> None:
    """``eigyo <command> --help`` for every command and subcommand (``engine push``,
    ``users add`` …), each in turn in one interpreter: the first that loads a heavy library
    is named with what it loaded."""
    doc = _run(
        """
        import typer.main
        from typer.testing import CliRunner
        from eigyo.cli import app

        def paths(cmd, prefix=()):
            for name, sub in getattr(cmd, "commands", {}).items():
                yield (*prefix, name)
                yield from paths(sub, (*prefix, name))

        runner, seen, first = CliRunner(), [], []
        for path in sorted(paths(typer.main.get_command(app))):
            res = runner.invoke(app, [*path, "--help"])
            assert res.exit_code == 0, (path, res.output)
            seen.append(" ".join(path))
            if heavy() and not first:
                first = [" ".join(path), *heavy()]
        print(json.dumps({"commands": seen, "first_heavy": first}))
        """
    )
    assert doc["first_heavy"] == []
    # the walk reached every kind of command: top-level, sub-app and the sub-app's commands
    assert {"diagnose", "report", "metrics list", "engine push", "users add", "serve"} <= set(
        doc["commands"]
    )
    assert len(doc["commands"]) >= 30


def test_defaults_stated_in_the_cli_agree_with_the_library() -> None:
    """Option defaults and help texts the CLI states itself, so that registering the commands
    imports no analysis or importer, are the library's."""
    from eigyo.analysis.process.document import TOP_VARIANTS
    from eigyo.cli import import_cmd, process_cmd
    from eigyo.ingest.api import MAX_REJECT_RATE
    from eigyo.ingest.mapping import presets

    assert import_cmd.MAX_REJECT_RATE == MAX_REJECT_RATE
    assert import_cmd.presets() == presets()
    assert process_cmd.TOP_VARIANTS == TOP_VARIANTS


def test_command_annotations_are_not_strings() -> None:
    """Typer evaluates a string annotation on every start-up, twice per command: the command
    modules (``cli/*_cmd.py``) do without ``from __future__ import annotations`` (issue 20).
    The root callback (``--debug``, in ``cli/_app.py``) is the one exception."""
    import inspect
    from collections.abc import Callable
    from typing import Any

    import typer

    from eigyo.cli import app

    def callbacks(a: typer.Typer) -> list[Callable[..., Any] | None]:
        found = [c.callback for c in a.registered_commands]
        if a.registered_callback is not None:
            found.append(a.registered_callback.callback)
        for g in a.registered_groups:
            assert g.typer_instance is not None
            found += callbacks(g.typer_instance)
        return found

    funcs = [f for f in callbacks(app) if f is not None and f.__module__.endswith("_cmd")]
    assert len(funcs) >= 30
    strings = {
        f"{f.__module__}.{f.__qualname__}"
        for f in funcs
        if any(isinstance(a, str) for a in inspect.get_annotations(f).values())
    }
    assert strings == set()


def test_the_diagnosis_loads_only_what_it_uses() -> None:
    """``eigyo diagnose --format json`` imports the diagnosis and its JSON document, never the
    report (its charts and, through the forecast, scikit-learn), polars, which no check uses,
    nor ``scipy.stats`` (its distributions come from scipy.special: eigyo.base._distributions):
    ~1.4 s of a large demo's ~12 s diagnosis went to importing them (issue 20)."""
    doc = _run(
        """
        import eigyo.cli.diagnose_cmd, eigyo.diagnose, eigyo.diagnose.document
        wide = ("eigyo.report", "eigyo.runbook", "scipy.stats")
        loaded = sorted(m for m in wide if m in sys.modules)
        print(json.dumps({"heavy": heavy(), "eigyo": loaded}))
        """
    )
    assert doc["eigyo"] == []
    assert set(doc["heavy"]) & {"polars", "sklearn", "plotly", "pandas", "simpy"} == set()
    assert {"duckdb", "ibis", "scipy"} <= set(doc["heavy"])  # what the checks do need
