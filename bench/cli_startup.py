"""Start-up of the command line: ``eigyo --help`` against ``python -c "import typer, rich"``.

Issue 20's target: ``eigyo --help`` within 3× of its peer, the bare import of the two libraries
the CLI is built on. Both run as fresh processes, alternated, ``RUNS`` times each in the same
run; the medians and their ratio are printed, then the heavy libraries that ``eigyo --help``
loaded (none expected; tests/test_cli_startup.py checks every command's ``--help``).

Both run with their bytecode cached, as an installed package has it: Python writes the ``.pyc``
files under a temporary ``PYTHONPYCACHEPREFIX`` in the warm-up run (``PYTHONDONTWRITEBYTECODE``
is dropped for the children), so neither pays for compiling its sources, and the checkout stays
clean.

    .venv/bin/python bench/cli_startup.py [runs]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = 10
BIN = Path(sys.executable).parent
EIGYO = [str(BIN / "eigyo"), "--help"]
PEER = [sys.executable, "-c", "import typer, rich"]

#: Third-party libraries whose import costs tenths of seconds; tests/test_cli_startup.py has the
#: same list.
HEAVY = (
    "duckdb", "ibis", "polars", "pyarrow", "pandas", "numpy", "scipy", "sklearn", "plotly",
    "matplotlib", "reportlab", "pptx", "xlsxwriter", "openpyxl", "simpy", "fastapi", "starlette",
    "uvicorn", "jinja2", "pyspark", "psycopg", "holidays",
)  # fmt: skip

_LOADED = f"""
import sys
from typer.testing import CliRunner
from eigyo.cli import app
CliRunner().invoke(app, ["--help"])
print(sorted({{m.split(".")[0] for m in sys.modules}} & set({HEAVY!r})))
"""


def _once(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - t0


def main(runs: int = RUNS) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="eigyo-pyc-") as cache:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = cache
        _once(EIGYO, env)  # warm the file cache and write the .pyc files of both
        _once(PEER, env)
        eigyo, peer = [], []
        for _ in range(runs):  # alternated, so load on the machine hits both alike
            eigyo.append(_once(EIGYO, env))
            peer.append(_once(PEER, env))
    loaded = subprocess.run(
        [sys.executable, "-c", _LOADED], check=True, capture_output=True, text=True
    ).stdout.strip()
    e, p = statistics.median(eigyo), statistics.median(peer)
    return {
        "runs": runs,
        "eigyo_help_s": round(e, 3),
        "import_typer_rich_s": round(p, 3),
        "ratio": round(e / p, 2),
        "target_ratio": 3.0,
        "heavy_loaded": json.loads(loaded.replace("'", '"')),
    }


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else RUNS)))
