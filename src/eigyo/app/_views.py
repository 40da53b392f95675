"""What the pages and the API show, computed from a scoped workspace by the library.

Nothing here filters by user: every function receives a :class:`ScopedWorkspace`, so scoping is
already in the tables. The functions only call the library's public names (metrics, diagnosis,
the steps' documents, the report model and its view records) and shape the results for a
template or JSON, so the dashboard shows the same findings, charts and numbers as the CLI and
the reports: a step page is the report's section of that step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import ibis.expr.types as ir

from eigyo.analysis.common import data_end
from eigyo.analysis.process.document import process_document
from eigyo.analysis.process.process_map import ProcessMap, process_map
from eigyo.app._findings_scope import audience, visible_findings
from eigyo.app._metric_records import population as metric_population
from eigyo.app._scope import SCOPED_TABLES, ScopedWorkspace
from eigyo.base.currency import DEFAULT_CURRENCY
from eigyo.base.periods import Period, fiscal_year_of, parse_period
from eigyo.diagnose import Finding, diagnose
from eigyo.diagnose.model import SEVERITY_RANK, STEPS
from eigyo.errors import InputError
from eigyo.metrics import (
    REGISTRY,
    MetricValue,
    compute,
    format_metric,
)
from eigyo.report import (
    Chart,
    FindingView,
    HeadlineView,
    KpiTile,
    ReportInput,
    ReportModel,
    TileView,
    document,
    headline_view,
    process_map_chart,
    report_model,
)
from eigyo.runbook import kpi_tiles
from eigyo.schema import table as schema_table

#: Most records one drill-down or record list returns (the API pages with ``offset``).
MAX_ROWS = 500
#: Most rows one CSV export holds.
EXPORT_ROWS = 1_000_000


def default_period(ws: ScopedWorkspace) -> str:
    """The fiscal year of the latest closed deal the person can see, else of the day their data
    reaches (:func:`~eigyo.analysis.common.data_end`); today only for a workspace without data."""
    t = ws.table("opportunities")
    latest = t.closed_at.max().to_pyarrow().as_py()
    day = latest.date() if isinstance(latest, datetime) else data_end(ws) or date.today()
    return f"FY{fiscal_year_of(day, ws.settings.fiscal_year_start_month)}"


def period_of(ws: ScopedWorkspace, label: str | None) -> Period:
    """Parse a period label with the workspace's fiscal year (InputError says what is allowed);
    the relative forms (今期, last-month) count from today in the workspace's time zone."""
    today = datetime.now(ws.settings.tz).date()
    return parse_period(
        label or default_period(ws), ws.settings.fiscal_year_start_month, today=today
    )


def diagnosis(ws: ScopedWorkspace, period: Period) -> list[Finding]:
    """The organization's diagnosis (``eigyo diagnose``'s findings), whoever asks: the same for
    every user, so the app computes it once per period and data version and shares it."""
    return diagnose(ws.base, period)


def findings(
    ws: ScopedWorkspace, period: Period, whole: list[Finding] | None = None
) -> list[Finding]:
    """The findings the person may read: the organization's diagnosis (``whole``, else computed
    here), filtered and redacted to their scope by :mod:`eigyo.app._findings_scope`. Why not
    diagnose the scoped rows: a manager's team would be compared only with itself (no team
    finding could ever fire), a rep's deals would be labelled as the team's, and checks reading
    admin-only records would say "no problem found". An admin's are ``eigyo diagnose``'s."""
    found = diagnosis(ws, period) if whole is None else whole
    return visible_findings(found, audience(ws))


@dataclass(frozen=True)
class Overview:
    tiles: list[TileView]
    top: list[FindingView]
    steps: list[tuple[str, int]]  # (step, warnings and errors)
    counts: dict[str, int]
    headline: HeadlineView | None = None


def _model(
    ws: ScopedWorkspace,
    period: Period,
    found: list[Finding],
    lang: str,
    *,
    kpis: list[KpiTile] | None = None,
    steps: tuple[str, ...] = (),
    with_headline: bool = False,
) -> ReportModel:
    """The report model of what one page shows: the KPI tiles given, the findings, and the
    charts of ``steps`` (the report's own builders, on the person's rows)."""
    inp = ReportInput(
        company=ws.settings.name,
        period=period,
        generated_at=datetime.now(),
        kpis=kpis or [],
        findings=found,
        currency=ws.settings.currency,
    )
    return report_model(
        ws, inp, lang, formats=("html",) if steps else (), steps=steps, with_headline=with_headline
    )


def overview(ws: ScopedWorkspace, period: Period, found: list[Finding], lang: str) -> Overview:
    """Page one of the report (headline, KPI tiles, top findings) and the alarms per step."""
    model = _model(ws, period, found, lang, kpis=kpi_tiles(ws, period), with_headline=True)
    doc = document(model)
    alarms = [f for f in found if SEVERITY_RANK[f.severity] >= SEVERITY_RANK["warn"]]
    steps = [(s, sum(f.step == s for f in alarms)) for s in STEPS]
    counts = {n: ws.count(n) for n in ("reps", "opportunities", "leads", "activities")}
    hl = (
        None
        if model.headline is None
        else headline_view(model.headline, lang, ws.settings.currency)
    )
    return Overview(tiles=doc.tiles, top=doc.summary, steps=steps, counts=counts, headline=hl)


def step_view(
    ws: ScopedWorkspace, period: Period, step: str, found: list[Finding], lang: str
) -> tuple[list[FindingView], list[Chart]]:
    """One runbook step: the report's section of it, i.e. its findings (most important first)
    and its charts. Findings are formatted without KPI units, as the page shows no tiles."""
    if step not in STEPS:
        raise InputError(f"Unknown step {step!r}. Use one of: {', '.join(STEPS)}.")
    section = _model(ws, period, found, lang, steps=(step,)).section(step)
    assert section is not None  # the model was built with this step's section
    return section.findings, section.charts


def metric_rows(
    ws: ScopedWorkspace, period: Period, metric_ids: list[str] | None, by: str | None
) -> list[MetricValue]:
    """The metrics explorer's values: the registry's :func:`compute` on the scoped data."""
    return compute(ws, period, metric_ids or None, by or None)


def explorer_table(
    values: list[MetricValue], lang: str, currency: str = DEFAULT_CURRENCY
) -> list[dict[str, Any]]:
    """Rows for the explorer table: label, group, formatted value (「データなし（理由）」 when
    the metric is not available) and what drill-down needs."""
    out = []
    for v in values:
        m = REGISTRY[v.id]
        group = next(iter(v.by.values()), "")
        out.append(
            {
                "id": v.id,
                "label": m.label(lang),
                "definition": m.definition(lang),
                "group": group,
                "value": format_metric(v, lang, currency),
                "available": v.value is not None,
                "drill": drill_population(v.id) is not None,
            }
        )
    return out


def drill_population(metric_id: str) -> str | None:
    """The population a metric's drill-down lists, as its registry declaration says."""
    m = REGISTRY.get(metric_id)
    return None if m is None else m.drill_population


def drill_records(
    ws: ScopedWorkspace,
    period: Period,
    metric_id: str,
    by: str | None = None,
    group: str | None = None,
    limit: int = MAX_ROWS,
) -> dict[str, Any]:
    """The records behind one metric value, as stored (the API's drill-down): its population in
    the period and the group, by the one definition of :func:`eigyo.app._metric_records.population`
    that the dashboard's records pages read too."""
    base, t, period = metric_population(ws, period, metric_id, by, group)
    return {"table": base, "metric": metric_id, "period": period.label, **_rows(t, limit, 0)}


def records(
    ws: ScopedWorkspace,
    name: str,
    filters: dict[str, str],
    limit: int = 100,
    offset: int = 0,
) -> dict[str, Any]:
    """Rows of one canonical table the person may see, filtered by column equality."""
    if name not in SCOPED_TABLES:
        raise InputError(f"Unknown table {name!r}. Use one of: {', '.join(SCOPED_TABLES)}.")
    t = ws.table(name)
    for col, value in filters.items():
        if col not in t.columns:
            raise InputError(
                f"Column {col!r} is not in table {name!r}. Existing columns: "
                + ", ".join(t.columns)
            )
        t = t.filter(t[col].cast("string") == value)
    return {"table": name, **_rows(t, limit, offset)}


def record(ws: ScopedWorkspace, name: str, record_id: str) -> dict[str, Any] | None:
    """One record by its id (tables with a one-column key), or None when not visible."""
    key = schema_table(name).key if name in SCOPED_TABLES else ()
    if len(key) != 1:
        raise InputError(f"Table {name!r} has no single id column.")
    rows = records(ws, name, {key[0]: record_id}, limit=1)["rows"]
    return rows[0] if rows else None


def _rows(t: ir.Table, limit: int, offset: int) -> dict[str, Any]:
    total = int(t.count().to_pyarrow().as_py())
    order = [c for c in t.columns if c.endswith("_id")][:1] or [t.columns[0]]
    page = t.order_by(order).limit(limit, offset=offset).to_pyarrow().to_pylist()
    return {"columns": list(t.columns), "rows": [_plain(r) for r in page], "total": total}


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date | datetime) else v for k, v in row.items()}


def process(ws: ScopedWorkspace, period: Period | None, lang: str) -> tuple[ProcessMap, Chart]:
    """The process map of ``eigyo process`` (its step document) and the report's Sankey chart
    of it; without stage history the map is empty, as the chart says why."""
    doc = process_document(ws, period, period.label if period else None)
    pm = doc.source if isinstance(doc.source, ProcessMap) else process_map(ws, period)
    chart_period = period or period_of(ws, None)
    return pm, process_map_chart(ws, chart_period, lang)
