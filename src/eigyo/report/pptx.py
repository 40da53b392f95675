"""The PowerPoint report: the headline, a KPI summary slide, then one slide per top finding.

No surveyed product exports PowerPoint, yet a Japanese sales meeting runs on slides: each
finding becomes a slide a manager can drop into the monthly deck — what is wrong, where, how
much it costs, the evidence, why and what to do, and its chart as a static image.

Slides are drawn on the blank layout with explicit text boxes, so every run gets the font set
for both Latin and East Asian text (``a:latin`` and ``a:ea``); without ``a:ea`` PowerPoint
picks a fallback for Japanese that varies by machine.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from lxml import etree
from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.oxml.ns import qn
from pptx.util import Emu, Inches, Pt

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
from eigyo.report._sections import FindingView, TileView

#: Fonts set on every run: a Japanese UI font on Windows and macOS, Latin text too.
FONTS = {"ja": "Yu Gothic", "en": "Calibri"}
EA_FONT = "Yu Gothic"
_W, _H = Inches(13.333), Inches(7.5)
_MARGIN = Inches(0.5)
_INK = "1F2933"
_SEVERITY = {"error": "B3261E", "warn": "D55E00", "info": "0072B2", "ok": "2E7D32"}
_TONE = {"good": "2E7D32", "bad": "B3261E", "flat": "52606D"}
#: Evidence items a finding slide shows (the rest are in the Excel and PDF reports).
MAX_EVIDENCE = 6


def _font(run: Any, lang: str, size: float, bold: bool = False, color: str | None = None) -> None:
    """Size, weight, colour and the Latin and East Asian typefaces of one text run."""
    f = run.font
    f.size, f.bold, f.name = Pt(size), bold, FONTS.get(lang, FONTS["ja"])
    f.color.rgb = RGBColor.from_string(color or _INK)  # type: ignore[no-untyped-call]
    rpr = run._r.get_or_add_rPr()
    for old in rpr.findall(qn("a:ea")):
        rpr.remove(old)
    ea = etree.SubElement(rpr, qn("a:ea"))
    ea.set("typeface", EA_FONT)
    latin = rpr.find(qn("a:latin"))
    if latin is not None:
        latin.addnext(ea)  # schema order: latin, then ea


def _box(slide: Any, left: int, top: int, width: int, height: int) -> Any:
    frame = slide.shapes.add_textbox(Emu(left), Emu(top), Emu(width), Emu(height)).text_frame
    frame.word_wrap = True
    return frame


def _lines(frame: Any, lang: str, lines: list[tuple[str, float, bool, str | None]]) -> None:
    """Paragraphs of (text, size, bold, colour); the frame's first paragraph is reused."""
    for i, (text, size, bold, color) in enumerate(lines):
        para = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        run = para.add_run()
        run.text = text
        _font(run, lang, size, bold, color)
        para.space_after = Pt(4)


def _cell(
    cell: Any, lang: str, text: str, size: float = 12, bold: bool = False, color: str | None = None
) -> None:
    frame = cell.text_frame
    frame.paragraphs[0].text = ""
    run = frame.paragraphs[0].add_run()
    run.text = text
    _font(run, lang, size, bold, color)


def _headline_slide(prs: Any, doc: Document, h: HeadlineView) -> None:
    """Slide one: the ten-second headline of the HTML report — bookings against plan, the
    forecast landing and the ¥ at stake as three cards, then the top actions with their owners."""
    slide = prs.slides.add_slide(prs.slide_layouts[6])
    width = int(_W - 2 * _MARGIN)
    _lines(
        _box(slide, _MARGIN, Inches(0.3), width, Inches(1.0)),
        doc.lang,
        [
            (f"{doc.tr('report.headline.heading')} — {doc.company}", 26, True, None),
            (f"{doc.period_text}　{doc.generated_text}", 12, False, "52606D"),
        ],
    )
    gap = int(Inches(0.2))
    card_w = (width - 2 * gap) // 3
    tone = {"good": _TONE["good"], "bad": _TONE["bad"], "muted": "52606D", "": None}
    for i, card in enumerate(headline_cards(h, doc.lang)):
        lines: list[tuple[str, float, bool, str | None]] = [(card.label, 13, False, "52606D")]
        if card.value:
            lines.append((card.value, 26, True, None))
        lines += [(text, 12, False, tone.get(name)) for text, name in card.lines]
        left = int(_MARGIN) + i * (card_w + gap)
        frame = _box(slide, left, int(Inches(1.5)), card_w, int(Inches(2.4)))
        _lines(frame, doc.lang, lines)
    actions = headline_actions(h, doc.lang)
    if actions:
        body: list[tuple[str, float, bool, str | None]] = [
            (doc.tr("report.headline.actions"), 16, True, None)
        ]
        for a in actions:
            body += [(a.text, 14, False, None), (a.detail, 11, False, "52606D")]
        _lines(_box(slide, _MARGIN, Inches(4.1), width, Inches(3.1)), doc.lang, body)


def _kpi_slide(prs: Any, doc: Document) -> None:
    """Slide one: company, period and every KPI against target, previous period and last year."""
    slide = prs.slides.add_slide(prs.slide_layouts[6])
    width = int(_W - 2 * _MARGIN)
    _lines(
        _box(slide, _MARGIN, Inches(0.3), width, Inches(1.0)),
        doc.lang,
        [
            (f"{doc.tr('report_files.slides.kpi_title')} — {doc.company}", 26, True, None),
            (f"{doc.period_text}　{doc.generated_text}", 12, False, "52606D"),
            *(  # the ¥ at stake, which itself says it counts non-overlapping findings only
                [(doc.stake.total, 12, True, None)]
                if doc.stake is not None and doc.stake.total
                else []
            ),
        ],
    )
    if not doc.tiles:
        _lines(
            _box(slide, _MARGIN, Inches(1.6), width, Inches(1)),
            doc.lang,
            [(doc.tr("report.summary.no_kpis"), 16, False, None)],
        )
        return
    prev, last = doc.tr("report.kpi.vs_previous"), doc.tr("report.kpi.vs_last_year")
    heads = [
        doc.tr("report_files.kpi.label"),
        doc.tr("report_files.kpi.value"),
        doc.tr("report.kpi.target"),
        prev,
        last,
    ]
    rows, cols = len(doc.tiles) + 1, len(heads)
    height = Inches(0.45) * rows
    table = slide.shapes.add_table(
        rows, cols, Emu(_MARGIN), Inches(1.5), Emu(width), Emu(height)
    ).table
    for c, (head, share) in enumerate(zip(heads, (0.32, 0.2, 0.2, 0.14, 0.14), strict=True)):
        table.columns[c].width = Emu(int(width * share))
        _cell(table.cell(0, c), doc.lang, head, 12, True)
    for r, k in enumerate(doc.tiles, start=1):
        _kpi_row(table, r, k, doc, (prev, last))


def _kpi_row(table: Any, r: int, k: TileView, doc: Document, labels: tuple[str, str]) -> None:
    """One KPI: label, value, target coloured by whether it is met, changes by their tone."""
    deltas = {d.label: d for d in k.deltas}
    target = k.target or "—"
    if k.met is not None:
        target += f" ({doc.tr('report.kpi.met' if k.met else 'report.kpi.missed')})"
    met_color = None if k.met is None else _TONE["good" if k.met else "bad"]
    _cell(table.cell(r, 0), doc.lang, k.label)
    _cell(table.cell(r, 1), doc.lang, f"{k.value}: {k.reason}" if k.reason else k.value, bold=True)
    _cell(table.cell(r, 2), doc.lang, target, color=met_color)
    for c, label in enumerate(labels, start=3):
        d = deltas.get(label)
        _cell(table.cell(r, c), doc.lang, d.text if d else "—", color=_TONE[d.tone] if d else None)


def _finding_slide(prs: Any, doc: Document, f: FindingView, png: bytes | None) -> None:
    """One finding: title and impact on top, evidence, cause and actions on the left, its
    chart on the right (text takes the whole width when the finding has no chart)."""
    slide = prs.slides.add_slide(prs.slide_layouts[6])
    width = int(_W - 2 * _MARGIN)
    meta = doc.tr("report_files.slides.finding_meta", step=f.step_title, scope=f.scope)
    head: list[tuple[str, float, bool, str | None]] = [
        (f"[{f.severity_label}] {f.title}", 24, True, _SEVERITY[f.severity]),
        (meta, 13, False, "52606D"),
    ]
    if f.impact:
        head.append((doc.tr("report_files.slides.impact", impact=f.impact), 18, True, None))
    _lines(_box(slide, _MARGIN, Inches(0.3), width, Inches(1.6)), doc.lang, head)
    text_w = width if png is None else int(width * 0.45)
    body: list[tuple[str, float, bool, str | None]] = []
    if f.evidence:
        body.append((doc.tr("report.finding.evidence"), 13, True, None))
        body += [(f"{a}: {b}", 11, False, None) for a, b in f.evidence[:MAX_EVIDENCE]]
    if f.cause:
        body += [(doc.tr("report.finding.cause"), 13, True, None), (f.cause, 11, False, None)]
    if f.actions:
        body.append((doc.tr("report.finding.actions"), 13, True, None))
        body += [(f"・{a}", 11, False, None) for a in f.actions]
    if f.impact_formula:
        body.append(
            (f"{doc.tr('report.finding.impact_formula')}: {f.impact_formula}", 9, False, "52606D")
        )
    if body:
        _lines(_box(slide, _MARGIN, Inches(2.0), text_w, Inches(5.2)), doc.lang, body)
    if png is not None:
        left = int(_MARGIN + text_w + Inches(0.2))
        slide.shapes.add_picture(
            io.BytesIO(png), Emu(left), Inches(2.1), width=Emu(int(_W - _MARGIN - left))
        )


def render_pptx(model: ReportModel, *, progress: Tick = no_tick) -> bytes:
    """The slide deck as .pptx bytes in the model's language (ja or en)."""
    doc = document(model)
    charts = [c for c in (doc.chart(f.chart) for f in doc.summary) if c is not None]
    images = render_charts(charts, progress, width=6.4, height=4.2)
    prs = Presentation()
    prs.slide_width, prs.slide_height = _W, _H
    prs.core_properties.title = f"{doc.title} — {doc.company}"
    prs.core_properties.author = "eigyo"
    prs.core_properties.language = "ja-JP" if doc.lang == "ja" else "en-US"
    if doc.headline is not None:
        _headline_slide(prs, doc, doc.headline)
    _kpi_slide(prs, doc)
    if not doc.summary:
        slide = prs.slides.add_slide(prs.slide_layouts[6])
        _lines(
            _box(slide, _MARGIN, Inches(3), int(_W - 2 * _MARGIN), Inches(1)),
            doc.lang,
            [(doc.tr("report_files.slides.none"), 24, True, None)],
        )
    for f in doc.summary:
        _finding_slide(prs, doc, f, images.get(f.chart or ""))
    buf = io.BytesIO()
    prs.save(buf)
    return buf.getvalue()


def write_pptx(model: ReportModel, out: Path, *, progress: Tick = no_tick) -> Path:
    """Render the slide deck and write it to ``out`` atomically; returns the path written."""
    data = render_pptx(model, progress=progress)
    return atomic_write(Path(out), lambda tmp: tmp.write_bytes(data))
