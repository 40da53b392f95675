"""``eigyo import``: text and JSON output, exit status, languages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from eigyo.cli import app

sys.path.insert(0, str(Path(__file__).parent))
from _ingest_util import OPPS, REPS, new_ws, write

BAD = OPPS + "o9,r1,-500000,2025-04-03,open,,\n"


def test_json_output_is_one_document(tmp_path: Path) -> None:
    new_ws(tmp_path).close()
    src = write(tmp_path / "in", {"reps.csv": REPS, "opportunities.csv": BAD})
    res = CliRunner().invoke(
        app, ["import", str(src), "--workspace", str(tmp_path / "ws"), "--format", "json"]
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert (doc["loaded"], doc["rejected"]) == (4, 1)
    assert doc["files"][1]["reasons"] == {"amount: below_min": 1}


def test_text_output_names_row_column_and_reason(tmp_path: Path) -> None:
    new_ws(tmp_path).close()
    src = write(tmp_path / "in", {"reps.csv": REPS, "opportunities.csv": BAD})
    args = ["import", str(src), "--workspace", str(tmp_path / "ws")]
    en = CliRunner().invoke(app, [*args, "--lang", "en"], terminal_width=200)
    assert "opportunities.csv row 4, column amount: '-500000' must be zero or more" in en.stdout
    ja = CliRunner().invoke(app, args, terminal_width=200)
    assert (
        "opportunities.csv 4 行目、列 amount: '-500000' は 0 以上でなければなりません" in ja.stdout
    )


def test_domain_error_exits_1_with_one_message(tmp_path: Path) -> None:
    new_ws(tmp_path).close()
    src = write(tmp_path / "in", {"reps.csv": REPS})
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "from eigyo.cli import main; main()",
            "import",
            str(src),
            "--workspace",
            str(tmp_path / "ws"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    assert "opportunities.csv" in proc.stderr and "Traceback" not in proc.stderr
