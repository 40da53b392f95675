"""Step 4 in money (the workspace currency): is a fast answer worth it here, and what does
each source cost and return?

**Response curve.** Answered MQLs are binned by response minutes (``CURVE_EDGES``, bins closed on
the left: [0, 5), [5, 15) …) plus an "unanswered" bin; each bin gets its conversion rate with a
95% Wilson interval. The question "is faster really better here?" is answered by comparing leads
answered within the SLA with those answered later (two proportions: Fisher's exact test for small
counts, else the z-test) and by a logistic fit of the outcome on log(1 + minutes) (IRLS on counts
aggregated by the engine; odds ratio per tenfold slower answer, Wald p-value). With fewer than
``MIN_CURVE_LEADS`` answered leads, or fewer than ``MIN_CURVE_EVENTS`` conversions, or no lead on
one side of the SLA, the verdict is ``not_enough_data``.

**Costs.** Campaign costs are not a canonical table: give them as a CSV (UTF-8) with a key column
``campaign`` or ``source``, a ``cost`` column in the workspace currency and, optionally, ``month``
(``YYYY-MM``). Rows whose month lies outside the analysed period are ignored; rows without a month
count whole. ``eigyo alignment`` reads ``campaign_costs.csv`` in the workspace folder, or the file
given with ``--costs``. Costs keyed by campaign roll up to the source most of its leads came from.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import polars as pl
from scipy import stats as sps

from eigyo.analysis.alignment.sources import funnel, lead_sample
from eigyo.analysis.verdicts import check_by, frame, with_wilson
from eigyo.base.periods import Period
from eigyo.base.stats import two_proportions
from eigyo.base.vocabulary import NO_EVIDENCE, NOT_ENOUGH_DATA
from eigyo.errors import InputError
from eigyo.workspace import Workspace

CURVE_EDGES = (0.0, 5.0, 15.0, 30.0, 60.0, 120.0, 240.0, 480.0, 1440.0)
OUTCOMES = ("won", "sql", "opportunity")
MIN_CURVE_LEADS = 100
MIN_CURVE_EVENTS = 10
COSTS_FILE = "campaign_costs.csv"
UNANSWERED = "unanswered"


@dataclass(frozen=True)
class ResponseCurve:
    """Binned conversion by response time and the verdict on "is faster better?"."""

    outcome: str
    sla_minutes: float
    bins: list[dict[str, Any]]
    within_sla_rate: float | None
    beyond_sla_rate: float | None
    effect: float | None  # within − beyond, in rate points (fraction)
    p_value: float | None
    odds_ratio_per_10x: float | None
    logistic_p: float | None
    verdict: str  # faster_better | slower_better | no_evidence | not_enough_data
    fitted: list[dict[str, float]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _bin_label(lo: float, hi: float | None) -> str:
    return f"{lo:g}-{hi:g}" if hi is not None else f"{lo:g}+"


def _binned(ws: Workspace, period: Period, outcome: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Counts per bin and per distinct rounded minute (for the logistic fit), from the engine."""
    s = lead_sample(ws, period)
    rm = s.response_minutes
    idx = ibis.literal(len(CURVE_EDGES))
    for i in range(len(CURVE_EDGES) - 1, 0, -1):
        idx = ibis.ifelse(rm < CURVE_EDGES[i], i, idx)
    s = s.mutate(_bin=ibis.ifelse(rm.isnull(), 0, idx), _y=s[outcome])
    bins = frame(s.group_by("_bin").agg(n=s.count(), k=s._y.sum()).order_by("_bin"))
    answered = s.filter(rm.notnull() & (rm >= 0))
    answered = answered.mutate(_m=answered.response_minutes.round(0))
    per_minute = answered.group_by(["_m", "within_sla"]).agg(
        n=answered.count(), k=answered._y.sum()
    )
    return bins, frame(per_minute.order_by(["_m", "within_sla"]))


def logistic_counts(x: np.ndarray, n: np.ndarray, k: np.ndarray) -> tuple[float, float, float]:
    """Binomial logistic regression of k/n on x by IRLS: (intercept, slope, slope std. error).

    Aggregated counts keep the fit in O(distinct x), whatever the number of leads.
    """
    X = np.column_stack([np.ones_like(x), x])
    beta = np.zeros(2)
    cov = np.full((2, 2), np.nan)
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-(X @ beta)))
        w = n * p * (1 - p)
        info = X.T @ (X * w[:, None])
        step = np.linalg.solve(info, X.T @ (k - n * p))
        beta = beta + step
        cov = np.linalg.inv(info)
        if np.max(np.abs(step)) < 1e-10:
            break
    return float(beta[0]), float(beta[1]), float(math.sqrt(cov[1, 1]))


def response_curve(ws: Workspace, period: Period, outcome: str = "won") -> ResponseCurve:
    """Conversion by response-time bin with Wilson intervals, and whether speed pays off here."""
    check_by(outcome, OUTCOMES, "the response curve outcome")
    sla = ws.settings.lead_sla_minutes
    bins, per_min = _binned(ws, period, outcome)
    labels = {0: UNANSWERED} | {
        i: _bin_label(CURVE_EDGES[i - 1], CURVE_EDGES[i] if i < len(CURVE_EDGES) else None)
        for i in range(1, len(CURVE_EDGES) + 1)
    }
    bins = with_wilson(bins, "k", "n", "rate").with_columns(
        pl.col("_bin").replace_strict(labels, return_dtype=pl.String).alias("bin")
    )
    mins = per_min["_m"].to_numpy().astype(float)
    n = per_min["n"].to_numpy().astype(float)
    k = per_min["k"].to_numpy().astype(float)
    inside = per_min["within_sla"].to_numpy() == 1
    k1, n1, k2, n2 = (
        int(k[inside].sum()),
        int(n[inside].sum()),
        int(k[~inside].sum()),
        int(n[~inside].sum()),
    )
    r1, r2 = (k1 / n1 if n1 else None), (k2 / n2 if n2 else None)
    enough = n.sum() >= MIN_CURVE_LEADS and k.sum() >= MIN_CURVE_EVENTS and n1 and n2
    enough = bool(enough) and 0 < k.sum() < n.sum()
    if not enough:
        return ResponseCurve(
            outcome, sla, bins.drop("_bin").to_dicts(), r1, r2, None, None, None, None,
            NOT_ENOUGH_DATA,
        )  # fmt: skip
    cmp = two_proportions(k1, n1, k2, n2)
    a, b, se = logistic_counts(np.log10(1 + mins), n, k)
    lp = float(2 * sps.norm.sf(abs(b / se)))
    verdict = NO_EVIDENCE
    if cmp.p_value < 0.05:
        verdict = "faster_better" if cmp.effect > 0 else "slower_better"
    grid = np.array([e for e in CURVE_EDGES[1:]] + [2880.0])
    fitted = [
        {"minutes": float(m), "rate": float(1 / (1 + math.exp(-(a + b * math.log10(1 + m)))))}
        for m in grid
    ]
    return ResponseCurve(
        outcome, sla, bins.drop("_bin").to_dicts(), r1, r2, cmp.effect, cmp.p_value,
        float(10**b), lp, verdict, fitted,
    )  # fmt: skip


def load_costs(path: Path) -> pl.DataFrame:
    """Read a campaign-costs CSV (see the module docstring); errors name the file and the fix."""
    try:
        df = pl.read_csv(path, infer_schema_length=0)
    except (OSError, pl.exceptions.PolarsError) as e:
        raise InputError(f"{path}: cannot read campaign costs ({e})") from None
    keys = [c for c in ("campaign", "source") if c in df.columns]
    if len(keys) != 1 or "cost" not in df.columns:
        raise InputError(
            f"{path}: campaign costs need one key column (campaign or source) and cost; "
            f"found columns {', '.join(df.columns)}"
        )
    # "¥1,000", "$1,000.50", "USD 1,000", "CHF 900": the costs are in the workspace currency
    # whatever sign the sheet wrote, so symbols, ISO codes and separators are dropped.
    cost = (
        pl.col("cost")
        .str.replace_all(r"[,\p{Sc}\s]", "")
        .str.replace(r"^[A-Z]{2,3}", "")
        .cast(pl.Float64, strict=False)
    )
    out = df.with_columns(cost.alias("cost"))
    bad = out.filter(pl.col("cost").is_null() | (pl.col("cost") < 0))
    if bad.height:
        raise InputError(f"{path}: cost must be a number ≥ 0 on every row ({bad.height} are not)")
    return out


def _costs_in_period(costs: pl.DataFrame, period: Period) -> pl.DataFrame:
    if "month" not in costs.columns:
        return costs
    months = {m.label for m in period.months()}
    return costs.filter(pl.col("month").is_null() | pl.col("month").is_in(list(months)))


def _costs_by(ws: Workspace, period: Period, costs: pl.DataFrame, by: str) -> pl.DataFrame:
    """Costs per group of ``by``; campaign costs roll up to each campaign's main source."""
    key = "campaign" if "campaign" in costs.columns else "source"
    costs = _costs_in_period(costs, period).group_by(key).agg(pl.col("cost").sum())
    if key == by:
        return costs
    if key == "source":
        raise InputError("Costs keyed by source can be shown by source only; use --by source.")
    s = lead_sample(ws, period)
    pairs = frame(s.group_by(["campaign", by]).agg(n=s.count()))
    main = pairs.sort(["n", by], descending=[True, False]).unique("campaign", keep="first")
    joined = costs.join(main.select("campaign", by), on="campaign", how="left")
    return joined.group_by(by).agg(pl.col("cost").sum())


def source_value(
    ws: Workspace, period: Period, by: str = "source", costs: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Pipeline and won amounts (``*_jpy``: the workspace currency, the names kept for JSON
    readers) per source (or campaign), with cost per lead, per won deal and the won-per-cost
    ratio where costs are given (null where they are not)."""
    df = funnel(ws, period, by).select(
        by, "mql", "opportunity", "won", "pipeline_jpy", "won_jpy", "won_rate"
    )
    if costs is None:
        cost = pl.lit(None, pl.Float64).alias("cost")
        df = df.with_columns(cost)
    else:
        df = df.join(_costs_by(ws, period, costs, by), on=by, how="left")
    per = pl.col("cost")
    return df.with_columns(
        cost_per_lead=pl.when(pl.col("mql") > 0).then(per / pl.col("mql")),
        cost_per_won=pl.when(pl.col("won") > 0).then(per / pl.col("won")),
        won_jpy_per_cost=pl.when(per > 0).then(pl.col("won_jpy") / per),
    ).sort("won_jpy", descending=True)
