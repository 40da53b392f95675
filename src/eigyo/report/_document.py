"""What every file format shows, prepared once: page-one views, step sections, static charts.

The PDF and PowerPoint writers lay out the same view records the HTML report uses
(:mod:`eigyo.report._sections`), so a finding reads the same in every format; only the charts
differ, drawn as PNG images (:mod:`eigyo.report._static`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from eigyo import __version__
from eigyo.i18n import check_lang, t
from eigyo.report._figures import Chart, Ctx
from eigyo.report._model import ReportInput
from eigyo.report._sections import FindingView, SectionView, TileView, sections, tile_view
from eigyo.report._sections import top_findings as _top
from eigyo.workspace import Workspace

Tick = Callable[[str, int, int], None]


def no_tick(item: str, done: int, total: int) -> None:
    """Progress callback that reports nowhere (library use without a progress bar)."""


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

    def tr(self, key: str, /, **values: object) -> str:
        return t(key, self.lang, **values)

    def chart(self, chart_id: str | None) -> Chart | None:
        """The chart with this id when it has data (a finding's chart), else None."""
        for s in self.sections:
            for c in s.charts:
                if c.chart_id == chart_id and c.has_data:
                    return c
        return None


def document(ws: Workspace, inp: ReportInput, lang: str, *, with_charts: bool = True) -> Document:
    """Translate and format the report input; query the step charts unless told not to."""
    lang = check_lang(lang)
    ctx = Ctx(ws, inp.period, lang)
    p = inp.period
    secs = sections(ctx, inp) if with_charts else []
    return Document(
        lang=lang,
        title=t("report.title", lang),
        company=inp.company,
        period_text=t("report.meta.period", lang, label=p.label, start=p.start, end=p.end),
        generated_text=t(
            "report.meta.generated", lang, at=inp.generated_at.strftime("%Y-%m-%d %H:%M")
        ),
        footer=t("report_files.footer", lang, version=__version__),
        tiles=[tile_view(k, lang, inp.currency) for k in inp.kpis],
        summary=_top(inp, lang),
        sections=secs,
        data_summary=sorted(inp.data_summary.items()),
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
