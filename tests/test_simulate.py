"""Organization simulation on the demo company: backtest bound, seeds, what-ifs, assignment.

Backtest tolerance (the issue's bound): simulating the current structure over FY2025 reproduces
actual bookings, won deals and median lead response within 10% (mean over replications).
Statistical assertions leave room for any seed; horizons and replications stay small for speed.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from eigyo import workspace
from eigyo.base.periods import parse_period
from eigyo.cli import main
from eigyo.errors import InputError
from eigyo.simulate import (
    OUTCOMES,
    SIM_ROLES,
    Calibration,
    Options,
    assign,
    build_plan,
    calibrate,
    default_window,
    parse_headcount,
    replicate,
    simulate,
)
from eigyo.workspace import Workspace
from tests._rows import new_ws
from tests.conftest import Demo

BACKTEST_TOLERANCE = 0.10


@pytest.fixture(scope="module")
def demo(demo_company: Demo) -> Path:
    """The session's small demo company (seed 0); every test here opens it read-only."""
    return demo_company.workspace


@pytest.fixture(scope="module")
def cal(demo: Path) -> Calibration:
    with workspace.open_workspace(demo, read_only=True) as ws:
        return calibrate(ws, default_window(ws))


def test_backtest_of_fy2025_reproduces_actuals(demo: Path) -> None:
    with workspace.open_workspace(demo, read_only=True) as ws:
        opts = Options("current", replications=4, seed=7, backtest=parse_period("FY2025"))
        doc = simulate(ws, opts)
    actual = doc["actual"]
    for k in ("bookings", "won_deals", "lead_response_minutes"):
        sim = doc["outcomes"][k]["mean"]
        assert abs(sim / actual[k] - 1) <= BACKTEST_TOLERANCE, (k, sim, actual[k])
    assert doc["period"] == "FY2025"
    assert doc["horizon_months"] == 12


def test_same_seed_same_result_other_seed_other(cal: Calibration) -> None:
    plan = build_plan("assembly_line", cal, horizon_days=60.0)
    a, ua = replicate(plan, cal, 60.0, seed=3, n=2)
    b, ub = replicate(plan, cal, 60.0, seed=3, n=2)
    c, _ = replicate(plan, cal, 60.0, seed=4, n=2)
    assert json.dumps(a) == json.dumps(b) and ua == ub
    assert a != c


def test_assembly_line_cuts_lead_response_of_generalist_teams(demo: Path, cal: Calibration) -> None:
    with workspace.open_workspace(demo, read_only=True) as ws:
        docs = {
            s: simulate(ws, Options(s, horizon_months=3, replications=3), cal=cal)
            for s in ("generalist", "assembly_line")
        }
    gen, line = (
        docs[s]["outcomes"]["lead_response_minutes"] for s in ("generalist", "assembly_line")
    )
    assert line["high"] < gen["low"]
    assert line["mean"] < 0.8 * gen["mean"]
    assert docs["assembly_line"]["utilization"]["sdr"]["mean"] < 0.5
    for d in docs.values():
        assert set(d["outcomes"]) == set(OUTCOMES)
        for o in d["outcomes"].values():
            assert o["low"] <= o["mean"] <= o["high"]


def test_headcount_and_moves_are_honoured(cal: Calibration) -> None:
    plan = build_plan("assembly_line", cal, parse_headcount("sdr=3,closer=40,am=4"))
    roles = [s.role for s in plan.seats]
    assert roles.count("sdr") == 3 and roles.count("closer") == 40
    assert sum(s.hired for s in plan.seats) == 40 + 3 + 4 - len(
        [r for r in cal.reps if r.behaviour in SIM_ROLES]
    )
    assert all(s.ramp_start < 1 for s in plan.seats if s.hired)


@pytest.mark.parametrize(
    ("text", "structure"),
    [("wizard=3", "pod"), ("sdr=x", "pod"), ("generalist=4", "assembly_line"), ("sdr=0", "pod")],
)
def test_bad_headcount_says_what_works(cal: Calibration, text: str, structure: str) -> None:
    with pytest.raises(InputError, match=r"headcount|needs"):
        build_plan(structure, cal, parse_headcount(text))


def _brute(values: np.ndarray, seats: dict[str, int]) -> float:
    cols = [SIM_ROLES.index(r) for r in SIM_ROLES for _ in range(seats.get(r, 0))]
    n = values.shape[0]
    best = -np.inf
    for perm in itertools.permutations(range(max(n, len(cols))), len(cols)):
        total = sum(values[r, c] for r, c in zip(perm, cols, strict=True) if r < n)
        best = max(best, total)
    return float(best)


@pytest.mark.parametrize("seed", range(6))
def test_assignment_is_optimal_by_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 6))
    values = rng.random((n, len(SIM_ROLES))) * 100
    seats = {r: int(rng.integers(0, 3)) for r in SIM_ROLES}
    a = assign(values, seats)
    assert a.value == pytest.approx(_brute(values, seats))
    assert sum(a.hires.values()) == max(0, sum(seats.values()) - n)
    for role in SIM_ROLES:
        assert a.roles.count(role) + a.hires.get(role, 0) == seats.get(role, 0)


def test_not_enough_data_is_said(tmp_path: Path) -> None:
    ws: Workspace = new_ws(tmp_path)
    with pytest.raises(InputError, match=r"[Nn]ot enough data"):
        simulate(ws, Options("generalist", replications=2))
    ws.close()


def test_cli_json_follows_the_contract(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["simulate", "--workspace", str(demo), "--structure", "pod", "--horizon", "2"]
    main([*args, "--replications", "2", "--seed", "1", "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert doc["structure"] == "pod" and doc["horizon_months"] == 2
    assert set(doc["outcomes"]) == set(OUTCOMES)
    assert all(set(o) == {"mean", "low", "high"} for o in doc["outcomes"].values())
    assert "actual" not in doc
