"""Charts of the people-side steps: alignment, enablement, organization and monitor.

Each builder draws the chart data of its step (``eigyo.analysis.<step>.chart_data``), which
reads the sample the step's checks test, so a finding's number is one of its chart's numbers.
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from eigyo.analysis.alignment import chart_data as alignment_charts
from eigyo.analysis.alignment import lead_value as alignment_value
from eigyo.analysis.enablement import chart_data as enablement_charts
from eigyo.analysis.enablement import figures as figures_people
from eigyo.analysis.enablement import training as enablement_skills
from eigyo.analysis.monitor import chart_data as monitor_charts
from eigyo.analysis.monitor.interventions import Intervention
from eigyo.analysis.organization import chart_data as organization_charts
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
from eigyo.schema import ROLES, TIME_CATEGORIES


def lead_response(ctx: Ctx) -> Chart:
    """Lead response minutes per team as boxes (statistics from the engine), with the SLA; under
    each team's name the share of its MQLs answered within the SLA (the SLA check's number)."""
    df = alignment_charts.lead_response_by_team(ctx.ws, ctx.period)
    fig = None
    if df.get_column("leads").sum():
        sla = ctx.ws.settings.lead_sla_minutes
        fig = new_figure(
            xaxis_title=ctx.tr("report.axis.team"), yaxis_title=ctx.tr("report.axis.minutes")
        )
        within = ctx.tr("report.chart.response.within")
        teams = [
            f"{ctx.label(t)}<br>{within} {r:.0%}" if r is not None else ctx.label(t)
            for t, r in df.select("team", "sla_rate").rows()
        ]
        fig.add_trace(
            go.Box(
                x=teams,
                q1=df.get_column("q1").to_list(),
                median=df.get_column("median").to_list(),
                q3=df.get_column("q3").to_list(),
                lowerfence=df.get_column("p10").to_list(),
                upperfence=df.get_column("p90").to_list(),
                customdata=df.select("sla_rate", "mql").rows(),
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
    df = alignment_charts.untouched_by_source(ctx.ws, ctx.period)
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
    """Cumulative bookings per new hire by months since hire, one line per fiscal-year cohort."""
    df = enablement_charts.ramp_curves(ctx.ws, ctx.period)
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


def new_rep_win_rate(ctx: Ctx) -> Chart:
    """Win rate of new reps' deals closed in the period per team: without onboarding (bars)
    against with it (dots), and the onboarded reps of all teams (dashed) — the group and the
    baseline the untrained-new-reps check compares."""
    df = enablement_charts.new_rep_win_rates(ctx.ws, ctx.period)
    teams = df.filter(pl.col("team").is_not_null())
    fig = None
    if teams.height:
        fig = new_figure(
            xaxis_title=ctx.tr("report.axis.team"),
            yaxis={"title": ctx.tr("report.axis.win_rate"), "tickformat": ".0%", "range": [0, 1]},
        )
        names = ctx.labels(teams.get_column("team").unique(maintain_order=True))
        hover = "%{x}: %{y:.1%} (n=%{customdata})<extra>%{fullData.name}</extra>"
        for trained, key in ((0, "untrained"), (1, "trained")):
            g = teams.filter(pl.col("trained") == trained)
            style: dict[str, object] = (
                {"marker_color": ALERT, "texttemplate": "%{y:.0%}"}
                if trained == 0
                else {"mode": "markers", "marker": {"size": 11, "color": ACCENT}}
            )
            trace = go.Bar if trained == 0 else go.Scatter
            fig.add_trace(
                trace(
                    x=ctx.labels(g.get_column("team")),
                    y=g.get_column("win_rate").to_list(),
                    customdata=g.get_column("closed").to_list(),
                    name=ctx.tr(f"report.chart.new_rep_win.{key}"),
                    hovertemplate=hover,
                    **style,
                )
            )
        base = df.filter(pl.col("team").is_null() & (pl.col("trained") == 1))
        if base.height and base.item(0, "win_rate") is not None:
            rate = float(base.item(0, "win_rate"))
            fig.add_trace(
                go.Scatter(
                    x=names,
                    y=[rate] * len(names),
                    customdata=[base.item(0, "closed")] * len(names),
                    mode="lines",
                    line={"color": "#7b8794", "dash": "dash"},
                    name=ctx.tr("report.chart.new_rep_win.all_trained"),
                    hovertemplate="%{y:.1%} (n=%{customdata})<extra>%{fullData.name}</extra>",
                )
            )
    return chart(ctx, "new-rep-win-rate", "report.chart.new_rep_win.title", fig)


def time_share(ctx: Ctx) -> Chart:
    """Share of hours per category and team, stacked: selling time against the rest. The admin
    bar's hover adds the median rep's admin share and the selling bar's the median selling hours
    per win by role: the numbers the admin-time and hours-per-win checks test."""
    df = organization_charts.time_share(ctx.ws, ctx.period)
    fig = None
    if df.height:
        extra = _per_rep_medians(ctx)
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
            values, lines = extra.get(cat, ({}, ""))
            fig.add_trace(
                go.Bar(
                    x=ctx.labels(g.get_column("team")),
                    y=g.get_column("share").to_list(),
                    customdata=[
                        [h, *values.get(t, [])] for t, h in g.select("team", "hours").rows()
                    ],
                    name=name,
                    hovertemplate=f"%{{x}}: %{{y:.1%}} ({hours} %{{customdata[0]:,.1f}}){lines}"
                    "<extra>%{fullData.name}</extra>",
                )
            )
    return chart(ctx, "time-share", "report.chart.time.title", fig)


def _per_rep_medians(ctx: Ctx) -> dict[str, tuple[dict[object, list[object]], str]]:
    """Per time category, the hover columns (per team) and lines of the checks' medians over
    reps: the admin share on the admin bar, selling hours per win by role on the selling bar."""
    admin = enablement_charts.admin_share_by_team(ctx.ws, ctx.period)
    per_win = enablement_charts.hours_per_win_by_team_role(ctx.ws, ctx.period)
    out: dict[str, tuple[dict[object, list[object]], str]] = {}
    if admin.height:
        out["admin"] = (
            {t: [v, n] for t, v, n in admin.select("team", "median_admin_share", "reps").rows()},
            f"<br>{ctx.tr('report.chart.time.median_admin')}: %{{customdata[1]:.1%}} "
            "(n=%{customdata[2]})",
        )
    if per_win.height:
        roles = sorted({r for r in per_win.get_column("role").to_list() if r is not None})
        cells = {(t, r): (v, n) for t, r, v, n in per_win.select(
            "team", "role", "median_hours_per_win", "reps").rows()}  # fmt: skip
        teams = dict.fromkeys(per_win.get_column("team").to_list())
        label = ctx.tr("report.chart.time.hours_per_win")
        out["selling"] = (
            {t: [x for r in roles for x in cells.get((t, r), (None, 0))] for t in teams},
            "".join(
                f"<br>{label} ({_role(ctx, r)}): %{{customdata[{1 + 2 * i}]:,.1f}} "
                f"(n=%{{customdata[{2 + 2 * i}]}})"
                for i, r in enumerate(roles)
            ),
        )
    return out


def _role(ctx: Ctx, role: str) -> str:
    return ctx.tr(f"report.role.{role}") if role in ROLES else ctx.label(role)


def intervention(ctx: Ctx) -> Chart:
    """Monthly median lead response of the intervention's scope against everyone else, with
    the start marked: did the change work where it was made?"""
    iv = monitor_charts.latest_intervention(ctx.ws, ctx.period)
    df = monitor_charts.response_by_scope(ctx.ws, iv) if iv else None
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
        _window_medians(ctx, fig, iv)
        shade_period(fig, ctx.period)
        label = ctx.tr("report.chart.intervention.start", name=ctx.label(iv.name))
        vertical_marker(fig, iv.started_at, label)
    return chart(ctx, "intervention", "report.chart.intervention.title", fig)


def _window_medians(ctx: Ctx, fig: go.Figure, iv: Intervention) -> None:
    """Dotted segments at the median response of the scope and the rest before and after the
    start, over the windows the intervention check compares, with its difference-in-differences
    estimate in the hover: the finding's number on its chart."""
    df = monitor_charts.window_medians(ctx.ws, iv, ctx.period)
    if not iv.scope or df.height != 4 or df.get_column("median_minutes").null_count():
        return
    med = {(r["treated"], r["post"]): (r["median_minutes"], r["leads"]) for r in df.to_dicts()}
    est = (med[True, True][0] - med[True, False][0]) - (med[False, True][0] - med[False, False][0])
    bounds = df.row(0, named=True)
    window, did = (
        ctx.tr("report.chart.intervention.window"),
        ctx.tr("report.chart.intervention.did"),
    )
    for (treated, post), (value, n) in med.items():
        x = (
            [bounds["start"], bounds["post_end"]]
            if post
            else [bounds["pre_start"], bounds["start"]]
        )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=[value, value],
                customdata=[[est, n]] * 2,
                mode="lines",
                line={"color": ALERT if treated else "#7b8794", "dash": "dot", "width": 3},
                showlegend=False,
                hovertemplate=f"{window} %{{y:.1f}} (n=%{{customdata[1]}})<br>{did} "
                "%{customdata[0]:+.1f}<extra></extra>",
            )
        )


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
    """Rep × capability shortfall against the role's required level; each cell's hover adds
    the median gap points of the rep's team (the capability-gap check's number)."""
    df = enablement_skills.capability_gaps(ctx.ws, ctx.period)
    fig = None
    if df.height:
        df = df.with_columns(pl.col("team").map_elements(ctx.label, return_dtype=pl.String))
        fig = _untitled(figures_people.gap_heatmap_figure(df, ctx.lang))
        _with_team_medians(ctx, fig)
    return chart(ctx, "capability-gaps", "report.chart.capability_gaps.title", fig)


def _with_team_medians(ctx: Ctx, fig: go.Figure) -> None:
    """Attach each row's team median gap points to the heatmap's cells (rows are labelled
    "team name", so the longest team label that starts a row names its team)."""
    med = enablement_charts.capability_gap_by_team(ctx.ws, ctx.period)
    teams = {ctx.label(t): m for t, m in med.select("team", "median_gap_points").rows()}
    heat = fig.data[0]
    width = len(heat.x or ())

    def of(row: object) -> float | None:
        found = [t for t in teams if str(row).startswith(f"{t} ")]
        return teams[max(found, key=len)] if found else None

    heat.customdata = [[of(row)] * width for row in heat.y or ()]
    heat.hovertemplate = (
        f"%{{y}} / %{{x}}: %{{z}}<br>{ctx.tr('report.chart.capability_gaps.team_median')}"
        ": %{customdata:.1f}<extra></extra>"
    )


def reclaimable_time(ctx: Ctx) -> Chart:
    """Admin hours above target per team, valued at the team's revenue per selling hour."""
    df = time_use.reclaimable_time(ctx.ws, ctx.period)
    fig = None
    if df.height and float(df["reclaimable_jpy"].sum() or 0) > 0:
        df = df.with_columns(pl.col("team").map_elements(ctx.label, return_dtype=pl.String))
        fig = _untitled(figures_people.reclaimable_figure(df, "team", ctx.lang))
    return chart(ctx, "reclaimable-time", "report.chart.reclaimable_time.title", fig)
