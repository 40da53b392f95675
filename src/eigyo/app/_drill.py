"""The records behind a metric value, in the dashboard: ``/metrics/<id>/records`` and its exports.

Every KPI tile of the overview, every row of the metrics explorer and every bar of a step
page's charts (:mod:`eigyo.app._chart_links`) links here with the metric, the period, the
grouping and the group, and the view's filters (team, rep, product, segment) — so the list is
exactly the population the number was computed from (:mod:`eigyo.app._metric_records`), read
through the person's scope. The page shows :data:`PAGE_ROWS` records at a time; the CSV (formula
-neutralized, :mod:`eigyo.base.csv_safe`) and Excel (typed cells, every text a string) exports
hold every record the person may see, with the CRM link columns when ``[crm]`` configures them.
"""

from __future__ import annotations

import csv
import io
import math
from datetime import date, datetime
from typing import Annotated
from urllib.parse import urlencode

import xlsxwriter
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from eigyo.app import _metric_records as mr
from eigyo.app import _views as views
from eigyo.app._filters import VIEW_PARAMS, ViewFilter, filtered
from eigyo.app._findings_filter import chosen
from eigyo.app._forecast_export import MONEY_COLUMNS as FORECAST_MONEY
from eigyo.app._web import PageUser, lang_of, render, scoped_ws
from eigyo.base.csv_safe import safe_cell
from eigyo.base.currency import currency
from eigyo.base.formatting import format_value
from eigyo.base.vocabulary import DASH
from eigyo.diagnose import behind
from eigyo.errors import InputError
from eigyo.i18n import catalogue, t
from eigyo.metrics import NONE_GROUP, REGISTRY

router = APIRouter(include_in_schema=False)
Text = Annotated[str | None, Query(max_length=200)]
#: Records one page shows (the exports hold them all).
PAGE_ROWS = 100
#: Most records one export holds.
EXPORT_ROWS = views.EXPORT_ROWS
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: The unit an Excel export formats each numeric column in: the records' own
#: (:data:`eigyo.app._metric_records.UNITS`) and the money columns of the other lists written
#: through :func:`records_download` (the forecast roll-up's yen per category and landings).
UNITS: dict[str, str] = {**mr.UNITS, **dict.fromkeys(FORECAST_MONEY, "yen")}


def records_url(metric: str, query: dict[str, str], by: str | None = None,
                group: str | None = None, suffix: str = "") -> str:  # fmt: skip
    """The link to a metric's records (``suffix``: ``.csv``/``.xlsx`` for the exports), keeping
    the view (period and filters) of ``query``."""
    params = [(k, query[k]) for k in VIEW_PARAMS if query.get(k)]
    if by:
        params += [("by", by), ("group", group or "")]
    return f"/metrics/{metric}/records{suffix}?{urlencode(params)}"


def _records(
    request: Request, s: PageUser, metric: str, period: str | None, by: str | None,
    group: str | None, limit: int, offset: int,
) -> tuple[mr.MetricRecords, str]:  # fmt: skip
    """The records of the person's workspace narrowed to the URL's filters, and the currency."""
    ws = filtered(scoped_ws(request, s), ViewFilter.from_query(request.query_params))
    p = views.period_of(ws, period)
    rec = mr.metric_records(ws, p, metric, by or None, group, limit, offset)
    return rec, ws.settings.currency


def cells(rec: mr.MetricRecords, lang: str, money: str) -> list[list[tuple[str, str | None]]]:
    """Each row's cells as (text, link): amounts with the currency, dates to the minute, the
    CRM columns as links."""
    out = []
    for r in rec.rows:
        row = []
        for c in rec.columns:
            v = r.get(c)
            if c in mr.CRM_COLUMNS:
                row.append((t("drill.open_crm", lang) if v else DASH, v))
            else:
                row.append((_cell(c, v, lang, money), None))
        out.append(row)
    return out


def _cell(column: str, value: object, lang: str, money: str) -> str:
    if column == "duration_minutes" and isinstance(value, int | float):
        return format_value(float(value), "minutes", lang, money)
    if column in ("type", "category") and isinstance(value, str):  # activity and time codes
        key = f"drill.value.{column}.{value}"
        if key in catalogue():
            return t(key, lang)
    return behind.cell(column, value, lang, money)


def chosen_filters(request: Request, s: PageUser, lang: str) -> list[tuple[str, str]]:
    """The filters that apply, ``(name, value)`` in the reader's language, a rep by name."""
    f = ViewFilter.from_query(request.query_params)
    names: dict[str, str] = {}
    if f.rep:
        reps = scoped_ws(request, s).table("reps")
        rows = reps.filter(reps.rep_id == f.rep).select("name").to_pyarrow().to_pylist()
        names = {f.rep: str(rows[0]["name"])} if rows and rows[0]["name"] else {}
    return [(t(f"app.filter.{k}", lang), v) for k, v in chosen(f, names)]


def _heading(rec: mr.MetricRecords, lang: str) -> str:
    m = REGISTRY[rec.metric]
    if rec.by:
        group = t("report.common.none", lang) if rec.group in (None, "", NONE_GROUP) else rec.group
        return t("drill.heading_group", lang, metric=m.label(lang),
                 dim=t(f"app.dim.{rec.by}", lang), group=group)  # fmt: skip
    return t("drill.heading", lang, metric=m.label(lang))


@router.get("/metrics/{metric}/records", response_class=HTMLResponse)
def metric_records_page(
    request: Request, s: PageUser, metric: str, period: Text = None, by: Text = None,
    group: Text = None, offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> HTMLResponse:  # fmt: skip
    """The records behind one metric value, a page at a time, with the exports."""
    lang = lang_of(request)
    try:
        rec, money = _records(request, s, metric, period, by, group, PAGE_ROWS, offset)
    except InputError as e:
        return render(request, "error.html.j2", s, 400, message=e.localized(lang))
    q = dict(request.query_params)
    q["period"] = rec.period.label
    here = records_url(metric, q, by or None, group)
    return render(
        request, "metric_records.html.j2", s,
        rec=rec, period=rec.period, heading=_heading(rec, lang),
        definition=REGISTRY[metric].definition(lang),
        heads=[mr.label(c, lang) for c in rec.columns],
        cells=cells(rec, lang, money),
        numeric=[c in mr.UNITS for c in rec.columns],
        csv_url=records_url(metric, q, by or None, group, ".csv"),
        xlsx_url=records_url(metric, q, by or None, group, ".xlsx"),
        prev_url=f"{here}&offset={max(offset - PAGE_ROWS, 0)}" if offset > 0 else None,
        next_url=f"{here}&offset={offset + PAGE_ROWS}" if offset + PAGE_ROWS < rec.total else None,
        last=min(offset + PAGE_ROWS, rec.total),
        filters=chosen_filters(request, s, lang),
    )  # fmt: skip


def _csv_value(column: str, value: object) -> object:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        if mr.UNITS.get(column) in ("days", "hours", "minutes"):
            return round(value, 1)
        return int(value) if value.is_integer() else value
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return value


def records_csv(rec: mr.MetricRecords, lang: str) -> str:
    """The records as CSV for Excel: a BOM, the header in ``lang``, numbers as numbers, and
    every text cell formula-safe (a name typed into the CRM as ``=HYPERLINK(…)`` stays text)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([safe_cell(mr.label(c, lang)) for c in rec.columns])
    for r in rec.rows:
        w.writerow([safe_cell(_csv_value(c, r.get(c))) for c in rec.columns])
    return "\ufeff" + buf.getvalue()


def records_xlsx(rec: mr.MetricRecords, lang: str, money: str) -> bytes:
    """The records as a workbook: typed numbers and dates, amounts in the currency's format,
    every text written as a string (never a formula), the CRM columns as plain URL text."""
    buf = io.BytesIO()
    options = {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
               "strings_to_numbers": False}  # fmt: skip
    wb = xlsxwriter.Workbook(buf, options)
    ws = wb.add_worksheet(rec.metric[:31])
    head = wb.add_format({"bold": True, "bg_color": "#E8EEF4", "border": 1})
    formats = {"yen": currency(money).excel_format(), "days": "0.0", "hours": "0.0",
               "minutes": "0", "ratio": "0.0%"}  # fmt: skip
    fmt = {unit: wb.add_format({"num_format": f}) for unit, f in formats.items()}
    stamp = wb.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    day = wb.add_format({"num_format": "yyyy-mm-dd"})
    for c, col in enumerate(rec.columns):
        ws.write_string(0, c, mr.label(col, lang), head)
        ws.set_column(c, c, 28 if col in ("account_name",) or col in mr.CRM_COLUMNS else 14)
    for r, row in enumerate(rec.rows, start=1):
        for c, col in enumerate(rec.columns):
            v = row.get(col)
            if v is None or (isinstance(v, float) and math.isnan(v)):
                continue
            if isinstance(v, datetime):
                ws.write_datetime(r, c, v, stamp)
            elif isinstance(v, date):
                ws.write_datetime(r, c, datetime(v.year, v.month, v.day), day)
            elif isinstance(v, int | float) and not isinstance(v, bool):
                unit = UNITS.get(col)
                ws.write_number(r, c, float(v), fmt.get(unit or ""))
            else:
                ws.write_string(r, c, str(v))
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(len(rec.rows), 1), max(len(rec.columns) - 1, 0))
    wb.close()
    return buf.getvalue()


def _export(request: Request, s: PageUser, metric: str, period: str | None, by: str | None,
            group: str | None, ext: str) -> Response:  # fmt: skip
    lang = lang_of(request)
    try:
        rec, money = _records(request, s, metric, period, by, group, EXPORT_ROWS, 0)
    except InputError as e:
        return render(request, "error.html.j2", s, 400, message=e.localized(lang))
    return records_download(rec, lang, money, metric, ext)


def records_download(rec: mr.MetricRecords, lang: str, money: str, stem: str, ext: str) -> Response:
    """A page of records as a CSV (``ext == "csv"``) or Excel attachment named
    ``<stem>-<period>.<ext>``: the one download of every records view (tiles, bars)."""
    if ext == "csv":
        body, media = records_csv(rec, lang).encode("utf-8"), "text/csv; charset=utf-8"
    else:
        body, media = records_xlsx(rec, lang, money), _XLSX
    name = f"{stem}-{rec.period.label}.{ext}"
    return Response(body, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})  # fmt: skip


@router.get("/metrics/{metric}/records.csv", response_class=Response)
def metric_records_csv(request: Request, s: PageUser, metric: str, period: Text = None,
                       by: Text = None, group: Text = None) -> Response:  # fmt: skip
    """Every record behind the value the person may see, as CSV for Excel (formula-safe)."""
    return _export(request, s, metric, period, by, group, "csv")


@router.get("/metrics/{metric}/records.xlsx", response_class=Response)
def metric_records_xlsx(request: Request, s: PageUser, metric: str, period: Text = None,
                        by: Text = None, group: Text = None) -> Response:  # fmt: skip
    """Every record behind the value the person may see, as an Excel workbook (typed cells)."""
    return _export(request, s, metric, period, by, group, "xlsx")


def tile_links(metric_ids: list[str], query: dict[str, str]) -> dict[str, str]:
    """The records link of each metric that has a record list (the overview's tiles)."""
    return {
        m: records_url(m, query)
        for m in metric_ids
        if m in REGISTRY and REGISTRY[m].drill_population is not None
    }
