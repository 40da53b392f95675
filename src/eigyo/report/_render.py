"""Render the report page: Jinja2 with autoescape, Plotly's JavaScript embedded once.

The file must open on a laptop with no network (a customer's meeting room, an email attachment),
so nothing is linked: styles are inline, Plotly comes from the installed package, fonts are the
reader's own Japanese system fonts.
"""

from __future__ import annotations

import os
import tempfile
from functools import cache
from pathlib import Path

import plotly.offline
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from eigyo import __version__
from eigyo.i18n import t
from eigyo.report._document import ReportModel
from eigyo.report._figures import FONT_STACK
from eigyo.report._headline import headline_view
from eigyo.report._sections import tile_view, top_findings, unavailable_note
from eigyo.report.evidence import stake_view


@cache
def _env() -> Environment:
    return Environment(
        loader=PackageLoader("eigyo.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@cache
def _plotly_js() -> Markup:
    """Plotly's bundle from the installed package, made safe to sit inside one ``<script>``."""
    js = plotly.offline.get_plotlyjs().replace("</script", "<\\/script")
    return Markup(js)


def render_html(model: ReportModel) -> str:
    """The whole report as one self-contained HTML document in the model's language."""
    inp, lang = model.inp, model.lang

    def tr(key: str, /, **values: object) -> str:
        return t(key, lang, **values)

    p = inp.period
    return (
        _env()
        .get_template("report.html.j2")
        .render(
            lang=lang,
            tr=tr,
            company=inp.company,
            period_text=tr("report.meta.period", period=p.describe(lang)),
            generated_text=tr(
                "report.meta.generated", at=inp.generated_at.strftime("%Y-%m-%d %H:%M")
            ),
            footer=tr("report.meta.footer", version=__version__),
            summary=top_findings(inp, lang),
            unavailable=unavailable_note(inp, lang),
            stake=stake_view(inp.findings, lang, inp.currency),
            headline=(
                None
                if model.headline is None
                else headline_view(model.headline, lang, inp.currency)
            ),
            period_label=p.label,
            tiles=[tile_view(k, lang, inp.currency) for k in inp.kpis],
            sections=model.sections,
            data_summary=sorted(inp.data_summary.items()),
            font_stack=Markup(FONT_STACK),
            plotly_js=_plotly_js(),
        )
    )


def write_report(model: ReportModel, out: Path) -> Path:
    """Render and write the report to ``out`` atomically (a half-written report never shows up
    where the user looks); returns the path written."""
    page = render_html(model)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(page)
        os.chmod(tmp, 0o644)  # mkstemp makes the file private; a report is meant to be shared
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out
