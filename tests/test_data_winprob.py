"""Win probability: features are rebuilt as of the cutoff, and nothing after it moves them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from eigyo.analysis.data import winprob
from eigyo.workspace import Workspace
from tests._rows import insert, new_ws

CUTOFF = date(2025, 1, 31)


def _past(ws: Workspace) -> None:
    """O1 open at the cutoff; O2 (won) and O3 (lost) closed before it give the owners a record."""
    insert(
        ws,
        "reps",
        [
            {"rep_id": "R1", "role": "generalist", "hire_date": "2024-01-01", "team": "T"},
            {"rep_id": "R2", "role": "generalist", "hire_date": "2024-01-01", "team": "T"},
        ],
    )
    insert(
        ws,
        "accounts",
        [{"account_id": "A1", "industry": "製造業", "employees": 120, "region": "関東"}],
    )
    insert(ws, "leads", [{"lead_id": "L1", "created_at": "2025-01-04 10:00", "source": "展示会"}])
    insert(
        ws,
        "opportunities",
        [
            {
                "opportunity_id": "O1",
                "account_id": "A1",
                "owner_rep_id": "R1",
                "lead_id": "L1",
                "product": "会計",
                "type": "new",
                "amount": 1000,
                "created_at": "2025-01-05 10:00",
                "expected_close_date": "2025-03-01",
                "status": "open",
            },
            {
                "opportunity_id": "O2",
                "owner_rep_id": "R1",
                "amount": 500,
                "type": "new",
                "created_at": "2024-11-01 10:00",
                "closed_at": "2025-01-20 10:00",
                "status": "won",
            },
            {
                "opportunity_id": "O3",
                "owner_rep_id": "R2",
                "amount": 500,
                "type": "new",
                "created_at": "2024-12-01 10:00",
                "closed_at": "2025-01-25 10:00",
                "status": "lost",
            },
        ],
    )
    insert(
        ws,
        "stage_history",
        [
            {"opportunity_id": "O1", "stage": "見込み", "entered_at": "2025-01-05 10:00"},
            {"opportunity_id": "O1", "stage": "評価", "entered_at": "2025-01-20 10:00"},
        ],
    )
    insert(
        ws,
        "activities",
        [
            {
                "activity_id": "X1",
                "rep_id": "R1",
                "type": "call",
                "occurred_at": "2025-01-10 10:00",
                "opportunity_id": "O1",
            },
            {
                "activity_id": "X2",
                "rep_id": "R1",
                "type": "email",
                "occurred_at": "2025-01-28 10:00",
                "opportunity_id": "O1",
            },
        ],
    )
    insert(ws, "opportunity_changes", [
        {"opportunity_id": "O1", "changed_at": "2025-01-25 10:00", "field": "expected_close_date",
         "old_value": "2025-02-15", "new_value": "2025-03-01"},
    ])  # fmt: skip


def _future(ws: Workspace) -> None:
    """Everything that happens after the cutoff: O1 advances, is re-priced, changes hands, wins;
    a new deal of R1 is created and lost."""
    insert(
        ws,
        "stage_history",
        [
            {"opportunity_id": "O1", "stage": "提案", "entered_at": "2025-02-03 10:00"},
            {"opportunity_id": "O1", "stage": "受注", "entered_at": "2025-02-20 10:00"},
        ],
    )
    insert(
        ws,
        "activities",
        [
            {
                "activity_id": "X3",
                "rep_id": "R2",
                "type": "demo",
                "occurred_at": "2025-02-05 10:00",
                "opportunity_id": "O1",
            },
        ],
    )
    insert(
        ws,
        "opportunity_changes",
        [
            {
                "opportunity_id": "O1",
                "changed_at": "2025-02-10 10:00",
                "field": "amount",
                "old_value": "1000",
                "new_value": "5000",
            },
            {
                "opportunity_id": "O1",
                "changed_at": "2025-02-12 10:00",
                "field": "expected_close_date",
                "old_value": "2025-03-01",
                "new_value": "2025-02-20",
            },
            {
                "opportunity_id": "O1",
                "changed_at": "2025-02-15 10:00",
                "field": "owner_rep_id",
                "old_value": "R1",
                "new_value": "R2",
            },
        ],
    )
    ws.raw.execute("""UPDATE opportunities SET amount = 5000, expected_close_date = '2025-02-20',
        owner_rep_id = 'R2', status = 'won', closed_at = '2025-02-20 10:00'
        WHERE opportunity_id = 'O1'""")
    insert(ws, "opportunities", [
        {"opportunity_id": "O4", "owner_rep_id": "R1", "amount": 700, "type": "new",
         "created_at": "2025-02-02 10:00", "closed_at": "2025-02-25 10:00", "status": "lost"},
    ])  # fmt: skip


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    w = new_ws(tmp_path)
    _past(w)
    return w


def test_features_are_what_was_known_at_the_cutoff(ws: Workspace) -> None:
    f = winprob.frame_at(ws, CUTOFF)
    assert f["opportunity_id"].to_list() == ["O1"]
    row = f.row(0, named=True)
    assert row["stage"] == "評価" and row["stage_entries"] == 2
    assert row["amount"] == 1000 and row["activities"] == 2 and row["pushes"] == 1
    assert row["source"] == "展示会" and row["industry"] == "製造業"
    assert row["size_band"] == "50-299" and row["owner_rep_id"] == "R1"
    assert row["close_in_days"] == pytest.approx(28.0)  # 2025-03-01 − end of 2025-01-31
    assert row["days_in_stage"] == pytest.approx(11 + 14 / 24)
    # R1: one win in one close, smoothed towards the organization's 1/2 with 10 pseudo-deals
    assert row["owner_win_rate"] == pytest.approx((1 + 10 * 0.5) / (1 + 10))


def test_no_feature_uses_data_from_after_the_cutoff(ws: Workspace) -> None:
    before = winprob.frame_at(ws, CUTOFF)
    _future(ws)
    after = winprob.frame_at(ws, CUTOFF)
    assert_frame_equal(before, after)
    # ... while the same deal seen later does reflect the future
    later = winprob.frame_at(ws, date(2025, 2, 16))
    assert later.row(0, named=True)["amount"] == 5000
    assert later.row(0, named=True)["owner_rep_id"] == "R2"


def test_training_labels_only_known_outcomes(ws: Workspace) -> None:
    _future(ws)
    snaps = winprob.Snapshots(ws)
    train = snaps.training(date(2025, 2, 28))
    # the 2025-01-31 snapshot holds O1, which was won on 2025-02-20: known by 2025-02-28
    jan = train.filter(pl.col("cutoff") == CUTOFF)
    assert jan.select("opportunity_id", "won").rows() == [("O1", 1)]
    assert set(train["opportunity_id"]) == {"O1", "O2", "O3"}  # O2, O3 from Nov and Dec ends
    early = snaps.training(date(2025, 2, 15))
    assert "O1" not in set(early["opportunity_id"])  # its outcome was not known on 02-15


def test_calibration_and_scores_refuse_tiny_samples() -> None:
    import numpy as np

    y, p = np.array([0, 1, 1]), np.array([0.2, 0.7, 0.9])
    assert winprob.scores(y, p) == {"auc": None, "brier": None}
    cal = winprob.calibration(y, p, bins=2)
    assert [c["n"] for c in cal] == [1, 2]
    assert pl.DataFrame(cal)["observed"].to_list() == [0.0, 1.0]
