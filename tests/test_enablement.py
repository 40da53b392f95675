"""Enablement (step 5): ramp, first deal, productivity, DiD arithmetic, gaps, demo end to end."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from eigyo.analysis.enablement import ramp as en
from eigyo.analysis.enablement import training as es
from eigyo.base.periods import parse_period
from eigyo.workspace import Workspace
from tests._rows import insert, new_ws
from tests.conftest import Demo

Q2 = parse_period("2025-Q2")
VET = {"role": "generalist", "hire_date": "2020-01-01", "team": "A"}


def _won(oid: str, rep: str, amount: float, closed: str) -> dict[str, object]:
    return {"opportunity_id": oid, "owner_rep_id": rep, "amount": amount, "status": "won",
            "created_at": "2025-04-01 09:00:00", "closed_at": closed}  # fmt: skip


@pytest.fixture()
def ramp_ws(tmp_path: Path) -> Workspace:
    w = new_ws(tmp_path)
    insert(w, "reps", [
        {"rep_id": "V1", **VET}, {"rep_id": "V2", **VET},
        {"rep_id": "N1", "role": "generalist", "hire_date": "2025-04-01", "team": "B"},
        {"rep_id": "N2", "role": "generalist", "hire_date": "2025-04-10", "team": "B"},
    ])  # fmt: skip
    insert(w, "opportunities", [
        _won("a", "V1", 100, "2025-04-10 10:00:00"), _won("b", "V1", 300, "2025-05-10 10:00:00"),
        _won("c", "V2", 200, "2025-04-11 10:00:00"), _won("d", "V2", 400, "2025-06-10 10:00:00"),
        _won("e", "N1", 60, "2025-05-15 12:00:00"), _won("f", "N1", 120, "2025-06-15 12:00:00"),
        _won("g", "N2", 400, "2025-06-20 12:00:00"),
        {"opportunity_id": "h", "owner_rep_id": "N1", "amount": 500, "status": "open",
         "created_at": "2025-06-01 09:00:00"},
    ])  # fmt: skip
    insert(w, "trainings", [{"rep_id": "N2", "program": "新人研修", "completed_at": "2025-04-20"}])
    insert(w, "assessments", [
        {"rep_id": "N1", "capability": "製品知識", "level": 2, "assessed_at": "2025-03-31"},
        {"rep_id": "N1", "capability": "製品知識", "level": 3, "assessed_at": "2025-06-30"},
        {"rep_id": "N1", "capability": "製品知識", "level": 1, "assessed_at": "2025-07-15"},
        {"rep_id": "N1", "capability": "ヒアリング", "level": 4, "assessed_at": "2025-06-30"},
        {"rep_id": "V1", "capability": "ヒアリング", "level": 2, "assessed_at": "2025-06-30"},
    ])  # fmt: skip
    cfg = w.path / "eigyo.toml"
    cfg.write_text(
        cfg.read_text(encoding="utf-8")
        + '\n[enablement]\ndefault_level = 3\n[enablement.required.generalist]\n"製品知識" = 4\n',
        encoding="utf-8",
    )
    return w


def test_tenured_median_of_even_count(ramp_ws: Workspace) -> None:
    med = en.tenured_median(ramp_ws, Q2).to_polars()
    # V1 [100, 300, 0], V2 [200, 0, 400]: sorted 0 0 100 200 300 400 → (100 + 200) / 2
    assert med.to_dicts() == [{"_role": "generalist", "role_median": 150.0, "tenured_months": 6}]


def test_ramp_curves_by_cohort_and_onboarding(ramp_ws: Workspace) -> None:
    df = en.ramp_curves(ramp_ws, Q2)
    n1 = df.filter(pl.col("onboarded") == 0)
    assert n1["cohort"].unique().to_list() == ["2025-Q2"]
    assert n1["tenure_month"].to_list() == [1, 2, 3]
    assert n1["ratio"].to_list() == pytest.approx([0.0, 60 / 150, 120 / 150])
    n2 = df.filter(pl.col("onboarded") == 1)
    assert n2["mean_bookings"].to_list() == [0.0, 0.0, 400.0]


def test_first_deal_and_productivity(ramp_ws: Workspace) -> None:
    df = en.new_hires(ramp_ws, Q2).sort("rep_id")
    assert df["rep_id"].to_list() == ["N1", "N2"]
    n1, n2 = df.row(0, named=True), df.row(1, named=True)
    assert n1["first_deal_days"] == pytest.approx(44.5)  # 04-01 00:00 → 05-15 12:00
    assert n1["months_to_productivity"] is None  # (0 + 60 + 120) / 3 = 60 < 0.8 × 150
    assert n2["months_to_productivity"] == 3  # (0 + 0 + 400) / 3 ≥ 120
    assert n2["first_deal_days"] == pytest.approx(71.5)  # 04-10 → 06-20 12:00
    assert en.onboarding_comparison(ramp_ws, Q2)["verdict"] == "not_enough_data"


def test_capability_gaps_use_settings_and_latest_assessment(ramp_ws: Workspace) -> None:
    gaps = es.capability_gaps(ramp_ws, Q2).sort(["rep_id", "capability"])
    rows = gaps.select("rep_id", "capability", "level", "required", "gap").rows()
    assert rows == [("N1", "ヒアリング", 4, 3, 0), ("N1", "製品知識", 3, 4, 1),
                    ("V1", "ヒアリング", 2, 3, 1)]  # fmt: skip
    co = es.coaching_priorities(ramp_ws, Q2)
    top = co.row(0, named=True)
    assert (top["rep_id"], top["first_capability"], top["priority"]) == ("N1", "製品知識", 500.0)
    assert co.row(1, named=True)["priority"] == 0.0  # V1 has nothing open


@pytest.fixture()
def did_ws(tmp_path: Path) -> Workspace:
    w = new_ws(tmp_path)
    insert(w, "reps", [{"rep_id": r, **VET} for r in ("T1", "C1", "C2", "C3")])
    book = {"T1": (100, 999, 400), "C1": (100, 0, 200), "C2": (300, 0, 300), "C3": (50, 0, 50)}
    rows = [
        _won(f"{r}{m}", r, v, f"2025-0{m + 4}-10 10:00:00")
        for r, vals in book.items()
        for m, v in enumerate(vals)
    ]
    insert(w, "opportunities", rows)
    insert(w, "trainings", [
        {"rep_id": "T1", "program": "P", "completed_at": "2025-05-15 10:00:00"},
        {"rep_id": "C3", "program": "P", "completed_at": "2025-06-20 10:00:00"},
    ])  # fmt: skip
    return w


def test_did_arithmetic(did_ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(es, "MIN_TREATED_REPS", 1)
    monkeypatch.setattr(es, "MIN_CELL", 1)
    df = es.training_effect(did_ws, Q2, window=1)
    # T1 (May): treated Apr 100 → Jun 400; controls C1, C2 (C3 trained in P in June, excluded):
    # Apr 100, 300 → Jun 200, 300. C3 (June): treated May 0 → (July unseen); controls C1, C2 May 0.
    # treated pre [100, 0] = 50, post [400] = 400; control pre [100, 300, 0, 0] = 100,
    # post [200, 300] = 250 → DiD (400 − 50) − (250 − 100) = 200.
    for row in df.to_dicts():
        assert row["effect"] == pytest.approx(200.0)
        cells = tuple(row[f"n_{c}"] for c in es.CELLS)
        assert cells == (2, 1, 4, 2) and row["treated_reps"] == 2


def test_did_says_not_enough_data_on_small_samples(did_ws: Workspace) -> None:
    df = es.training_effect(did_ws, Q2, window=1)
    assert set(df["verdict"]) == {"not_enough_data"} and df["effect"].null_count() == df.height


def test_demo_fukuoka_untrained_new_reps_ramp_slowly(demo_company: Demo) -> None:
    with demo_company.open() as w:
        p = parse_period("FY2025")
        ob = en.onboarding_comparison(w, p)
        assert ob["verdict"] == "untrained_worse"
        assert ob["untrained_win_rate"] < 0.7 * ob["onboarded_win_rate"]
        hires = en.new_hires(w, p)
        fukuoka = hires.filter(pl.col("team") == "福岡営業部")
        assert fukuoka.height == 3 and fukuoka["onboarded"].sum() == 0
        others = hires.filter(pl.col("onboarded") == 1)
        assert fukuoka["ratio"].mean() < 0.75 * others["ratio"].mean()
        gaps = es.capability_gaps(w, p).filter(pl.col("capability") == "製品知識")
        fk = gaps.filter(pl.col("rep_id").is_in(fukuoka["rep_id"].to_list()))["gap"].mean()
        assert fk > gaps["gap"].mean()


def test_clean_demo_shows_no_training_effect(clean_demo_company: Demo) -> None:
    with clean_demo_company.open() as w:
        p = parse_period("FY2025")
        te = es.training_effect(w, p)
        assert not set(te["verdict"]) & {"improved", "worsened"}
        assert en.onboarding_comparison(w, p)["verdict"] == "not_enough_data"
