"""One entry point for every report format: ``write_format("pdf", …)``.

The writers of PDF, Excel and PowerPoint are imported only when asked for, so the HTML report
and the CLI's start-up never load matplotlib, reportlab or python-pptx; a missing package
becomes one message that names what to install instead of a traceback.
"""

from __future__ import annotations

from pathlib import Path

from eigyo.errors import EigyoError
from eigyo.i18n import t
from eigyo.report._document import ReportModel, Tick, check_format, no_tick
from eigyo.report._model import FORMATS

__all__ = ["FORMATS", "PACKAGES", "default_name", "write_format"]
#: Packages each format needs beyond eigyo's core (pip names).
PACKAGES: dict[str, tuple[str, ...]] = {
    "html": (),
    "pdf": ("reportlab", "matplotlib", "matplotlib-fontja"),
    "xlsx": ("xlsxwriter",),
    "pptx": ("python-pptx", "matplotlib", "matplotlib-fontja"),
}


def default_name(label: str, lang: str, fmt: str) -> str:
    """The file name a report gets when the user names none: ``report-FY2025-ja.pdf``."""
    return f"report-{label}-{lang}.{fmt}"


def write_format(fmt: str, model: ReportModel, out: Path, *, progress: Tick = no_tick) -> Path:
    """Write the model in ``fmt`` (html, pdf, xlsx or pptx) to ``out``; returns the path."""
    lang = model.lang
    check_format(fmt, lang)
    try:
        if fmt == "html":
            from eigyo.report._render import write_report

            progress("html", 0, 1)
            path = write_report(model, out)
            progress("html", 1, 1)
            return path
        if fmt == "pdf":
            from eigyo.report.pdf import write_pdf as writer
        elif fmt == "xlsx":
            from eigyo.report.xlsx import write_xlsx as writer
        else:
            from eigyo.report.pptx import write_pptx as writer
    except ModuleNotFoundError as e:
        names = " ".join(PACKAGES[fmt])
        raise EigyoError(
            t("report_files.cli.missing", lang, format=fmt.upper(), packages=names)
        ) from e
    return writer(model, out, progress=progress)
