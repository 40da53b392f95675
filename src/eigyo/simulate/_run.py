"""Replications, intervals and the backtest: turning one model into the ``simulate`` contract.

Every replication draws from its own stream of one ``numpy.random.SeedSequence(seed)``, so the
same seed gives the same document, and replications are independent. Intervals are the 5th and
95th percentiles over replications (a 90% interval of what the structure would produce).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from eigyo.analysis.common import data_end
from eigyo.base.periods import Period
from eigyo.errors import InputError
from eigyo.metrics import compute
from eigyo.simulate._calibrate import Calibration, NotEnoughToSimulate, calibrate
from eigyo.simulate._model import Model, Tally
from eigyo.simulate._plan import (
    HIRE_RAMP,
    LIMITS,
    MOVED_RAMP,
    POD_HANDOFF_FACTOR,
    RAMP_DAYS,
    STRUCTURES,
    Plan,
    SimLimits,
    build_plan,
    check_headcount_size,
)
from eigyo.workspace import Workspace

F64 = npt.NDArray[np.float64]
OUTCOMES = ("bookings", "won_deals", "lead_response_minutes", "cycle_days", "cost_per_won_deal")
DAYS_PER_MONTH = 365.25 / 12
Tick = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Options:
    structure: str = "current"
    headcount: dict[str, int] | None = None
    horizon_months: int = 12
    seed: int = 0
    replications: int = 20
    backtest: Period | None = None


def _interval(xs: list[float]) -> dict[str, float | None]:
    a = np.asarray([x for x in xs if x is not None and np.isfinite(x)], dtype=float)
    if len(a) == 0:
        return {"mean": None, "low": None, "high": None}
    low, high = np.quantile(a, [0.05, 0.95])
    return {"mean": float(a.mean()), "low": float(low), "high": float(high)}


def _measures(t: Tally, plan: Plan, months: float) -> dict[str, float]:
    """One replication's outcomes; NaN where a figure is unknown (no cost recorded for any
    seat: the cost per won deal is unknown, not ¥0), which :func:`_interval` turns into null."""
    cost = plan.monthly_cost * months
    return {
        "bookings": t.bookings,
        "won_deals": float(t.won),
        "lead_response_minutes": float(np.median(t.responses)) if t.responses else float("nan"),
        "cycle_days": float(np.median(t.cycles)) if t.cycles else float("nan"),
        "cost_per_won_deal": cost / t.won if t.won and cost > 0 else float("nan"),
        "handoff_losses": float(t.handoff_losses),
    }


def _utilization(t: Tally, plan: Plan, horizon: float, rate: F64) -> dict[str, float]:
    avail = rate * horizon
    share = np.where(avail > 0, t.busy_hours / np.maximum(avail, 1e-9), 0.0)
    out: dict[str, float] = {}
    for role in sorted({s.role for s in plan.seats}):
        idx = [i for i, s in enumerate(plan.seats) if s.role == role]
        out[role] = float(share[idx].mean())
    return out


def replicate(
    plan: Plan, cal: Calibration, horizon_days: float, seed: int, n: int, tick: Tick | None = None
) -> tuple[list[dict[str, float]], list[dict[str, float]]]:
    """Run ``n`` replications; returns their measures and their utilization by role."""
    measures, util = [], []
    months = horizon_days / DAYS_PER_MONTH
    for k, ss in enumerate(np.random.SeedSequence(seed).spawn(n)):
        model = Model(plan, cal, horizon_days, np.random.default_rng(ss))
        t = model.run()
        measures.append(_measures(t, plan, months))
        util.append(_utilization(t, plan, horizon_days, model.rate))
        if tick:
            tick(plan.structure, k + 1, n)
    return measures, util


def _actual(ws: Workspace, period: Period) -> dict[str, float | None]:
    """The three backtest targets, measured by the KPI registry over the period."""
    ids = ["bookings", "won_deals", "lead_response_minutes"]
    return {v.id: v.value for v in compute(ws, period, ids)}


def default_window(ws: Workspace) -> Period:
    """The last twelve months of data (ending on the day the data reaches:
    :func:`~eigyo.analysis.common.data_end`)."""
    end = data_end(ws)
    if end is None:
        raise NotEnoughToSimulate(
            "Not enough data to simulate: the workspace has no deals and no leads.",
            "no_records",
            "",
        )
    return Period(end - timedelta(days=364), end, f"{end - timedelta(days=364)}..{end}")


def _assignment(plan: Plan) -> list[dict[str, Any]]:
    return [
        {
            "rep_id": s.profile.rep_id,
            "name": s.profile.name,
            "from": None if s.hired else s.profile.behaviour,
            "to": s.role,
            "hired": s.hired,
        }
        for s in plan.seats
    ]


def _assumptions(cal: Calibration, plan: Plan) -> dict[str, Any]:
    return {
        "ramp_days": RAMP_DAYS,
        "moved_ramp_start": MOVED_RAMP,
        "hire_ramp_start": HIRE_RAMP,
        "pod_handoff_factor": POD_HANDOFF_FACTOR if plan.structure == "pod" else None,
        "handoff_extra_days": cal.handoff.extra_days,
        "handoff_extra_drop": cal.handoff.extra_drop,
        "handoff_measured": cal.handoff.measured,
        "notes": list(cal.notes),
    }


def check_limits(opts: Options, structures: int = 1, limits: SimLimits = LIMITS) -> None:
    """Refuse options over :class:`~eigyo.simulate._plan.SimLimits` before any work is done
    (the dashboard and the CLI both come here first; ``structures``: how many are simulated)."""
    if not 1 <= opts.horizon_months <= limits.max_horizon_months:
        raise InputError(
            key="simulate.limits.horizon", n=opts.horizon_months, max=limits.max_horizon_months
        )
    if not 2 <= opts.replications <= limits.max_replications:
        raise InputError(
            key="simulate.limits.replications", n=opts.replications, max=limits.max_replications
        )
    work = opts.replications * opts.horizon_months * structures
    if work > limits.max_replication_months:
        raise InputError(key="simulate.limits.work", n=work, max=limits.max_replication_months)
    if not 0 <= opts.seed <= limits.max_seed:
        raise InputError(key="simulate.limits.seed", n=opts.seed, max=limits.max_seed)
    check_headcount_size(opts.headcount or {}, limits)


def simulate(
    ws: Workspace, opts: Options, tick: Tick | None = None, cal: Calibration | None = None
) -> dict[str, Any]:
    """Calibrate, plan, replicate: the JSON document of ``eigyo simulate`` (docs/cli-json.md).

    ``cal`` reuses a calibration of the default window (what :func:`compare` does).
    """
    if opts.structure not in STRUCTURES:
        raise InputError(
            f"--structure must be one of {', '.join(STRUCTURES)}; got {opts.structure!r}."
        )
    if opts.backtest is not None and opts.structure != "current":
        raise InputError("--backtest works with --structure current only.")
    check_limits(opts)
    if opts.backtest is not None:
        months = round(opts.backtest.days / DAYS_PER_MONTH)
        check_limits(replace(opts, horizon_months=max(months, 1)))
        cal = calibrate(ws, opts.backtest, start=opts.backtest.start)
        horizon_days = float(opts.backtest.days)
    else:
        cal = cal or calibrate(ws, default_window(ws))
        horizon_days = opts.horizon_months * DAYS_PER_MONTH
    plan = build_plan(opts.structure, cal, opts.headcount, horizon_days)
    measures, util = replicate(plan, cal, horizon_days, opts.seed, opts.replications, tick)
    doc: dict[str, Any] = {
        "structure": opts.structure,
        "horizon_months": round(horizon_days / DAYS_PER_MONTH)
        if opts.backtest
        else opts.horizon_months,
        "outcomes": {k: _interval([m[k] for m in measures]) for k in OUTCOMES},
        "handoff_losses": _interval([m["handoff_losses"] for m in measures]),
        "utilization": {
            r: _interval([u[r] for u in util]) for r in sorted({k for u in util for k in u})
        },
        "headcount": plan.headcount,
        "monthly_cost": plan.monthly_cost,
        "seed": opts.seed,
        "replications": opts.replications,
        "calibration": {
            "window": cal.window.label,
            "start": cal.start.isoformat(),
            "open_deals": len(cal.open_deals),
        },
        "assignment": _assignment(plan),
        "assumptions": _assumptions(cal, plan),
    }
    if not any(len(a) for a in cal.amounts.values()):  # no deal amount known at all
        doc["outcomes"]["bookings"] = _interval([])  # unknown, not ¥0
    if opts.backtest is not None:
        doc["period"] = opts.backtest.label
        doc["actual"] = _actual(ws, opts.backtest)
    return doc


def compare(ws: Workspace, opts: Options, tick: Tick | None = None) -> dict[str, Any]:
    """Every structure (default headcounts) against the current one, same seed and horizon."""
    check_limits(opts, len(STRUCTURES))
    cal = calibrate(ws, default_window(ws))
    docs = [
        simulate(ws, Options(s, None, opts.horizon_months, opts.seed, opts.replications), tick, cal)
        for s in STRUCTURES
    ]
    return {"horizon_months": opts.horizon_months, "structures": docs}
