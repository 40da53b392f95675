"""The JSON API (``/api``): the same scoped data as the pages, described by OpenAPI.

Shapes follow the CLI's JSON contracts (docs/cli-json.md) where one exists — ``/api/metrics``
prints what ``eigyo metrics --format json`` prints, ``/api/findings`` what ``eigyo diagnose``
prints — so a script can move between the two. Every route authenticates through
:data:`ApiUser` and reads through :func:`scoped_ws`; a record outside the caller's scope is
indistinguishable from a record that does not exist (404), so ids cannot be probed.
"""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict

from eigyo.app import _views as views
from eigyo.app._imports import find as find_job
from eigyo.app._imports import job_json
from eigyo.app._web import ApiUser, lang_of, require_role, scoped_findings, scoped_ws, state
from eigyo.base.csv_safe import safe_cell
from eigyo.diagnose.document import findings_document
from eigyo.i18n import t
from eigyo.metrics import DIMENSIONS, REGISTRY


class ErrorOut(BaseModel):
    """Every error of the API: one human-readable message (in the caller's language)."""

    detail: str


def _err(description: str) -> dict[str, Any]:
    return {"model": ErrorOut, "description": description}


#: Errors any route may answer with (declared so the OpenAPI description lists them).
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: _err("The request names a period, metric, table column or filter that does not exist"),
    401: _err("Not signed in (no session cookie, or the session ended)"),
    403: _err("The caller's role may not use this route"),
}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: _err("No such record, or one outside the caller's scope (never told apart)")
}
router = APIRouter(prefix="/api", tags=["api"], responses=_ERRORS)
TableName = Literal[
    "reps", "quotas", "leads", "opportunities", "activities", "time_entries", "trainings",
    "assessments", "stage_history", "opportunity_changes", "accounts", "orders", "interventions",
]  # fmt: skip
IdTable = Literal[
    "reps", "leads", "opportunities", "activities", "accounts", "orders", "interventions"
]
Dim = Literal[DIMENSIONS]  # type: ignore[valid-type]
PeriodQ = Annotated[
    str | None,
    Query(max_length=40, description="2025-04, 2025-Q1 or FY2025 (default: latest FY)"),
]


class Me(BaseModel):
    username: str
    role: str
    rep_id: str | None
    team: str | None


class ReasonOut(BaseModel):
    """Why a metric has no value: ``missing_data`` (with the unmet ``needs``) or
    ``no_records``; ``text`` in the caller's language (docs/metrics.md)."""

    code: Literal["missing_data", "no_records"]
    needs: list[str]
    text: str


class MetricOut(BaseModel):
    id: str
    value: float | None
    unit: str
    by: dict[str, str]
    reason: ReasonOut | None = None


class MetricsOut(BaseModel):
    period: str
    currency: str
    metrics: list[MetricOut]


class RecordsOut(BaseModel):
    table: str
    columns: list[str]
    rows: list[dict[str, Any]]
    total: int
    metric: str | None = None
    period: str | None = None


class FindingsOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    period: str
    findings: list[dict[str, Any]]


class ProcessOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    stages: list[dict[str, Any]]
    transitions: list[dict[str, Any]]
    variants: list[dict[str, Any]]
    opportunities: int


class ImportJobOut(BaseModel):
    id: str
    finished: bool
    step: str
    done: int
    total: int
    report: dict[str, Any] | None
    error: str | None


@router.get("/me", response_model=Me)
def me(s: ApiUser) -> dict[str, Any]:
    """The signed-in user and the scope their data is limited to."""
    return s.user.to_json()


@router.get("/metrics", response_model=MetricsOut)
def metrics(
    request: Request,
    s: ApiUser,
    period: PeriodQ = None,
    by: Dim | None = None,
    metric: Annotated[list[str] | None, Query(max_length=60)] = None,
) -> dict[str, Any]:
    """Metric values on the caller's rows (``eigyo metrics --format json``)."""
    ws = scoped_ws(request, s)
    p = views.period_of(ws, period)
    ids = [m for m in metric or [] if m in REGISTRY]
    if metric and not ids:
        raise HTTPException(400, f"Unknown metric. Known metrics: {', '.join(REGISTRY)}")
    values = views.metric_rows(ws, p, ids, by)
    lang = lang_of(request)
    return {
        "period": p.label,
        "currency": ws.settings.currency,
        "metrics": [v.to_json(lang) for v in values],
    }


@router.get("/metrics/{metric_id}/records", response_model=RecordsOut)
def metric_records(
    request: Request,
    s: ApiUser,
    metric_id: str,
    period: PeriodQ = None,
    by: Dim | None = None,
    group: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    """Drill-down: the records behind one metric value (first 500)."""
    ws = scoped_ws(request, s)
    return views.drill_records(ws, views.period_of(ws, period), metric_id, by, group)


@router.get("/findings", response_model=FindingsOut)
def findings(
    request: Request, s: ApiUser, period: PeriodQ = None, lang: Literal["ja", "en"] | None = None
) -> dict[str, Any]:
    """The diagnosis on the caller's rows (``eigyo diagnose --format json``)."""
    ws = scoped_ws(request, s)
    p = views.period_of(ws, period)
    found = scoped_findings(request, s, ws, p)
    return findings_document(p.label, ws.settings.currency, found, lang or lang_of(request))


@router.get("/process", response_model=ProcessOut)
def process(request: Request, s: ApiUser, period: PeriodQ = None) -> dict[str, Any]:
    """The process map of the caller's opportunities (``eigyo process --format json``)."""
    ws = scoped_ws(request, s)
    p = views.period_of(ws, period) if period else None
    pm, _ = state(request).exclusive(lambda: views.process(ws, p, lang_of(request)))
    return pm.to_json()


def _filters(items: list[str] | None) -> dict[str, str]:
    out = {}
    for item in items or []:
        col, sep, value = item.partition("=")
        if not sep or not col:
            raise HTTPException(400, f"filter {item!r} must be COLUMN=VALUE")
        out[col] = value
    return out


Filters = Annotated[list[str] | None, Query(max_length=200, description="COLUMN=VALUE, repeatable")]


@router.get("/records/{table}", response_model=RecordsOut)
def records(
    request: Request,
    s: ApiUser,
    table: TableName,
    filter: Filters = None,
    limit: Annotated[int, Query(ge=1, le=views.MAX_ROWS)] = 100,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> dict[str, Any]:
    """Rows of one table the caller may see, optionally filtered by column values."""
    return views.records(scoped_ws(request, s), table, _filters(filter), limit, offset)


@router.get("/records/{table}/{record_id}", response_model=dict[str, Any], responses=_NOT_FOUND)
def record(request: Request, s: ApiUser, table: IdTable, record_id: str) -> dict[str, Any]:
    """One record by id; 404 when it does not exist *or* is outside the caller's scope."""
    row = views.record(scoped_ws(request, s), table, record_id)
    if row is None:
        raise HTTPException(404, t("app.error.not_found", lang_of(request)))
    return row


@router.get("/export/{table}", response_class=Response,
            responses={200: {"content": {"text/csv": {}}}})  # fmt: skip
def export(request: Request, s: ApiUser, table: TableName, filter: Filters = None) -> Response:
    """The caller's rows of one table as CSV (UTF-8 with BOM, for Excel); formula-safe cells."""
    ws = scoped_ws(request, s)
    data = views.records(ws, table, _filters(filter), views.EXPORT_ROWS, 0)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(data["columns"])
    for row in data["rows"]:
        w.writerow([safe_cell(row[c]) for c in data["columns"]])
    return Response(
        "\ufeff" + buf.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{table}.csv"'},
    )


@router.get("/import/jobs/{job_id}", response_model=ImportJobOut, responses=_NOT_FOUND)
def import_job(request: Request, s: ApiUser, job_id: str) -> dict[str, Any]:
    """Progress and, when finished, the report of an upload import (admins; own jobs only)."""
    require_role(s, "admin", lang=lang_of(request))
    job = find_job(state(request), job_id, lang_of(request))
    if job is None or job.owner != s.user.username:
        raise HTTPException(404, t("app.error.not_found", lang_of(request)))
    return job_json(job)
