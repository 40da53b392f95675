"""ICP fit score and ROAD coverage: which accounts look like the ones we win, and how to cover each.

Why an interpretable model: a fit score sales people do not trust is not used. The score is a
logistic regression of "this account bought" (won at least one new-business deal) on
firmographics only (industry, size, region, revenue), trained on accounts decided before a split
day and validated on the accounts decided after it (AUC, Brier, calibration), and explained by its
coefficients and by permutation importance on the later window. ROAD then crosses customer status
with fit and room to grow: Retain, Opportunistic, Acquire, Develop, each with its coverage.
"""

from __future__ import annotations

from typing import Any

import ibis
import numpy as np
import polars as pl
from sklearn.compose import ColumnTransformer
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from eigyo.analysis.data.segments import size_band
from eigyo.analysis.data.winprob import MIN_TEST, SEED, calibration, scores
from eigyo.base.vocabulary import UNKNOWN
from eigyo.workspace import Workspace

CATEGORICAL = ("industry", "size_band", "region")
NUMERIC = ("log_employees", "log_revenue")
ROAD = ("retain", "develop", "acquire", "opportunistic")
#: Share of decided accounts (oldest first) that trains the score; the rest validates it.
TRAIN_SHARE = 0.7


def accounts_frame(ws: Workspace) -> pl.DataFrame:
    """Every account with its firmographics, customer status and (when decided) its outcome.

    ``bought`` is 1 when a new-business deal was won, 0 when every closed new deal was lost, null
    when none closed; ``decided`` is the day of the first close that settled it.
    """
    acc = ws.table("accounts")
    o = ws.table("opportunities")
    new = o.filter(o.status.isin(["won", "lost"]) & (o.type.isnull() | (o.type == "new")))
    won_at = new.closed_at.min(where=new.status == "won")
    d = new.group_by(_a=new.account_id).agg(_won_at=won_at, _first=new.closed_at.min())
    cust = ws.table("orders").select(_c="account_id").distinct()
    wins = o.filter(o.status == "won").select(_c=o.account_id).distinct()
    cust = cust.union(wins).distinct()
    j = acc.left_join(d, acc.account_id == d._a)
    j = j.left_join(cust, j.account_id == cust._c)
    j = j.select(
        "account_id",
        industry=j.industry.fill_null(UNKNOWN),
        size_band=ibis.ifelse(j.employees.isnull(), UNKNOWN, size_band(j.employees)),
        region=j.region.fill_null(UNKNOWN),
        employees=j.employees.cast("float64"),
        log_employees=(j.employees.fill_null(0).cast("float64") + 1).ln(),
        log_revenue=(j.annual_revenue.fill_null(0) + 1).ln(),
        customer=j._c.notnull(),
        bought=ibis.ifelse(j._first.isnull(), ibis.null(), j._won_at.notnull().cast("int64")),
        decided=ibis.coalesce(j._won_at, j._first).date(),
    )
    df = pl.from_arrow(j.order_by("account_id").to_pyarrow())
    assert isinstance(df, pl.DataFrame)
    return df


def make_model() -> Pipeline:
    pre = ColumnTransformer(
        [
            ("cat", OneHotEncoder(handle_unknown="ignore", min_frequency=5), list(CATEGORICAL)),
            ("num", StandardScaler(), list(NUMERIC)),
        ]
    )
    return make_pipeline(pre, LogisticRegression(C=0.5, max_iter=2000, random_state=SEED))


def _x(df: pl.DataFrame) -> Any:
    return df.select(*CATEGORICAL, *NUMERIC).to_pandas()


def validate(decided: pl.DataFrame) -> dict[str, Any]:
    """Train on the older accounts, score the later ones: AUC, Brier, calibration, importance."""
    decided = decided.sort("decided", "account_id")
    cut = int(decided.height * TRAIN_SHARE)
    train, test = decided[:cut], decided[cut:]
    if test.height < MIN_TEST or train["bought"].n_unique() < 2:
        return {"status": "not_enough_data", "train": train.height, "test": test.height}
    model = make_model().fit(_x(train), train["bought"].to_numpy())
    y = test["bought"].to_numpy()
    p = model.predict_proba(_x(test))[:, 1]
    prior = np.full(len(y), float(train["bought"].mean()))  # type: ignore[arg-type]
    imp = permutation_importance(
        model, _x(test), y, scoring="roc_auc", n_repeats=10, random_state=SEED
    ) if len(set(y.tolist())) == 2 else None  # fmt: skip
    importance = [] if imp is None else sorted(
        ({"feature": f, "auc_drop": float(m)} for f, m in
         zip((*CATEGORICAL, *NUMERIC), imp.importances_mean, strict=True)),
        key=lambda r: -float(r["auc_drop"]),  # type: ignore[arg-type]
    )  # fmt: skip
    return {
        "status": "ok" if scores(y, p)["auc"] is not None else "not_enough_data",
        "split_day": str(test["decided"][0]),
        "train": train.height,
        "test": test.height,
        **scores(y, p),
        "baseline_brier": scores(y, prior)["brier"],
        "calibration": calibration(y, p, bins=5),
        "permutation_importance": importance,
    }


def _coefficients(model: Pipeline) -> list[dict[str, Any]]:
    names = model[0].get_feature_names_out()
    coef = model[-1].coef_[0]
    return [
        {"feature": str(names[i]), "coefficient": float(coef[i])} for i in np.argsort(-np.abs(coef))
    ]


def road(df: pl.DataFrame, threshold: float) -> pl.DataFrame:
    """Retain / Develop for customers (Develop: good fit and larger than the median customer),
    Acquire / Opportunistic for prospects (Acquire: fit at or above the threshold)."""
    size_median = df.filter(pl.col("customer"))["employees"].median()
    big = pl.col("employees").fill_null(0) >= (size_median or 0)
    fit = pl.col("fit") >= threshold
    return df.with_columns(
        road=pl.when(pl.col("customer") & fit & big)
        .then(pl.lit("develop"))
        .when(pl.col("customer"))
        .then(pl.lit("retain"))
        .when(fit)
        .then(pl.lit("acquire"))
        .otherwise(pl.lit("opportunistic"))
    )


def icp_report(ws: Workspace, top: int = 20) -> dict[str, Any]:
    """Validated fit score, its explanation, every account's fit and ROAD class with counts."""
    df = accounts_frame(ws)
    decided = df.filter(pl.col("bought").is_not_null())
    check = validate(decided)
    if decided.height < 2 * MIN_TEST or decided["bought"].n_unique() < 2:
        return {"status": "not_enough_data", "decided_accounts": decided.height,
                "validation": check, "coefficients": [], "road": [], "accounts": []}  # fmt: skip
    model = make_model().fit(_x(decided), decided["bought"].to_numpy())
    threshold = float(decided["bought"].mean())  # type: ignore[arg-type]
    df = road(df.with_columns(fit=pl.Series(model.predict_proba(_x(df))[:, 1])), threshold)
    counts = df.group_by("road").agg(accounts=pl.len(), mean_fit=pl.col("fit").mean())
    by = {r["road"]: r for r in counts.to_dicts()}
    return {
        "status": check["status"],
        "decided_accounts": decided.height,
        "fit_threshold": threshold,
        "validation": check,
        "coefficients": _coefficients(model),
        "road": [{"class": k, "accounts": int(by[k]["accounts"]) if k in by else 0,
                  "mean_fit": float(by[k]["mean_fit"]) if k in by else None} for k in ROAD],
        "accounts": df.filter(~pl.col("customer")).sort("fit", descending=True)
        .select("account_id", "industry", "size_band", "region", "fit", "road")
        .head(top).to_dicts(),
    }  # fmt: skip
