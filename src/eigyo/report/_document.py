"""The report model: everything every file format shows, computed once from the workspace.

:func:`report_model` is the only place the report reads the workspace: it queries each runbook
step's charts (:mod:`eigyo.report._charts_sales`, :mod:`eigyo.report._charts_people`), the
metrics by team and the open-deal lists of the Excel workbook. The renderers (``_render`` for
HTML, ``pdf``, ``xlsx``, ``pptx``) and the dashboard take the :class:`ReportModel` and only lay
it out, so a number cannot differ between the formats, and none of them takes a workspace.

:func:`document` turns a model into the translated view records the PDF and PowerPoint writers
lay out (:mod:`eigyo.report._sections`), so a finding reads the same in every format; only the
charts differ, drawn as PNG images (:mod:`eigyo.report._static`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import polars as pl

from eigyo import __version__
from eigyo.base.periods import Period
from eigyo.diagnose.model import STEPS
from eigyo.errors import EigyoError, check_lang
from eigyo.i18n import t
from eigyo.metrics import MetricValue, compute
from eigyo.report import _charts_sales as sales
from eigyo.report._deal_lists import open_deals
from eigyo.report._figures import Chart, Ctx
from eigyo.report._headline import Headline, HeadlineView, headline, headline_view
from eigyo.report._model import FORMATS, ReportInput
from eigyo.report._sections import (
    FindingView,
    SectionView,
    TileView,
    sections,
    step_charts,
    tile_view,
)
from eigyo.report._sections import top_findings as _top
from eigyo.report.evidence import RecordList, StakeView, evidence_lists, stake_view

if TYPE_CHECKING:
    from eigyo.workspace import Workspace

Tick = Callable[[str, int, int], None]

#: What each format shows beyond KPIs and findings: the steps' charts (HTML, PDF and
#: PowerPoint) and the tables of the Excel workbook (metrics by team, open deals).
NEEDS_CHARTS = frozenset({"html", "pdf", "pptx"})
NEEDS_TABLES = frozenset({"xlsx"})


def no_tick(item: str, done: int, total: int) -> None:
    """Progress callback that reports nowhere (library use without a progress bar)."""


def check_format(fmt: str, lang: str = "ja") -> str:
    """``fmt`` when it is one of :data:`FORMATS`, else the error that lists them."""
    if fmt not in FORMATS:
        raise EigyoError(
            t("report_files.cli.bad_format", lang, formats=", ".join(FORMATS), got=repr(fmt))
        )
    return fmt


@dataclass(frozen=True)
class ReportModel:
    """The report of one period in one language, every number already computed.

    ``sections`` hold each runbook step's findings and charts (built in ``lang``, because a
    chart's titles and labels are part of its figure); ``team_metrics`` and ``open_deals`` are
    the Excel workbook's tables (empty and None when the model was built without them)."""

    inp: ReportInput
    lang: str
    sections: list[SectionView] = field(default_factory=list)
    team_metrics: list[MetricValue] = field(default_factory=list)
    open_deals: pl.DataFrame | None = None
    #: The records behind each alarm (the Excel workbook's evidence sheets), capped per finding.
    evidence: list[RecordList] = field(default_factory=list)
    #: The ten-second headline (plan, pace, landing, ¥ at stake, top actions), when asked for.
    headline: Headline | None = None

    def section(self, step: str) -> SectionView | None:
        """The section of one runbook step, when the model holds it."""
        return next((s for s in self.sections if s.step == step), None)


def report_model(
    ws: Workspace,
    inp: ReportInput,
    lang: str = "ja",
    *,
    formats: Iterable[str] = FORMATS,
    steps: Iterable[str] = STEPS,
    with_headline: bool | None = None,
) -> ReportModel:
    """Query everything the ``formats`` show (all of them unless told) for ``inp``'s period:
    the charts of ``steps`` (every runbook step unless told), the Excel tables and the headline
    (with the charts' formats, or when ``with_headline`` says so: the dashboard's overview)."""
    lang = check_lang(lang)
    wanted = {check_format(f, lang) for f in formats}
    charts = step_charts(Ctx(ws, inp.period, lang), steps) if wanted & NEEDS_CHARTS else {}
    tables = bool(wanted & NEEDS_TABLES)
    wants_headline = bool(wanted & NEEDS_CHARTS) if with_headline is None else with_headline
    return ReportModel(
        inp=inp,
        lang=lang,
        sections=sections(inp, lang, charts),
        team_metrics=compute(ws, inp.period, None, by="team") if tables else [],
        open_deals=open_deals(ws, inp.period) if tables else None,
        evidence=evidence_lists(ws, inp.period, inp.findings) if tables else [],
        headline=headline(ws, inp.period, inp.findings) if wants_headline else None,
    )


def process_map_chart(ws: Workspace, period: Period, lang: str = "ja") -> Chart:
    """The process step's Sankey chart alone (the dashboard's process page shows it beside
    the map of ``eigyo process``), built as the report builds it."""
    return sales.process_map(Ctx(ws, period, check_lang(lang)))


@dataclass(frozen=True)
class Document:
    """The report's content in one language, ready to lay out."""

    lang: str
    title: str
    company: str
    period_text: str
    generated_text: str
    footer: str
    tiles: list[TileView]
    summary: list[FindingView]
    sections: list[SectionView]
    data_summary: list[tuple[str, int]]
    #: Page one's total at stake over non-overlapping populations, and the sentence saying so.
    stake: StakeView | None = None
    #: Page one's headline, formatted (None when the model was built without it).
    headline: HeadlineView | None = None

    def tr(self, key: str, /, **values: object) -> str:
        return t(key, self.lang, **values)

    def chart(self, chart_id: str | None) -> Chart | None:
        """The chart with this id when it has data (a finding's chart), else None."""
        for s in self.sections:
            for c in s.charts:
                if c.chart_id == chart_id and c.has_data:
                    return c
        return None


def document(model: ReportModel) -> Document:
    """The model's texts translated and its numbers formatted, for the PDF and the slides."""
    inp, lang = model.inp, model.lang
    p = inp.period
    return Document(
        lang=lang,
        title=t("report.title", lang),
        company=inp.company,
        period_text=t("report.meta.period", lang, period=p.describe(lang)),
        generated_text=t(
            "report.meta.generated", lang, at=inp.generated_at.strftime("%Y-%m-%d %H:%M")
        ),
        footer=t("report_files.footer", lang, version=__version__),
        tiles=[tile_view(k, lang, inp.currency) for k in inp.kpis],
        summary=_top(inp, lang),
        sections=model.sections,
        data_summary=sorted(inp.data_summary.items()),
        stake=stake_view(inp.findings, lang, inp.currency),
        headline=None
        if model.headline is None
        else headline_view(model.headline, lang, inp.currency),
    )


def render_charts(
    charts: Iterable[Chart], tick: Tick = no_tick, *, width: float = 7.0, height: float = 3.2
) -> dict[str, bytes]:
    """PNG images of the charts that have data, by chart id, reporting progress per chart.

    matplotlib is imported here, not at module import, so that ``eigyo report --format html``
    and the CLI's start-up never pay for it."""
    from eigyo.report._static import chart_png

    todo = [c for c in charts if c.has_data]
    out: dict[str, bytes] = {}
    for i, c in enumerate(todo):
        tick(c.chart_id, i, len(todo))
        out[c.chart_id] = chart_png(c, width=width, height=height)
    tick("", len(todo), len(todo))
    return out
