"""Customer segmentation: RFM from orders, clustered with k-means (k chosen by silhouette).

Why RFM: recency, frequency and money are what every order table holds and what a sales manager
already reasons with ("bought recently, buys often, buys big"). Clustering them on log scales
finds the groups the data actually has instead of fixed quintile cells; each cluster is then
named in plain words by where its medians sit against the whole customer base.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import ibis
import numpy as np
import polars as pl
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import StandardScaler

from eigyo.analysis.common import days_between
from eigyo.base.formatting import money
from eigyo.i18n import t
from eigyo.workspace import Workspace

K_RANGE = range(2, 7)
SEED = 0
#: Fewer customers than this and clusters describe noise: report "not enough data".
MIN_CUSTOMERS = 30
#: Silhouette is computed on at most this many customers (a fixed-seed sample) to stay fast.
SILHOUETTE_SAMPLE = 5000


def rfm(ws: Workspace, until: date) -> pl.DataFrame:
    """Per account: days since the last order, order days and total amount, up to ``until``."""
    end = datetime.combine(until + timedelta(days=1), time.min)
    o = ws.table("orders")
    o = o.filter(o.ordered_at < ibis.timestamp(end))
    g = o.group_by("account_id").agg(
        last=o.ordered_at.max(), frequency=o.ordered_at.truncate("D").nunique(),
        monetary=o.amount.sum(),
    )  # fmt: skip
    g = g.select(
        "account_id",
        recency_days=days_between(g.last, ibis.timestamp(end)),
        frequency=g.frequency.cast("float64"),
        monetary=g.monetary.cast("float64"),
    )
    df = pl.from_arrow(g.order_by("account_id").to_pyarrow())
    assert isinstance(df, pl.DataFrame)
    return df


def _matrix(df: pl.DataFrame) -> np.ndarray[Any, np.dtype[np.float64]]:
    x = np.column_stack(
        [
            np.log1p(df["recency_days"].to_numpy()),
            np.log1p(df["frequency"].to_numpy()),
            np.log1p(np.maximum(df["monetary"].to_numpy(), 0.0)),
        ]
    )
    out: np.ndarray[Any, np.dtype[np.float64]] = StandardScaler().fit_transform(x)
    return out


def _best_k(x: np.ndarray[Any, np.dtype[np.float64]]) -> tuple[int, dict[int, float], Any]:
    """Fit k-means for each k and keep the one with the highest silhouette."""
    rng = np.random.default_rng(SEED)
    idx = rng.choice(len(x), min(len(x), SILHOUETTE_SAMPLE), replace=False)
    sil: dict[int, float] = {}
    fits = {}
    for k in K_RANGE:
        if k >= len(x):
            break
        km = KMeans(n_clusters=k, n_init=10, random_state=SEED).fit(x)
        fits[k] = km
        labels = km.labels_[idx]
        sil[k] = float(silhouette_score(x[idx], labels)) if len(set(labels)) > 1 else -1.0
    best = max(sil, key=lambda k: sil[k])
    return best, sil, fits[best]


def _name(rec: float, freq: float, mon: float, med: dict[str, float]) -> str:
    """Plain name of a cluster from where its medians sit against the whole base."""
    recent = rec <= med["recency_days"]
    loyal = freq > med["frequency"] or mon > med["monetary"]
    if recent and loyal:
        return "champions"
    if recent:
        return "new"
    return "at_risk" if loyal else "dormant"


def segment_customers(ws: Workspace, until: date, lang: str = "ja") -> dict[str, Any]:
    """RFM clusters with counts, medians and a ja/en description of each."""
    df = rfm(ws, until)
    if df.height < MIN_CUSTOMERS:
        return {"until": until.isoformat(), "status": "not_enough_data",
                "customers": df.height, "segments": []}  # fmt: skip
    k, sil, km = _best_k(_matrix(df))
    df = df.with_columns(cluster=pl.Series(km.labels_.astype(np.int64)))
    cols = ("recency_days", "frequency", "monetary")
    med = {c: float(df[c].median() or 0.0) for c in cols}  # type: ignore[arg-type]
    g = (
        df.group_by("cluster")
        .agg(
            customers=pl.len(),
            recency_days=pl.col("recency_days").median(),
            frequency=pl.col("frequency").median(),
            monetary=pl.col("monetary").median(),
            revenue=pl.col("monetary").sum(),
        )
        .sort("revenue", descending=True)
    )
    total = float(df["monetary"].sum())
    segs = []
    for r in g.to_dicts():
        name = _name(r["recency_days"], r["frequency"], r["monetary"], med)
        segs.append({
            **r, "name": name, "label": t(f"data.rfm.{name}", lang),
            "revenue_share": r["revenue"] / total if total else None,
            "description": t("data.rfm.describe", lang, r=r["recency_days"],
                             f=r["frequency"], amount=money(r["monetary"], ws.settings.currency)),
        })  # fmt: skip
    return {"until": until.isoformat(), "status": "ok", "customers": df.height, "k": k,
            "silhouette": sil, "segments": segs}  # fmt: skip
