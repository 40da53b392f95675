"""The canonical import: a folder of ``<table>.csv`` files into a real DuckDB workspace."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from pathlib import Path

import pytest

from eigyo.errors import InputError
from eigyo.ingest import import_path

sys.path.insert(0, str(Path(__file__).parent))
from _ingest_util import OPPS, REPS, new_ws, rows, snapshot, write


def test_happy_path_counts_values_and_bookkeeping(tmp_path: Path) -> None:
    ws = new_ws(tmp_path)
    src = write(tmp_path / "in", {"reps.csv": REPS, "opportunities.csv": OPPS})
    report = import_path(ws, src)
    assert (report.loaded, report.rejected, report.rows) == (4, 0, 4)
    assert [(f.file, f.table, f.rows, f.loaded) for f in report.files] == [
        ("reps.csv", "reps", 2, 2),
        ("opportunities.csv", "opportunities", 2, 2),
    ]
    got = rows(
        ws,
        "SELECT opportunity_id, amount, created_at, closed_at, status, extra "
        "FROM opportunities ORDER BY 1",
    )
    assert got == [
        # ￥1,200,000 → 1200000; 2025-05-01T00:00Z is 09:00 in Asia/Tokyo
        (
            "o1",
            1_200_000.0,
            datetime(2025, 4, 1, 10),
            datetime(2025, 5, 1, 9),
            "won",
            '{"region":"関東"}',
        ),
        ("o2", 300_000.0, datetime(2025, 4, 2), None, "open", '{"region":"関西"}'),
    ]
    assert rows(ws, "SELECT rep_id, hire_date FROM reps ORDER BY 1") == [
        ("r1", date(2024, 4, 1)),
        ("r2", date(2024, 4, 1)),
    ]
    imports = rows(
        ws,
        'SELECT import_id, file, "table", loaded, rejected, rows_read FROM _imports ORDER BY file',
    )
    assert imports == [
        (1, "opportunities.csv", "opportunities", 2, 0, 2),
        (1, "reps.csv", "reps", 2, 0, 2),
    ]
    assert json.loads(json.dumps(report.to_json()))["loaded"] == 4


BAD_OPPS = """opportunity_id,owner_rep_id,amount,created_at,status,type
o1,r1,100,2025-04-01,won,new
o2,r1,-500000,2025-04-01,open,new
o3,,100,2025-04-01,open,new
o1,r2,5,2025-04-01,open,new
o5,r2,abc,2025-04-01,open,new
o6,r2,10,2025-13-45,open,new
o7,r2,10,2025-04-01,maybe,new
o8,r2,10,2025-04-01,open,upsell
"""


@pytest.mark.parametrize(
    ("row", "column", "value", "code", "message"),
    [
        (
            3,
            "amount",
            "-500000",
            "below_min",
            "opportunities.csv row 3, column amount: '-500000' must be zero or more",
        ),
        (
            4,
            "owner_rep_id",
            None,
            "missing",
            "opportunities.csv row 4, column owner_rep_id: a value is required",
        ),
        (
            5,
            "opportunity_id",
            "o1",
            "duplicate",
            "opportunities.csv row 5, column opportunity_id: key 'o1' already appeared in row 2 "
            "of this import (the first row is kept)",
        ),
        (
            6,
            "amount",
            "abc",
            "type",
            "opportunities.csv row 6, column amount: 'abc' is not a valid number",
        ),
        (7, "created_at", "2025-13-45", "type", None),
        (
            8,
            "status",
            "maybe",
            "allowed",
            "opportunities.csv row 8, column status: "
            "'maybe' must be one of open, won, lost, unknown",
        ),
        (9, "type", "upsell", "allowed", None),
    ],
)
def test_every_rejection_reason(
    tmp_path: Path, row: int, column: str, value: str | None, code: str, message: str | None
) -> None:
    ws = new_ws(tmp_path)
    src = write(tmp_path / "in", {"reps.csv": REPS, "opportunities.csv": BAD_OPPS})
    report = import_path(ws, src, max_reject_rate=1.0)  # 7 of 10 rows rejected on purpose
    opp = report.files[1]
    assert (opp.rows, opp.loaded, opp.rejected) == (8, 1, 7)
    got = rows(ws, f'SELECT "column", value, code, record FROM _rejects WHERE "row" = {row}')
    assert got[0][:3] == (column, value, code)
    assert json.loads(got[0][3])["opportunity_id"] == (
        "o1" if code == "duplicate" else f"o{row - 1}"
    )
    if message:
        assert any(p.message("en") == message for p in opp.examples)


def test_max_value_and_japanese_message(tmp_path: Path) -> None:
    ws = new_ws(tmp_path)
    src = write(
        tmp_path / "in",
        {
            "reps.csv": REPS,
            "opportunities.csv": OPPS,
            "time_entries.csv": "rep_id,date,category,hours\nr1,2025-04-01,selling,25\n",
        },
    )
    report = import_path(ws, src)
    te = report.files[-1]
    assert te.reasons == {"hours: above_max": 1}
    assert (
        te.examples[0].message("ja")
        == "time_entries.csv 2 行目、列 hours: '25' は 24 以下でなければなりません"
    )


def test_reimport_replaces_by_key(tmp_path: Path) -> None:
    ws = new_ws(tmp_path)
    src = write(tmp_path / "in", {"reps.csv": REPS, "opportunities.csv": OPPS})
    import_path(ws, src)
    write(src, {"opportunities.csv": OPPS.replace("300000", "400000")})
    report = import_path(ws, src)
    assert report.import_id == 2
    assert [f.replaced for f in report.files] == [2, 2]
    assert rows(ws, "SELECT count(*), sum(amount) FROM opportunities") == [(2, 1_600_000.0)]


def test_missing_required_file_changes_nothing(tmp_path: Path) -> None:
    ws = new_ws(tmp_path)
    before = snapshot(ws)
    src = write(tmp_path / "in", {"reps.csv": REPS})
    with pytest.raises(InputError, match=r"opportunities\.csv"):
        import_path(ws, src)
    assert snapshot(ws) == before


def test_missing_required_column_names_file_and_column(tmp_path: Path) -> None:
    ws = new_ws(tmp_path)
    src = write(
        tmp_path / "in", {"reps.csv": REPS, "opportunities.csv": OPPS.replace("status", "state")}
    )
    before = snapshot(ws)
    with pytest.raises(InputError, match=r"opportunities\.csv: required column status missing"):
        import_path(ws, src)
    assert snapshot(ws) == before


def test_strict_refuses_whole_import(tmp_path: Path) -> None:
    ws = new_ws(tmp_path)
    src = write(tmp_path / "in", {"reps.csv": REPS, "opportunities.csv": BAD_OPPS})
    before = snapshot(ws)
    with pytest.raises(InputError, match=r"--strict: 7 row\(s\)"):
        import_path(ws, src, strict=True)
    assert snapshot(ws) == before
    ok = write(tmp_path / "ok", {"reps.csv": REPS, "opportunities.csv": OPPS})
    assert import_path(ws, ok, strict=True).loaded == 4


def test_failure_mid_load_rolls_back_everything(tmp_path: Path) -> None:
    """A failure after the first file was written (here: raised by the progress callback)."""
    ws = new_ws(tmp_path)
    import_path(ws, write(tmp_path / "a", {"reps.csv": REPS, "opportunities.csv": OPPS}))
    before = snapshot(ws)

    def boom(label: str, done: int, total: int) -> None:
        if label == "load" and done == 1:
            raise RuntimeError("disk full")

    src = write(
        tmp_path / "b",
        {
            "reps.csv": REPS.replace("田中", "山田"),
            "opportunities.csv": OPPS.replace("300000", "1"),
        },
    )
    with pytest.raises(RuntimeError, match="disk full"):
        import_path(ws, src, progress=boom)
    assert snapshot(ws) == before


def test_duplicate_keeps_first_even_across_columns_with_whitespace(tmp_path: Path) -> None:
    ws = new_ws(tmp_path)
    opps = OPPS + "o1 ,r2,1,2025-04-03,open,,\n"
    report = import_path(ws, write(tmp_path / "in", {"reps.csv": REPS, "opportunities.csv": opps}))
    assert report.files[1].reasons == {"opportunity_id: duplicate": 1}
    assert rows(ws, "SELECT owner_rep_id FROM opportunities WHERE opportunity_id = 'o1'") == [
        ("r1",)
    ]


def test_single_canonical_file_and_unknown_name(tmp_path: Path) -> None:
    ws = new_ws(tmp_path)
    src = write(tmp_path / "in", {"reps.csv": REPS, "deals.csv": OPPS})
    assert import_path(ws, src / "reps.csv").loaded == 2
    with pytest.raises(InputError, match="not a canonical file name"):
        import_path(ws, src / "deals.csv")


def test_nan_and_infinite_amounts_are_rejected(tmp_path: Path) -> None:
    # the float cast reads them, but no amount is NaN or infinite: each is a type rejection
    ws = new_ws(tmp_path)
    opps = (
        "opportunity_id,owner_rep_id,amount,created_at,status\n"
        "o1,r1,NaN,2025-04-01,open\no2,r1,inf,2025-04-01,open\n"
        "o3,r1,1e999,2025-04-01,open\no4,r1,1e3,2025-04-01,open\n"
    )
    src = write(tmp_path / "in", {"reps.csv": REPS, "opportunities.csv": opps})
    opp = import_path(ws, src).files[1]
    assert (opp.rows, opp.loaded, opp.rejected) == (4, 1, 3)
    got = rows(ws, 'SELECT "row", "column", value, code FROM _rejects ORDER BY "row"')
    assert got == [
        (2, "amount", "NaN", "type"),
        (3, "amount", "inf", "type"),
        (4, "amount", "1e999", "type"),
    ]
    assert rows(ws, "SELECT opportunity_id, amount FROM opportunities") == [("o4", 1000.0)]
