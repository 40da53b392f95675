"""One call runs the whole runbook over a workspace and writes the report.

generate (demo only) → import → metrics → diagnose → report model → file. The model
(:func:`eigyo.report.report_model`) is computed here, once, from the workspace; the file writers
only render it. The CLI's ``eigyo demo`` and
``eigyo report`` are thin wrappers around :func:`run_demo` and :func:`build_report`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from eigyo import workspace as workspace_mod
from eigyo.base.periods import Period, parse_period
from eigyo.diagnose import Finding, diagnose
from eigyo.metrics import REGISTRY, compare
from eigyo.report import KpiTile, ReportInput, render_html, report_model, write_format
from eigyo.schema import TABLES
from eigyo.workspace import Workspace

#: KPI tiles on page one of the report, in order.
SUMMARY_KPIS: tuple[str, ...] = (
    "bookings",
    "won_deals",
    "win_rate",
    "avg_deal_size",
    "sales_cycle_days",
    "lead_response_sla_rate",
    "quota_attainment_rate",
    "admin_time_share",
)

Phase = Callable[[str], Callable[[str, int, int], None]]
"""Progress factory: called with a phase name, returns that phase's ``tick(item, done, total)``."""


def _no_progress(_: str) -> Callable[[str, int, int], None]:
    return lambda item, done, total: None


def _is_whole_year(period: Period) -> bool:
    """Twelve whole months (a fiscal or calendar year): its previous period is last year."""
    after = period.end + timedelta(days=1)
    months = (after.year - period.start.year) * 12 + after.month - period.start.month
    return period.start.day == 1 and after.day == 1 and months == 12


def kpi_tiles(ws: Workspace, period: Period, ids: tuple[str, ...] = SUMMARY_KPIS) -> list[KpiTile]:
    """The summary KPIs with target, previous period and the same period last year."""
    ids = tuple(i for i in ids if i in REGISTRY)
    targets = ws.settings.targets
    # a whole year's previous period IS the year before: show 前年比 alone, not the same
    # change twice (前期比 = 前年比 on every fiscal-year card)
    yearly = _is_whole_year(period)
    tiles = []
    for c in compare(ws, period, list(ids)):
        m = REGISTRY[c.id]
        tiles.append(
            KpiTile(
                metric_id=c.id,
                label={"ja": m.label_ja, "en": m.label_en},
                unit=c.unit,
                value=c.value,
                target=targets.get(c.id),
                previous=None if yearly else c.previous,
                last_year=c.last_year,
                better=m.better,
                reason=c.reason,
            )
        )
    return tiles


def data_summary(ws: Workspace) -> dict[str, int]:
    return {t.name: ws.count(t.name) for t in TABLES}


def report_input(
    ws: Workspace, period: Period, findings: list[Finding], tiles: list[KpiTile] | None = None
) -> ReportInput:
    """What the report shows: KPI tiles (computed unless given), findings, table sizes."""
    return ReportInput(
        company=ws.settings.name,
        period=period,
        generated_at=datetime.now(),
        kpis=kpi_tiles(ws, period) if tiles is None else tiles,
        findings=findings,
        data_summary=data_summary(ws),
        currency=ws.settings.currency,
    )


def findings_html(ws: Workspace, period: Period, findings: list[Finding], lang: str) -> str:
    """The HTML report of findings already computed (``eigyo diagnose --format html``)."""
    inp = report_input(ws, period, findings)
    return render_html(report_model(ws, inp, lang, formats=("html",)))


@dataclass(frozen=True)
class RunResult:
    report: Path
    findings: list[Finding]
    period: Period


def build_report(
    ws: Workspace,
    period: Period,
    out: Path,
    *,
    lang: str = "ja",
    fmt: str = "html",
    progress: Phase = _no_progress,
) -> RunResult:
    """Metrics → diagnosis → report (html, pdf, xlsx or pptx) for one period of one workspace."""
    tick = progress("metrics")
    tick("kpi", 0, 1)
    tiles = kpi_tiles(ws, period)
    tick("kpi", 1, 1)
    findings = diagnose(ws, period, progress=progress("diagnose"))
    inp = report_input(ws, period, findings, tiles)
    model = report_model(ws, inp, lang, formats=(fmt,))
    path = write_format(fmt, model, out, progress=progress("report"))
    return RunResult(path, findings, period)


def run_demo(
    out: Path,
    *,
    scale: str = "small",
    seed: int = 0,
    clean: bool = False,
    lang: str = "ja",
    period: str = "FY2025",
    progress: Phase = _no_progress,
) -> RunResult:
    """Generate the demo company, import it through the normal importer and run the runbook.

    Writes ``out/data`` (the canonical CSVs and truth.json), ``out/workspace`` and
    ``out/report.html`` (``report.en.html`` with ``lang="en"``).
    """
    from eigyo.demo import generate
    from eigyo.ingest import import_path

    tick = progress("generate")
    tick("csv", 0, 1)
    gen = generate(out / "data", scale=scale, seed=seed, clean=clean)
    tick("csv", 1, 1)
    ws_path = out / "workspace"
    if ws_path.exists():
        import shutil

        shutil.rmtree(ws_path)
    ws = workspace_mod.init(ws_path, name=gen.company)
    try:
        import_path(ws, gen.out_dir, progress=progress("import"))
        p = parse_period(period, ws.settings.fiscal_year_start_month)
        name = "report.html" if lang == "ja" else f"report.{lang}.html"
        return build_report(ws, p, out / name, lang=lang, progress=progress)
    finally:
        ws.close()
