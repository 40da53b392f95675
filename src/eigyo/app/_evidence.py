"""The records behind a finding, in the dashboard: ``/findings/<id>`` and its CSV and Excel.

A finding on a page links here (``/findings/<id>?period=P``). The finding is looked up among the
findings the person may read (:func:`eigyo.app._web.scoped_findings`: a finding outside their
scope is "not found", never told apart from one that does not exist), and its records are
read through the request's :class:`~eigyo.app._scope.ScopedWorkspace` — ``ws.table`` holds only
the person's rows — so a manager opening an organization-wide finding (the idle deals of the
whole company) sees the idle deals of their own team and no one else's. The page shows
:data:`PAGE_ROWS` records at a time with the columns' human names and formatted values; the
exports hold every record the person may see (formula-safe CSV, typed Excel cells), with the
record's CRM link when ``[crm]`` configures one (:func:`~eigyo.app._metric_records.finding_links`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from eigyo.app import _views as views
from eigyo.app._metric_records import CRM_COLUMNS, finding_links
from eigyo.app._scope import ScopedWorkspace
from eigyo.app._web import PageUser, lang_of, render, scoped_findings, scoped_ws
from eigyo.base.periods import Period
from eigyo.diagnose import Finding
from eigyo.diagnose.behind import FLAGS
from eigyo.errors import InputError
from eigyo.i18n import t
from eigyo.report.evidence import (
    csv_text,
    headers,
    overlap_links,
    reason_text,
    record_list,
    shown_rows,
)
from eigyo.report.xlsx import records_xlsx

router = APIRouter(include_in_schema=False)
Text = Annotated[str | None, Query(max_length=200)]
#: Records one page shows (the exports hold them all).
PAGE_ROWS = 100
#: Most records one export holds (the API's CSV export's limit).
EXPORT_ROWS = views.EXPORT_ROWS
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _finding(
    request: Request, s: PageUser, finding_id: str, period: str | None
) -> tuple[ScopedWorkspace, Period, Finding | None, list[Finding]]:
    """The person's workspace and period, and the finding with this id among the findings
    they may read (None: unknown or outside their scope, told apart by no one)."""
    ws = scoped_ws(request, s)
    try:
        p = views.period_of(ws, period)
    except InputError:
        p = views.period_of(ws, None)
    found = scoped_findings(request, s, ws, p)
    return ws, p, next((f for f in found if f.id == finding_id), None), found


def _not_found(request: Request, s: PageUser) -> HTMLResponse:
    return render(
        request, "error.html.j2", s, 404, message=t("app.error.not_found", lang_of(request))
    )


@router.get("/findings/{finding_id}", response_class=HTMLResponse)
def finding_records(
    request: Request,
    s: PageUser,
    finding_id: str,
    period: Text = None,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> HTMLResponse:
    """One finding and the records behind it, a page at a time, with the exports."""
    ws, p, f, found = _finding(request, s, finding_id, period)
    if f is None:
        return _not_found(request, s)
    lang = lang_of(request)
    rl = finding_links(record_list(ws, p, f, PAGE_ROWS, offset), ws.settings.crm)
    return render(
        request,
        "finding_records.html.j2",
        s,
        period=p,
        error=None,
        f=f,
        title=f.title.get(lang) or f.check,
        rl=rl,
        reason=None if rl.reason is None else reason_text(rl, lang),
        heads=headers(rl.columns, lang),
        cells=shown_rows(rl, lang, ws.settings.currency),
        links=[c in CRM_COLUMNS for c in rl.columns],
        numeric=[c not in FLAGS and isinstance(rl.rows[0].get(c), int | float) if rl.rows
                 else False for c in rl.columns],
        overlaps=overlap_links(f, found, lang),
        prev_offset=max(offset - PAGE_ROWS, 0) if offset > 0 else None,
        next_offset=offset + PAGE_ROWS if offset + PAGE_ROWS < rl.total else None,
        last=min(offset + PAGE_ROWS, rl.total),
    )  # fmt: skip


def _records_file(
    request: Request, s: PageUser, finding_id: str, period: Text, ext: str
) -> Response:
    """The finding's records the person may see as one download, CSV or Excel."""
    ws, p, f, _ = _finding(request, s, finding_id, period)
    if f is None:
        return _not_found(request, s)
    rl = finding_links(record_list(ws, p, f, EXPORT_ROWS), ws.settings.crm)
    if ext == "csv":
        body, media = csv_text(rl, lang_of(request)).encode("utf-8"), "text/csv; charset=utf-8"
    else:
        body, media = records_xlsx([rl], lang_of(request), ws.settings.currency), _XLSX
    name = f"{rl.finding.id}.{ext}"
    return Response(
        body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@router.get("/findings/{finding_id}/records.csv", response_class=Response)
def finding_records_csv(
    request: Request, s: PageUser, finding_id: str, period: Text = None
) -> Response:
    """Every record of the finding the person may see, as CSV for Excel (formula-safe)."""
    return _records_file(request, s, finding_id, period, "csv")


@router.get("/findings/{finding_id}/records.xlsx", response_class=Response)
def finding_records_xlsx(
    request: Request, s: PageUser, finding_id: str, period: Text = None
) -> Response:
    """Every record of the finding the person may see, as an Excel workbook (typed cells)."""
    return _records_file(request, s, finding_id, period, "xlsx")
