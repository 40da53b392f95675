"""Shared pieces of every report chart: the chart record, the look, safe JSON, "no data".

Figures are serialized to JSON and embedded in the page (``<script type="application/json">``);
the page's one copy of Plotly draws them. Data strings are HTML-escaped before they reach Plotly,
because Plotly renders a subset of HTML in labels and hover text: a CRM value like
``<a href=…>`` must show as text, not become a link.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio
import polars as pl

from eigyo.base.currency import currency
from eigyo.base.periods import Period
from eigyo.base.vocabulary import NONE, UNKNOWN
from eigyo.i18n import t
from eigyo.metrics import Reason, unmet
from eigyo.workspace import Workspace

FONT_STACK = (
    '"Hiragino Sans", "Hiragino Kaku Gothic ProN", "Noto Sans JP", "IPAexGothic", '
    '"IPAGothic", "Yu Gothic", "Meiryo", sans-serif'
)
#: Colour-blind-safe palette (Okabe–Ito, reordered to start with a calm blue).
COLORWAY = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#000000",
)
#: Group names the analyses give records without a value; charts show them as "(not set)".
MISSING_GROUPS = frozenset({NONE, UNKNOWN})
ACCENT = "#0072B2"
ALERT = "#D55E00"

_TEMPLATE = go.layout.Template(
    layout={
        "font": {"family": FONT_STACK, "size": 12, "color": "#1f2933"},
        "colorway": list(COLORWAY),
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "margin": {"l": 60, "r": 20, "t": 20, "b": 50},
        "height": 340,
        "legend": {"orientation": "h", "y": -0.2},
        "hoverlabel": {"font": {"family": FONT_STACK}},
        "xaxis": {"gridcolor": "#e5e9f0", "linecolor": "#c3ccd6", "automargin": True},
        "yaxis": {"gridcolor": "#e5e9f0", "linecolor": "#c3ccd6", "automargin": True},
    }
)


@dataclass(frozen=True)
class Ctx:
    """What every chart builder needs: the data, the period and the reader's language."""

    ws: Workspace
    period: Period
    lang: str

    def tr(self, key: str, /, **values: object) -> str:
        return t(key, self.lang, **values)

    @cached_property
    def unmet_needs(self) -> frozenset[str]:
        """The needs of :data:`CHART_NEEDS` the data does not meet, checked for every chart in
        one engine query (a query per chart was 15 of the report's 65)."""
        return frozenset(unmet(self.ws, {s: None for v in CHART_NEEDS.values() for s in v}))

    @property
    def symbol(self) -> str:
        """The workspace currency's symbol, for amounts in hover texts (¥, $ …)."""
        return currency(self.ws.settings.currency).symbol

    @property
    def money_unit(self) -> str:
        """The currency as an axis title names it: 円 for yen in Japanese, else its code."""
        code = currency(self.ws.settings.currency).code
        return "円" if code == "JPY" and self.lang == "ja" else code

    def labels(self, series: pl.Series) -> list[str]:
        """A data column as chart labels (see :meth:`label`)."""
        return [self.label(v) for v in series.to_list()]

    def label(self, value: object) -> str:
        """A data value as a chart label: escaped, and a readable word for a missing value —
        the analyses' missing-value groups (``(none)``, ``(unknown)``) included, so a team the
        chart data names ``(none)`` reads as it always did."""
        if value is None or value == "" or (isinstance(value, str) and value in MISSING_GROUPS):
            return self.tr("report.common.none")
        return html.escape(str(value), quote=False)


@dataclass(frozen=True)
class Chart:
    """One chart of a section: ``figure`` is embeddable JSON, or None with a "no data" note."""

    chart_id: str
    title: str
    figure: str | None
    #: Why there is no figure when the data the chart needs is absent (「データなし（…）」).
    note: str | None = None

    @property
    def has_data(self) -> bool:
        return self.figure is not None


def breakdown(
    ctx: Ctx,
    detail: pl.DataFrame,
    key: str,
    by: str,
    *,
    first: int,
    previous: pl.DataFrame | None = None,
) -> tuple[dict[object, list[object]], str]:
    """Hover columns that break each bar or bubble down by ``by`` (a deal type …): the win rate
    and count the checks test per ``key`` and ``by`` — and, with ``previous`` (the same frame for
    the period before), the rate they are compared with — so a finding about one of those groups
    finds its numbers in the chart. Returns, per ``key`` value, the extra customdata and the hover
    lines reading it from customdata index ``first`` on; nothing when there is one ``by`` value
    and no previous period (the bar itself is then that group)."""
    kinds = sorted({v for v in detail.get_column(by).to_list() if v is not None})
    if len(kinds) < 2 and previous is None:
        return {}, ""
    frames = [detail] if previous is None else [detail, previous]
    cells = [
        {(r[key], r[by]): (r["win_rate"], r["closed"]) for r in f.iter_rows(named=True)}
        for f in frames
    ]
    extra = {
        k: [x for kind in kinds for c in cells for x in c.get((k, kind), (None, 0))]
        for k in dict.fromkeys(detail.get_column(key).to_list())
    }
    width = 2 * len(frames)
    before = ctx.tr("report.evidence.previous")

    def line(i: int, kind: object) -> str:
        at = first + width * i
        text = f"<br>{ctx.label(kind)}: %{{customdata[{at}]:.1%}} (n=%{{customdata[{at + 1}]}})"
        if previous is not None:
            text += f" · {before} %{{customdata[{at + 2}]:.1%}} (n=%{{customdata[{at + 3}]}})"
        return text

    return extra, "".join(line(i, kind) for i, kind in enumerate(kinds))


def new_figure(**layout: Any) -> go.Figure:
    """An empty figure in the report's look (small template, so each chart's JSON stays small)."""
    fig = go.Figure(layout={"template": _TEMPLATE})
    if layout:
        fig.update_layout(**layout)
    return fig


def figure_json(fig: go.Figure) -> str:
    """Plotly JSON that is safe inside ``<script>``: ``<``, ``>`` and ``&`` become escapes, so
    no data value can close the script element."""
    text = str(pio.to_json(fig, validate=False, pretty=False))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


#: Data a chart cannot be drawn from honestly without, in the metric registry's notation (the
#: same needs as the checks and metrics it illustrates): without first responses every lead
#: would be drawn as "untouched", without time entries every share as 0.
CHART_NEEDS: dict[str, tuple[str, ...]] = {
    "lead-response": ("leads.mql_at", "leads.first_response_at"),
    "untouched-by-source": ("leads.mql_at", "leads.first_response_at"),
    "response-curve": ("leads.mql_at", "leads.first_response_at"),
    "time-share": ("time_entries",),
    "reclaimable-time": ("time_entries",),
    "handoff-days": ("opportunities.sdr_rep_id", "activities.opportunity_id"),
    "capability-gaps": ("assessments",),
    "new-rep-win-rate": ("trainings", "opportunities.closed_at"),
    "funnel": ("stage_history",),
    "stage-days": ("stage_history",),
    "stage-conversion": ("stage_history",),
    "process-map": ("stage_history",),
    "win-rate-by-team": ("opportunities.closed_at",),
    "rep-win-rate": ("opportunities.closed_at",),
    "segment-matrix": ("opportunities.closed_at",),
}


def chart(ctx: Ctx, chart_id: str, title_key: str, fig: go.Figure | None) -> Chart:
    """The chart record a builder returns; no figure means the page shows "no data", and a
    chart whose data is absent (:data:`CHART_NEEDS`) says which data it needs instead of
    drawing zeros."""
    missing = [s for s in CHART_NEEDS.get(chart_id, ()) if s in ctx.unmet_needs]
    if missing:
        note = Reason("missing_data", needs=tuple(missing)).label(ctx.lang)
        return Chart(chart_id, ctx.tr(title_key), None, note)
    return Chart(chart_id, ctx.tr(title_key), None if fig is None else figure_json(fig))


def shade_period(fig: go.Figure, period: Period) -> None:
    """Shade the report period on a time axis, so history reads as context for it."""
    fig.add_shape(
        type="rect",
        xref="x",
        yref="paper",
        x0=period.start_ts,
        x1=period.end_ts,
        y0=0,
        y1=1,
        fillcolor=ACCENT,
        opacity=0.07,
        line_width=0,
        layer="below",
    )


def vertical_marker(fig: go.Figure, at: datetime | date, text: str) -> None:
    """A dashed vertical line with a label (add_vline cannot annotate date axes reliably)."""
    fig.add_shape(
        type="line", xref="x", yref="paper", x0=at, x1=at, y0=0, y1=1,
        line={"color": ALERT, "dash": "dash", "width": 2},
    )  # fmt: skip
    fig.add_annotation(
        x=at, xref="x", y=1, yref="paper", text=text, showarrow=False,
        xanchor="left", yanchor="bottom", font={"color": ALERT},
    )  # fmt: skip
