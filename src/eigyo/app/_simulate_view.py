"""The simulation page's comparison, ready for the template: one card per structure and a chart.

Why cards rather than one wide table: five structures × six outcomes with intervals and
differences do not fit a phone; cards sit side by side on a desktop and stack at 390 px, each
outcome with its mean, its 90% interval and, for a candidate, its difference against today in
the outcome's unit and in %. The numbers are :mod:`eigyo.simulate.comparison`'s (the CLI's);
this module only formats them and draws bookings, where the recommendation rule is seen at a
glance: a candidate is recommended only when its whole interval clears today's band.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np

from eigyo.analysis.availability import NotAvailable
from eigyo.base.formatting import format_value, is_missing, percent
from eigyo.i18n import t
from eigyo.simulate.comparison import (
    BASELINE,
    DECIDING,
    OUTCOMES,
    Difference,
    Recommendation,
    differences,
    outcome,
    recommend,
    recommendation_text,
    rule_text,
)

#: Which "not available" section (``eigyo.analysis.availability``) leaves an outcome unknown.
SECTIONS = {
    "cost_per_won_deal": "simulate.cost_per_won_deal",
    "lead_response_minutes": "simulate.lead_response_minutes",
}
_TODAY, _CANDIDATE, _CHOSEN = "#7b8794", "#0072B2", "#2E7D32"
FONT = '"Hiragino Sans", "Noto Sans JP", "IPAexGothic", "Yu Gothic", sans-serif'


@dataclass(frozen=True)
class Row:
    """One outcome of one structure as the card shows it; ``raw`` carries the exact numbers
    (``data-*`` attributes) so a test or a script reads them without parsing text."""

    key: str
    label: str
    mean: str
    interval: str
    diff: str | None = None
    pct: str | None = None
    tone: str = ""  # good / bad / flat (by the outcome's better direction), "" for today
    raw: dict[str, float | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Card:
    structure: str
    name: str
    today: bool
    recommended: bool
    rows: list[Row]
    utilization: str
    headcount: str


@dataclass(frozen=True)
class ComparisonView:
    cards: list[Card]
    recommendation: Recommendation
    sentence: str
    rule: str
    chart: str  # the Plotly figure as JSON safe inside <script>
    runs: str


def _signed(text: str, x: float) -> str:
    return text if x < 0 or text.startswith(("+", "-")) else f"+{text}"


def _row(
    key: str, o: Mapping[str, Any], d: Difference | None, lang: str, cur: str, reason: str | None
) -> Row:
    unit, better = OUTCOMES[key]
    label = t(f"simulate.outcome.{key}", lang)
    mean, low, high = o.get("mean"), o.get("low"), o.get("high")
    raw: dict[str, float | None] = {"mean": mean, "low": low, "high": high}
    if is_missing(mean):
        text = reason or t(
            "analysis_na.line", lang, reason=t("analysis_na.reason.not_enough_plain", lang)
        )
        return Row(key, label, text, "", raw=raw)

    def fmt(x: float | None) -> str:
        return format_value(x, unit, lang, cur, compact=True)

    interval, value = f"{fmt(low)} – {fmt(high)}", fmt(mean)
    if d is None:
        return Row(key, label, value, interval, raw=raw)
    raw |= {"diff": d.diff, "pct": d.pct}
    if d.diff is None:
        return Row(key, label, value, interval, "—", None, "", raw)
    diff = _signed(format_value(d.diff, unit, lang, cur, compact=True), d.diff)
    pct = None if d.pct is None else _signed(percent(d.pct), d.pct)
    flat = abs(d.diff) < 1e-9
    good = (d.diff > 0) == (better == "higher")
    return Row(
        key, label, value, interval, diff, pct, "flat" if flat else "good" if good else "bad", raw
    )


def _utilization(doc: Mapping[str, Any], lang: str) -> str:
    parts = [
        f"{t(f'simulate.role.{r}', lang)} {format_value(u.get('mean'), 'ratio', lang)}"
        for r, u in (doc.get("utilization") or {}).items()
    ]
    return "、".join(parts) if lang == "ja" else ", ".join(parts)


def _headcount(doc: Mapping[str, Any], lang: str) -> str:
    parts = [
        f"{t(f'simulate.role.{r}', lang)} {n}" for r, n in (doc.get("headcount") or {}).items() if n
    ]
    return "、".join(parts) if lang == "ja" else ", ".join(parts)


def comparison_view(
    docs: Sequence[Mapping[str, Any]], missing: Mapping[str, NotAvailable], lang: str, cur: str
) -> ComparisonView:
    """Today's card first, then each candidate's; the recommendation and the bookings chart."""
    rec = recommend(docs)
    diffs = differences(docs)
    reasons = {k: missing[s].line(lang) for k, s in SECTIONS.items() if s in missing}
    ordered = sorted(docs, key=lambda d: d["structure"] != BASELINE)
    cards = []
    for d in ordered:
        s = str(d["structure"])
        by = diffs.get(s)
        rows = [
            _row(k, outcome(d, k), by[k] if by else None, lang, cur, reasons.get(k))
            for k in OUTCOMES
        ]
        cards.append(
            Card(
                s,
                t(f"simulate.structure.{s}", lang),
                s == BASELINE,
                s == rec.structure,
                rows,
                _utilization(d, lang),
                _headcount(d, lang),
            )
        )
    first = ordered[0]
    runs = t(
        "simulate.page.runs",
        lang,
        n=first.get("replications"),
        months=first.get("horizon_months"),
        seed=first.get("seed"),
        window=(first.get("calibration") or {}).get("window", "—"),
    )
    return ComparisonView(
        cards,
        rec,
        recommendation_text(rec, lang, cur),
        rule_text(lang),
        chart_json(ordered, rec, lang, cur),
        runs,
    )


def _nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """About ``n`` round tick values covering ``lo``–``hi`` (1, 2 or 5 × a power of ten apart)."""
    span = max(hi - lo, abs(hi) * 0.1, 1.0)
    raw = span / n
    power = 10 ** np.floor(np.log10(raw))
    step = float(min((m * power for m in (1, 2, 5, 10) if m * power >= raw), default=power))
    start = np.floor(lo / step) * step
    return [float(x) for x in np.arange(start, hi + step * 1.001, step)]


def _json(fig: dict[str, Any]) -> str:
    """Plotly JSON that is safe inside ``<script>`` (as the report's charts): ``<``, ``>`` and
    ``&`` become escapes, so no value can close the element."""
    text = json.dumps(fig, ensure_ascii=False, allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def chart_json(docs: Sequence[Mapping[str, Any]], rec: Recommendation, lang: str, cur: str) -> str:
    """Bookings per structure: each mean with its 90% interval as error bars, today's interval
    as a grey band across the chart (a candidate is recommended only when its bar clears it).
    Written as Plotly's JSON directly: the page's Plotly draws it, Python needs no figure."""

    money = partial(format_value, unit="yen", lang=lang, currency=cur, compact=True)

    known = [(str(d["structure"]), outcome(d, DECIDING)) for d in docs]
    rows = [
        (s, float(o["mean"] or 0), float(o["low"] or 0), float(o["high"] or 0))
        for s, o in known
        if not any(is_missing(o.get(k)) for k in ("mean", "low", "high"))
    ]
    layout: dict[str, Any] = {
        "height": 320,
        "autosize": True,
        "margin": {"l": 70, "r": 10, "t": 30, "b": 40},
        "font": {"family": FONT, "size": 12},
        "plot_bgcolor": "white",
        "paper_bgcolor": "white",
        "showlegend": False,
        "xaxis": {"automargin": True},
        "yaxis": {"gridcolor": "#e4e7eb", "zeroline": False, "rangemode": "tozero"},
    }
    if not rows:
        return _json({"data": [], "layout": layout})
    color = {BASELINE: _TODAY, rec.structure: _CHOSEN}
    trace = {
        "type": "scatter",
        "mode": "markers",
        "x": [t(f"simulate.structure.{s}", lang) for s, *_ in rows],
        "y": [m for _, m, _, _ in rows],
        "marker": {"size": 12, "color": [color.get(s, _CANDIDATE) for s, *_ in rows]},
        "error_y": {
            "type": "data",
            "symmetric": False,
            "color": "#52606d",
            "thickness": 2,
            "array": [h - m for _, m, _, h in rows],
            "arrayminus": [m - lo for _, m, lo, _ in rows],
        },
        "hovertext": [
            t("simulate.page.chart_hover", lang, mean=money(m), low=money(lo), high=money(h))
            for _, m, lo, h in rows
        ],
        "hoverinfo": "text+x",
    }
    ticks = _nice_ticks(min(r[2] for r in rows), max(r[3] for r in rows))
    layout["yaxis"] |= {"tickvals": ticks, "ticktext": [money(v) for v in ticks]}
    today = next((r for r in rows if r[0] == BASELINE), None)
    if today is not None:
        band = {"xref": "paper", "x0": 0, "x1": 1, "yref": "y", "y0": today[2], "y1": today[3]}
        layout["shapes"] = [
            {
                "type": "rect",
                **band,
                "fillcolor": _TODAY,
                "opacity": 0.15,
                "line": {"width": 0},
                "layer": "below",
            }
        ]
        layout["annotations"] = [
            {
                "xref": "paper",
                "x": 0,
                "yref": "y",
                "y": today[3],
                "xanchor": "left",
                "yanchor": "bottom",
                "showarrow": False,
                "text": t("simulate.page.chart_band", lang),
                "font": {"color": "#52606d", "size": 11},
            }
        ]
    return _json({"data": [trace], "layout": layout})
