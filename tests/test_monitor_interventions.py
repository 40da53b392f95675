"""Did the fix work? The demo company's inside-sales introduction (INT-001 on 東京第二営業部,
from 2025-04-01) must come out with the right sign and an interval that excludes zero; adding
and listing interventions goes through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from eigyo.cli import app
from eigyo.diagnose.did import verdict
from eigyo.monitor import add_intervention, effects
from eigyo.workspace import open_workspace
from tests.conftest import Demo


@pytest.fixture(scope="module")
def demo(demo_company: Demo) -> Path:
    """The session's demo company: read-only here; the tests that add interventions copy it."""
    return demo_company.workspace


@pytest.mark.slow
def test_demo_inside_sales_worked_with_an_interval_excluding_zero(demo: Path) -> None:
    with open_workspace(demo, read_only=True) as ws:
        found = {e.metric: e for e in effects(ws, "INT-001")}
    resp = found["lead_response_minutes"]
    assert resp.verdict == "worked"
    assert resp.estimate is not None and resp.high is not None
    assert resp.estimate < 0 and resp.high < 0  # faster answers, the whole interval below zero
    conv = found["lead_conversion_rate"]
    assert conv.verdict == "worked"
    assert conv.estimate is not None and conv.low is not None
    assert conv.estimate > 0 and conv.low > 0  # more leads won, the interval above zero
    assert resp.treated_reps == 8 and min(resp.n.values()) >= 20


@pytest.mark.slow
def test_cli_add_list_effect_on_the_demo(demo_copy: Path) -> None:
    ws_path = demo_copy
    runner = CliRunner()
    add = runner.invoke(
        app,
        [
            "intervention",
            "add",
            "-w",
            str(ws_path),
            "--id",
            "INT-002",
            "--name",
            "SLA研修",
            "--started-at",
            "2026-03-20",
            "--scope",
            "大阪営業部",
            "--format",
            "json",
        ],
    )
    assert add.exit_code == 0, add.output
    assert len(json.loads(add.stdout)["treated_reps"]) == 7
    listed = json.loads(
        runner.invoke(app, ["intervention", "list", "-w", str(ws_path), "--format", "json"]).stdout
    )
    assert [i["intervention_id"] for i in listed["interventions"]] == ["INT-001", "INT-002"]
    eff = runner.invoke(
        app, ["intervention", "effect", "-w", str(ws_path), "--id", "INT-002", "--format", "json"]
    )
    assert {e["verdict"] for e in json.loads(eff.stdout)["effects"]} == {"too_early"}
    text = runner.invoke(app, ["intervention", "effect", "-w", str(ws_path), "--id", "INT-001"])
    assert "効果あり" in text.stdout
    bad = runner.invoke(
        app,
        [
            "intervention",
            "add",
            "-w",
            str(ws_path),
            "--id",
            "X",
            "--name",
            "x",
            "--started-at",
            "2025-04-01",
            "--scope",
            "存在しない部",
        ],
    )
    assert bad.exit_code == 1 and "東京第二営業部" in str(bad.exception)


def test_add_rejects_bad_dates_and_metrics(demo_copy: Path) -> None:
    from eigyo.errors import InputError

    with open_workspace(demo_copy) as ws:
        with pytest.raises(InputError, match="2025-04-01"):
            add_intervention(ws, "X", "x", "4月から", "大阪営業部")
        with pytest.raises(InputError, match="win_rate"):
            add_intervention(ws, "X", "x", "2025-04-01", "大阪営業部", metrics="bookingz")
        iv = add_intervention(ws, "X", "x", "2025-04-01", "大阪営業部", metrics="win_rate")
        assert [e.metric for e in effects(ws, "X")] == ["win_rate"]
        assert iv.treated_reps


@pytest.mark.parametrize(
    ("better", "low", "high", "expected"),
    [
        ("higher", 0.01, 0.05, "worked"),
        ("higher", -0.05, -0.01, "worse"),
        ("higher", -0.01, 0.05, "no_effect"),
        ("lower", -10.0, -2.0, "worked"),
        ("lower", 2.0, 10.0, "worse"),
    ],
)
def test_verdict_follows_the_metrics_better_direction(
    better: str, low: float, high: float, expected: str
) -> None:
    assert verdict(better, low, high) == expected
    assert np.isfinite(low)
