"""Reports in Japanese or English: self-contained HTML (Plotly embedded, no network), PDF,
Excel and PowerPoint.

Public API: :class:`KpiTile` and :class:`ReportInput` describe what to show; :func:`render_html`
returns the page and :func:`write_report` writes it; :func:`write_format` writes any of
:data:`FORMATS`, and :func:`write_pdf`, :func:`write_xlsx`, :func:`write_pptx` one each. Charts
are queried from the workspace by each step's ``chart_data`` (and :mod:`eigyo.analysis.measure`),
which reads the samples the checks test. The PDF, Excel and PowerPoint
writers load their libraries (matplotlib, reportlab, xlsxwriter, python-pptx) on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eigyo.report._model import KpiTile, ReportInput
from eigyo.report._render import render_html, write_report
from eigyo.report._writers import FORMATS, default_name, write_format

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
    "KpiTile",
    "ReportInput",
    "default_name",
    "render_html",
    "render_pdf",
    "render_pptx",
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
