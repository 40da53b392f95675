"""The records behind a chart bar drawn from a diagnosis sample rather than from a metric.

Some bars of the step pages are not a registry metric: a closer's median days from an SDR's
hand-off to the first meeting (``handoff-days``), the win rate of a team's new reps without
onboarding (``new-rep-win-rate``). Each is computed by the step's ``chart_data`` from the sample
its check tests (:data:`eigyo.diagnose.context.SAMPLES`), so the bar's records are that sample's
rows of the bar's group (:func:`eigyo.diagnose.behind.sample_records`), read through the
person's scoped and filtered workspace — the rows the bar was computed from. The page, the CSV
and the Excel are the metric records' (:mod:`eigyo.app._drill`), CRM links included.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from eigyo.app import _metric_records as mr
from eigyo.app import _views as views
from eigyo.app._drill import PAGE_ROWS, cells, chosen_filters, records_download
from eigyo.app._filters import VIEW_PARAMS, ViewFilter, filtered
from eigyo.app._scope import ScopedWorkspace
from eigyo.app._web import PageUser, lang_of, render, scoped_ws
from eigyo.diagnose import behind
from eigyo.errors import InputError
from eigyo.i18n import t

router = APIRouter(include_in_schema=False)
Text = Annotated[str | None, Query(max_length=200)]


@dataclass(frozen=True)
class SampleBar:
    """A bar chart drawn from a sample: the sample, the column a bar is a value of (a rep is
    named on the chart, so a rep's bar is found by name or id), the bar trace's fixed values,
    and the chart's title key."""

    sample: str
    column: str
    title: str
    fixed: dict[str, object] = field(default_factory=dict)


#: Chart id → how its bars map to sample rows.
SAMPLE_BARS: dict[str, SampleBar] = {
    "handoff-days": SampleBar("handoffs", "rep_id", "report.chart.handoff.title"),
    "new-rep-win-rate": SampleBar(
        "new_rep_deals", "team", "report.chart.new_rep_win.title", {"trained": 0}
    ),
}


def bar_url(chart: str, query: dict[str, str], group: str, suffix: str = "") -> str:
    """The link to one bar's records (``suffix``: ``.csv``/``.xlsx``), keeping the view."""
    params = [(k, query[k]) for k in VIEW_PARAMS if query.get(k)] + [("group", group)]
    return f"/charts/{chart}/records{suffix}?{urlencode(params)}"


def _group_value(ws: ScopedWorkspace, bar: SampleBar, group: str) -> str:
    """The sample's value of a bar: a rep's bar is labelled with the rep's name."""
    if bar.column != "rep_id":
        return group
    reps = ws.table("reps")
    hit = reps.filter((reps.name == group) | (reps.rep_id == group)).select("rep_id")
    rows = hit.order_by("rep_id").limit(1).to_pyarrow().to_pylist()
    return str(rows[0]["rep_id"]) if rows else group


def bar_records(
    request: Request, s: PageUser, chart: str, period: str | None, group: str,
    limit: int, offset: int,
) -> tuple[mr.MetricRecords, str]:  # fmt: skip
    """One page of a bar's records and the workspace currency."""
    bar = SAMPLE_BARS.get(chart)
    if bar is None:
        known = ", ".join(SAMPLE_BARS)
        raise InputError(f"Chart {chart!r} has no bar records. Use one of: {known}.")
    ws = filtered(scoped_ws(request, s), ViewFilter.from_query(request.query_params))
    p = views.period_of(ws, period)
    where = {**bar.fixed, bar.column: _group_value(ws, bar, group)}
    table, order = behind.sample_records(ws, p, bar.sample, where)
    rows, total = behind.page_counted(table, order, limit, offset)
    crm = ws.settings.crm
    links = [
        name
        for name, (kind, col) in mr.CRM_COLUMNS.items()
        if crm.template(kind) and col in table.columns
    ]
    rows = mr.with_links(rows, links, crm)
    columns = [*table.columns, *links]
    rec = mr.MetricRecords(chart, bar.sample, p, bar.column, group, columns, rows, total, offset)
    return rec, ws.settings.currency


@router.get("/charts/{chart}/records", response_class=HTMLResponse)
def bar_records_page(
    request: Request, s: PageUser, chart: str, period: Text = None, group: Text = None,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> HTMLResponse:  # fmt: skip
    """One bar's records, a page at a time, with the exports."""
    lang = lang_of(request)
    try:
        rec, money = bar_records(request, s, chart, period, group or "", PAGE_ROWS, offset)
    except InputError as e:
        return render(request, "error.html.j2", s, 400, message=e.localized(lang))
    q = {**request.query_params, "period": rec.period.label}
    here = bar_url(chart, q, group or "")
    title = t(SAMPLE_BARS[chart].title, lang)
    return render(
        request, "metric_records.html.j2", s,
        rec=rec, period=rec.period, definition=title,
        heading=t("drill.bar_heading", lang, chart=title, group=group or ""),
        heads=[mr.label(c, lang) for c in rec.columns],
        cells=cells(rec, lang, money),
        numeric=[c in mr.UNITS for c in rec.columns],
        csv_url=bar_url(chart, q, group or "", ".csv"),
        xlsx_url=bar_url(chart, q, group or "", ".xlsx"),
        prev_url=f"{here}&offset={max(offset - PAGE_ROWS, 0)}" if offset > 0 else None,
        next_url=f"{here}&offset={offset + PAGE_ROWS}" if offset + PAGE_ROWS < rec.total else None,
        last=min(offset + PAGE_ROWS, rec.total),
        filters=chosen_filters(request, s, lang),
    )  # fmt: skip


def _export(request: Request, s: PageUser, chart: str, period: str | None, group: str | None,
            ext: str) -> Response:  # fmt: skip
    lang = lang_of(request)
    try:
        rec, money = bar_records(request, s, chart, period, group or "", views.EXPORT_ROWS, 0)
    except InputError as e:
        return render(request, "error.html.j2", s, 400, message=e.localized(lang))
    return records_download(rec, lang, money, chart, ext)


@router.get("/charts/{chart}/records.csv", response_class=Response)
def bar_records_csv(request: Request, s: PageUser, chart: str, period: Text = None,
                    group: Text = None) -> Response:  # fmt: skip
    """Every record of the bar the person may see, as CSV for Excel (formula-safe)."""
    return _export(request, s, chart, period, group, "csv")


@router.get("/charts/{chart}/records.xlsx", response_class=Response)
def bar_records_xlsx(request: Request, s: PageUser, chart: str, period: Text = None,
                     group: Text = None) -> Response:  # fmt: skip
    """Every record of the bar the person may see, as an Excel workbook (typed cells)."""
    return _export(request, s, chart, period, group, "xlsx")
