"""The skill matrix (step 3, ``specialization``): who is good at what, with honest uncertainty.

Each rep's conversion at every stage kind (prospecting … negotiation), at lead response (answered
within the SLA), at lead follow-up (MQL → SQL) and at winning new and existing business, next to
the speed of that step. A raw rate of 3 out of 4 says little, so every rate is shrunk toward the
rep's team with empirical Bayes: the team's reps give a beta prior by the method of moments
(:func:`fit_prior`), and each rep's posterior ``Beta(α + k, β + n − k)`` gives the estimate and a
credible interval. Role assignment and the simulation read these posteriors, so a rep with little
data is treated as a typical member of the team rather than as a star or a failure.

Counting happens in the engine (one grouped query per skill); only the per-rep totals reach Python.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import numpy as np
import numpy.typing as npt
import polars as pl
from scipy import stats

from eigyo.analysis.common import days_between, in_period, minutes_between
from eigyo.analysis.process.stages import stage_attrs, stage_exits
from eigyo.base.periods import Period
from eigyo.base.vocabulary import NO_TEAM
from eigyo.workspace import Workspace

F64 = npt.NDArray[np.float64]

STAGE_SKILLS = ("prospecting", "qualification", "meeting", "proposal", "negotiation")
#: Every skill of the matrix, in display order.
SKILLS = ("lead_response", "lead_followup", *STAGE_SKILLS, "win_new", "win_existing")
#: Unit of each skill's speed column.
SPEED_UNITS = {
    "lead_response": "minutes",
    "lead_followup": "days",
    **{s: "days" for s in STAGE_SKILLS},
    "win_new": "days",
    "win_existing": "days",
}
#: Below this many trials a rep's own rate is called "not enough data" (the posterior still exists).
MIN_TRIALS = 10
#: Prior strength bounds: at least two pseudo-trials, at most complete pooling in practice.
KAPPA_MIN, KAPPA_MAX = 2.0, 1000.0
EXISTING_TYPES = ("expansion", "renewal")

_COUNT_SCHEMA = {
    "rep_id": pl.String,
    "skill": pl.String,
    "k": pl.Int64,
    "n": pl.Int64,
    "speed": pl.Float64,
}


@dataclass(frozen=True)
class Prior:
    """A beta prior ``Beta(alpha, beta)`` fitted to one group of reps."""

    alpha: float
    beta: float

    @property
    def mean(self) -> float:
        return self.alpha / (self.alpha + self.beta)


def fit_prior(k: F64, n: F64) -> Prior:
    """Beta prior of a group by the method of moments, net of binomial noise.

    ``m = Σk / Σn`` is the pooled rate. The spread of the reps' raw rates around it,
    ``v = mean((k/n − m)²)``, mixes true differences between reps and binomial noise, whose
    expected size is ``m(1 − m) · mean(1/n)``; what remains, ``τ² = v − noise``, is the
    between-rep variance, and ``κ = α + β = m(1 − m)/τ² − 1`` (clipped to [2, 1000]; 1000 when
    ``τ² ≤ 0``, meaning the reps look alike). Reps with ``n = 0`` carry no information and are
    ignored; fewer than two informative reps give the weakest prior (κ = 2) around ``m``.
    """
    keep = n > 0
    k, n = k[keep], n[keep]
    if len(n) == 0:
        return Prior(1.0, 1.0)
    m = float(k.sum() / n.sum())
    m = min(max(m, 1e-3), 1 - 1e-3)
    if len(n) < 2:
        return Prior(m * KAPPA_MIN, (1 - m) * KAPPA_MIN)
    v = float(np.mean((k / n - m) ** 2))
    tau2 = v - m * (1 - m) * float(np.mean(1.0 / n))
    kappa = KAPPA_MAX if tau2 <= 0 else m * (1 - m) / tau2 - 1
    kappa = min(max(kappa, KAPPA_MIN), KAPPA_MAX)
    return Prior(m * kappa, (1 - m) * kappa)


def shrink(k: F64, n: F64, prior: Prior, level: float = 0.9) -> tuple[F64, F64, F64]:
    """Posterior mean and central credible interval of each rep's rate (vectorized)."""
    a = prior.alpha + k
    b = prior.beta + n - k
    tail = (1 - level) / 2
    mean: F64 = a / (a + b)
    low: F64 = stats.beta.ppf(tail, a, b)
    high: F64 = stats.beta.ppf(1 - tail, a, b)
    return mean, low, high


def _frame(t: ir.Table) -> pl.DataFrame:
    df = pl.from_arrow(t.to_pyarrow())
    assert isinstance(df, pl.DataFrame)
    return df


def _rows(t: ir.Table | pl.DataFrame, skill: str) -> pl.DataFrame:
    """Run one grouped count (rep_id, k, n, speed) and tag it with its skill."""
    df = t if isinstance(t, pl.DataFrame) else _frame(t)
    if df.height == 0:
        return pl.DataFrame(schema=_COUNT_SCHEMA)
    return df.with_columns(skill=pl.lit(skill)).select(
        pl.col("rep_id").cast(pl.String),
        pl.col("skill"),
        pl.col("k").cast(pl.Int64),
        pl.col("n").cast(pl.Int64),
        pl.col("speed").cast(pl.Float64),
    )


def _lead_counts(ws: Workspace, period: Period) -> list[pl.DataFrame]:
    """Lead response within the SLA (speed: median minutes) and MQL → SQL (median days)."""
    lead = ws.table("leads")
    lead = lead.filter(lead.mql_at.notnull() & in_period(lead.created_at, period))
    lead = lead.filter(lead.owner_rep_id.notnull())
    mins = minutes_between(lead.mql_at, lead.first_response_at)
    sla = ws.settings.lead_sla_minutes
    lead = lead.mutate(
        _m=mins, _in=(mins.notnull() & (mins <= sla)).cast("int64"), _sql=lead.sql_at.notnull()
    )
    g = lead.group_by(rep_id=lead.owner_rep_id)
    response = g.agg(k=lead._in.sum(), n=lead.count(), speed=lead._m.median())
    sqls = lead.mutate(_d=days_between(lead.mql_at, lead.sql_at))
    followup = sqls.group_by(rep_id=sqls.owner_rep_id).agg(
        k=sqls._sql.cast("int64").sum(), n=sqls.count(), speed=sqls._d.median()
    )
    return [_rows(response, "lead_response"), _rows(followup, "lead_followup")]


def _stage_counts(ws: Workspace, period: Period) -> list[pl.DataFrame]:
    """Advanced / (advanced + dropped) per stage kind; waiting entries are censored."""
    ex = stage_exits(ws, period)
    attrs = stage_attrs(ws)
    ex = ex.join(attrs, ex.stage == attrs._stage)
    ex = ex.filter(ex.advanced.notnull() & ex._kind.isin(STAGE_SKILLS) & ex.rep_id.notnull())
    g = ex.group_by(rep_id=ex.rep_id, kind=ex._kind).agg(
        k=ex.advanced.sum(), n=ex.count(), speed=ex.dwell_days.median()
    )
    df = _frame(g)
    return [_rows(df.filter(pl.col("kind") == kind).drop("kind"), kind) for kind in STAGE_SKILLS]


def _win_counts(ws: Workspace, period: Period) -> list[pl.DataFrame]:
    """Won / closed among opportunities closed in the period; speed: median cycle of the won."""
    o = ws.table("opportunities")
    o = o.filter(o.status.isin(["won", "lost"]) & in_period(o.closed_at, period))
    o = o.mutate(
        _won=(o.status == "won").cast("int64"),
        _cyc=ibis.cases(
            (o.status == "won", days_between(o.created_at, o.closed_at)),
            else_=ibis.null("float64"),
        ),
        _existing=o.type.isin(EXISTING_TYPES).fill_null(False),
    )
    out = []
    for skill, existing in (("win_new", False), ("win_existing", True)):
        part = o.filter(o._existing == existing)
        g = part.group_by(rep_id=part.owner_rep_id).agg(
            k=part._won.sum(), n=part.count(), speed=part._cyc.median()
        )
        out.append(_rows(g, skill))
    return out


def skill_counts(ws: Workspace, period: Period) -> pl.DataFrame:
    """Per rep and skill: successes ``k``, trials ``n`` and the median ``speed`` of the step."""
    parts = _lead_counts(ws, period) + _stage_counts(ws, period) + _win_counts(ws, period)
    return pl.concat(parts, how="vertical")


def _reps(ws: Workspace) -> pl.DataFrame:
    df = _frame(ws.table("reps").select("rep_id", "name", "team", "role"))
    return df.with_columns(pl.col("team").fill_null(NO_TEAM))


def skill_matrix(ws: Workspace, period: Period, level: float = 0.9) -> pl.DataFrame:
    """The shrunk skill matrix: one row per rep and skill the rep has any trial in.

    Columns: rep_id, name, team, role, skill, k, n, raw (k/n), mean, low, high (credible
    interval at ``level``), prior_mean (the team's), speed, speed_unit, enough (n ≥ 10).
    """
    counts = skill_counts(ws, period).join(_reps(ws), on="rep_id", how="inner")
    frames = []
    for _key, g in counts.group_by(["team", "skill"], maintain_order=True):
        k = g["k"].to_numpy().astype(float)
        n = g["n"].to_numpy().astype(float)
        prior = fit_prior(k, n)
        mean, low, high = shrink(k, n, prior, level)
        frames.append(
            g.with_columns(
                raw=pl.Series(np.where(n > 0, k / np.maximum(n, 1), np.nan)),
                mean=pl.Series(mean),
                low=pl.Series(low),
                high=pl.Series(high),
                prior_mean=pl.lit(prior.mean),
            )
        )
    if not frames:
        return _empty_matrix()
    out = pl.concat(frames).with_columns(
        speed_unit=pl.col("skill").replace_strict(SPEED_UNITS, default="days"),
        enough=pl.col("n") >= MIN_TRIALS,
        _order=pl.col("skill").replace_strict({s: i for i, s in enumerate(SKILLS)}, default=99),
    )
    return out.sort(["team", "rep_id", "_order"]).drop("_order").select(_MATRIX_COLUMNS)


_MATRIX_COLUMNS = (
    "rep_id",
    "name",
    "team",
    "role",
    "skill",
    "k",
    "n",
    "raw",
    "mean",
    "low",
    "high",
    "prior_mean",
    "speed",
    "speed_unit",
    "enough",
)


def _empty_matrix() -> pl.DataFrame:
    schema = {c: pl.String for c in ("rep_id", "name", "team", "role", "skill", "speed_unit")}
    schema |= {"k": pl.Int64, "n": pl.Int64, "enough": pl.Boolean}  # type: ignore[dict-item]
    schema |= {c: pl.Float64 for c in ("raw", "mean", "low", "high", "prior_mean", "speed")}  # type: ignore[misc]
    return pl.DataFrame(schema=schema).select(_MATRIX_COLUMNS)
