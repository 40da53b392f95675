"""Reports in Japanese or English: self-contained HTML (Plotly embedded, no network), PDF,
Excel and PowerPoint.

Public API: :class:`KpiTile` and :class:`ReportInput` describe what to show;
:func:`report_model` computes everything the report shows once from the workspace (a
:class:`ReportModel`); the renderers take the model, never a workspace: :func:`render_html`
returns the page and :func:`write_report` writes it; :func:`write_format` writes any of
:data:`FORMATS`, and :func:`write_pdf`, :func:`write_xlsx`, :func:`write_pptx` one each. The
dashboard shows the model's sections and view records (:class:`SectionView`,
:class:`FindingView`, :class:`TileView`). Charts are queried from the workspace by each
step's ``chart_data`` (and :mod:`eigyo.analysis.measure`), which reads the samples the checks
test. The PDF, Excel and PowerPoint
writers load their libraries (matplotlib, reportlab, xlsxwriter, python-pptx) on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eigyo.report._document import (
    Document,
    ReportModel,
    document,
    process_map_chart,
    report_model,
)
from eigyo.report._figures import Chart
from eigyo.report._headline import Headline, HeadlineView, headline_view
from eigyo.report._model import FORMATS, KpiTile, ReportInput
from eigyo.report._render import render_html, write_report
from eigyo.report._sections import (
    TOP_FINDINGS,
    FindingView,
    SectionView,
    TileView,
    finding_view,
    tile_view,
)
from eigyo.report._writers import default_name, write_format

if TYPE_CHECKING:
    from eigyo.report.pdf import render_pdf, write_pdf
    from eigyo.report.pptx import render_pptx, write_pptx
    from eigyo.report.xlsx import write_xlsx

_LAZY = {
    "render_pdf": "pdf",
    "write_pdf": "pdf",
    "render_pptx": "pptx",
    "write_pptx": "pptx",
    "write_xlsx": "xlsx",
}

__all__ = [
    "FORMATS",
    "TOP_FINDINGS",
    "Chart",
    "Document",
    "FindingView",
    "Headline",
    "HeadlineView",
    "KpiTile",
    "ReportInput",
    "ReportModel",
    "SectionView",
    "TileView",
    "default_name",
    "document",
    "finding_view",
    "headline_view",
    "process_map_chart",
    "render_html",
    "render_pdf",
    "render_pptx",
    "report_model",
    "tile_view",
    "write_format",
    "write_pdf",
    "write_pptx",
    "write_report",
    "write_xlsx",
]


def __getattr__(name: str) -> Any:
    """Import a format's writer on first use (its libraries are heavy to load)."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"eigyo.report.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'eigyo.report' has no attribute {name!r}")
