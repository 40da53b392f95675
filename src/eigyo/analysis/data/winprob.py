"""Win probability of open opportunities, from what was known on the day it is asked.

Why this shape: a score that peeks at the future (today's amount, a stage entered later, the
activities that happened after) looks brilliant in a backtest and fails in use. Every feature
here is rebuilt "as of the end of day D" — stage and amount from the history tables, activities
before D, the owner's record on deals closed before D — and the model is trained on snapshots of
earlier month ends whose outcome was already known on D. ``tests/test_data_winprob.py`` proves it
by changing everything after D and checking that no feature moves.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import polars as pl
from numpy.typing import NDArray
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from eigyo.analysis.common import data_end, days_between
from eigyo.analysis.data.segments import size_band
from eigyo.analysis.process.pipeline import end_of, field_as_of, snapshot
from eigyo.analysis.process.stages import stage_entries
from eigyo.base.periods import months_between
from eigyo.base.vocabulary import UNKNOWN
from eigyo.workspace import Workspace

CATEGORICAL = ("stage", "source", "industry", "size_band", "region", "product", "type")
NUMERIC = (
    "log_amount",
    "age_days",
    "days_in_stage",
    "stage_entries",
    "activities",
    "activities_30d",
    "days_since_activity",
    "close_in_days",
    "no_close_date",
    "pushes",
    "owner_win_rate",
    "owner_closed",
)
#: Pseudo-deals of the organization's rate that smooth an owner's record (few deals → average).
OWNER_PRIOR = 10.0
#: Fewer deals (or a single outcome) and AUC/Brier say nothing: report "not enough data".
MIN_TEST = 30
MIN_TRAIN = 100
SEED = 0


def _activity(ws: Workspace, until: ir.Value) -> ir.Table:
    a = ws.table("activities")
    a = a.filter(a.opportunity_id.notnull() & (a.occurred_at < until))
    recent = a.occurred_at >= until - ibis.interval(days=30)
    return a.group_by(_aopp=a.opportunity_id).agg(
        _acts=a.count(), _acts30=recent.cast("int64").sum(), _last=a.occurred_at.max()
    )


def _owner_record(ws: Workspace, until: ir.Value) -> ir.Table:
    """Each owner's smoothed win rate on deals closed before ``until``."""
    o = ws.table("opportunities")
    c = o.filter(o.status.isin(["won", "lost"]) & (o.closed_at < until))
    won = (c.status == "won").cast("float64")
    rate = c.aggregate(_p0=won.mean())
    g = c.group_by(_rep=c.owner_rep_id).agg(_k=won.sum(), _n=c.count())
    return g.select("_rep", "_k", "_n").cross_join(rate)


def _owner_as_of(ws: Workspace, until: ir.Value) -> ir.Table:
    ch = field_as_of(ws, "owner_rep_id", until)
    return ch.select("_opp", "_has_before", "_before", "_has_after", "_after")


def features_at(ws: Workspace, day: date) -> ir.Table:
    """One row per opportunity open at the end of ``day``: its id and the features, nothing else.

    Only rows and values that existed by then enter: history tables are cut at the cutoff, the
    amount and close date are rebuilt from changes, the owner's record counts earlier closes.
    """
    until = ibis.timestamp(end_of(day))
    s = snapshot(ws, day)
    s = s.filter(s.is_open).select(
        "opportunity_id", "created_at", "stage", "amount", "expected_close_date"
    )
    last = stage_entries(ws, until=until)
    last = last.filter(last.is_last).select(
        _sopp=last.opportunity_id, _entered=last.entered_at, _seq=last.seq
    )
    ch = ws.table("opportunity_changes")
    ch = ch.filter((ch.field == "expected_close_date") & (ch.changed_at < until))
    pushes = ch.group_by(_popp=ch.opportunity_id).agg(_pushes=ch.count())
    o = ws.table("opportunities").select(
        _oid="opportunity_id", _acc="account_id", _lead="lead_id", _owner_now="owner_rep_id",
        _product="product", _type="type",
    )  # fmt: skip
    acc = ws.table("accounts").select(
        _aid="account_id", _ind="industry", _reg="region", _emp="employees"
    )
    leads = ws.table("leads").select(_lid="lead_id", _src="source")
    own = _owner_as_of(ws, until)
    j = s.join(o, s.opportunity_id == o._oid)
    j = j.left_join(last, j.opportunity_id == last._sopp)
    j = j.left_join(pushes, j.opportunity_id == pushes._popp)
    act = _activity(ws, until)
    j = j.left_join(act, j.opportunity_id == act._aopp)
    j = j.left_join(acc, j._acc == acc._aid)
    j = j.left_join(leads, j._lead == leads._lid)
    j = j.left_join(own, j.opportunity_id == own._opp)
    owner = ibis.cases(
        (j._has_before.fill_null(False), j._before),
        (j._has_after.fill_null(False), j._after),
        else_=j._owner_now,
    )
    j = j.mutate(_owner=owner)
    rec = _owner_record(ws, until)
    j = j.left_join(rec, j._owner == rec._rep)
    p0 = j._p0.max().over(ibis.window())
    j = j.mutate(
        _owner_n=j._n.fill_null(0),
        _owner_rate=(j._k.fill_null(0) + OWNER_PRIOR * p0) / (j._n.fill_null(0) + OWNER_PRIOR),
    )
    return _select(j, until)


def _select(j: ir.Table, until: ir.Value) -> ir.Table:
    close_in = (j.expected_close_date.epoch_seconds() - until.epoch_seconds()).cast(
        "float64"
    ) / 86400.0
    return j.select(
        "opportunity_id",
        owner_rep_id=j._owner,
        stage=j.stage.fill_null(UNKNOWN),
        source=j._src.fill_null(UNKNOWN),
        industry=j._ind.fill_null(UNKNOWN),
        size_band=ibis.ifelse(j._emp.isnull(), UNKNOWN, size_band(j._emp)),
        region=j._reg.fill_null(UNKNOWN),
        product=j._product.fill_null(UNKNOWN),
        type=j._type.fill_null(UNKNOWN),
        amount=j.amount,
        expected_close_date=j.expected_close_date,
        log_amount=(j.amount.fill_null(0.0) + 1.0).ln(),
        age_days=days_between(j.created_at, until),
        days_in_stage=days_between(j._entered.coalesce(j.created_at), until),
        stage_entries=(j._seq + 1).fill_null(0).cast("float64"),
        activities=j._acts.fill_null(0).cast("float64"),
        activities_30d=j._acts30.fill_null(0).cast("float64"),
        days_since_activity=days_between(j._last.coalesce(j.created_at), until),
        close_in_days=close_in.fill_null(0.0),
        no_close_date=j.expected_close_date.isnull().cast("float64"),
        pushes=j._pushes.fill_null(0).cast("float64"),
        owner_win_rate=j._owner_rate.fill_null(0.0),
        owner_closed=j._owner_n.fill_null(0).cast("float64"),
    )


def frame_at(ws: Workspace, day: date) -> pl.DataFrame:
    """The features at ``day`` as a polars frame with a ``cutoff`` column."""
    df = pl.from_arrow(features_at(ws, day).to_pyarrow())
    assert isinstance(df, pl.DataFrame)
    return df.with_columns(cutoff=pl.lit(day)).sort("opportunity_id")


def outcomes(ws: Workspace) -> pl.DataFrame:
    """Final outcome of every closed opportunity: ``won`` (0/1) and the day it became known."""
    o = ws.table("opportunities")
    o = o.filter(o.status.isin(["won", "lost"]) & o.closed_at.notnull())
    df = pl.from_arrow(
        o.select(
            "opportunity_id", won=(o.status == "won").cast("int64"), known=o.closed_at.date()
        ).to_pyarrow()
    )
    assert isinstance(df, pl.DataFrame)
    return df


def month_ends(first: date, last: date) -> list[date]:
    """Last days of the months from ``first`` to ``last`` (inclusive)."""
    return [m.end for m in months_between(first, last) if (m.end + timedelta(days=1)).day == 1]


class Snapshots:
    """Feature frames per cutoff day, computed once and reused by training and backtests."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self._cache: dict[date, pl.DataFrame] = {}
        self.outcomes = outcomes(ws)

    def at(self, day: date) -> pl.DataFrame:
        if day not in self._cache:
            self._cache[day] = frame_at(self.ws, day)
        return self._cache[day]

    def training(self, as_of: date, months: int = 12) -> pl.DataFrame:
        """Month-end snapshots of the ``months`` before ``as_of``, outcome known by then."""
        ends = [d for d in month_ends(as_of - timedelta(days=31 * months), as_of) if d < as_of]
        frames = [self.at(d) for d in ends]
        if not frames:
            return pl.DataFrame()
        df = pl.concat(frames).join(self.outcomes, on="opportunity_id", how="inner")
        return df.filter(pl.col("known") <= as_of)


def make_model() -> Pipeline:
    """Logistic regression on one-hot categories and standardized numbers: calibrated, readable."""
    pre = ColumnTransformer(
        [
            ("cat", OneHotEncoder(handle_unknown="ignore", min_frequency=5), list(CATEGORICAL)),
            ("num", StandardScaler(), list(NUMERIC)),
        ]
    )
    return make_pipeline(pre, LogisticRegression(C=0.5, max_iter=2000, random_state=SEED))


def fit(train: pl.DataFrame) -> Pipeline:
    model = make_model()
    model.fit(train.select(*CATEGORICAL, *NUMERIC).to_pandas(), train["won"].to_numpy())
    return model


def predict(model: Pipeline, df: pl.DataFrame) -> NDArray[np.float64]:
    out: NDArray[np.float64] = model.predict_proba(df.select(*CATEGORICAL, *NUMERIC).to_pandas())
    return out[:, 1]


def coefficients(model: Pipeline, top: int = 12) -> list[dict[str, Any]]:
    """The largest standardized coefficients: what moves the odds of winning, and which way."""
    names = model[0].get_feature_names_out()
    coef = model[-1].coef_[0]
    order = np.argsort(-np.abs(coef))[:top]
    return [{"feature": str(names[i]), "coefficient": float(coef[i])} for i in order]


def calibration(
    y: NDArray[np.int64], p: NDArray[np.float64], bins: int = 10
) -> list[dict[str, Any]]:
    """Mean predicted vs observed win rate per probability decile band (empty bands left out)."""
    idx = np.minimum((p * bins).astype(int), bins - 1)
    n = np.bincount(idx, minlength=bins)
    pred = np.bincount(idx, weights=p, minlength=bins)
    obs = np.bincount(idx, weights=y, minlength=bins)
    return [
        {"low": i / bins, "high": (i + 1) / bins, "n": int(n[i]),
         "predicted": float(pred[i] / n[i]), "observed": float(obs[i] / n[i])}
        for i in range(bins) if n[i]
    ]  # fmt: skip


def scores(y: NDArray[np.int64], p: NDArray[np.float64]) -> dict[str, float | None]:
    """AUC and Brier, or None when the sample cannot support them."""
    if len(y) < MIN_TEST or len(set(y.tolist())) < 2:
        return {"auc": None, "brier": None}
    return {"auc": float(roc_auc_score(y, p)), "brier": float(brier_score_loss(y, p))}


def stage_baseline(train: pl.DataFrame, test: pl.DataFrame) -> NDArray[np.float64]:
    """The naive rule a model must beat: the historical win rate of the deal's current stage."""
    rates = train.group_by("stage").agg(rate=pl.col("won").mean())
    prior = float(train["won"].mean())  # type: ignore[arg-type]
    j = test.select("stage").join(rates, on="stage", how="left", maintain_order="left")
    return j["rate"].fill_null(prior).to_numpy().astype(float)


def data_span(ws: Workspace) -> tuple[date, date]:
    """First day an opportunity was created and the last day the data reaches
    (:func:`~eigyo.analysis.common.data_end`); an empty workspace spans today alone."""
    first = ws.table("opportunities").created_at.min().to_pyarrow().as_py()
    last = data_end(ws)
    if first is None or last is None:
        day = last or date.today()  # no deals: nothing to train or backtest on
        return day, day
    return first.date(), last


def default_cutoffs(ws: Workspace, every: int = 3, warmup: int = 9) -> list[date]:
    """Every ``every``-th month end after ``warmup`` months of history, leaving 3 months after
    the last one for its outcomes to arrive."""
    first, last = data_span(ws)
    ends = month_ends(first, last - timedelta(days=90))
    return ends[warmup::every]


def score_open(ws: Workspace, as_of: date, snaps: Snapshots | None = None) -> dict[str, Any]:
    """Win probability of every deal open at the end of ``as_of``, and the model's drivers."""
    snaps = snaps or Snapshots(ws)
    train = snaps.training(as_of)
    live = snaps.at(as_of)
    if train.height < MIN_TRAIN or train["won"].n_unique() < 2:
        return {"as_of": as_of.isoformat(), "status": "not_enough_data", "train": train.height,
                "deals": [], "drivers": []}  # fmt: skip
    model = fit(train)
    p = predict(model, live) if live.height else np.zeros(0)
    deals = live.select(
        "opportunity_id", "owner_rep_id", "stage", "amount", "expected_close_date"
    ).with_columns(p_win=pl.Series(p, dtype=pl.Float64))
    return {
        "as_of": as_of.isoformat(),
        "status": "ok",
        "train": train.height,
        "deals": deals.sort("p_win", descending=True).to_dicts(),
        "drivers": coefficients(model),
    }


def backtest(
    ws: Workspace, cutoffs: list[date] | None = None, snaps: Snapshots | None = None
) -> dict[str, Any]:
    """Time-split backtest: at each cutoff, train on what was known, score the deals then open,
    compare with how they ended. Pooled AUC, Brier and calibration, against the stage baseline."""
    snaps = snaps or Snapshots(ws)
    rows, ys, ps, bs = [], [], [], []
    for c in cutoffs if cutoffs is not None else default_cutoffs(ws):
        train = snaps.training(c)
        test = snaps.at(c).join(snaps.outcomes, on="opportunity_id", how="inner")
        if train.height < MIN_TRAIN or train["won"].n_unique() < 2 or test.height == 0:
            rows.append(
                {
                    "cutoff": c.isoformat(),
                    "train": train.height,
                    "test": test.height,
                    "auc": None,
                    "brier": None,
                    "baseline_auc": None,
                    "baseline_brier": None,
                }
            )
            continue  # fmt: skip
        y = test["won"].to_numpy()
        p, b = predict(fit(train), test), stage_baseline(train, test)
        base = scores(y, b)
        rows.append(
            {
                "cutoff": c.isoformat(),
                "train": train.height,
                "test": test.height,
                **scores(y, p),
                "baseline_auc": base["auc"],
                "baseline_brier": base["brier"],
            }
        )
        ys.append(y)
        ps.append(p)
        bs.append(b)
    if not ys:
        return {"status": "not_enough_data", "cutoffs": rows, "pooled": None, "calibration": []}
    y, p, b = np.concatenate(ys), np.concatenate(ps), np.concatenate(bs)
    pooled, base = scores(y, p), scores(y, b)
    return {
        "status": "ok" if pooled["auc"] is not None else "not_enough_data",
        "cutoffs": rows,
        "pooled": {"n": len(y), "win_rate": float(y.mean()), **pooled,
                   "baseline_auc": base["auc"], "baseline_brier": base["brier"]},
        "calibration": calibration(y, p),
    }  # fmt: skip
