"""Static charts for the PDF and PowerPoint reports: the HTML report's own Plotly figures,
redrawn with matplotlib as PNG images.

Redrawing the figures the HTML report already built (rather than querying again) keeps one
source of truth: a chart added to a runbook step shows up in every format, with the same data,
labels and translations. kaleido would need a browser per image (1.8 s each, measured), so the
figure JSON is read back and drawn trace by trace (:mod:`eigyo.report._static_traces`).

Japanese text needs a font that has its glyphs on every machine, CI included: IPAexGothic from
the ``matplotlib-fontja`` pip package. Its file is located without importing that package,
because importing it changes matplotlib's global font settings.
"""

from __future__ import annotations

import importlib.util
import io
import json
from functools import cache
from pathlib import Path
from typing import Any, cast

import matplotlib
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter
from matplotlib.transforms import blended_transform_factory

from eigyo.errors import EigyoError
from eigyo.report._figures import Chart
from eigyo.report._static_traces import DRAWERS, Plot, as_value, plain

FONT_NAME = "IPAexGothic"
_FONT_PACKAGE = "matplotlib-fontja"
#: Chart look; ``text.parse_math`` off so that a CRM value containing ``$`` stays plain text.
_RC: dict[str, Any] = {
    "font.family": FONT_NAME,
    "font.size": 9,
    "text.parse_math": False,
    "axes.unicode_minus": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e5e9f0",
    "axes.edgecolor": "#c3ccd6",
    "axes.axisbelow": True,
    "legend.fontsize": 7,
    "legend.frameon": False,
}


@cache
def font_path() -> Path:
    """The bundled Japanese TrueType font (IPAexGothic), or an error naming the package."""
    spec = importlib.util.find_spec("matplotlib_fontja")
    origin = None if spec is None else spec.origin
    path = None if origin is None else Path(origin).parent / "fonts" / "ipaexg.ttf"
    if path is None or not path.is_file():
        raise EigyoError(
            f"PDF and PowerPoint charts need the Japanese font of the {_FONT_PACKAGE!r} package. "
            f"Install it with: pip install {_FONT_PACKAGE}"
        )
    return path


@cache
def _register_font() -> None:
    font_manager.fontManager.addfont(str(font_path()))


def _format_axis(ax: Axes, which: str, spec: dict[str, Any]) -> None:
    """Title, tick format (``.0%`` or ``,.0f``) and range of one axis from the Plotly layout."""
    axis = ax.xaxis if which == "x" else ax.yaxis
    title = spec.get("title", {})
    text = title.get("text") if isinstance(title, dict) else title
    if text:
        axis.set_label_text(plain(text))
    fmt = str(spec.get("tickformat", ""))
    if fmt.endswith("%"):
        axis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    elif fmt.startswith(","):
        axis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))
    rng = spec.get("range")
    if isinstance(rng, list) and len(rng) == 2:
        (ax.set_xlim if which == "x" else ax.set_ylim)(rng[0], rng[1])
    if spec.get("rangemode") == "tozero" and which == "y":
        ax.set_ylim(bottom=0)


def _shape(ax: Axes, s: dict[str, Any]) -> None:
    """Period shading (rect on x, paper y), event markers (vertical line) and reference lines
    (horizontal line across the x domain), as the chart builders draw them."""
    color = s.get("fillcolor") or s.get("line", {}).get("color") or "#7b8794"
    if s.get("type") == "rect" and s.get("xref") == "x":
        ax.axvspan(as_value(s["x0"]), as_value(s["x1"]), color=color, alpha=0.07, lw=0)
    elif s.get("type") == "line" and s.get("xref") == "x":
        ax.axvline(as_value(s["x0"]), color=color, ls="--", lw=1.2)
    elif s.get("type") == "line" and s.get("yref") == "y":
        ax.axhline(float(s["y0"]), color=color, ls="--", lw=1.2)


def _annotation(ax: Axes, a: dict[str, Any]) -> None:
    """A label placed in data or axes coordinates (SLA line, intervention start)."""
    x_axes = str(a.get("xref", "x")).endswith("domain") or a.get("xref") == "paper"
    y_axes = str(a.get("yref", "y")).endswith("domain") or a.get("yref") == "paper"
    trans = blended_transform_factory(
        ax.transAxes if x_axes else ax.transData, ax.transAxes if y_axes else ax.transData
    )
    ha = {"left": "left", "right": "right"}.get(str(a.get("xanchor")), "center")
    color = a.get("font", {}).get("color", "#1f2933")
    ax.text(
        as_value(a.get("x", 0)),
        a.get("y", 0),
        plain(a.get("text", "")),
        transform=trans,
        ha=ha,
        va="bottom",
        fontsize=7,
        color=color,
    )


def _draw(fig: Figure, spec: dict[str, Any]) -> None:
    layout = spec.get("layout", {})
    data = spec.get("data", [])
    ax = fig.add_subplot()
    kinds = {d.get("type", "scatter") for d in data}
    plot = Plot(ax, len(data), layout.get("barmode") == "stack")
    for i, trace in enumerate(data):
        DRAWERS.get(trace.get("type", "scatter"), DRAWERS["scatter"])(plot, trace, i)
    if not kinds & {"sankey", "funnel", "heatmap"}:
        _format_axis(ax, "x", layout.get("xaxis", {}))
        _format_axis(ax, "y", layout.get("yaxis", {}))
    for s in layout.get("shapes", []):
        _shape(ax, s)
    for a in layout.get("annotations", []):
        _annotation(ax, a)
    if sum(1 for d in data if d.get("name") and d.get("showlegend", True)) > 1:
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5))
    if any(
        isinstance(lbl.get_text(), str) and len(lbl.get_text()) > 6 for lbl in ax.get_xticklabels()
    ):
        for lbl in ax.get_xticklabels():
            lbl.set_rotation(30)
            lbl.set_horizontalalignment("right")


def chart_png(chart: Chart, *, width: float = 7.0, height: float = 3.2, dpi: int = 150) -> bytes:
    """The chart as a PNG (inches and dots per inch); a chart without data is an error."""
    if chart.figure is None:
        raise ValueError(f"chart {chart.chart_id!r} has no data to draw")
    _register_font()
    spec = json.loads(chart.figure)
    with matplotlib.rc_context(cast(Any, _RC)):
        fig = Figure(figsize=(width, height), dpi=dpi, layout="constrained")
        _draw(fig, spec)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", facecolor="white")
    return buf.getvalue()
