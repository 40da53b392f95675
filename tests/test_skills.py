"""The skill matrix's empirical-Bayes shrinkage, pinned by beta-binomial posteriors worked out by
hand, and the behaviour roles of the current structure."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from eigyo.analysis.specialization.skills import KAPPA_MAX, fit_prior, shrink, skill_matrix
from eigyo.analysis.specialization.structure import behaviour_role
from eigyo.base.periods import parse_period
from tests._rows import insert, new_ws


def test_prior_by_moments_net_of_binomial_noise() -> None:
    # k = 8, 2, 5 of n = 10: m = 15/30 = 0.5; raw rates 0.8, 0.2, 0.5
    # v = (0.3² + 0.3² + 0²)/3 = 0.06; noise = 0.5·0.5·(1/10) = 0.025; τ² = 0.035
    # κ = 0.25/0.035 − 1 = 6.142857…; α = β = κ/2 = 3.0714286
    prior = fit_prior(np.array([8.0, 2.0, 5.0]), np.array([10.0, 10.0, 10.0]))
    assert prior.alpha == pytest.approx(3.0714286, abs=1e-6)
    assert prior.beta == pytest.approx(3.0714286, abs=1e-6)
    mean, low, high = shrink(np.array([8.0]), np.array([10.0]), prior)
    # posterior Beta(3.0714 + 8, 3.0714 + 2): mean 11.0714/16.1429 = 0.685841
    assert mean[0] == pytest.approx(0.685841, abs=1e-6)
    assert low[0] == pytest.approx(stats.beta.ppf(0.05, 11.0714286, 5.0714286), abs=1e-6)
    assert high[0] == pytest.approx(stats.beta.ppf(0.95, 11.0714286, 5.0714286), abs=1e-6)


def test_reps_that_look_alike_are_pooled_completely() -> None:
    # k = 5, 5 of n = 10: v = 0 < noise → κ = KAPPA_MAX, every rep ≈ the team's 0.5
    prior = fit_prior(np.array([5.0, 5.0]), np.array([10.0, 10.0]))
    assert prior.alpha + prior.beta == pytest.approx(KAPPA_MAX)
    assert prior.mean == pytest.approx(0.5)


def test_a_lone_rep_gets_the_weakest_prior() -> None:
    prior = fit_prior(np.array([3.0, 0.0]), np.array([4.0, 0.0]))  # n = 0 carries nothing
    assert (prior.alpha, prior.beta) == pytest.approx((1.5, 0.5))


def _lead_rows(rep: str, answered_in_sla: int, n: int, start: int) -> list[dict[str, object]]:
    rows = []
    for i in range(n):
        minutes = 30 if i < answered_in_sla else 120  # SLA is 60 minutes
        rows.append(
            {
                "lead_id": f"L{start + i}",
                "created_at": "2025-05-12 09:00:00",
                "mql_at": "2025-05-12 09:00:00",
                "first_response_at": f"2025-05-12 {9 + minutes // 60:02d}:{minutes % 60:02d}:00",
                "owner_rep_id": rep,
                "sql_at": "2025-05-13 09:00:00" if i % 2 == 0 else None,
            }
        )
    return rows


def test_skill_matrix_shrinks_lead_response_toward_the_team(tmp_path: Path) -> None:
    ws = new_ws(tmp_path)
    insert(
        ws,
        "reps",
        [
            {"rep_id": r, "name": r, "team": "A", "role": "generalist", "hire_date": "2020-04-01"}
            for r in ("R1", "R2", "R3")
        ],
    )
    insert(ws, "opportunities", [])
    rows = _lead_rows("R1", 8, 10, 0) + _lead_rows("R2", 2, 10, 10) + _lead_rows("R3", 5, 10, 20)
    insert(ws, "leads", rows)
    m = skill_matrix(ws, parse_period("2025-05"))
    resp = {r["rep_id"]: r for r in m.to_dicts() if r["skill"] == "lead_response"}
    assert (resp["R1"]["k"], resp["R1"]["n"]) == (8, 10)
    # the same numbers as the hand computation above
    assert resp["R1"]["mean"] == pytest.approx(0.685841, abs=1e-6)
    assert resp["R2"]["mean"] == pytest.approx(5.0714286 / 16.1428571, abs=1e-6)
    assert resp["R3"]["mean"] == pytest.approx(0.5, abs=1e-9)
    assert resp["R1"]["prior_mean"] == pytest.approx(0.5)
    assert resp["R1"]["speed"] == pytest.approx(30.0)  # median of 8×30 and 2×120 minutes
    assert resp["R3"]["speed"] == pytest.approx(75.0)  # 5×30 and 5×120: mean of the middle two
    follow = {r["rep_id"]: r for r in m.to_dicts() if r["skill"] == "lead_followup"}
    # every rep qualifies 5 of 10: identical rates pool completely to 0.5
    assert all(f["mean"] == pytest.approx(0.5) for f in follow.values())
    ws.close()


@pytest.mark.parametrize(
    ("role", "counts", "expected"),
    [
        ("generalist", (200, 100, 0, 0), "generalist"),
        ("sdr", (400, 4, 0, 300), "sdr"),
        ("closer", (1, 250, 0, 0), "closer"),
        ("account_manager", (0, 0, 120, 0), "account_manager"),
        ("manager", (0, 0, 0, 0), "manager"),
        ("generalist", (0, 0, 0, 0), "generalist"),
    ],
)
def test_behaviour_role(role: str, counts: tuple[int, int, int, int], expected: str) -> None:
    assert behaviour_role(role, *counts) == expected
