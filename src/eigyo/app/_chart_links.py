"""Every bar of a step page's bar charts leads to the records of its group.

A bar chart on a step page draws one group per bar (a team's win rate, a lead source's share of
untouched leads, a team's time by category). Each such chart is declared here with the metric
whose population the bar counts and the grouping of its bars (:data:`BAR_METRICS`), so a bar's
records are that metric's records in that group (:mod:`eigyo.app._metric_records`, the registry's
own definition): the win-rate bar of team A lists team A's deals closed in the period. Bars
drawn from a diagnosis sample instead (a closer's hand-off days, a team's new reps' win rate)
are declared in :data:`eigyo.app._bar_records.SAMPLE_BARS` and list that sample's rows.

The links are read from the chart's own figure (the bars' labels, in their order), so they name
exactly the bars drawn. They serve both ways in: a list of links under the chart (reachable
without JavaScript, by keyboard and screen reader), and the page script, which follows the link
whose label is the clicked bar's (``plotly_click`` in ``static/app.js``).
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from eigyo.app._bar_records import SAMPLE_BARS, bar_url
from eigyo.app._drill import records_url
from eigyo.i18n import t
from eigyo.metrics import NONE_GROUP
from eigyo.report import Chart

#: Bar chart id → (metric whose population a bar counts, the grouping of the bars).
BAR_METRICS: dict[str, tuple[str, str]] = {
    "win-rate-by-team": ("win_rate", "team"),
    "untouched-by-source": ("untouched_lead_rate", "source"),
    "time-share": ("admin_time_share", "team"),
}


@dataclass(frozen=True)
class BarLink:
    """One bar: the label as the figure holds it (what a click reports), the same label as
    text, and its records' URL."""

    label: str
    text: str
    url: str


def _bar_labels(figure: str) -> list[str]:
    """The category labels of the figure's bar traces, in drawing order, each once."""
    data = json.loads(figure).get("data", [])
    out: list[str] = []
    for trace in data:
        if trace.get("type") != "bar":
            continue
        axis = trace.get("y") if trace.get("orientation") == "h" else trace.get("x")
        for v in axis or []:
            if str(v) not in out:
                out.append(str(v))
    return out


def bar_links(
    charts: Sequence[Chart], query: Mapping[str, str], lang: str
) -> dict[str, list[BarLink]]:
    """Per chart id of ``charts`` declared in :data:`BAR_METRICS`, one link per bar, keeping
    the view (period and filters) of ``query``."""
    missing = t("report.common.none", lang)
    out: dict[str, list[BarLink]] = {}
    for c in charts:
        spec = BAR_METRICS.get(c.chart_id)
        if c.figure is None or (spec is None and c.chart_id not in SAMPLE_BARS):
            continue
        links = []
        for label in _bar_labels(c.figure):
            group = NONE_GROUP if label == missing else html.unescape(label)
            if spec is not None:
                url = records_url(spec[0], dict(query), spec[1], group)
            else:
                url = bar_url(c.chart_id, dict(query), group)
            links.append(BarLink(label, html.unescape(label), url))
        if links:
            out[c.chart_id] = links
    return out
