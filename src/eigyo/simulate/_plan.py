"""Structures as plans: which seat answers which leads, who closes, who keeps the customers.

``current`` keeps every rep in the role their behaviour shows and each team's own flows, so a
backtest replays the organization as it was. The target structures pool the teams' flows and
seat the reps by :mod:`~eigyo.simulate._assign`:

- ``generalist``: every seller answers, qualifies and closes their own leads;
- ``assembly_line``: SDRs answer and qualify, hand over to the least-loaded closer, and account
  managers keep existing customers;
- ``pod``: the same roles in small fixed teams (one SDR and their closers), whose shorter, known
  hand-off halves its delay and loss (an assumption, reported);
- ``hybrid``: inbound leads go through SDRs and closers, the rest stay with generalists.

A rep moved into a new role, or a new hire, ramps up over :data:`RAMP_DAYS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from eigyo.errors import InputError
from eigyo.simulate._assign import SIM_ROLES, Economics, assign, role_values
from eigyo.simulate._calibrate import Calibration, RepProfile

F64 = npt.NDArray[np.float64]
STRUCTURES = ("current", "generalist", "assembly_line", "pod", "hybrid")
ROLE_ALIASES = {
    "sdr": "sdr",
    "inbound": "sdr",
    "is": "sdr",
    "closer": "closer",
    "ae": "closer",
    "generalist": "generalist",
    "account_manager": "account_manager",
    "am": "account_manager",
    "customer_success": "account_manager",
    "cs": "account_manager",
}
STRUCTURE_ROLES = {
    "generalist": ("generalist", "account_manager"),
    "assembly_line": ("sdr", "closer", "account_manager"),
    "pod": ("sdr", "closer", "account_manager"),
    "hybrid": ("sdr", "closer", "generalist", "account_manager"),
}
#: Share of new-business sellers made SDRs by default (assembly line, pod) and in hybrid.
SDR_SHARE, HYBRID_SDR, HYBRID_CLOSER = 1 / 3, 0.2, 0.3
#: Ramp: productivity at the start of a new role (moved) or a new job (hired), reaching 1 after
#: RAMP_DAYS. Assumed, reported in the output's ``assumptions``.
RAMP_DAYS, MOVED_RAMP, HIRE_RAMP = 90.0, 0.75, 0.4
POD_HANDOFF_FACTOR = 0.5
NEW_BUSINESS = ("sdr", "closer", "generalist")


@dataclass(frozen=True)
class SimLimits:
    """What one simulation may ask for (docs/security.md, "Limits of work").

    Why: the model's cost grows with seats × simulated days × replications, and a request can
    choose all three; ``sdr=100000,closer=100000`` once took a server past 15 GB. Each limit is
    checked before anything is calibrated or run, so a refusal costs nothing. The defaults leave
    room for a large sales organization (500 requested seats) and a five-year horizon.
    """

    #: Seats a ``--headcount`` may ask for, all roles together.
    max_seats: int = 500
    #: Months simulated (``--horizon``).
    max_horizon_months: int = 60
    #: Replications behind each interval (``--replications``).
    max_replications: int = 100
    #: Replications × horizon months of one call (``--compare`` counts every structure).
    max_replication_months: int = 1200
    #: Largest ``--seed`` (numpy's seed sequences take any non-negative integer; 2**63 is plenty).
    max_seed: int = 2**63 - 1


#: The limits in force (one place: docs/security.md lists these defaults).
LIMITS = SimLimits()


def check_headcount_size(hc: dict[str, int], limits: SimLimits = LIMITS) -> None:
    """Refuse a requested headcount over :attr:`SimLimits.max_seats` (before any work)."""
    total = sum(hc.values())
    if total > limits.max_seats:
        raise InputError(key="simulate.limits.seats", n=total, max=limits.max_seats)


@dataclass
class Seat:
    profile: RepProfile
    role: str
    ramp_start: float = 1.0
    response_factor: float = 1.0
    hired: bool = False


@dataclass
class Stream:
    """A Poisson flow of leads or deals routed to ``seats`` (weights) and on to ``closers``."""

    kind: str  # lead | direct | existing
    rate: float  # per calendar day
    seats: list[int]
    weights: F64
    pool: str  # team whose cycle and amount pools apply ("*": whole organization)
    closers: list[int] = field(default_factory=list)
    closer_weights: F64 = field(default_factory=lambda: np.ones(0))
    balance: bool = False  # hand over to the least-loaded closer (else by weight)
    handoff_days: float = 0.0
    handoff_drop: float = 0.0


@dataclass
class Plan:
    structure: str
    seats: list[Seat]
    streams: list[Stream]
    monthly_cost: float
    headcount: dict[str, int]


def parse_headcount(text: str | None) -> dict[str, int]:
    """``sdr=3,closer=6,am=2`` → {role: n}; aliases follow :data:`ROLE_ALIASES`."""
    out: dict[str, int] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        name, _, num = part.partition("=")
        role = ROLE_ALIASES.get(name.strip().lower())
        if role is None or not num.strip().isdecimal():
            raise InputError(
                f"--headcount {part.strip()!r} must be ROLE=N with ROLE one of "
                f"{', '.join(sorted(ROLE_ALIASES))}, e.g. sdr=3,closer=6,am=2."
            )
        out[role] = out.get(role, 0) + int(num.strip()[:20])  # 20 digits: over any limit
        check_headcount_size(out)
    return out


def default_headcount(structure: str, cal: Calibration) -> dict[str, int]:
    """Today's sellers spread over the structure's roles (same total headcount)."""
    n = sum(r.behaviour in NEW_BUSINESS for r in cal.reps)
    am = sum(r.behaviour == "account_manager" for r in cal.reps)
    if structure == "generalist":
        return {"generalist": n, "account_manager": am}
    if structure in ("assembly_line", "pod"):
        sdr = max(1, round(n * SDR_SHARE))
        return {"sdr": sdr, "closer": max(1, n - sdr), "account_manager": am}
    sdr, closer = max(1, round(n * HYBRID_SDR)), max(1, round(n * HYBRID_CLOSER))
    return {
        "sdr": sdr,
        "closer": closer,
        "generalist": max(0, n - sdr - closer),
        "account_manager": am,
    }


def _check_headcount(structure: str, hc: dict[str, int]) -> None:
    allowed = STRUCTURE_ROLES[structure]
    bad = [f"{r}={n}" for r, n in hc.items() if n and r not in allowed]
    if bad:
        raise InputError(
            f"--headcount {', '.join(bad)} does not fit --structure {structure}, "
            f"whose roles are {', '.join(allowed)}."
        )
    need = ("generalist",) if structure == "generalist" else ("sdr", "closer")
    missing = [r for r in need if hc.get(r, 0) < 1]
    if missing:
        raise InputError(
            f"--structure {structure} needs at least one {' and one '.join(missing)}; "
            f"set it with --headcount {missing[0]}=N."
        )


def _hire(cal: Calibration, role: str, i: int) -> RepProfile:
    """A new hire: the organization's median rep, with the median cost of sellers."""
    rs = cal.reps

    def med(attr: str) -> float:
        return float(np.median([getattr(r, attr) for r in rs]))

    return replace(
        rs[0],
        rep_id=f"HIRE-{role}-{i + 1}",
        name=f"HIRE-{role}-{i + 1}",
        team="*",
        role=role,
        behaviour=role,
        monthly_cost=med("monthly_cost"),
        q=med("q"),
        q_base=med("q_base"),
        win_new=med("win_new"),
        win_existing=med("win_existing"),
        untouched=med("untouched"),
        response=np.concatenate([r.response for r in rs]),
        deal_share=cal.role_deal_share.get(role, 0.3),
        hours_per_deal=med("hours_per_deal"),
        hours_per_lead=med("hours_per_lead"),
        selling_per_bday=med("selling_per_bday"),
    )


def _economics(cal: Calibration, hc: dict[str, int]) -> Economics:
    f = cal.flows.values()
    month = 365.25 / 12
    mql = sum(x.mql_per_day for x in f) * month
    lead_seats = hc.get("sdr", 0) + hc.get("generalist", 0)
    sql = mql * float(np.mean([r.q for r in cal.reps]))
    closers = max(hc.get("closer", 0) + hc.get("generalist", 0), 1)
    new_amt, ex_amt = cal.amounts.get(("*", False)), cal.amounts.get(("*", True))
    return Economics(
        mql_per_lead_seat=mql / max(lead_seats, 1),
        deals_per_closer_seat=(sql + sum(x.direct_new_per_day for x in f) * month) / closers,
        existing_per_am_seat=sum(x.existing_per_day for x in f)
        * month
        / max(hc.get("account_manager", 0), 1),
        new_amount=float(np.mean(new_amt)) if new_amt is not None and len(new_amt) else 0.0,
        existing_amount=float(np.mean(ex_amt)) if ex_amt is not None and len(ex_amt) else 0.0,
        closer_win=float(np.mean([r.win_new for r in cal.reps])),
        handoff_drop=cal.handoff.extra_drop,
    )


def _seats(cal: Calibration, hc: dict[str, int], horizon_days: float) -> list[Seat]:
    """Seat the reps by the assignment, hire for the unfilled seats, set ramps and loads."""
    reps = [r for r in cal.reps if r.behaviour in (*NEW_BUSINESS, "account_manager")]
    move_cost = (1 - MOVED_RAMP) / 2 * min(RAMP_DAYS / max(horizon_days, 1.0), 1.0)
    a = assign(role_values(reps, _economics(cal, hc), cal.start, move_cost), hc)
    seats = []
    for rep, role in zip(reps, a.roles, strict=True):
        if role is not None:
            seats.append(Seat(rep, role, 1.0 if role == rep.behaviour else MOVED_RAMP))
    for role, n in a.hires.items():
        seats += [Seat(_hire(cal, role, i), role, HIRE_RAMP, hired=True) for i in range(n)]
    for s in seats:
        load = cal.role_deal_share.get(s.role, s.profile.deal_share)
        s.response_factor = (1 - s.profile.deal_share) / max(1 - load, 0.05)
    return seats


def _idx(seats: list[Seat], role: str) -> list[int]:
    return [i for i, s in enumerate(seats) if s.role == role]


def _cap(seats: list[Seat], idx: list[int]) -> F64:
    w = np.array([seats[i].profile.selling_per_bday for i in idx], dtype=float)
    out: F64 = w / w.sum() if len(w) and w.sum() > 0 else np.ones(len(idx)) / max(len(idx), 1)
    return out


def _target_streams(structure: str, cal: Calibration, seats: list[Seat]) -> list[Stream]:
    f = list(cal.flows.values())
    mql = sum(x.mql_per_day for x in f)
    direct = sum(x.direct_new_per_day for x in f)
    existing = sum(x.existing_per_day for x in f)
    inbound = sum(x.mql_per_day * x.inbound_share for x in f) / mql if mql else 0.0
    sdr, closer, gen, am = (_idx(seats, r) for r in SIM_ROLES)
    h = cal.handoff
    keep = am or gen or closer
    out = [Stream("existing", existing, keep, _cap(seats, keep), "*")]
    if structure == "generalist":
        return [
            *out,
            Stream("lead", mql, gen, _cap(seats, gen), "*"),
            Stream("direct", direct, gen, _cap(seats, gen), "*"),
        ]
    split = mql * (inbound if structure == "hybrid" else 1.0)
    if structure == "pod":
        for k, s in enumerate(sdr):
            mine = closer[k :: len(sdr)] or closer
            out.append(
                Stream(
                    "lead",
                    split / len(sdr),
                    [s],
                    np.ones(1),
                    "*",
                    mine,
                    _cap(seats, mine),
                    True,
                    h.extra_days * POD_HANDOFF_FACTOR,
                    h.extra_drop * POD_HANDOFF_FACTOR,
                )
            )
    else:
        out.append(
            Stream(
                "lead",
                split,
                sdr,
                _cap(seats, sdr),
                "*",
                closer,
                _cap(seats, closer),
                True,
                h.extra_days,
                h.extra_drop,
            )
        )
    rest = gen if structure == "hybrid" and gen else closer
    if structure == "hybrid" and gen:
        out.append(Stream("lead", mql - split, gen, _cap(seats, gen), "*"))
    return [*out, Stream("direct", direct, rest, _cap(seats, rest), "*")]


def _weights(xs: list[float]) -> F64:
    w = np.asarray(xs, dtype=float)
    out: F64 = w / w.sum() if w.sum() > 0 else np.ones(len(w)) / max(len(w), 1)
    return out


def _current(cal: Calibration) -> Plan:
    """Each team with its own flows, reps in the roles their behaviour shows."""
    seats = [Seat(r, r.behaviour if r.behaviour in SIM_ROLES else "generalist") for r in cal.reps]
    streams = []
    for team, fl in cal.flows.items():
        mine = [i for i, s in enumerate(seats) if s.profile.team == team]
        lead = [i for i in mine if seats[i].profile.lead_share > 0]
        close = [i for i in mine if seats[i].profile.new_share > 0 and seats[i].role != "sdr"]
        keep = [i for i in mine if seats[i].profile.existing_share > 0]
        for kind, rate, idx, attr in (
            ("lead", fl.mql_per_day, lead, "lead_share"),
            ("direct", fl.direct_new_per_day, close, "new_share"),
            ("existing", fl.existing_per_day, keep, "existing_share"),
        ):
            if rate > 0 and idx:
                w = _weights([getattr(seats[i].profile, attr) for i in idx])
                cw = _weights([seats[i].profile.new_share for i in close])
                streams.append(Stream(kind, rate, idx, w, team, close, cw))
    hc: dict[str, int] = {}
    for s in seats:
        hc[s.role] = hc.get(s.role, 0) + 1
    cost = sum(s.profile.monthly_cost for s in seats) + cal.manager_cost
    return Plan("current", seats, streams, cost, hc)


def build_plan(
    structure: str,
    cal: Calibration,
    headcount: dict[str, int] | None = None,
    horizon_days: float = 365.0,
) -> Plan:
    """The plan of ``structure`` with ``headcount`` (default: today's sellers, same total)."""
    if structure not in STRUCTURES:
        raise InputError(f"--structure must be one of {', '.join(STRUCTURES)}; got {structure!r}.")
    if structure == "current":
        if headcount:
            raise InputError("--headcount cannot be combined with --structure current.")
        return _current(cal)
    hc = {**default_headcount(structure, cal), **(headcount or {})}
    _check_headcount(structure, hc)
    seats = _seats(cal, hc, horizon_days)
    cost = sum(s.profile.monthly_cost for s in seats) + cal.manager_cost
    hc = {r: n for r, n in hc.items() if n}
    return Plan(structure, seats, _target_streams(structure, cal, seats), cost, hc)
