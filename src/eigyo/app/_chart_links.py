"""Every mark of a step page's charts that stands for a group of records leads to them.

A chart on a step page draws groups: a bar per team, a heatmap cell per team and stage, a bubble
per industry, a point per team and month, a funnel step per stage. Each such chart is declared
here as data (:data:`MARKS`): which point fields name a mark's group (``x``, ``y``, a scatter's
``text``, the trace's ``name`` or ``type``, a Sankey link's ``source`` and ``target``) and which
traces are marks. A mark's records are then

* the population of a registry metric in that group (``metric`` and ``by``:
  :mod:`eigyo.app._metric_records`, the registry's own definition) — the win-rate bar of team A
  lists team A's deals closed in the period; a second grouping that is a view filter (``team``)
  narrows the view, so bookings of team A in 2025-04 are team A's deals won that month; or
* the rows of the sample the chart was drawn from (:data:`eigyo.app._bar_records.SAMPLE_BARS`):
  the stage entries behind a stage's median days, the closed deals behind a rep's dot.

Either way the records are the rows the mark's number was computed from. The links are read from
the chart's own figure (its labels, in drawing order), so they name exactly the marks drawn. They
serve both ways in: a list of links under the chart (reachable without JavaScript, by keyboard
and screen reader), and the page script, which follows the link that lists the clicked point
(``data-points``: ``trace:point`` as ``plotly_click`` reports it; ``static/app.js``).

Charts that do not link, and why (:data:`UNLINKED`): their marks are not one group of records.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eigyo.app._bar_records import SAMPLE_BARS, bar_url
from eigyo.app._drill import records_url
from eigyo.app._filters import VIEW_PARAMS
from eigyo.i18n import t
from eigyo.metrics import NONE_GROUP
from eigyo.report import Chart


@dataclass(frozen=True)
class Marks:
    """How one chart's marks name the records behind them.

    ``keys``: the point fields naming a mark's group, one per grouping (``x``, ``y``, ``text``
    — a scatter's label —, ``name`` — the trace's name —, ``type`` — the trace's type, where
    two traces draw two sub-groups —, ``source`` and ``target`` — the stages a Sankey link
    joins); ``traces``: the trace types whose points are marks (a
    line-only trace is a reference level, never a mark). ``metric`` with ``by``: the records
    are that metric's population, the first grouping the records' own, the others view filters
    (:data:`eigyo.app._filters.VIEW_PARAMS`); without ``metric``, the chart's sample
    (:data:`~eigyo.app._bar_records.SAMPLE_BARS`)."""

    keys: tuple[str, ...] = ("x",)
    traces: tuple[str, ...] = ("bar",)
    metric: str | None = None
    by: tuple[str, ...] = ()


#: Chart id → how its marks name their records.
MARKS: dict[str, Marks] = {
    "bookings-by-month": Marks(("x", "name"), ("scatter",), "bookings", ("month", "team")),
    "win-rate-by-team": Marks(metric="win_rate", by=("team",)),
    "funnel": Marks(("y",), ("funnel",)),
    "stage-days": Marks(),
    "stage-conversion": Marks(("y", "x"), ("heatmap",)),
    "rep-win-rate": Marks(("text",), ("scatter",)),
    "handoff-days": Marks(),
    "lead-response": Marks(traces=("box",)),
    "untouched-by-source": Marks(metric="untouched_lead_rate", by=("source",)),
    "new-rep-win-rate": Marks(("x", "type"), ("bar", "scatter")),
    "capability-gaps": Marks(("y", "x"), ("heatmap",)),
    "segment-matrix": Marks(("text",), ("scatter",)),
    "time-share": Marks(metric="admin_time_share", by=("team",)),
    "reclaimable-time": Marks(),
    "process-map": Marks(("source", "target"), ("sankey",)),
}

#: Chart id → why its marks do not link to records (they are not one group of records).
UNLINKED: dict[str, str] = {
    "ramp-curves": "a point is a cohort's cumulative bookings per rep up to a tenure month: an "
    "average over reps and months, not the deals of one group",
    "response-curve": "a point is a response-time bin's win rate drawn with its interval, and "
    "the bins are the curve's own cut of the leads, not a grouping the records can name",
    "intervention": "a point is a month's median response of the intervention's scope or of "
    "everyone else, both defined by the latest intervention, not by a grouping of the records",
}


@dataclass(frozen=True)
class BarLink:
    """One mark's group: the first key's label as the figure holds it, the group as text, its
    records' URL and the points that draw it (``trace:point``, what a click reports)."""

    label: str
    text: str
    url: str
    points: str = ""


def _column(trace: dict[str, Any], key: str, n: int) -> list[Any]:
    """A trace's values of one point field, one per point (a single value repeats)."""
    if key in ("name", "type"):
        return [trace.get(key, "scatter" if key == "type" else None)] * n
    values = trace.get(key)
    return list(values) if isinstance(values, list) else [values] * n


def _node(label: str) -> str:
    """A Sankey node's stage: its label without the entries in brackets ("proposal (1,234)")."""
    return re.sub(r" \([\d,]+\)$", "", label)


def _points(trace: dict[str, Any], keys: Sequence[str]) -> Iterator[tuple[str, list[Any]]]:
    """Each point of a trace: its index as ``plotly_click`` reports it (``row,column`` in a
    heatmap) and its values of ``keys``."""
    if trace.get("type") == "sankey":  # a link: the stages it joins (nodes name their count)
        link, labels = trace.get("link") or {}, (trace.get("node") or {}).get("label") or []
        ends = zip(link.get("source") or [], link.get("target") or [], strict=False)
        for i, (a, b) in enumerate(ends):
            ends_of = {"source": _node(labels[a]), "target": _node(labels[b])}
            yield str(i), [ends_of.get(k) for k in keys]
        return
    if trace.get("type") == "heatmap":
        xs, ys, z = trace.get("x") or [], trace.get("y") or [], trace.get("z")
        for i, y in enumerate(ys):
            for j, x in enumerate(xs):
                cell = z[i][j] if isinstance(z, list) and i < len(z) and j < len(z[i]) else 0
                if cell is not None:
                    pick: dict[str, Any] = {"x": x, "y": y, "name": trace.get("name"),
                                            "type": "heatmap"}  # fmt: skip
                    yield f"{i},{j}", [pick.get(k) for k in keys]
        return
    n = max((len(trace[k]) for k in ("x", "y", "text") if isinstance(trace.get(k), list)),
            default=0)  # fmt: skip
    columns = [_column(trace, k, n) for k in keys]
    for i in range(n):
        yield str(i), [c[i] for c in columns]


def _marks(figure: str, spec: Marks) -> dict[tuple[str, ...], tuple[str, list[str]]]:
    """Each group the chart's marks name (its keys' values as the figure holds them, in drawing
    order) → the first key's label and the points that draw it."""
    out: dict[tuple[str, ...], tuple[str, list[str]]] = {}
    for c, trace in enumerate(json.loads(figure).get("data", [])):
        kind = trace.get("type", "scatter")
        if kind not in spec.traces or trace.get("mode") == "lines":
            continue
        for idx, values in _points(trace, spec.keys):
            if any(v is None for v in values):
                continue
            group = tuple(str(v) for v in values)
            out.setdefault(group, (group[0], []))[1].append(f"{c}:{idx}")
    return out


def _value(label: str, missing: str) -> str:
    """A label as the group it names: the first line (a label may add one: "A<br>80%"),
    unescaped, and the missing group for "(not set)"."""
    text = html.unescape(label.split("<br>")[0])
    return NONE_GROUP if text == missing else text


def _month(spec: Marks, group: list[str]) -> list[str]:
    """A month's group as ``YYYY-MM`` (a date axis holds the month's first day)."""
    dims = [*spec.by, *[""] * len(group)]
    return [v[:7] if dims[i] == "month" else v for i, v in enumerate(group)]


def _url(chart_id: str, spec: Marks, group: list[str], query: Mapping[str, str]) -> str | None:
    """The records URL of one group, keeping the view; None when a view filter would have to
    name the missing group (a filter cannot select "no team")."""
    q = dict(query)
    if spec.metric is None:
        return bar_url(chart_id, q, SAMPLE_BARS[chart_id].codes_of(spec.keys, group))
    values = _month(spec, group)
    for dim, v in zip(spec.by[1:], values[1:], strict=True):
        if dim not in VIEW_PARAMS or v == NONE_GROUP:
            return None
        q[dim] = v
    return records_url(spec.metric, q, spec.by[0], values[0])


def _shown(raw: tuple[str, ...], group: list[str], spec: Marks, names: dict[str, str]) -> str:
    """A group as the link list reads it: the trace's name stands for its type."""
    parts = [names.get(r, g) if k == "type" else g for k, r, g in zip(spec.keys, raw, group,
                                                                        strict=True)]  # fmt: skip
    return " / ".join(parts)


def bar_links(
    charts: Sequence[Chart], query: Mapping[str, str], lang: str
) -> dict[str, list[BarLink]]:
    """Per chart id of ``charts`` declared in :data:`MARKS`, one link per group its marks
    draw, keeping the view (period and filters) of ``query``."""
    missing = t("report.common.none", lang)
    out: dict[str, list[BarLink]] = {}
    for c in charts:
        spec = MARKS.get(c.chart_id)
        if c.figure is None or spec is None:
            continue
        names = {
            str(tr.get("type")): html.unescape(str(tr.get("name") or ""))
            for tr in json.loads(c.figure).get("data", [])
        }
        links = []
        for raw, (label, points) in _marks(c.figure, spec).items():
            group = _month(spec, [_value(v, missing) for v in raw])
            url = _url(c.chart_id, spec, group, query)
            if url is not None:
                text = _shown(raw, group, spec, names)
                links.append(BarLink(label, text, url, " ".join(points)))
        if links:
            out[c.chart_id] = links
    return out
