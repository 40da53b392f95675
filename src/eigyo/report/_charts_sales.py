"""Charts of the deal-side steps: measure, process, specialization and data (segments).

Each builder draws one aggregate from the chart data of its step (``eigyo.analysis.measure``,
``eigyo.analysis.<step>.chart_data``), which reads the sample the step's check tests, so a
finding's number is one of the numbers of the chart it links to. An empty aggregate gives a chart
without a figure, which the page shows as "no data".
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from eigyo.analysis import measure
from eigyo.analysis.common import history_period
from eigyo.analysis.data import chart_data as data_charts
from eigyo.analysis.process import chart_data as process_charts
from eigyo.analysis.process.process_map import process_map as build_process_map
from eigyo.analysis.process.sankey import process_figure
from eigyo.analysis.specialization import chart_data as specialization_charts
from eigyo.report._figures import ACCENT, Chart, Ctx, breakdown, chart, new_figure, shade_period
from eigyo.schema import ROLES


def bookings_by_month(ctx: Ctx) -> Chart:
    """Bookings per month and team over the whole history, the period shaded."""
    df = measure.bookings_by_month(ctx.ws)
    fig = None
    if df.height:
        fig = new_figure(
            xaxis_title=ctx.tr("report.axis.month"),
            yaxis={
                "title": ctx.tr("report.axis.bookings", unit=ctx.money_unit),
                "tickformat": ",.0f",
            },
        )
        hover = (
            f"%{{x|%Y-%m}}<br>{ctx.symbol}%{{y:,.0f}}<br>"
            + ctx.tr("report.axis.deals")
            + " %{customdata}"
        )
        for (team,), g in df.group_by("team", maintain_order=True):
            fig.add_trace(
                go.Scatter(
                    x=g.get_column("month").to_list(),
                    y=g.get_column("bookings").to_list(),
                    customdata=g.get_column("deals").to_list(),
                    name=ctx.label(team),
                    mode="lines+markers",
                    hovertemplate=hover + "<extra>%{fullData.name}</extra>",
                )
            )
        shade_period(fig, ctx.period)
    return chart(ctx, "bookings-by-month", "report.chart.bookings.title", fig)


def win_rate_by_team(ctx: Ctx) -> Chart:
    """Win rate per team in the period; won and lost counts in the hover, and per deal type the
    win rate in the period and in its history baseline: the groups and baselines the team checks
    (against the other teams, against the team's own history) compare."""
    df = measure.win_rate_by_team(ctx.ws, ctx.period)
    fig = None
    if df.height:
        fig = new_figure(
            xaxis_title=ctx.tr("report.axis.team"),
            yaxis={"title": ctx.tr("report.axis.win_rate"), "tickformat": ".0%", "range": [0, 1]},
        )
        won, lost = ctx.tr("report.axis.won"), ctx.tr("report.axis.lost")
        by_type = measure.win_rate_by_team_type(ctx.ws, ctx.period)
        # the history check's baseline, chosen once (a year before when covered)
        before = measure.win_rate_by_team_type(ctx.ws, history_period(ctx.ws, ctx.period))
        extra, lines = breakdown(ctx, by_type, "team", "type", first=2, previous=before)
        fig.add_trace(
            go.Bar(
                x=ctx.labels(df.get_column("team")),
                y=df.get_column("win_rate").to_list(),
                customdata=[
                    [w, lo, *extra.get(t, [])]
                    for t, w, lo in df.select("team", "won", "lost").rows()
                ],
                marker_color=ACCENT,
                texttemplate="%{y:.0%}",
                hovertemplate=f"%{{x}}<br>%{{y:.1%}}<br>{won} %{{customdata[0]}} / "
                f"{lost} %{{customdata[1]}}{lines}<extra></extra>",
            )
        )
        # the organization's rate and its target: what win_rate_target compares
        n_won, n_lost = int(df.get_column("won").sum()), int(df.get_column("lost").sum())
        x = ctx.labels(df.get_column("team"))
        refs = [("report.chart.win_rate.org", n_won / (n_won + n_lost) if n_won + n_lost else None)]
        refs.append(("report.chart.win_rate.target", ctx.ws.settings.targets.get("win_rate")))
        for key, level in refs:
            if level is None:
                continue
            name = ctx.tr(key)
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=[level] * len(x),
                    mode="lines",
                    name=name,
                    line={"dash": "dash" if key.endswith("target") else "dot", "width": 1.5},
                    hovertemplate=f"{name} %{{y:.1%}}<extra></extra>",
                )
            )
    return chart(ctx, "win-rate-by-team", "report.chart.win_rate.title", fig)


def stage_funnel(ctx: Ctx) -> Chart:
    """Opportunities created in the period that entered each stage, in funnel order (losses
    are not a step of the funnel)."""
    df = process_charts.stage_funnel(ctx.ws, ctx.period)
    df = df.filter(pl.col("kind").is_null() | (pl.col("kind") != "lost"))
    fig = None
    if df.height:
        fig = new_figure(yaxis_title=ctx.tr("report.axis.stage"))
        fig.add_trace(
            go.Funnel(
                y=ctx.labels(df.get_column("stage")),
                x=df.get_column("entered").to_list(),
                textinfo="value+percent initial",
                marker_color=ACCENT,
                hovertemplate="%{y}: %{x}<extra></extra>",
            )
        )
    return chart(ctx, "funnel", "report.chart.funnel.title", fig)


def stage_days(ctx: Ctx) -> Chart:
    """Median days spent in each open stage: the bottleneck is the tallest bar."""
    df = process_charts.stage_funnel(ctx.ws, ctx.period)
    terminal = pl.col("kind").is_in(["won", "lost"]).fill_null(False)
    df = df.filter(~terminal, pl.col("median_days").is_not_null())
    fig = None
    if df.height:
        fig = new_figure(
            xaxis_title=ctx.tr("report.axis.stage"), yaxis_title=ctx.tr("report.axis.days")
        )
        fig.add_trace(
            go.Bar(
                x=ctx.labels(df.get_column("stage")),
                y=df.get_column("median_days").to_list(),
                marker_color=ACCENT,
                texttemplate="%{y:.1f}",
                hovertemplate="%{x}: %{y:.1f}<extra></extra>",
            )
        )
    return chart(ctx, "stage-days", "report.chart.stage_days.title", fig)


def stage_conversion(ctx: Ctx) -> Chart:
    """Team × stage heatmap of the share of stage entries that moved on to a stage that is not a
    loss (entries still waiting left out): where each team stalls, as the bottleneck check
    counts it."""
    df = process_charts.stage_conversion_by_team(ctx.ws, ctx.period)
    fig = None
    if df.height:
        order = df.sort(["position", "stage"], nulls_last=True)
        stages = order.get_column("stage").unique(maintain_order=True).to_list()
        wide = df.pivot(on="stage", index="team", values="conversion", sort_columns=False)
        counts = df.pivot(on="stage", index="team", values="n", sort_columns=False)
        wide, counts = wide.sort("team", nulls_last=True), counts.sort("team", nulls_last=True)
        fig = new_figure(height=120 + 40 * wide.height)
        fig.add_trace(
            go.Heatmap(
                z=wide.select(stages).rows(),
                x=[ctx.label(s) for s in stages],
                y=ctx.labels(wide.get_column("team")),
                customdata=counts.select(stages).rows(),
                zmin=0,
                zmax=1,
                colorscale="Blues",
                texttemplate="%{z:.0%}",
                hovertemplate="%{y} / %{x}: %{z:.1%} (n=%{customdata})<extra></extra>",
                colorbar={"tickformat": ".0%"},
            )
        )
    return chart(ctx, "stage-conversion", "report.chart.conversion.title", fig)


def rep_win_rates(ctx: Ctx) -> Chart:
    """Per rep win rate against deals closed, coloured by role: who is strong at closing. The
    hover adds the win rate of the deals an SDR handed over (the hand-off loss check's number)."""
    df = specialization_charts.rep_win_rates(ctx.ws, ctx.period)
    df = df.filter(pl.col("closed") > 0)
    fig = None
    if df.height:
        sdr = ""
        if df.get_column("sdr_closed").sum():
            sdr = (
                f"<br>{ctx.tr('report.chart.rep_win.sdr')}: %{{customdata[0]:.1%}} "
                "(n=%{customdata[1]})"
            )
        fig = new_figure(
            xaxis_title=ctx.tr("report.axis.closed"),
            yaxis={"title": ctx.tr("report.axis.win_rate"), "tickformat": ".0%"},
        )
        for (role,), g in df.group_by("role", maintain_order=True):
            name = ctx.tr(f"report.role.{role}") if role in ROLES else ctx.label(role)
            fig.add_trace(
                go.Scatter(
                    x=g.get_column("closed").to_list(),
                    y=g.get_column("win_rate").to_list(),
                    text=ctx.labels(g.get_column("rep_name")),
                    customdata=g.select("sdr_win_rate", "sdr_closed").rows(),
                    name=name,
                    mode="markers",
                    marker={"size": 11, "opacity": 0.8},
                    hovertemplate="%{text}<br>%{x} / %{y:.1%}"
                    + sdr
                    + "<extra>%{fullData.name}</extra>",
                )
            )
    return chart(ctx, "rep-win-rate", "report.chart.rep_win.title", fig)


def handoff_days(ctx: Ctx) -> Chart:
    """Median days from an SDR's hand-off to the closer's own first meeting or demo, per
    closer (the hand-off delay check's groups and value)."""
    df = specialization_charts.handoff_days(ctx.ws, ctx.period)
    fig = None
    if df.height:
        names = [ctx.label(n if n else i) for n, i in df.select("rep_name", "rep_id").iter_rows()]
        fig = new_figure(
            xaxis_title=ctx.tr("report.axis.closer"), yaxis_title=ctx.tr("report.axis.days")
        )
        fig.add_trace(
            go.Bar(
                x=names,
                y=df.get_column("median_days").to_list(),
                customdata=df.get_column("handoffs").to_list(),
                marker_color=ACCENT,
                texttemplate="%{y:.1f}",
                hovertemplate="%{x}: %{y:.1f} (n=%{customdata})<extra></extra>",
            )
        )
    return chart(ctx, "handoff-days", "report.chart.handoff.title", fig)


def segment_matrix(ctx: Ctx) -> Chart:
    """Industries by share of closed deals (x) and win rate (y), bubble area = bookings."""
    df = data_charts.segment_matrix(ctx.ws, ctx.period)
    fig = None
    if df.height:
        by_type = data_charts.segment_by_type(ctx.ws, ctx.period)
        extra, lines = breakdown(ctx, by_type, "industry", "type", first=2)
        top = max(float(df.get_column("bookings").max() or 0.0), 1.0)  # type: ignore[arg-type]
        fig = new_figure(
            xaxis={"title": ctx.tr("report.axis.opp_share"), "tickformat": ".0%"},
            yaxis={"title": ctx.tr("report.axis.win_rate"), "tickformat": ".0%"},
        )
        fig.add_trace(
            go.Scatter(
                x=df.get_column("share").to_list(),
                y=df.get_column("win_rate").to_list(),
                text=ctx.labels(df.get_column("industry")),
                customdata=[
                    [c, b, *extra.get(i, [])]
                    for i, c, b in df.select("industry", "closed", "bookings").rows()
                ],
                mode="markers+text",
                textposition="top center",
                marker={
                    # unknown bookings (no amounts) draw the smallest marker, never a crash
                    "size": df.get_column("bookings").fill_null(0.0).to_list(),
                    "sizemode": "area",
                    "sizeref": 2.0 * top / 45**2,
                    "sizemin": 6,
                    "color": ACCENT,
                    "opacity": 0.6,
                },
                hovertemplate="%{text}<br>%{x:.1%} (n=%{customdata[0]})<br>%{y:.1%}"
                f"<br>{ctx.symbol}%{{customdata[1]:,.0f}}{lines}<extra></extra>",
            )
        )
    return chart(ctx, "segment-matrix", "report.chart.segment.title", fig)


def process_map(ctx: Ctx) -> Chart:
    """The process map of opportunities created in the period: stages and their transitions
    with counts and median days (a Sankey)."""
    pm = build_process_map(ctx.ws, ctx.period)
    fig = (
        process_figure(pm, ctx.lang) if any(t.source != t.target for t in pm.transitions) else None
    )
    return chart(ctx, "process-map", "report.chart.process_map.title", fig)
