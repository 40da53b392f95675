"""``eigyo metrics`` through the real entry point: exit codes, the JSON contract, text and CSV."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from eigyo.cli import main
from eigyo.metrics import REGISTRY
from tests.test_metrics_company import build


@pytest.fixture(scope="module")
def wdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "w"
    build(path).close()
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as e:
        code = int(e.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_json_contract(wdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "metrics", "--workspace", str(wdir), "--period", "2025-04",
                       "--format", "json")  # fmt: skip
    assert code == 0
    doc = json.loads(out)
    # The contract's keys, extended (never renamed) by the currency and each value's reason.
    assert set(doc) == {"period", "currency", "metrics"} and doc["period"] == "2025-04"
    assert doc["currency"] == "JPY"
    assert [m["id"] for m in doc["metrics"]] == list(REGISTRY)
    for m in doc["metrics"]:
        assert set(m) == {"id", "value", "unit", "by", "reason"} and m["by"] == {}
    got = {m["id"]: m for m in doc["metrics"]}
    assert got["bookings"] == {
        "id": "bookings",
        "value": 6_000_000,
        "unit": "yen",
        "by": {},
        "reason": None,
    }


def test_json_grouped_and_selected(wdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["-p", "FY2025", "--by", "team", "-m", "bookings", "-m", "win_rate", "-f", "json"]
    code, out, _ = run(capsys, "metrics", "-w", str(wdir), *args)
    assert code == 0
    doc = json.loads(out)
    assert doc["period"] == "FY2025"
    rows = {(m["id"], m["by"]["team"]): m["value"] for m in doc["metrics"]}
    assert rows[("bookings", "A")] == 4_000_000 + 4_000_000  # o1, o2 in April; o6 in May
    assert {i for i, _ in rows} == {"bookings", "win_rate"}


def test_text_table_in_japanese_and_english(wdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "metrics", "-w", str(wdir), "-p", "2025-04", "-m", "bookings",
                       "-m", "win_rate")  # fmt: skip
    assert code == 0 and "受注金額" in out and "¥6,000,000" in out and "60.0%" in out
    code, out, _ = run(capsys, "metrics", "-w", str(wdir), "-p", "2025-04", "--lang", "en")
    assert code == 0 and "Bookings" in out and "Win rate" in out


def test_csv(wdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "metrics", "-w", str(wdir), "-p", "2025-04", "--by", "rep_id",
                       "-m", "bookings", "--format", "csv", "--lang", "en")  # fmt: skip
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["rep_id"], float(r["value"])) for r in rows] == [
        ("r1", 4_000_000.0),
        ("r3", 2_000_000.0),
    ]
    assert rows[0]["label"] == "Bookings" and rows[0]["unit"] == "yen"


def test_list(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "metrics", "list", "--format", "json", "--lang", "en")
    assert code == 0
    doc = json.loads(out)
    assert [m["id"] for m in doc["metrics"]] == list(REGISTRY)
    assert doc["metrics"][0]["definition"] == REGISTRY["bookings"].definition_en
    code, out, _ = run(capsys, "metrics", "list")
    assert code == 0 and "受注率" in out


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["-p", "FY2025-Q5"], 1, "期間 'FY2025-Q5' を読めません"),
        (["-p", "FY2025-Q5", "--lang", "en"], 1, "Unknown period 'FY2025-Q5'"),
        (["-p", "2025-04", "-m", "bookingz"], 1, "Known metrics: bookings"),
        (["-p", "2025-04", "--by", "planet"], 1, "Unknown grouping 'planet'"),
        (["-p", "2025-04", "-m", "nrr", "--by", "team"], 1, "Cannot group nrr by team"),
        (["-p", "2025-04", "--format", "xml"], 2, "--format"),
        (["-p", "2025-04", "--lang", "fr"], 2, "--lang"),
        ([], 2, "--period"),
    ],
)
def test_errors(
    wdir: Path, capsys: pytest.CaptureFixture[str], args: list[str], code: int, message: str
) -> None:
    got, out, err = run(capsys, "metrics", "-w", str(wdir), *args)
    assert got == code
    assert out == ""
    assert message in " ".join(err.split())


def test_missing_workspace(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "metrics", "-w", str(tmp_path / "nope"), "-p", "2025-04")
    assert code == 1 and "eigyo のワークスペースではありません" in err
