"""Organization what-ifs (steps 3 and 7): simulate a sales structure before reorganizing people.

Flow: :func:`calibrate` measures the organization over a window (skills, behaviour roles, load,
flows, deal pools, open pipeline) → :func:`build_plan` seats the reps in a structure
(``current``, ``generalist``, ``assembly_line``, ``pod``, ``hybrid``) using the role
assignment of :func:`assign` → the SimPy model runs seeded replications → :func:`simulate`
returns the JSON document of ``eigyo simulate`` (docs/cli-json.md), with 90% intervals and, for a
backtest, the actual figures of the period.
"""

from eigyo.simulate._assign import SIM_ROLES, Assignment, Economics, assign, role_values
from eigyo.simulate._calibrate import Calibration, NotEnoughToSimulate, RepProfile, calibrate
from eigyo.simulate._plan import (
    LIMITS,
    STRUCTURES,
    Plan,
    SimLimits,
    build_plan,
    default_headcount,
    parse_headcount,
)
from eigyo.simulate._run import (
    OUTCOMES,
    Options,
    check_limits,
    compare,
    default_window,
    replicate,
    simulate,
)

__all__ = [
    "LIMITS",
    "OUTCOMES",
    "SIM_ROLES",
    "STRUCTURES",
    "Assignment",
    "Calibration",
    "Economics",
    "NotEnoughToSimulate",
    "Options",
    "Plan",
    "RepProfile",
    "SimLimits",
    "assign",
    "build_plan",
    "calibrate",
    "check_limits",
    "compare",
    "default_headcount",
    "default_window",
    "parse_headcount",
    "replicate",
    "role_values",
    "simulate",
]
