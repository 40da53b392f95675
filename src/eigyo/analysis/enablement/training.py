"""Step 5 continued: did training change results, where are the skill gaps, whom to coach first.

**Training effect** (per program, and all programs pooled as "(all)"): a stacked
difference-in-differences of monthly bookings. Each completion is an event in month *e*; the
treated cells are the rep's bookings in the ``window`` months before *e* and after *e* (the month
itself is left out); the control cells are the same months of *comparable* reps: same role,
tenured at that month (tenure month > 12, so ramp-up is not read as training), and not trained in
that program within the window. The estimate is (treated after − before) − (control after −
before) of the mean, with a 95% percentile bootstrap interval (:func:`bootstrap_did`); its p-value
is read from the interval under normality and adjusted across programs (Benjamini–Hochberg). With
fewer than ``MIN_TREATED_REPS`` trained reps or ``MIN_CELL`` rep-months in any cell the verdict is
``not_enough_data``.

**Capability gaps**: each rep's latest assessment per capability up to the period end against the
level their role requires (``[enablement]`` in ``eigyo.toml``; default 3 for every assessed
capability and every selling role). Gap = required − level when positive, else 0.

**Coaching priority** = gap points × revenue at stake, where revenue at stake is the rep's open
pipeline amount (workspace currency) at the end of the period (deals whose outcome the rep's
skills still decide).
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.types as ir
import numpy as np

from eigyo.analysis.deals import open_deals_at_end
from eigyo.analysis.enablement.ramp import TENURED_AFTER, rep_months
from eigyo.analysis.verdicts import frame
from eigyo.base._distributions import norm_ppf, norm_sf
from eigyo.base.periods import Period
from eigyo.base.stats import benjamini_hochberg, bootstrap_did
from eigyo.base.vocabulary import ALL as ALL_PROGRAMS
from eigyo.base.vocabulary import NO_EVIDENCE, NO_TEAM, NOT_ENOUGH_DATA, SELLING_ROLES
from eigyo.errors import WorkspaceError
from eigyo.settings import SETTINGS_FILE
from eigyo.workspace import Workspace

MIN_TREATED_REPS = 5
MIN_CELL = 10
CELLS = ("treated_pre", "treated_post", "control_pre", "control_post")

if TYPE_CHECKING:
    import polars as pl


@dataclass(frozen=True)
class EnablementSettings:
    """The ``[enablement]`` block of eigyo.toml, with its defaults."""

    default_level: int = 3
    roles: tuple[str, ...] = SELLING_ROLES
    required: dict[str, dict[str, int]] = field(default_factory=dict)

    def level(self, role: str, capability: str) -> int:
        return self.required.get(role, {}).get(capability, self.default_level)


def enablement_settings(ws: Workspace) -> EnablementSettings:
    """Read ``[enablement]`` from the workspace's eigyo.toml (defaults when absent)."""
    raw = tomllib.loads((ws.path / SETTINGS_FILE).read_text(encoding="utf-8")).get("enablement", {})
    default = raw.get("default_level", 3)
    required = raw.get("required", {})
    ok = isinstance(default, int) and 1 <= default <= 5 and isinstance(required, dict)
    ok = ok and all(
        isinstance(v, dict) and all(isinstance(x, int) and 1 <= x <= 5 for x in v.values())
        for v in required.values()
    )
    if not ok:
        raise WorkspaceError(
            f"{ws.path / SETTINGS_FILE}: [enablement] default_level and every "
            "[enablement.required.ROLE] level must be whole numbers 1-5"
        )
    roles = tuple(raw.get("roles", SELLING_ROLES))
    return EnablementSettings(default, roles, {r: dict(v) for r, v in required.items()})


# ---------------------------------------------------------------- training effect
def _did_cells(ws: Workspace, period: Period, window: int) -> pl.DataFrame:
    """Rep-month bookings labelled program / cell, for every completion event (engine joins)."""
    rm = rep_months(ws, period)
    rm = rm.filter(rm.tenure_month > TENURED_AFTER).select("rep_id", "role", "m", "bookings")
    tr = ws.table("trainings").filter(ibis._.completed_at < ibis.timestamp(period.end_ts))
    ev = tr.select(
        _ev_rep=tr.rep_id,
        program=tr.program,
        e=tr.completed_at.year() * 12 + tr.completed_at.month() - 1,
    )
    roles = ws.table("reps").select(_r=ibis._.rep_id, _role=ibis._.role)
    ev = ev.join(roles, ev._ev_rep == roles._r).drop("_r")
    near = (rm.m >= ev.e - window) & (rm.m <= ev.e + window) & (rm.m != ev.e)
    treated = ev.join(rm, (rm.rep_id == ev._ev_rep) & near).mutate(_t=ibis.literal(1))
    ctl = ev.join(rm, (rm.role == ev._role) & (rm.rep_id != ev._ev_rep) & near)
    done = ws.table("trainings").select(
        _d_rep=ibis._.rep_id, _d_prog=ibis._.program,
        _d_m=ibis._.completed_at.year() * 12 + ibis._.completed_at.month() - 1,
    )  # fmt: skip
    ctl = ctl.anti_join(
        done,
        (ctl.rep_id == done._d_rep) & (ctl.program == done._d_prog)
        & (done._d_m >= ctl.e - window) & (done._d_m <= ctl.e + window),
    ).mutate(_t=ibis.literal(0))  # fmt: skip
    cols = ("program", "rep_id", "_ev_rep", "e", "m", "bookings", "_t")
    both = treated.select(*cols).union(ctl.select(*cols))
    return frame(both.mutate(post=(both.m > both.e).cast("int64")))


def _verdict(cells: dict[str, np.ndarray], treated_reps: int, seed: int) -> dict[str, Any]:
    sizes = {k: len(v) for k, v in cells.items()}
    out: dict[str, Any] = {"treated_reps": treated_reps, **{f"n_{k}": v for k, v in sizes.items()}}
    if treated_reps < MIN_TREATED_REPS or min(sizes.values()) < MIN_CELL:
        return out | {"effect": None, "low": None, "high": None, "p_value": None}
    est, low, high = bootstrap_did(cells, stat="mean", seed=seed, confidence=0.95)
    p = did_p_value(est, low, high)
    return out | {"effect": est, "low": low, "high": high, "p_value": p}


def training_effect(ws: Workspace, period: Period, window: int = 3, seed: int = 0) -> pl.DataFrame:
    """DiD of monthly bookings per program and pooled; columns effect, low, high, p_value,
    q_value, verdict (improved / worsened / no_evidence / not_enough_data) and cell sizes."""
    import polars as pl

    df = _did_cells(ws, period, window)
    rows: list[dict[str, Any]] = []
    groups = [(p, df.filter(pl.col("program") == p)) for p in sorted(set(df["program"]))]
    for program, sub in [(ALL_PROGRAMS, df), *groups]:
        cells = {
            f"{'treated' if t else 'control'}_{'post' if post else 'pre'}": sub.filter(
                (pl.col("_t") == t) & (pl.col("post") == post)
            )["bookings"].to_numpy()
            for t in (1, 0)
            for post in (0, 1)
        }
        reps = sub.filter(pl.col("_t") == 1)["rep_id"].n_unique()
        rows.append({"program": program, **_verdict(cells, reps, seed)})
    tested = [i for i, r in enumerate(rows) if r["p_value"] is not None]
    qs = benjamini_hochberg([rows[i]["p_value"] for i in tested])
    for i, r in enumerate(rows):
        r["q_value"] = qs[tested.index(i)] if i in tested else None
        r["verdict"] = _label(r)
    return pl.DataFrame(rows, infer_schema_length=None)


def _label(r: dict[str, Any]) -> str:
    if r["q_value"] is None:
        return NOT_ENOUGH_DATA
    if r["q_value"] < 0.05 and not (r["low"] <= 0 <= r["high"]):
        return "improved" if r["effect"] > 0 else "worsened"
    return NO_EVIDENCE


# ---------------------------------------------------------------- capability gaps
def _latest_assessments(ws: Workspace, period: Period) -> ir.Table:
    a = ws.table("assessments").filter(ibis._.assessed_at < ibis.timestamp(period.end_ts))
    w = ibis.window(group_by=[a.rep_id, a.capability], order_by=ibis.desc(a.assessed_at))
    a = a.mutate(_rn=ibis.row_number().over(w))
    return a.filter(a._rn == 0).select("rep_id", "capability", "level", "assessed_at")


def capability_gap_table(ws: Workspace, period: Period) -> ir.Table:
    """Rep × capability with level, required level and gap, as an engine expression: the
    required profile joins as a small table (unlisted capabilities need ``default_level``)."""
    cfg = enablement_settings(ws)
    a = _latest_assessments(ws, period)
    reps = ws.table("reps").filter(
        ibis._.role.isin(cfg.roles)
        & (ibis._.end_date.isnull() | (ibis._.end_date >= ibis.date(period.start)))
    )
    j = a.join(reps.select("rep_id", "name", "team", "role"), "rep_id")
    pairs = [(r, c, lvl) for r, caps in cfg.required.items() for c, lvl in caps.items()]
    req = ibis.memtable(
        {"_r": [p[0] for p in pairs], "_c": [p[1] for p in pairs], "_l": [p[2] for p in pairs]},
        schema={"_r": "string", "_c": "string", "_l": "int64"},
    )
    j = j.left_join(req, (j.role == req._r) & (j.capability == req._c))
    j = j.mutate(required=j._l.fill_null(cfg.default_level).cast("int64")).drop("_r", "_c", "_l")
    return j.mutate(gap=ibis.greatest(j.required - j.level, 0).cast("int64"))


def capability_gap_by_rep(ws: Workspace, period: Period) -> ir.Table:
    """Per assessed rep: the sum of capability levels missing against the role's required
    profile (latest assessment up to the period's end; ``[enablement]`` in eigyo.toml)."""
    g = capability_gap_table(ws, period)
    per_rep = g.group_by("rep_id").agg(team=g.team.max(), gap_points=g.gap.sum().cast("float64"))
    return per_rep.mutate(team=per_rep.team.fill_null(NO_TEAM))


def capability_gaps(ws: Workspace, period: Period) -> pl.DataFrame:
    """Long-form heatmap data: rep × capability with level, required level and gap."""
    return frame(capability_gap_table(ws, period).order_by(["team", "rep_id", "capability"]))


def coaching_priorities(ws: Workspace, period: Period) -> pl.DataFrame:
    """Reps ranked by gap points × open pipeline amount, with the capability to coach first."""
    import polars as pl

    gaps = capability_gaps(ws, period)
    if gaps.is_empty():
        return gaps
    od = open_deals_at_end(ws, period)
    stake = frame(od.group_by("rep_id").agg(at_stake_jpy=od.amount.sum()))
    top = gaps.sort(["gap", "capability"], descending=[True, False]).unique("rep_id", keep="first")
    per = gaps.group_by(["rep_id", "name", "team", "role"]).agg(gap_points=pl.col("gap").sum())
    per = per.join(top.select("rep_id", first_capability="capability"), on="rep_id")
    per = per.join(stake, on="rep_id", how="left").with_columns(
        pl.col("at_stake_jpy").fill_null(0.0)
    )
    per = per.with_columns(
        first_capability=pl.when(pl.col("gap_points") > 0).then(pl.col("first_capability")),
        priority=pl.col("gap_points") * pl.col("at_stake_jpy"),
    )
    return per.sort(["priority", "gap_points", "rep_id"], descending=[True, True, False])


def did_p_value(est: float, low: float, high: float) -> float:
    """Two-sided p-value of a bootstrap estimate read from its 95% interval (normal theory)."""
    se = (high - low) / (2 * norm_ppf(0.975))
    if not math.isfinite(se) or se <= 0:
        return 1.0
    return float(2 * norm_sf(abs(est) / se))
