"""Step 6 on the demo company: planted segment effects are found, every model beats its naive
baseline in a time-split backtest, and the commands keep their JSON shapes. Fixed seeds."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date

import pytest

from eigyo.analysis.data import customers, forecast, icp, segments, winprob
from eigyo.base.periods import parse_period
from eigyo.cli import main
from eigyo.workspace import Workspace
from tests.conftest import Demo


@pytest.fixture
def ws(demo_company: Demo) -> Iterator[Workspace]:
    """The session's small demo company (seed 0), read-only."""
    with demo_company.open() as w:
        yield w


def test_segments_find_the_planted_segments(ws: Workspace) -> None:
    doc = segments.segments(ws, parse_period("FY2025"), ("industry", "region"))
    verdict = {(s["dimension"], s["value"]): s["verdict"] for s in doc["segments"]}
    assert verdict[("industry", "製造業")] == "better"  # P08
    assert verdict[("region", "関西")] == "worse"  # P01: 大阪 sells in 関西


def test_icp_validates_on_a_later_window_and_classifies_every_account(ws: Workspace) -> None:
    doc = icp.icp_report(ws)
    v = doc["validation"]
    assert v["status"] == "ok" and v["auc"] > 0.55 and v["brier"] < v["baseline_brier"]
    assert doc["coefficients"][0]["feature"] in {"cat__industry_製造業", "cat__region_関西"}
    total = ws.count("accounts")
    assert sum(r["accounts"] for r in doc["road"]) == total
    assert {a["road"] for a in doc["accounts"]} <= {"acquire", "opportunistic"}


def test_rfm_clusters_cover_every_customer(ws: Workspace) -> None:
    doc = customers.segment_customers(ws, date(2026, 3, 31), "en")
    assert doc["status"] == "ok" and 2 <= doc["k"] <= 6
    assert sum(s["customers"] for s in doc["segments"]) == doc["customers"]
    assert all(s["label"] and s["description"] for s in doc["segments"])


@pytest.mark.slow
def test_winprob_backtest_beats_the_stage_baseline(ws: Workspace) -> None:
    bt = winprob.backtest(ws, [date(2025, 4, 30), date(2025, 7, 31)])
    p = bt["pooled"]
    assert bt["status"] == "ok" and p["auc"] > 0.7 and p["auc"] > p["baseline_auc"]
    assert p["brier"] < p["baseline_brier"]
    cal = bt["calibration"]
    assert all(abs(c["predicted"] - c["observed"]) < 0.15 for c in cal if c["n"] >= 50)


@pytest.mark.slow
def test_forecast_backtest_beats_the_naive_mean(ws: Workspace) -> None:
    s = forecast.backtest(ws, last_months=4)["summary"]
    assert s["status"] == "ok" and s["months"] == 4
    assert s["accuracy"] > 0.8 and s["mape"] <= s["naive_mape"] + 0.05


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as e:
        code = int(e.code or 0)
    return code, capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "keys"),
    [
        (["segments", "-p", "FY2025", "--by", "industry"], {"period", "segments", "win_rate"}),
        (["customers", "--until", "2026-03-31"], {"until", "k", "segments"}),
        (["icp", "--top", "3"], {"validation", "road", "coefficients", "accounts"}),
        (["ltv", "--until", "2026-03-31", "--top", "3"], {"bg_nbd", "gamma_gamma", "cohorts"}),
    ],
)
def test_commands_print_one_json_document(
    demo_company: Demo, capsys: pytest.CaptureFixture[str], args: list[str], keys: set[str]
) -> None:
    code, out = run(capsys, *args, "-w", str(demo_company.workspace), "--format", "json")
    assert code == 0
    assert keys <= set(json.loads(out))


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_text_output_in_both_languages(
    demo_company: Demo, capsys: pytest.CaptureFixture[str], lang: str
) -> None:
    w = str(demo_company.workspace)
    code, out = run(capsys, "icp", "-w", w, "--lang", lang, "--top", "2")
    assert code == 0 and ("ROAD" in out)
    code, out = run(capsys, "forecast", "-p", "2026-03", "--as-of", "2026-02-28", "-w", w,
                    "--lang", lang)  # fmt: skip
    assert code == 0 and ("予測合計" if lang == "ja" else "Forecast") in out
