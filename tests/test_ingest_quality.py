"""Data-quality warnings: suspicious rows are loaded, flagged in ``_warnings`` and counted."""

from __future__ import annotations

import sys
from pathlib import Path

from typer.testing import CliRunner

from eigyo.cli import app
from eigyo.ingest import ImportReport, import_path
from eigyo.ingest.quality import warnings_summary
from eigyo.workspace import Workspace

sys.path.insert(0, str(Path(__file__).parent))
from _ingest_util import REPS, new_ws, rows, write

# 24 ordinary deals (100,000..123,000: median 111,500, MAD 6,000) and three suspicious ones.
_ORDINARY = "".join(f"o{i},r1,{100_000 + 1000 * i},2025-04-01,open,,\n" for i in range(24))
OPPS = (
    "opportunity_id,owner_rep_id,amount,created_at,status,closed_at,account_id\n"
    + _ORDINARY
    + "x1,r9,120000,2025-04-01,open,,\n"  # row 26: owner not in reps
    + "x2,r1,110000,2025-04-10,won,2025-04-01,\n"  # row 27: closed before created
    + "x3,r2,50000000,2025-04-01,open,,a1\n"  # row 28: 50M, far beyond 10 MADs
)
STAGES = "opportunity_id,stage,entered_at\nx1,提案,2025-04-02\nzz,提案,2025-04-02\n"


def _import(tmp: Path) -> tuple[Workspace, ImportReport]:
    ws = new_ws(tmp)
    src = write(
        tmp / "in", {"reps.csv": REPS, "opportunities.csv": OPPS, "stage_history.csv": STAGES}
    )
    return ws, import_path(ws, src)


def test_suspicious_rows_are_loaded_and_flagged(tmp_path: Path) -> None:
    ws, report = _import(tmp_path)
    assert ws.count("opportunities") == 27
    got = rows(
        ws,
        'SELECT file, "row", "column", value, code FROM _warnings ORDER BY file, "row"',
    )
    assert got == [
        ("opportunities.csv", 26, "owner_rep_id", "r9", "unknown_reference"),
        ("opportunities.csv", 27, "closed_at", "2025-04-01 00:00:00", "closed_before_created"),
        ("opportunities.csv", 28, "amount", "50000000.0", "outlier"),
        ("stage_history.csv", 3, "opportunity_id", "zz", "unknown_reference"),
    ]  # account_id is not checked: the workspace has no accounts at all
    opp = report.files[1]
    assert (opp.loaded, opp.rejected, opp.warnings) == (27, 0, 3)
    assert opp.warning_reasons == {
        "owner_rep_id: unknown_reference": 1,
        "closed_at: closed_before_created": 1,
        "amount: outlier": 1,
    }
    assert report.to_json()["warnings"] == 4


def test_warnings_summary_counts_by_table_and_code(tmp_path: Path) -> None:
    ws, _ = _import(tmp_path)
    summary = warnings_summary(ws)
    assert [(w.table, w.column, w.code, w.count, w.example_row) for w in summary] == [
        ("opportunities", "amount", "outlier", 1, 28),
        ("opportunities", "closed_at", "closed_before_created", 1, 27),
        ("opportunities", "owner_rep_id", "unknown_reference", 1, 26),
        ("stage_history", "opportunity_id", "unknown_reference", 1, 3),
    ]
    assert summary[2].message("en") == (
        "owner_rep_id refers to a value not found in reps.rep_id (loaded; unknown reference)"
    )
    assert "reps.rep_id" in summary[2].message("ja")
    # a later import of the opportunities alone, now clean, supersedes their warnings
    clean = "opportunity_id,owner_rep_id,amount,created_at,status\nx1,r1,1,2025-04-01,open\n"
    import_path(ws, write(tmp_path / "in2", {"opportunities.csv": clean}) / "opportunities.csv")
    assert [(w.table, w.code) for w in warnings_summary(ws)] == [
        ("stage_history", "unknown_reference")
    ]
    assert len(warnings_summary(ws, import_id=1)) == 4


def test_reference_to_a_row_of_a_later_file_is_not_flagged(tmp_path: Path) -> None:
    ws = new_ws(tmp_path)
    leads = "lead_id,created_at,opportunity_id\nl1,2025-04-01,o1\n"
    opps = (
        "opportunity_id,owner_rep_id,amount,created_at,status,lead_id\no1,r1,1,2025-04-02,open,l1\n"
    )
    src = write(tmp_path / "in", {"reps.csv": REPS, "leads.csv": leads, "opportunities.csv": opps})
    assert import_path(ws, src).warnings == 0


def test_cli_shows_warnings_in_both_languages(tmp_path: Path) -> None:
    new_ws(tmp_path).close()
    src = write(tmp_path / "in", {"reps.csv": REPS, "opportunities.csv": OPPS})
    args = ["import", str(src), "--workspace", str(tmp_path / "ws")]
    en = CliRunner().invoke(app, [*args, "--lang", "en"], terminal_width=200)
    assert "3 warning(s)" in en.stdout
    assert "1×: opportunities.amount is an outlier" in en.stdout
    ja = CliRunner().invoke(app, args, terminal_width=200)
    assert "注意 3 行" in ja.stdout and "作成前に完了" in ja.stdout
