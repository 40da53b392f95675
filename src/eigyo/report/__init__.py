"""Reports: a self-contained HTML file (Plotly embedded, no network) in Japanese or English.

Public API: :class:`KpiTile` and :class:`ReportInput` describe what to show; :func:`render_html`
returns the page and :func:`write_report` writes it. Charts are queried from the workspace by
:mod:`eigyo.analysis.overview`.
"""

from eigyo.report._model import KpiTile, ReportInput
from eigyo.report._render import render_html, write_report

__all__ = ["KpiTile", "ReportInput", "render_html", "write_report"]
