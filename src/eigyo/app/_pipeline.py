"""The pipeline review page (``/pipeline``): open deals with risk flags, what changed since a day.

What a sales manager runs the Monday meeting from. The deals and flags come from
:mod:`eigyo.analysis.process.review` (the same facts as the diagnosis: days idle, close-date
pushes, stage entries), read through the person's scope and the URL's filters
(:mod:`eigyo.app._filters`), so a manager never sees another team's deal here or in the exports.
The review day is the day the data reaches (:func:`~eigyo.analysis.common.data_end`), never
today: an export from last month is reviewed as of its own last day. CSV (formula-safe, for
Excel) and Excel exports hold every open deal of the view.
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from eigyo.analysis.common import data_end
from eigyo.analysis.process.review import (
    FLAGS,
    IDLE_DAYS,
    STUCK_DAYS,
    changes_since,
    open_amount,
    open_deals_review,
)
from eigyo.app._drill import UNITS
from eigyo.app._filters import ViewFilter, filtered
from eigyo.app._scope import ScopedWorkspace
from eigyo.app._web import PageUser, lang_of, render, scoped_ws
from eigyo.base.csv_safe import safe_cell
from eigyo.base.currency import currency
from eigyo.diagnose.behind import cell, label
from eigyo.i18n import t

router = APIRouter(include_in_schema=False)
Text = Annotated[str | None, Query(max_length=200)]
Days = Annotated[int, Query(ge=1, le=3650)]
#: The columns of the open-deal table and its exports, in order.
COLUMNS: tuple[str, ...] = (
    "opportunity_id", "rep_name", "team", "stage", "amount",
    "expected_close_date", "days_in_stage", "idle_days", "pushes",
)  # fmt: skip
#: Deals one page lists (the exports hold them all).
PAGE_ROWS = 200


def _ws(request: Request, s: PageUser) -> ScopedWorkspace:
    return filtered(scoped_ws(request, s), ViewFilter.from_query(request.query_params))


def _since(text: str | None, as_of: date) -> tuple[date, str | None]:
    """The "changed since" day from the URL (a week before the review day when not given)."""
    if not text:
        return as_of - timedelta(days=7), None
    try:
        return date.fromisoformat(text), None
    except ValueError:
        return as_of - timedelta(days=7), "bad"


def header(column: str, lang: str) -> str:
    key = f"app.pipeline.col.{column}"
    return t(key, lang) if column in ("days_in_stage", "pushes") else label(column, lang)


def cell_text(column: str, value: Any, lang: str, currency: str) -> str:
    """One cell of the deal tables as a person reads it (days in stage with the day unit)."""
    if column == "days_in_stage" and isinstance(value, int | float):
        return cell("idle_days", value, lang, currency)  # days, with the unit word
    return cell(column, value, lang, currency)


@router.get("/pipeline", response_class=HTMLResponse)
def pipeline_page(
    request: Request,
    s: PageUser,
    since: Text = None,
    idle: Days = IDLE_DAYS,
    stuck: Days = STUCK_DAYS,
) -> HTMLResponse:
    """Open deals as of the data's last day with their flags, and the changes since ``since``."""
    ws, lang = _ws(request, s), lang_of(request)
    as_of = data_end(ws)
    if as_of is None:
        return render(request, "pipeline.html.j2", s, as_of=None, deals=[], changes=[],
                      error=None, since=None, idle=idle, stuck=stuck)  # fmt: skip
    day, bad = _since(since, as_of)
    deals = open_deals_review(ws, as_of, stuck_days=stuck, idle_days=idle)
    cur, crm = ws.settings.currency, ws.settings.crm
    rows = [{"cells": [cell_text(c, d.get(c), lang, cur) for c in COLUMNS], "flags": d["flags"],
             "id": d["opportunity_id"], "crm": crm.url("opportunity", d["opportunity_id"])}
            for d in deals[:PAGE_ROWS]]  # fmt: skip
    changes = [{**c, "amount_text": cell_text("amount", c["amount"], lang, cur),
                "before_text": cell_text("amount", c["amount_before"], lang, cur),
                "crm": crm.url("opportunity", c["opportunity_id"])}
               for c in changes_since(ws, day, as_of)]  # fmt: skip
    counts = {f: sum(f in d["flags"] for d in deals) for f in FLAGS}
    value = open_amount(deals)
    value["text"] = cell_text("amount", value["amount"], lang, cur)
    return render(request, "pipeline.html.j2", s, as_of=as_of, since=day, idle=idle,
                  stuck=stuck, heads=[header(c, lang) for c in COLUMNS], rows=rows,
                  total=len(deals), counts=counts, changes=changes, value=value,
                  chosen=ViewFilter.from_query(request.query_params),
                  error=t("app.pipeline.bad_since", lang) if bad else None)  # fmt: skip


def _export_rows(
    request: Request, s: PageUser, idle: int, stuck: int
) -> tuple[list[dict[str, Any]], bool]:
    """The view's open deals with their flags, and whether they carry a CRM link column
    (``crm_url``: only when ``[crm] opportunity_url`` is configured)."""
    ws = _ws(request, s)
    as_of = data_end(ws)
    if as_of is None:
        return [], False
    deals = open_deals_review(ws, as_of, stuck_days=stuck, idle_days=idle)
    crm = ws.settings.crm
    linked = crm.template("opportunity") is not None
    if linked:
        deals = [{**d, "crm_url": crm.url("opportunity", d["opportunity_id"])} for d in deals]
    return deals, linked


def _columns(linked: bool) -> list[str]:
    """The export's value columns: the page's, the flags, then the CRM link when configured."""
    return [*COLUMNS, *FLAGS, *(["crm_url"] if linked else [])]


def _heads(lang: str, linked: bool = False) -> list[str]:
    return [
        *(header(c, lang) for c in COLUMNS),
        *(t(f"app.pipeline.flag.{f}", lang) for f in FLAGS),
        *([label("crm_url", lang)] if linked else []),
    ]


def _plain(v: Any) -> Any:
    """A CSV cell: blank for nothing, whole amounts without ".0" (730000, not 730000.0)."""
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def _attachment(body: bytes, media: str, name: str) -> Response:
    return Response(
        body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@router.get("/pipeline.csv", response_class=Response)
def pipeline_csv(
    request: Request, s: PageUser, idle: Days = IDLE_DAYS, stuck: Days = STUCK_DAYS
) -> Response:
    """Every open deal of the view with its flags, as CSV for Excel (a BOM, formula-safe)."""
    lang = lang_of(request)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    deals, linked = _export_rows(request, s, idle, stuck)
    w.writerow([safe_cell(h) for h in _heads(lang, linked)])
    for d in deals:
        w.writerow([safe_cell(_plain(d.get(c))) for c in _columns(linked)])
    body = ("\ufeff" + buf.getvalue()).encode("utf-8")
    return _attachment(body, "text/csv; charset=utf-8", "pipeline.csv")


@router.get("/pipeline.xlsx", response_class=Response)
def pipeline_xlsx(
    request: Request, s: PageUser, idle: Days = IDLE_DAYS, stuck: Days = STUCK_DAYS
) -> Response:
    """Every open deal of the view with its flags, as an Excel sheet with typed cells (amounts
    in the currency's number format, as every records export writes them)."""
    import xlsxwriter

    lang = lang_of(request)
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False,
                                   "strings_to_urls": False})  # fmt: skip
    sheet = wb.add_worksheet(t("app.pipeline.title", lang)[:31])
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    yen = wb.add_format({"num_format": currency(_ws(request, s).settings.currency).excel_format()})
    deals, linked = _export_rows(request, s, idle, stuck)
    sheet.write_row(0, 0, _heads(lang, linked))
    columns = _columns(linked)
    for i, d in enumerate(deals, start=1):
        for j, (c, v) in enumerate((c, d.get(c)) for c in columns):
            if isinstance(v, date):
                sheet.write_datetime(i, j, v, date_fmt)
            elif isinstance(v, int | float) and UNITS.get(c) == "yen":
                sheet.write_number(i, j, v, yen)
            elif v is not None:
                sheet.write(i, j, v)
    wb.close()
    media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return _attachment(buf.getvalue(), media, "pipeline.xlsx")
