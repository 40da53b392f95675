"""One matplotlib drawer per Plotly trace type the report's charts use.

The HTML report's figures carry HTML-escaped labels (Plotly renders HTML, so CRM text is
escaped there); matplotlib draws text as it is, so every label is unescaped first
(:func:`plain`) and shows exactly as the CRM wrote it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from matplotlib.axes import Axes

from eigyo.report._figures import ACCENT, COLORWAY

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?)?$")
_COUNT = re.compile(r" \([\d,]+\)$")  # "提案 (1,988)": the count a Sankey node shows
#: A Sankey is drawn as its most frequent transitions, largest on top.
SANKEY_TOP = 12


def plain(text: Any) -> str:
    """Plotly label text as a reader sees it: HTML entities decoded, ``<br>`` as a space."""
    return html.unescape(str(text)).replace("<br>", " ")


def as_value(v: Any) -> Any:
    """A Plotly JSON value for matplotlib: ISO date strings become datetimes."""
    if isinstance(v, str) and _ISO_DATE.match(v):
        return datetime.fromisoformat(v)
    return v


@dataclass
class Plot:
    """The axes being drawn on and what traces share: trace count, stacking, bar bottoms."""

    ax: Axes
    n: int
    stack: bool
    bottoms: dict[Any, float] = field(default_factory=dict)


def _color(trace: dict[str, Any], i: int) -> str:
    for part in ("marker", "line"):
        c = trace.get(part, {}).get("color")
        if isinstance(c, str):
            return c
    return COLORWAY[i % len(COLORWAY)]


def _name(trace: dict[str, Any]) -> str | None:
    name = trace.get("name")
    return plain(name) if name and trace.get("showlegend", True) else None


def _fmt(v: Any, template: str) -> str:
    """A value as the trace's text template shows it (percent or one decimal)."""
    if not isinstance(v, int | float):
        return ""
    return f"{v:.0%}" if "%}" in template else f"{v:,.1f}"


def _scatter(p: Plot, t: dict[str, Any], i: int) -> None:
    x = [as_value(v) for v in t.get("x", [])]
    y = t.get("y", [])
    mode = str(t.get("mode", "lines+markers"))
    color, name = _color(t, i), _name(t)
    sizes = t.get("marker", {}).get("size")
    if isinstance(sizes, list) and sizes:
        top = max(float(s or 0) for s in sizes) or 1.0
        area = [40 + 900 * float(s or 0) / top for s in sizes]
        p.ax.scatter(x, y, s=area, color=color, alpha=0.55, label=name)
        p.ax.margins(0.12)
    elif "lines" in mode:
        p.ax.plot(
            x, y, marker="o" if "markers" in mode else None, ms=3, lw=1.5, color=color, label=name
        )
    else:
        p.ax.scatter(x, y, s=22, color=color, alpha=0.8, label=name)
    if "text" in mode:
        for xv, yv, label in zip(x, y, t.get("text", []), strict=False):
            p.ax.annotate(
                plain(label),
                (xv, yv),
                xytext=(0, 6),
                textcoords="offset points",
                ha="center",
                fontsize=7,
            )


def _bar(p: Plot, t: dict[str, Any], i: int) -> None:
    x = [plain(v) for v in t.get("x", [])]
    y = [float(v) if v is not None else 0.0 for v in t.get("y", [])]
    color, name = _color(t, i), _name(t)
    if p.stack:
        bottom = [p.bottoms.get(k, 0.0) for k in x]
        p.ax.bar(x, y, bottom=bottom, color=color, label=name, width=0.7)
        for k, v in zip(x, y, strict=False):
            p.bottoms[k] = p.bottoms.get(k, 0.0) + v
        return
    bars = p.ax.bar(x, y, color=color, label=name, width=0.7)
    if "texttemplate" in t:
        p.ax.bar_label(bars, labels=[_fmt(v, str(t["texttemplate"])) for v in y], fontsize=7)


def _funnel(p: Plot, t: dict[str, Any], i: int) -> None:
    """Horizontal bars centred on one axis, top stage first, with count and share of the first."""
    stages = [plain(s) for s in t.get("y", [])][::-1]
    values = [float(v or 0) for v in t.get("x", [])][::-1]
    first = values[-1] if values and values[-1] else 1.0
    bars = p.ax.barh(stages, values, left=[-v / 2 for v in values], color=_color(t, i))
    labels = [f"{v:,.0f} ({v / first:.0%})" for v in values]
    p.ax.bar_label(bars, labels=labels, label_type="center", fontsize=7, color="white")
    p.ax.set_xticks([])
    p.ax.grid(False)


def _heatmap(p: Plot, t: dict[str, Any], i: int) -> None:
    z = [[float("nan") if v is None else float(v) for v in row] for row in t.get("z", [])]
    xs, ys = [plain(v) for v in t.get("x", [])], [plain(v) for v in t.get("y", [])]
    image = p.ax.imshow(
        z, cmap="Blues", vmin=t.get("zmin", 0), vmax=t.get("zmax", 1), aspect="auto"
    )
    p.ax.set_xticks(range(len(xs)), xs)
    p.ax.set_yticks(range(len(ys)), ys)
    p.ax.grid(False)
    for r, row in enumerate(z):
        for c, v in enumerate(row):
            if v == v:  # not NaN
                p.ax.text(
                    c,
                    r,
                    f"{v:.0%}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if v > 0.6 else "#1f2933",
                )
    p.ax.figure.colorbar(image, ax=p.ax, format="{x:.0%}", shrink=0.8)


def _box(p: Plot, t: dict[str, Any], i: int) -> None:
    """Boxes from statistics the engine computed (no raw rows reach the report)."""
    keys = ("q1", "median", "q3", "lowerfence", "upperfence")
    cols = [t.get(k, []) for k in keys]
    stats = [
        {"label": plain(x), "q1": q1, "med": med, "q3": q3, "whislo": lo, "whishi": hi}
        for x, q1, med, q3, lo, hi in zip(t.get("x", []), *cols, strict=False)
        if None not in (q1, med, q3, lo, hi)
    ]
    if stats:
        p.ax.bxp(
            stats,
            showfliers=False,
            patch_artist=True,
            boxprops={"facecolor": "#cfe3f1", "edgecolor": ACCENT},
            medianprops={"color": ACCENT},
        )


def _sankey(p: Plot, t: dict[str, Any], i: int) -> None:
    """The process map as its most frequent transitions (a static Sankey is hard to read)."""
    names = [_COUNT.sub("", plain(n)) for n in t.get("node", {}).get("label", [])]
    link = t.get("link", {})
    rows = sorted(
        zip(link.get("source", []), link.get("target", []), link.get("value", []), strict=False),
        key=lambda r: -float(r[2] or 0),
    )[:SANKEY_TOP][::-1]
    labels = [f"{names[s]} → {names[d]}" for s, d, _ in rows]
    bars = p.ax.barh(labels, [float(v or 0) for _, _, v in rows], color=ACCENT)
    p.ax.bar_label(bars, labels=[f"{float(v or 0):,.0f}" for _, _, v in rows], fontsize=7)


DRAWERS: dict[str, Callable[[Plot, dict[str, Any], int], None]] = {
    "scatter": _scatter,
    "bar": _bar,
    "funnel": _funnel,
    "heatmap": _heatmap,
    "box": _box,
    "sankey": _sankey,
}
