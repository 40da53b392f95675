"""Charts of the people-side steps: alignment, enablement, organization and monitor."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from eigyo.analysis import overview as ov
from eigyo.analysis.alignment import lead_value as alignment_value
from eigyo.analysis.enablement import figures as figures_people
from eigyo.analysis.enablement import training as enablement_skills
from eigyo.analysis.organization import time_use
from eigyo.report._figures import (
    ACCENT,
    ALERT,
    Chart,
    Ctx,
    chart,
    new_figure,
    shade_period,
    vertical_marker,
)
from eigyo.schema import TIME_CATEGORIES


def lead_response(ctx: Ctx) -> Chart:
    """Lead response minutes per team as boxes (statistics from the engine), with the SLA."""
    df = ov.lead_response_by_team(ctx.ws, ctx.period)
    fig = None
    if df.height:
        sla = ctx.ws.settings.lead_sla_minutes
        fig = new_figure(
            xaxis_title=ctx.tr("report.axis.team"), yaxis_title=ctx.tr("report.axis.minutes")
        )
        fig.add_trace(
            go.Box(
                x=ctx.labels(df.get_column("team")),
                q1=df.get_column("q1").to_list(),
                median=df.get_column("median").to_list(),
                q3=df.get_column("q3").to_list(),
                lowerfence=df.get_column("p10").to_list(),
                upperfence=df.get_column("p90").to_list(),
                marker_color=ACCENT,
                name=ctx.tr("report.axis.minutes"),
                showlegend=False,
            )
        )
        fig.add_hline(
            y=sla,
            line={"color": ALERT, "dash": "dash"},
            annotation_text=ctx.tr("report.chart.response.sla", n=f"{sla:g}"),
            annotation_position="top right",
        )
    return chart(ctx, "lead-response", "report.chart.response.title", fig)


def untouched_by_source(ctx: Ctx) -> Chart:
    """Share of the period's leads nobody touched, per source."""
    df = ov.untouched_by_source(ctx.ws, ctx.period)
    fig = None
    if df.height:
        fig = new_figure(
            xaxis_title=ctx.tr("report.axis.source"),
            yaxis={
                "title": ctx.tr("report.axis.share"),
                "tickformat": ".0%",
                "rangemode": "tozero",
            },
        )
        untouched, leads = ctx.tr("report.axis.untouched"), ctx.tr("report.axis.leads")
        fig.add_trace(
            go.Bar(
                x=ctx.labels(df.get_column("source")),
                y=df.get_column("share").to_list(),
                customdata=df.select("untouched", "leads").rows(),
                marker_color=ALERT,
                texttemplate="%{y:.0%}",
                hovertemplate=f"%{{x}}: %{{y:.1%}}<br>{untouched} %{{customdata[0]}} / "
                f"{leads} %{{customdata[1]}}<extra></extra>",
            )
        )
    return chart(ctx, "untouched-by-source", "report.chart.untouched.title", fig)


def ramp_curves(ctx: Ctx) -> Chart:
    """Cumulative bookings per rep by months since hire, one line per fiscal-year cohort."""
    df = ov.ramp_curves(ctx.ws, ctx.period)
    fig = None
    if df.height:
        fig = new_figure(
            xaxis={"title": ctx.tr("report.axis.tenure_month"), "dtick": 3},
            yaxis={
                "title": ctx.tr("report.axis.cumulative", unit=ctx.money_unit),
                "tickformat": ",.0f",
            },
        )
        reps = ctx.tr("report.evidence.reps")
        for (cohort,), g in df.group_by("cohort", maintain_order=True):
            fig.add_trace(
                go.Scatter(
                    x=g.get_column("tenure_month").to_list(),
                    y=g.get_column("cumulative_per_rep").to_list(),
                    customdata=g.get_column("reps").to_list(),
                    name=ctx.tr("report.chart.ramp.cohort", year=cohort),
                    mode="lines+markers",
                    hovertemplate=f"%{{x}}: {ctx.symbol}%{{y:,.0f}} ({reps} %{{customdata}})"
                    "<extra>%{fullData.name}</extra>",
                )
            )
    return chart(ctx, "ramp-curves", "report.chart.ramp.title", fig)


def time_share(ctx: Ctx) -> Chart:
    """Share of hours per category and team, stacked: selling time against the rest."""
    df = ov.time_share(ctx.ws, ctx.period)
    fig = None
    if df.height:
        fig = new_figure(
            barmode="stack",
            xaxis_title=ctx.tr("report.axis.team"),
            yaxis={"title": ctx.tr("report.axis.share"), "tickformat": ".0%"},
        )
        order = {c: i for i, c in enumerate(TIME_CATEGORIES)}
        cats = sorted(df.get_column("category").unique().to_list(), key=lambda c: order.get(c, 99))
        hours = ctx.tr("report.axis.hours")
        for cat in cats:
            g = df.filter(pl.col("category") == cat)
            name = ctx.tr(f"report.category.{cat}") if cat in order else ctx.label(cat)
            fig.add_trace(
                go.Bar(
                    x=ctx.labels(g.get_column("team")),
                    y=g.get_column("share").to_list(),
                    customdata=g.get_column("hours").to_list(),
                    name=name,
                    hovertemplate=f"%{{x}}: %{{y:.1%}} ({hours} %{{customdata:,.1f}})"
                    "<extra>%{fullData.name}</extra>",
                )
            )
    return chart(ctx, "time-share", "report.chart.time.title", fig)


def intervention(ctx: Ctx) -> Chart:
    """Monthly median lead response of the intervention's scope against everyone else, with
    the start marked: did the change work where it was made?"""
    iv = ov.latest_intervention(ctx.ws, ctx.period)
    df = ov.response_by_scope(ctx.ws, iv.scope) if iv else None
    fig = None
    if iv is not None and df is not None and df.height:
        fig = new_figure(
            xaxis_title=ctx.tr("report.axis.month"), yaxis_title=ctx.tr("report.axis.minutes")
        )
        scope = ctx.label(", ".join(iv.scope))
        names = {
            True: ctx.tr("report.chart.intervention.scope", scope=scope)
            if iv.scope
            else ctx.tr("report.chart.intervention.everyone"),
            False: ctx.tr("report.chart.intervention.rest"),
        }
        for flag in (True, False):
            g = df.filter(pl.col("in_scope") == flag)
            if g.height:
                fig.add_trace(
                    go.Scatter(
                        x=g.get_column("month").to_list(),
                        y=g.get_column("median_minutes").to_list(),
                        customdata=g.get_column("leads").to_list(),
                        name=names[flag],
                        mode="lines+markers",
                        line={"color": ALERT if flag else "#7b8794"},
                        hovertemplate="%{x|%Y-%m}: %{y:.1f} (n=%{customdata})"
                        "<extra>%{fullData.name}</extra>",
                    )
                )
        shade_period(fig, ctx.period)
        label = ctx.tr("report.chart.intervention.start", name=ctx.label(iv.name))
        vertical_marker(fig, iv.started_at, label)
    return chart(ctx, "intervention", "report.chart.intervention.title", fig)


def _untitled(fig: go.Figure) -> go.Figure:
    """The analysis figures carry their own title; the report's card already shows one."""
    fig.update_layout(title=None, margin={"t": 30})
    return fig


def response_curve(ctx: Ctx) -> Chart:
    """Is faster really better here? Won rate by response-time bin with Wilson intervals."""
    curve = alignment_value.response_curve(ctx.ws, ctx.period)
    fig = None
    if curve.bins and curve.verdict != "not_enough_data":
        fig = _untitled(figures_people.response_curve_figure(curve, ctx.lang))
    return chart(ctx, "response-curve", "report.chart.response_curve.title", fig)


def capability_gaps(ctx: Ctx) -> Chart:
    """Rep × capability shortfall against the role's required level."""
    df = enablement_skills.capability_gaps(ctx.ws, ctx.period)
    fig = None
    if df.height:
        df = df.with_columns(pl.col("team").map_elements(ctx.label, return_dtype=pl.String))
        fig = _untitled(figures_people.gap_heatmap_figure(df, ctx.lang))
    return chart(ctx, "capability-gaps", "report.chart.capability_gaps.title", fig)


def reclaimable_time(ctx: Ctx) -> Chart:
    """Admin hours above target per team, valued at the team's revenue per selling hour."""
    df = time_use.reclaimable_time(ctx.ws, ctx.period)
    fig = None
    if df.height and float(df["reclaimable_jpy"].sum() or 0) > 0:
        df = df.with_columns(pl.col("team").map_elements(ctx.label, return_dtype=pl.String))
        fig = _untitled(figures_people.reclaimable_figure(df, "team", ctx.lang))
    return chart(ctx, "reclaimable-time", "report.chart.reclaimable_time.title", fig)
