"""Plotly figures for alignment, enablement and time use: one function per chart.

Each takes the frame (or result) its analysis returns and a language, and returns a
``plotly.graph_objects.Figure``; the report and the dashboard embed them as they are. Intervals
are drawn whenever the analysis has them, so a reader sees the evidence with the effect.
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from eigyo.analysis.alignment.lead_value import ResponseCurve
from eigyo.base.currency import DEFAULT_CURRENCY, unit_label
from eigyo.base.formatting import percent
from eigyo.base.vocabulary import DASH, WEEKDAYS
from eigyo.i18n import t


def _c(key: str, lang: str, currency: str = DEFAULT_CURRENCY) -> str:
    """A column's name; those that name the currency (``Won $``) get the workspace's."""
    return t(f"people.col.{key}", lang, currency=unit_label(currency, lang))


def _layout(fig: go.Figure, title: str, **kw: object) -> go.Figure:
    fig.update_layout(title=title, template="plotly_white", margin={"t": 60}, **kw)
    return fig


def _errors(df: pl.DataFrame, name: str) -> dict[str, object]:
    return {
        "type": "data",
        "symmetric": False,
        "array": (df[f"{name}_high"] - df[name]).to_list(),
        "arrayminus": (df[name] - df[f"{name}_low"]).to_list(),
    }


def funnel_figure(df: pl.DataFrame, by: str, lang: str = "ja") -> go.Figure:
    """Grouped bars MQL → SQL → opportunity → won per group (SQL left out when not recorded)."""
    fig = go.Figure()
    steps = [s for s in ("mql", "sql", "opportunity", "won") if df[s].null_count() < df.height]
    for step in steps:
        fig.add_bar(name=_c(step, lang), x=df[by].to_list(), y=df[step].to_list())
    return _layout(fig, t("people.title.funnel", lang, by=_c(by, lang)), barmode="group")


def response_figure(df: pl.DataFrame, by: str, sla: float, lang: str = "ja") -> go.Figure:
    """Median and p90 response minutes per group, with the SLA as a line."""
    x = [str(v) for v in df[by].to_list()]
    fig = go.Figure()
    fig.add_bar(name=_c("median_minutes", lang), x=x, y=df["median_minutes"].to_list())
    fig.add_scatter(
        name=_c("p90_minutes", lang), x=x, y=df["p90_minutes"].to_list(), mode="markers"
    )
    fig.add_hline(y=sla, line_dash="dash", annotation_text=f"SLA {sla:g}")
    title = t("people.title.response", lang, by=_c(by, lang), sla=f"{sla:g}")
    return _layout(fig, title, yaxis_type="log")


def sla_heatmap_figure(df: pl.DataFrame, lang: str = "ja") -> go.Figure:
    """SLA rate by weekday (rows) and hour (columns); ``df`` has weekday, hour, sla_rate."""
    return _heatmap(df, "sla_rate", t("people.col.sla_rate", lang), lang)


def _heatmap(df: pl.DataFrame, value: str, title: str, lang: str) -> go.Figure:
    wide = df.pivot(on="hour", index="weekday", values=value, sort_columns=True).sort("weekday")
    hours = [c for c in wide.columns if c != "weekday"]
    days = [t(f"people.weekday.{WEEKDAYS[int(d)]}", lang) for d in wide["weekday"]]
    z = wide.select(hours).to_numpy().tolist()
    fig = go.Figure(go.Heatmap(z=z, x=hours, y=days, colorscale="RdYlGn", zmin=0))
    return _layout(fig, title, xaxis_title=_c("hour", lang))


def response_curve_figure(curve: ResponseCurve, lang: str = "ja") -> go.Figure:
    """Conversion per response-time bin with Wilson intervals, and the logistic fit if any."""
    df = pl.DataFrame(curve.bins)
    fig = go.Figure()
    fig.add_scatter(
        x=df["bin"].to_list(),
        y=df["rate"].to_list(),
        error_y=_errors(df, "rate"),
        mode="markers+lines",
        name=_c("rate", lang),
    )
    outcome = t(f"people.outcome.{curve.outcome}", lang)
    verdict = t(f"people.verdict.{curve.verdict}", lang)
    title = t("people.title.curve", lang, outcome=outcome) + f"<br><sub>{verdict}</sub>"
    return _layout(fig, title, xaxis_title=_c("bin", lang), yaxis_tickformat=".0%")


def source_value_figure(
    df: pl.DataFrame, by: str = "source", lang: str = "ja", currency: str = DEFAULT_CURRENCY
) -> go.Figure:
    """Pipeline and won amounts (in the workspace ``currency``) per source."""
    fig = go.Figure()
    for col in ("pipeline_jpy", "won_jpy"):
        fig.add_bar(name=_c(col, lang, currency), x=df[by].to_list(), y=df[col].to_list())
    return _layout(fig, t("people.title.value", lang), barmode="group")


def ramp_figure(df: pl.DataFrame, lang: str = "ja") -> go.Figure:
    """Ratio to the tenured median by tenure month, one line per cohort and onboarding."""
    fig = go.Figure()
    for (cohort, ob), part in df.group_by(["cohort", "onboarded"], maintain_order=True):
        mark = "" if ob else " ✕"
        fig.add_scatter(
            x=part["tenure_month"].to_list(),
            y=part["ratio"].to_list(),
            name=f"{cohort}{mark}",
            mode="lines+markers",
            line_dash="solid" if ob else "dot",
        )
    fig.add_hline(y=1.0, line_dash="dash")
    return _layout(fig, t("people.title.ramp", lang), xaxis_title=_c("tenure_month", lang))


def training_effect_figure(
    df: pl.DataFrame, lang: str = "ja", currency: str = DEFAULT_CURRENCY
) -> go.Figure:
    """DiD estimate per program with its 95% bootstrap interval (programs without data left out)."""
    d = df.filter(pl.col("effect").is_not_null())
    fig = go.Figure(
        go.Scatter(
            x=d["effect"].to_list(),
            y=d["program"].to_list(),
            mode="markers",
            error_x={
                "type": "data",
                "symmetric": False,
                "array": (d["high"] - d["effect"]).to_list(),
                "arrayminus": (d["effect"] - d["low"]).to_list(),
            },
        )
    )
    fig.add_vline(x=0, line_dash="dash")
    return _layout(fig, t("people.title.training", lang), xaxis_title=_c("effect", lang, currency))


def gap_heatmap_figure(df: pl.DataFrame, lang: str = "ja") -> go.Figure:
    """Rep (rows, by team) × capability gap heatmap."""
    # Names repeat across a large company: pivot on the rep id, then label with team and name.
    labels = df.group_by("rep_id").agg(
        label=(
            pl.col("team").fill_null("") + " " + pl.col("name").fill_null(pl.col("rep_id"))
        ).first()
    )
    wide = df.pivot(on="capability", index="rep_id", values="gap", aggregate_function="max")
    labels = labels.with_columns(  # a repeated name gets its rep id so rows stay apart
        label=pl.when(pl.col("label").is_duplicated())
        .then(pl.col("label") + " (" + pl.col("rep_id") + ")")
        .otherwise(pl.col("label"))
    )
    wide = wide.join(labels, on="rep_id").sort("label", "rep_id").drop("rep_id")
    caps = [c for c in wide.columns if c != "label"]
    fig = go.Figure(
        go.Heatmap(
            z=wide.select(caps).to_numpy().tolist(),
            x=caps,
            y=wide["label"].to_list(),
            colorscale="Reds",
            zmin=0,
        )
    )
    return _layout(fig, t("people.title.gaps", lang), height=max(400, 18 * wide.height))


def coaching_figure(df: pl.DataFrame, lang: str = "ja", top: int = 15) -> go.Figure:
    """Top reps by coaching priority (gap points × pipeline at stake)."""
    d = df.head(top).reverse()
    labels = d["name"].fill_null(d["rep_id"]) + "（" + d["first_capability"].fill_null("-") + "）"
    fig = go.Figure(go.Bar(x=d["priority"].to_list(), y=labels.to_list(), orientation="h"))
    return _layout(fig, t("people.title.coaching", lang), xaxis_title=_c("priority", lang))


def time_shares_figure(df: pl.DataFrame, by: str = "team", lang: str = "ja") -> go.Figure:
    """Stacked selling / admin / other shares per group."""
    fig = go.Figure()
    for col in ("selling_share", "admin_share", "other_share"):
        fig.add_bar(name=_c(col, lang), x=df[by].to_list(), y=df[col].to_list())
    title = t("people.title.shares", lang, by=_c(by, lang))
    return _layout(fig, title, barmode="stack", yaxis_tickformat=".0%")


def time_trend_figure(df: pl.DataFrame, by: str = "team", lang: str = "ja") -> go.Figure:
    """Admin share by month, one line per group."""
    fig = go.Figure()
    for (key,), part in df.group_by([by], maintain_order=True):
        fig.add_scatter(x=part["month"].to_list(), y=part["admin_share"].to_list(), name=str(key))
    return _layout(fig, t("people.title.trend", lang), yaxis_tickformat=".0%")


def call_windows_figure(df: pl.DataFrame, lang: str = "ja") -> go.Figure:
    """Connect rate by weekday × hour (``call_windows(by="window")``)."""
    return _heatmap(df, "connect_rate", t("people.title.calls", lang), lang)


def reclaimable_figure(df: pl.DataFrame, by: str = "team", lang: str = "ja") -> go.Figure:
    """Reclaimable bookings (``reclaimable_jpy``, in the workspace currency) per group."""
    fig = go.Figure(go.Bar(x=df[by].to_list(), y=df["reclaimable_jpy"].to_list()))
    target = percent(float(df["target_share"][0]), 0) if df.height else DASH
    return _layout(fig, t("people.title.reclaim", lang, target=target))
