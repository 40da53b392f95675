"""The process map as a picture: a Plotly Sankey of the transitions with counts and median days.

The report calls :func:`process_figure`; the CLI does not draw. A Sankey cannot show a stage
flowing into itself, so self-loops are left out of the picture (they stay in the JSON), and only
the ``top`` most frequent transitions are drawn so that a 100-activity event log stays readable.
"""

from __future__ import annotations

import html

import plotly.graph_objects as go

from eigyo.analysis.process.process_map import ProcessMap
from eigyo.base.formatting import count, number
from eigyo.i18n import t


def process_figure(pm: ProcessMap, lang: str = "ja", *, top: int = 40) -> go.Figure:
    """Stages as nodes (entries in the label), transitions as links (count, median days).

    Stage names come from CRM data and Plotly renders some HTML in labels: they are escaped."""
    links = [tr for tr in pm.transitions if tr.source != tr.target][:top]
    entered = {s.stage: s.entered for s in pm.stages}
    names = list(dict.fromkeys([s.stage for s in pm.stages if s.entered]))
    used = {n for tr in links for n in (tr.source, tr.target)}
    names = [n for n in names if n in used]
    index = {n: i for i, n in enumerate(names)}
    hover = [
        t(
            "process.chart.link_hover",
            lang,
            source=html.escape(tr.source, quote=False),
            target=html.escape(tr.target, quote=False),
            count=count(tr.count),
            days=number(tr.median_days, 1),
        )
        for tr in links
    ]
    fig = go.Figure(
        go.Sankey(
            arrangement="snap",
            node={
                "label": [
                    f"{html.escape(n, quote=False)} ({count(entered.get(n, 0))})" for n in names
                ],
                "pad": 18,
            },
            link={
                "source": [index[tr.source] for tr in links],
                "target": [index[tr.target] for tr in links],
                "value": [tr.count for tr in links],
                "customdata": hover,
                "hovertemplate": "%{customdata}<extra></extra>",
            },
        )
    )
    fig.update_layout(title=t("process.chart.sankey_title", lang), font={"size": 12})
    return fig
