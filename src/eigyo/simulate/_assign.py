"""Role assignment: who should be SDR, closer, generalist or account manager.

Each rep's expected monthly bookings in each role come from their shrunk skills (MQL → SQL for
whoever answers leads, win rates for whoever closes) times the work one seat of that role
receives. :func:`assign` then fills the requested seats to maximize the total with SciPy's
``linear_sum_assignment`` (an exact optimum, checked by brute force in the tests). Constraints
are values: a closer needs a minimum tenure, and reps who own customer accounts stay account
managers while there are account-manager seats.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment

from eigyo.simulate._calibrate import RepProfile

F64 = npt.NDArray[np.float64]
SIM_ROLES = ("sdr", "closer", "generalist", "account_manager")
#: Closers handle the largest deals: at least this tenure (days) at the start of the simulation.
MIN_CLOSER_TENURE_DAYS = 365
#: A value large enough to force or forbid a seat, small enough to keep the sums exact.
_BIG = 1e15


@dataclass(frozen=True)
class Economics:
    """What one seat of each role receives per month and what a deal is worth."""

    mql_per_lead_seat: float
    deals_per_closer_seat: float
    existing_per_am_seat: float
    new_amount: float
    existing_amount: float
    closer_win: float  # mean win rate the SDRs' leads meet downstream
    handoff_drop: float


def role_values(
    reps: list[RepProfile], econ: Economics, start: date, move_cost: float = 0.0
) -> F64:
    """Expected monthly bookings of each rep (rows) in each role of :data:`SIM_ROLES` (columns).

    ``move_cost`` is the share of the horizon's value a rep loses while ramping into a role
    other than the one they play today, so a move must pay for its ramp.
    """
    q = np.array([r.q for r in reps])
    w_new = np.array([r.win_new for r in reps])
    w_ex = np.array([r.win_existing for r in reps])
    a, e = econ.new_amount, econ.existing_amount
    sdr = econ.mql_per_lead_seat * q * (1 - econ.handoff_drop) * econ.closer_win * a
    closer = econ.deals_per_closer_seat * w_new * a
    generalist = econ.mql_per_lead_seat * q * w_new * a
    am = econ.existing_per_am_seat * w_ex * e
    v = np.column_stack([sdr, closer, generalist, am]).astype(float)
    today = np.array([[r.behaviour == role for role in SIM_ROLES] for r in reps])
    v = np.where(today, v, v * (1 - move_cost))
    tenure = np.array([(start - r.hire_date).days for r in reps])
    v[tenure < MIN_CLOSER_TENURE_DAYS, 1] = -_BIG
    owners = np.array([r.behaviour == "account_manager" for r in reps])
    v[owners, 3] += _BIG
    out: F64 = v
    return out


@dataclass(frozen=True)
class Assignment:
    """``roles[i]`` is rep i's role (None: no seat for them); ``hires`` counts unfilled seats."""

    roles: list[str | None]
    hires: dict[str, int]
    value: float  # expected monthly bookings of the seated reps


def assign(values: F64, seats: dict[str, int]) -> Assignment:
    """Fill ``seats`` (role → count) from the reps (rows of ``values``) maximizing the total."""
    cols = [role for role in SIM_ROLES for _ in range(seats.get(role, 0))]
    n = values.shape[0]
    idx = [SIM_ROLES.index(c) for c in cols]
    m = values[:, idx] if cols else np.zeros((n, 0))
    spare = max(0, n - len(cols))  # reps without a seat: value 0
    m = np.hstack([m, np.zeros((n, spare))])
    rows, picked = linear_sum_assignment(m, maximize=True)
    roles: list[str | None] = [None] * n
    filled = [False] * len(cols)
    total = 0.0
    for r, c in zip(rows, picked, strict=True):
        if c < len(cols):
            roles[r] = cols[c]
            filled[c] = True
            total += float(values[r, idx[c]])
    hires: dict[str, int] = {}
    for c, ok in zip(cols, filled, strict=True):
        if not ok:
            hires[c] = hires.get(c, 0) + 1
    return Assignment(roles, hires, total)
