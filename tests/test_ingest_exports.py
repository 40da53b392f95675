"""`eigyo import rejects` (rejected rows → CSV for Excel) and `eigyo import report`."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

from typer.testing import CliRunner

from eigyo.cli import app
from eigyo.errors import InputError

sys.path.insert(0, str(Path(__file__).parent))
from _ingest_util import OPPS, REPS, new_ws, write

# o10: no owner (a blank amount alone would load: a deal without an amount is kept)
BAD = OPPS + "o9,r1,-500000,2025-04-03,open,,東北\no10,,,2025-04-03,open,,\n"


def _setup(tmp: Path) -> list[str]:
    new_ws(tmp).close()
    src = write(tmp / "in", {"reps.csv": REPS, "opportunities.csv": BAD})
    ws = ["--workspace", str(tmp / "ws")]
    res = CliRunner().invoke(app, ["import", str(src), *ws])
    assert res.exit_code == 0, res.output
    return ws


def _read(path: Path) -> list[list[str]]:
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the file as UTF-8
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_rejects_csv_has_reasons_and_the_original_record(tmp_path: Path) -> None:
    ws = _setup(tmp_path)
    out = tmp_path / "r.csv"
    res = CliRunner().invoke(app, ["import", "rejects", *ws, "--out", str(out), "--lang", "en"])
    assert res.exit_code == 0, res.output
    assert "Wrote 2 rejected row(s) of import #1" in res.stdout
    got = _read(out)
    assert got[0] == [
        "file", "row", "column", "value", "reason",
        "opportunity_id", "owner_rep_id", "amount", "created_at", "status", "closed_at", "region",
    ]  # fmt: skip
    assert got[1] == [
        "opportunities.csv", "4", "amount", "-500000", "'-500000' must be zero or more",
        "o9", "r1", "-500000", "2025-04-03", "open", "", "東北",
    ]  # fmt: skip
    assert got[2][:5] == ["opportunities.csv", "5", "owner_rep_id", "", "a value is required"]


def test_rejects_reasons_in_japanese_by_default(tmp_path: Path) -> None:
    ws = _setup(tmp_path)
    out = tmp_path / "r.csv"
    res = CliRunner().invoke(app, ["import", "rejects", *ws, "--out", str(out), "--import-id", "1"])
    assert res.exit_code == 0, res.output
    assert _read(out)[1][4] == "'-500000' は 0 以上でなければなりません"


def test_unknown_import_id_is_a_domain_error(tmp_path: Path) -> None:
    ws = _setup(tmp_path)
    res = CliRunner().invoke(app, ["import", "rejects", *ws, "--import-id", "7", "--lang", "en"])
    assert isinstance(res.exception, InputError)  # the CLI's main turns it into exit status 1
    assert str(res.exception) == "There is no import #7. Imports: 1"


def test_saved_report_reprints_text_and_json(tmp_path: Path) -> None:
    ws = _setup(tmp_path)
    first = CliRunner().invoke(app, ["import", "report", *ws, "--format", "json"])
    assert first.exit_code == 0, first.output
    doc = json.loads(first.stdout)
    assert (doc["import_id"], doc["loaded"], doc["rejected"], doc["warnings"]) == (1, 4, 2, 0)
    assert doc["files"][1]["reasons"] == {"amount: below_min": 1, "owner_rep_id: missing": 1}
    text = CliRunner().invoke(app, ["import", "report", *ws, "--lang", "en"], terminal_width=200)
    assert "Import #1:" in text.stdout
    assert "opportunities.csv row 4, column amount: '-500000' must be zero or more" in text.stdout
    ja = CliRunner().invoke(app, ["import", "report", *ws], terminal_width=200)
    assert "取込 #1:" in ja.stdout


def test_report_before_any_import_says_what_to_do(tmp_path: Path) -> None:
    new_ws(tmp_path).close()
    res = CliRunner().invoke(
        app, ["import", "report", "--workspace", str(tmp_path / "ws"), "--lang", "en"]
    )
    assert isinstance(res.exception, InputError)
    assert "Run eigyo import PATH first" in str(res.exception)
