"""The PDF report: page one is the headline and the executive summary, then one section per
runbook step.

Laid out with reportlab (BSD) and the IPAexGothic font of ``matplotlib-fontja`` embedded, so
the file shows Japanese on any reader without fonts installed; charts are static PNGs drawn
by matplotlib from the HTML report's own figures. No browser is needed, so CI and a laptop
without Chromium produce the same file.

reportlab's paragraphs read a small markup language: every text that comes from data or the
catalogue is XML-escaped before it becomes a paragraph, so ``<b>`` in a CRM value prints as is.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    Image,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from eigyo.report._document import (
    Document,
    ReportModel,
    Tick,
    document,
    no_tick,
    render_charts,
)
from eigyo.report._files import atomic_write
from eigyo.report._headline import HeadlineView
from eigyo.report._headline_static import headline_actions, headline_cards
from eigyo.report._sections import FindingView, SectionView, TileView
from eigyo.report._static import FONT_NAME, font_path

_WIDTH = A4[0] - 3.6 * cm
_SEVERITY_COLOR = {"error": "#B3261E", "warn": "#D55E00", "info": "#0072B2", "ok": "#2E7D32"}
_TONE_COLOR = {"good": "#2E7D32", "bad": "#B3261E", "flat": "#52606d"}
#: Chart size in the PDF (inches as matplotlib draws it; scaled to the text width).
_CHART_SIZE = (7.0, 3.2)


@cache
def _styles() -> dict[str, ParagraphStyle]:
    """Paragraph styles in the embedded Japanese font; CJK wrapping breaks lines between any
    two characters, as Japanese text has no spaces."""
    pdfmetrics.registerFont(TTFont(FONT_NAME, str(font_path())))
    base = ParagraphStyle("base", fontName=FONT_NAME, fontSize=9, leading=13, wordWrap="CJK")

    def style(name: str, **kw: Any) -> ParagraphStyle:
        return ParagraphStyle(name, parent=base, **kw)

    return {
        "body": base,
        "small": style("small", fontSize=8, leading=11, textColor=colors.HexColor("#52606d")),
        "title": style("title", fontSize=20, leading=26, spaceAfter=4),
        "h2": style(
            "h2",
            fontSize=14,
            leading=19,
            spaceBefore=6,
            spaceAfter=6,
            textColor=colors.HexColor("#0b3d63"),
        ),
        "h3": style("h3", fontSize=11, leading=15, spaceBefore=6, spaceAfter=4),
        "h4": style("h4", fontSize=10, leading=14, spaceBefore=4),
        "cell": style("cell", fontSize=8, leading=11),
    }


def _p(text: str, style: str = "body", color: str | None = None) -> Paragraph:
    """A paragraph of plain text: escaped, optionally coloured."""
    body = escape(text)
    if color:
        body = f'<font color="{color}">{body}</font>'
    return Paragraph(body, _styles()[style])


def _table(rows: list[list[Any]], widths: list[float]) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), FONT_NAME),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef4")),
                ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#c3ccd6")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _kpi_table(doc: Document) -> Table:
    """KPI tiles as a table: value, target and whether it is met, changes coloured by the good
    direction."""
    prev, last = doc.tr("report.kpi.vs_previous"), doc.tr("report.kpi.vs_last_year")
    head = ["report_files.kpi.label", "report_files.kpi.value", "report.kpi.target"]
    rows: list[list[Any]] = [
        [_p(doc.tr(k), "cell") for k in head] + [_p(prev, "cell"), _p(last, "cell")]
    ]
    for k in doc.tiles:
        deltas = {d.label: d for d in k.deltas}
        value = f"{k.value}: {k.reason}" if k.reason else k.value
        cells = [_p(k.label, "cell"), _p(value, "cell"), _p(_target_text(doc, k), "cell")]
        for label in (prev, last):
            d = deltas.get(label)
            cells.append(_p(d.text, "cell", _TONE_COLOR[d.tone]) if d else _p("—", "cell"))
        rows.append(cells)
    return _table(rows, [w * _WIDTH for w in (0.3, 0.2, 0.26, 0.12, 0.12)])


def _target_text(doc: Document, k: TileView) -> str:
    if k.target is None:
        return "—"
    if k.met is None:
        return k.target
    status = doc.tr("report.kpi.met" if k.met else "report.kpi.missed")
    return f"{k.target}（{status}）" if doc.lang == "ja" else f"{k.target} ({status})"


def _summary_table(doc: Document) -> Table:
    """Page one's top findings: severity, title, scope and impact, costliest first."""
    head = [
        "report.finding.step",
        "report_files.finding.title",
        "report.finding.scope",
        "report.finding.impact",
    ]
    rows: list[list[Any]] = [[_p(doc.tr(k), "cell") for k in head]]
    for f in doc.summary:
        title = f"[{f.severity_label}] {f.title}"
        rows.append(
            [
                _p(f.step_title, "cell"),
                _p(title, "cell", _SEVERITY_COLOR[f.severity]),
                _p(f.scope, "cell"),
                _p(f.impact or "—", "cell"),
            ]
        )
    return _table(rows, [w * _WIDTH for w in (0.14, 0.42, 0.26, 0.18)])


def _headline(doc: Document, h: HeadlineView) -> list[Any]:
    """The ten-second headline (the HTML report's first block): three cards side by side —
    bookings against plan, the forecast landing, the ¥ at stake — then the top actions."""
    tone = {"good": _TONE_COLOR["good"], "bad": _TONE_COLOR["bad"], "muted": "#52606d"}
    cells = []
    for card in headline_cards(h, doc.lang):
        stack = [_p(card.label, "small")]
        if card.value:
            stack.append(_p(card.value, "h3"))
        stack += [_p(text, "cell", tone.get(name)) for text, name in card.lines]
        cells.append(stack)
    table = Table([cells], colWidths=[_WIDTH / 3] * 3)
    table.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 0.4, colors.HexColor("#c3ccd6")),
                ("INNERGRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#c3ccd6")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    out: list[Any] = [_p(doc.tr("report.headline.heading"), "h2"), table]
    actions = headline_actions(h, doc.lang)
    if actions:
        out.append(_p(doc.tr("report.headline.actions"), "h3"))
        for a in actions:
            out += [_p(a.text), _p(a.detail, "small")]
    return [*out, Spacer(1, 0.3 * cm)]


def _page_one(doc: Document) -> list[Any]:
    out: list[Any] = [
        _p(doc.title, "small"),
        _p(doc.company, "title"),
        _p(f"{doc.period_text}　{doc.generated_text}", "small"),
        Spacer(1, 0.4 * cm),
        *(_headline(doc, doc.headline) if doc.headline is not None else []),
        _p(doc.tr("report.summary.heading"), "h2"),
        _p(doc.tr("report.summary.top_findings"), "h3"),
    ]
    if doc.stake is not None and doc.stake.total:  # ¥ over non-overlapping findings, said so
        out += [_p(doc.stake.total), _p(doc.stake.note, "small")]
    out.append(_summary_table(doc) if doc.summary else _p(doc.tr("report.summary.none")))
    out.append(_p(doc.tr("report.summary.kpis"), "h3"))
    out.append(_kpi_table(doc) if doc.tiles else _p(doc.tr("report.summary.no_kpis")))
    return out


def _finding(doc: Document, f: FindingView) -> list[Any]:
    """One finding in full: what, where, how much, the evidence, why and what to do."""
    meta = f"{doc.tr('report.finding.scope')}: {f.scope}"
    if f.impact:
        meta += f"　{doc.tr('report.finding.impact')}: {f.impact}"
    out: list[Any] = [
        _p(f"[{f.severity_label}] {f.title}", "h4", _SEVERITY_COLOR[f.severity]),
        _p(meta),
    ]
    if f.impact_formula:
        out.append(_p(f"{doc.tr('report.finding.impact_formula')}: {f.impact_formula}", "small"))
    if f.evidence:
        ev = " / ".join(f"{label}: {value}" for label, value in f.evidence)
        out.append(_p(f"{doc.tr('report.finding.evidence')}: {ev}", "small"))
    if f.cause:
        out.append(_p(f"{doc.tr('report.finding.cause')}: {f.cause}"))
    if f.actions:
        out.append(_p(doc.tr("report.finding.actions")))
        out.extend(_p(f"・{a}") for a in f.actions)
    if f.overlaps:  # the findings sharing its records: their impacts do not add up
        titles = "、".join(title for _, title in f.overlaps)
        out.append(_p(f"{doc.tr('records.stake.overlaps')}: {titles}", "small"))
    return [KeepTogether(out), Spacer(1, 0.25 * cm)]


def _section(doc: Document, s: SectionView, images: dict[str, bytes]) -> list[Any]:
    out: list[Any] = [_p(s.title, "h2")]
    if s.note:
        out.append(_p(s.note, "small"))
    for f in s.findings:
        out.extend(_finding(doc, f))
    height = _WIDTH * _CHART_SIZE[1] / _CHART_SIZE[0]
    for c in s.charts:
        png = images.get(c.chart_id)
        body = (
            Image(io.BytesIO(png), _WIDTH, height)
            if png
            else _p(c.note or doc.tr("report.common.no_data"), "small")
        )
        out.append(KeepTogether([_p(c.title, "h4"), body, Spacer(1, 0.2 * cm)]))
    return out


def _data_used(doc: Document) -> list[Any]:
    rows: list[list[Any]] = [
        [_p(doc.tr("report.summary.table"), "cell"), _p(doc.tr("report.summary.rows"), "cell")]
    ]
    rows += [[_p(name, "cell"), _p(f"{n:,}", "cell")] for name, n in doc.data_summary]
    return [_p(doc.tr("report.summary.data"), "h2"), _table(rows, [0.5 * _WIDTH, 0.2 * _WIDTH])]


def render_pdf(model: ReportModel, *, progress: Tick = no_tick) -> bytes:
    """The whole report as PDF bytes in the model's language (ja or en)."""
    doc = document(model)
    images = render_charts(
        (c for s in doc.sections for c in s.charts),
        progress,
        width=_CHART_SIZE[0],
        height=_CHART_SIZE[1],
    )
    story = _page_one(doc)
    for s in doc.sections:
        story.append(PageBreak())
        story.extend(_section(doc, s, images))
    if doc.data_summary:
        story.extend([PageBreak(), *_data_used(doc)])

    def footer(canvas: Any, template: Any) -> None:
        canvas.saveState()
        canvas.setFont(FONT_NAME, 7)
        canvas.setFillColor(colors.HexColor("#7b8794"))
        canvas.drawString(1.8 * cm, 1.0 * cm, doc.footer)
        canvas.drawRightString(A4[0] - 1.8 * cm, 1.0 * cm, str(canvas.getPageNumber()))
        canvas.restoreState()

    buf = io.BytesIO()
    pdf = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=1.8 * cm,
        rightMargin=1.8 * cm,
        topMargin=1.6 * cm,
        bottomMargin=1.6 * cm,
        title=f"{doc.title} — {doc.company}",
        author="eigyo",
        subject=doc.period_text,
        lang=doc.lang,
    )
    pdf.build(story, onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()


def write_pdf(model: ReportModel, out: Path, *, progress: Tick = no_tick) -> Path:
    """Render the PDF report and write it to ``out`` atomically; returns the path written."""
    data = render_pdf(model, progress=progress)
    return atomic_write(Path(out), lambda tmp: tmp.write_bytes(data))
