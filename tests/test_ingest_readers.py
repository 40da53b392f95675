"""Readers: encodings, delimiters, line endings, multi-line quotes, ragged rows, xlsx, parquet."""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl
import pytest

from eigyo.errors import InputError
from eigyo.ingest import import_path
from eigyo.ingest.encoding import decode
from eigyo.ingest.readers import read_csv_text, read_file, sniff_delimiter

sys.path.insert(0, str(Path(__file__).parent))
from _ingest_util import OPPS, REPS, new_ws, rows, write

# 髙, ① and ～ are in CP932 but not in Shift_JIS: the codec that must never be used.
JP_REPS = "rep_id,name,team,role,hire_date\nr1,髙橋①,営業～東京,closer,2024年4月1日\n"


def test_cp932_is_detected_and_keeps_characters_shift_jis_loses(tmp_path: Path) -> None:
    data = JP_REPS.encode("cp932")
    with pytest.raises(UnicodeDecodeError):
        data.decode("shift_jis")
    text, enc = decode(data, "reps.csv")
    assert (enc, text) == ("cp932", JP_REPS)
    ws = new_ws(tmp_path)
    report = import_path(ws, write(tmp_path / "in", {"reps.csv": data, "opportunities.csv": OPPS}))
    assert report.files[0].encoding == "cp932"
    assert rows(ws, "SELECT name, team FROM reps") == [("髙橋①", "営業～東京")]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("\ufeffa,b\n".encode(), "utf-8-sig"),
        (b"a,b\n", "utf-8-sig"),
        ("名前,チーム\n".encode("cp932"), "cp932"),
    ],
)
def test_encoding_order(data: bytes, expected: str) -> None:
    text, enc = decode(data, "x.csv")
    assert enc == expected and not text.startswith("\ufeff")


def test_charset_normalizer_fallback_and_override() -> None:
    data = "名前,チーム\n営業一課,東京\n".encode("utf-16")
    text, enc = decode(data, "x.csv")
    assert text.startswith("名前") and "16" in enc
    assert decode("髙".encode("cp932"), "x", "Shift_JIS") == ("髙", "cp932")
    with pytest.raises(InputError, match="not utf-8 at byte 0"):
        decode("髙".encode("cp932"), "x.csv", "utf-8")
    with pytest.raises(InputError, match="unknown encoding"):
        decode(b"a", "x.csv", "klingon")


@pytest.mark.parametrize(
    ("text", "sep"), [("a,b,c\n", ","), ("a;b;c\n", ";"), ("a\tb\tc\n", "\t"), ("abc\n", ",")]
)
def test_sniff_delimiter(text: str, sep: str) -> None:
    assert sniff_delimiter(text) == sep


@pytest.mark.parametrize("eol", ["\n", "\r\n", "\r"])
def test_line_endings_and_multiline_quotes(eol: str) -> None:
    text = eol.join(["id;note", '1;"first line' + eol + 'second; line"', "2;plain", ""])
    frame = read_csv_text(text, "x.csv").frame
    assert frame.get_column("note").to_list() == ["first line\nsecond; line", "plain"]
    # a quoted value over two lines is still one row: rows are records, header = row 1
    assert frame.get_column("_row").to_list() == [2, 3]


def test_rows_with_too_many_fields_are_rejected_not_dropped(tmp_path: Path) -> None:
    ws = new_ws(tmp_path)
    opps = OPPS + "o3,r1,5,2025-04-03,open,,関東,surplus\n"
    report = import_path(ws, write(tmp_path / "in", {"reps.csv": REPS, "opportunities.csv": opps}))
    f = report.files[1]
    assert (f.rows, f.loaded, f.rejected, f.reasons) == (3, 2, 1, {"malformed": 1})
    assert rows(ws, 'SELECT "row", code FROM _rejects') == [(4, "malformed")]
    assert f.examples[0].message("en") == (
        "opportunities.csv row 4: the row has more fields than the header (fields/header = 8/7)"
    )


def test_short_rows_read_as_missing_values(tmp_path: Path) -> None:
    ws = new_ws(tmp_path)
    opps = "opportunity_id,owner_rep_id,amount,created_at,status\no1,r1,5\n"
    report = import_path(ws, write(tmp_path / "in", {"reps.csv": REPS, "opportunities.csv": opps}))
    assert report.files[1].reasons == {"created_at: missing": 1}


def test_padded_headers_and_empty_file(tmp_path: Path) -> None:
    frame = read_csv_text(" Amount , Close Date \n1,2\n", "x.csv").frame
    assert frame.columns == ["Amount", "Close Date", "_row"]
    with pytest.raises(InputError, match="empty"):
        read_csv_text("\n", "x.csv")


def test_parquet_and_xlsx(tmp_path: Path) -> None:
    df = pl.DataFrame({"rep_id": ["r1"], "role": ["sdr"], "hire_date": ["2024-04-01"], "n": [3]})
    df.write_parquet(tmp_path / "reps.parquet")
    got = read_file(tmp_path / "reps.parquet").frame
    assert got.get_column("n").to_list() == ["3"] and got.get_column("_row").to_list() == [2]
    pytest.importorskip("xlsxwriter")
    df.write_excel(tmp_path / "reps.xlsx", worksheet="担当者")
    got = read_file(tmp_path / "reps.xlsx").frame
    assert got.get_column("rep_id").to_list() == ["r1"]
    assert read_file(tmp_path / "reps.xlsx", sheet="担当者").frame.height == 1
    with pytest.raises(InputError, match="cannot read"):
        read_file(tmp_path / "reps.xlsx", sheet="nope")
    with pytest.raises(InputError, match=r"cannot read \.json"):
        read_file(tmp_path / "reps.json")
