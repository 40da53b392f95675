"""The sales organisation of one chunk: every rep as a row of parallel numpy arrays.

The template company (:data:`TEAM_TYPES`, about forty seats) is expanded once into arrays and then
tiled for each section (課) of a larger scale, so building 5,000 reps costs the same code as 40.
Planted roles (the slipping rep, the slow closer, the untrained hires) are flags on the rep, set
only when the :class:`Plant` asks for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from eigyo.demo import _calendar as cal
from eigyo.demo._config import (
    I64,
    ROLE_AM,
    ROLE_CLOSER,
    ROLE_GENERALIST,
    ROLE_MANAGER,
    ROLE_SDR,
    TEAM_TYPES,
    Bool,
    Plant,
    team_name,
)
from eigyo.demo._names import person_names

ROLE_NAMES = (ROLE_GENERALIST, ROLE_SDR, ROLE_CLOSER, ROLE_AM, ROLE_MANAGER)
R_GEN, R_SDR, R_CLOSER, R_AM, R_MANAGER = range(5)
TYPE_INDEX = {t.key: i for i, t in enumerate(TEAM_TYPES)}


@dataclass(frozen=True)
class Org:
    """Reps of one chunk; index ``i`` of every array is the chunk-local rep ``i``."""

    rep_offset: int  # global number of this chunk's first rep
    team: I64  # chunk-local team index (replica * len(TEAM_TYPES) + type)
    team_type: I64  # index into TEAM_TYPES
    team_names: tuple[str, ...]  # by chunk-local team index
    role: I64  # index into ROLE_NAMES
    hire_day: I64
    new_hire: Bool  # hired on or after WARM (gets onboarding unless untrained)
    untrained: Bool
    slipper: Bool
    slow_handoff: Bool
    manager: I64  # chunk-local rep index of the team's manager, -1 for managers
    monthly_cost: I64
    names: pl.Series

    @property
    def n(self) -> int:
        return len(self.role)

    def of_type(self, key: str) -> Bool:
        out: Bool = self.team_type == TYPE_INDEX[key]
        return out


def _template() -> dict[str, list[int]]:
    """One row per seat of the template: a manager then the members, team by team."""
    cols: dict[str, list[int]] = {k: [] for k in ("type", "role", "hired", "unt", "slip", "slow")}
    for ti, t in enumerate(TEAM_TYPES):
        seats = [(ROLE_MANAGER, None, False, False, False)] + [
            (m.role, m.hired, m.untrained, m.slipper, m.slow_handoff) for m in t.members
        ]
        for role, hired, unt, slip, slow in seats:
            cols["type"].append(ti)
            cols["role"].append(ROLE_NAMES.index(role))
            cols["hired"].append(cal.day_number(hired) if hired else cal.NA)
            cols["unt"].append(int(unt))
            cols["slip"].append(int(slip))
            cols["slow"].append(int(slow))
    return cols


def _veteran_hire_days(rng: np.random.Generator, n: int, manager: Bool) -> I64:
    """Veterans joined between 2012 and 2023 (managers earlier), half of them on 1 April."""
    year = np.where(manager, rng.integers(2006, 2016, n), rng.integers(2012, 2023, n))
    april1 = np.array([cal.day_number(date(int(y), 4, 1)) for y in range(2000, 2030)])
    on_april = april1[year - 2000]
    anyday = on_april + rng.integers(0, 365, n)
    out: I64 = np.where(rng.random(n) < 0.5, on_april, anyday).astype(np.int64)
    return out


def _costs(rng: np.random.Generator, role: I64, new: Bool) -> I64:
    """Monthly fully loaded cost in yen, rounded to 10,000: what a rep costs the company."""
    n = len(role)
    lo = np.select([role == R_MANAGER, role == R_SDR, new], [1_000_000, 600_000, 580_000], 650_000)
    span = np.select([role == R_MANAGER, role == R_SDR, new], [250_000, 120_000, 80_000], 250_000)
    out: I64 = (np.rint((lo + rng.random(n) * span) / 10_000) * 10_000).astype(np.int64)
    return out


def build_org(
    rng: np.random.Generator, first_replica: int, replicas: int, total: int, plant: Plant
) -> Org:
    """Reps of sections ``first_replica`` .. ``first_replica + replicas - 1``."""
    tpl = {k: np.asarray(v, dtype=np.int64) for k, v in _template().items()}
    per = len(tpl["role"])
    ttype = np.tile(tpl["type"], replicas)
    replica = np.repeat(np.arange(replicas), per)
    team = replica * len(TEAM_TYPES) + ttype
    role = np.tile(tpl["role"], replicas)
    hired = np.tile(tpl["hired"], replicas)
    new = hired != cal.NA
    n = len(role)
    hire_day = np.where(new, hired, _veteran_hire_days(rng, n, role == R_MANAGER))
    # each team's manager is its first seat
    manager = (replica * per + np.searchsorted(tpl["type"], ttype)).astype(np.int64)
    manager = np.where(role == R_MANAGER, -1, manager)
    names = tuple(
        team_name(t, first_replica + r, total) for r in range(replicas) for t in TEAM_TYPES
    )
    return Org(
        rep_offset=first_replica * per,
        team=team.astype(np.int64),
        team_type=ttype,
        team_names=names,
        role=role,
        hire_day=hire_day.astype(np.int64),
        new_hire=new,
        untrained=(np.tile(tpl["unt"], replicas) == 1) & plant.untrained,
        slipper=np.tile(tpl["slip"], replicas) == 1,
        slow_handoff=np.tile(tpl["slow"], replicas) == 1,
        manager=manager,
        monthly_cost=_costs(rng, role, new),
        names=person_names(rng, n),
    )


def seats_per_replica() -> int:
    """Reps (managers included) in one copy of the template company."""
    return sum(len(t.members) + 1 for t in TEAM_TYPES)
