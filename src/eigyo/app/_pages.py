"""HTML pages: overview, one page per runbook step, metrics explorer, process map.

Each route: authenticate (dependency), take the scoped workspace, call :mod:`eigyo.app._views`
(the library), render. HTMX fragments (explorer table, drill-down) come from
the same routes' ``*_fragment`` twins so that every page also works as a plain link.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from eigyo.app import _views as views
from eigyo.app._chart_links import bar_links
from eigyo.app._drill import tile_links
from eigyo.app._filters import FilteredWorkspace, ViewFilter, filter_options, filtered
from eigyo.app._findings_filter import Narrowing, narrow
from eigyo.app._scope import ScopedWorkspace
from eigyo.app._team_table import SPARK_H, SPARK_W, team_table
from eigyo.app._web import (
    PageUser,
    lang_of,
    render,
    scoped_findings,
    scoped_ws,
    state,
)
from eigyo.base.periods import Period
from eigyo.diagnose import Finding
from eigyo.diagnose.model import STEPS
from eigyo.errors import InputError
from eigyo.i18n import t
from eigyo.metrics import DIMENSIONS, REGISTRY
from eigyo.report.evidence import stake_view

router = APIRouter(include_in_schema=False)
Text = Annotated[str | None, Query(max_length=200)]


def _period_or_error(request: Request, s: PageUser, label: str | None) -> Any:
    """The person's workspace narrowed to the URL's filters (team, rep, product, segment), the
    period, and the period's error in the reader's language (then the default period). The
    default period is read once per view and generation (cached): it scans the person's deals,
    which took 96% of a warm overview (medium demo, bench/RESULTS-dashboard.md)."""
    f = ViewFilter.from_query(request.query_params)
    ws = filtered(scoped_ws(request, s), f)

    def default() -> str:
        key = ("default-period", s.user.principal().key, *f.key)
        return state(request).cached(key, lambda: views.default_period(ws))

    try:
        return ws, views.period_of(ws, label or default()), None
    except InputError as e:
        return ws, views.period_of(ws, default()), e.localized(lang_of(request))


def _key(request: Request, s: PageUser, label: str) -> tuple[Any, ...]:
    """A cache key of one view: the scope, the period and the filters."""
    f = ViewFilter.from_query(request.query_params)
    return (s.user.principal().key, label, *f.key)


def _scope_only(ws: ScopedWorkspace) -> ScopedWorkspace:
    """The findings are the scope's, whatever the filters (they are cached per scope)."""
    return ws.scoped if isinstance(ws, FilteredWorkspace) else ws


def _narrowed(
    request: Request, ws: ScopedWorkspace, p: Period, found: list[Finding], key: tuple[Any, ...]
) -> tuple[list[Finding], Narrowing | None]:
    """The findings a filtered view shows (:func:`eigyo.app._findings_filter.narrow`, cached
    per view); without a filter the scope's findings as they are, never through the gate."""
    if not isinstance(ws, FilteredWorkspace):
        return found, None
    return state(request).cached(("narrowed", *key), lambda: narrow(ws, p, found))


def _view(request: Request, s: PageUser) -> dict[str, Any]:
    """The filter form's choices (from the person's scope) and what is chosen now."""
    lang = lang_of(request)
    ws = scoped_ws(request, s)
    opts = state(request).cached(
        ("filter-options", s.user.principal().key, lang), lambda: filter_options(ws, lang)
    )
    return {"options": opts, "chosen": ViewFilter.from_query(request.query_params)}


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, s: PageUser, period: Text = None) -> HTMLResponse:
    ws, p, error = _period_or_error(request, s, period)
    lang = lang_of(request)
    key = _key(request, s, p.label)
    found = scoped_findings(request, s, _scope_only(ws), p)
    found, narrowing = _narrowed(request, ws, p, found, key)
    ov = state(request).cached(("overview", lang, *key), lambda: views.overview(ws, p, found, lang))
    stake = stake_view(found, lang, ws.settings.currency)  # ¥ over non-overlapping findings
    tiles = tile_links([k.metric_id for k in ov.tiles], {**request.query_params, "period": p.label})
    return render(request, "overview.html.j2", s, period=p, error=error, ov=ov, stake=stake,
                  view=_view(request, s), tile_links=tiles, narrowing=narrowing)  # fmt: skip


@router.get("/steps/{step}", response_class=HTMLResponse)
def step_page(request: Request, s: PageUser, step: str, period: Text = None) -> HTMLResponse:
    if step not in STEPS:
        return render(
            request, "error.html.j2", s, 404, message=t("app.error.not_found", lang_of(request))
        )
    ws, p, error = _period_or_error(request, s, period)
    lang = lang_of(request)
    key = _key(request, s, p.label)
    found = scoped_findings(request, s, _scope_only(ws), p)
    found, narrowing = _narrowed(request, ws, p, found, key)
    items, charts = state(request).cached(
        ("step", step, lang, *key), lambda: views.step_view(ws, p, step, found, lang)
    )
    bars = bar_links(charts, {**request.query_params, "period": p.label}, lang)
    return render(request, "step.html.j2", s, period=p, error=error, step=step,
                  findings=items, charts=charts, view=_view(request, s), bars=bars,
                  narrowing=narrowing)  # fmt: skip


def _explorer_context(
    request: Request, s: PageUser, period: str | None, metric: list[str], by: str | None
) -> dict[str, Any]:
    ws, p, error = _period_or_error(request, s, period)
    lang = lang_of(request)
    chosen = [m for m in metric if m in REGISTRY] or ["bookings", "won_deals", "win_rate"]
    dim = by if by in DIMENSIONS else None
    rows: list[dict[str, Any]] = []
    pivot = None
    try:  # values once per view and generation; computed outside the gate, as before
        key = ("metric-rows", *_key(request, s, p.label), tuple(chosen), dim)
        values = state(request).cached(
            key, lambda: views.metric_rows(ws, p, chosen, dim), gate=False
        )
        rows = views.explorer_table(values, lang, ws.settings.currency)
        if dim == "team":  # one column per team, with each month's trend
            pivot = team_table(ws, p, chosen, lang, ws.settings.currency)
    except InputError as e:
        error = e.localized(lang)
    metrics = [(m.id, m.label(lang)) for m in REGISTRY.values()]
    return {"period": p, "error": error, "rows": rows, "chosen": chosen, "by": dim or "",
            "metrics": metrics, "dims": DIMENSIONS, "pivot": pivot,
            "view_filter": ViewFilter.from_query(request.query_params)}  # fmt: skip


@router.get("/metrics", response_class=HTMLResponse)
def metrics_page(
    request: Request,
    s: PageUser,
    period: Text = None,
    metric: Annotated[list[str] | None, Query(max_length=40)] = None,
    by: Text = None,
) -> HTMLResponse:
    ctx = _explorer_context(request, s, period, metric or [], by)
    template = "explorer_table.html.j2" if request.headers.get("hx-request") else "explorer.html.j2"
    return render(request, template, s, spark_w=SPARK_W, spark_h=SPARK_H, **ctx)


@router.get("/metrics/records", response_class=HTMLResponse)
def drill_fragment(
    request: Request, s: PageUser, metric: str, period: Text = None, by: Text = None,
    group: Text = None,
) -> HTMLResponse:  # fmt: skip
    ws, p, error = _period_or_error(request, s, period)
    try:
        data = views.drill_records(ws, p, metric, by or None, group, limit=200)
    except InputError as e:
        return render(
            request, "records.html.j2", s, 400, data=None, error=e.localized(lang_of(request))
        )
    return render(request, "records.html.j2", s, data=data, error=error)


@router.get("/process", response_class=HTMLResponse)
def process_page(request: Request, s: PageUser, period: Text = None) -> HTMLResponse:
    ws, p, error = _period_or_error(request, s, period)
    lang = lang_of(request)
    pm, chart = state(request).cached(
        ("process", lang, *_key(request, s, p.label)), lambda: views.process(ws, p, lang)
    )
    return render(request, "process.html.j2", s, period=p, error=error, pm=pm, chart=chart,
                  view=_view(request, s))  # fmt: skip
