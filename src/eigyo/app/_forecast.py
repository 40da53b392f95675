"""The forecast page (``/forecast``): the call by rep and team, managers' adjustments, accuracy.

What the Monday forecast call runs from: won so far, commit, best case and pipeline per rep, team
and the whole view (:mod:`eigyo.analysis.data.forecast_calls`, read through the person's scope
and the URL's filters, so a rep sees their own numbers only), the adjusted call beside the
system's, every adjustment in the trail, and how far the call at the start of each past month
was from what was won. The period is the URL's (the fiscal quarter holding the data's last day
when not given); the forecast is seen from the data's last day, never today.

Adjustments (:mod:`eigyo.app._adjustments`) are posted with the session's CSRF token: a manager
may adjust their own team and its reps, an admin any rep or team, a rep nothing (403). They apply
to a rep's or team's whole call, so with a product or segment filter the page shows the filtered
numbers without them (a whole-rep call cannot be split by product).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from functools import partial
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from eigyo.analysis.common import data_end
from eigyo.analysis.data.forecast_calls import (
    BEST_CASE_RATE,
    COMMIT_RATE,
    MIN_STAGE_DEALS,
    Line,
    Rollup,
    accuracy_by_month,
    forecast_as_of,
    open_deals,
    rollup,
)
from eigyo.app import _views as views
from eigyo.app._adjustments import AdjustmentStore, Change
from eigyo.app._drill import records_download
from eigyo.app._filters import ViewFilter, filter_options, filtered, view_query
from eigyo.app._forecast_export import deal_rows, forecast_records, rollup_rows
from eigyo.app._scope import ScopedWorkspace
from eigyo.app._web import PageUser, check_csrf, lang_of, render, scoped_ws, state
from eigyo.base.formatting import money, percent
from eigyo.base.periods import Period, fiscal_year_of, parse_period
from eigyo.errors import InputError
from eigyo.i18n import t
from eigyo.schema import NUMBER_BOUND

router = APIRouter(include_in_schema=False)
Text = Annotated[str | None, Query(max_length=200)]
#: Longest comment an adjustment keeps.
MAX_COMMENT = 500
_AMOUNT = re.compile(r"^[0-9]+(\.[0-9]+)?$")
#: Deals the page lists (the exports hold them all).
PAGE_DEALS = 200
EXPORT_ROWS = views.EXPORT_ROWS


def store(request: Request) -> AdjustmentStore:
    """The workspace's adjustments, opened once per app."""
    app_state = request.app.state
    found: AdjustmentStore | None = getattr(app_state, "forecast_adjustments", None)
    if found is None:
        found = app_state.forecast_adjustments = AdjustmentStore(state(request).workspace)
    return found


def _period(request: Request, ws: ScopedWorkspace, label: str | None) -> tuple[Any, str | None]:
    """The URL's period, else the fiscal quarter holding the data's last day; with the error."""
    lang, error = lang_of(request), None
    if label:
        try:
            return views.period_of(ws, label), None
        except InputError as e:
            error = e.localized(lang)
    day = data_end(ws) or datetime.now(ws.settings.tz).date()
    start = ws.settings.fiscal_year_start_month
    quarter = (day.month - start) % 12 // 3 + 1
    return parse_period(f"FY{fiscal_year_of(day, start)}-Q{quarter}", start, today=day), error


def _targets(ws: ScopedWorkspace, s: PageUser, teams_too: bool) -> list[tuple[str, str]]:
    """What the person may adjust in this view, as ``(level:target, text)``: nothing for a rep;
    teams only when the view is not one rep's (a team's call would not show there)."""
    role, team = s.user.role, s.user.team
    if role == "rep" or (role == "manager" and not team):
        return []
    reps = ws.table("reps")
    if role == "manager":
        reps = reps.filter(reps.team == team)
    rows = reps.select("rep_id", "name", "team").order_by("rep_id").to_pyarrow().to_pylist()
    teams = sorted({str(r["team"]) for r in rows if r["team"]})
    return [*((f"team:{x}", x) for x in teams if teams_too),
            *((f"rep:{r['rep_id']}", f"{r['name'] or r['rep_id']} ({r['team'] or '—'})")
              for r in rows)]  # fmt: skip


def _adjusted(roll: Rollup, adj: dict[tuple[str, str], float], teams_apply: bool) -> dict[str, Any]:
    """The adjusted call per rep and team and in total: a rep's adjustment replaces their call,
    a team's replaces the sum of its reps' (adjusted) calls, the total adds up the teams. A call
    that is not available (open deals, none with a close date; or no amounts) stays None unless
    adjusted."""
    reps = {ln.key: adj.get(("rep", ln.key), ln.call) for ln in roll.reps}
    teams: dict[str, float | None] = {}
    for tm in roll.teams:
        own = _sum_of(tm, [(ln, reps[ln.key]) for ln in roll.reps if ln.team == tm.key])
        teams[tm.key] = adj.get(("team", tm.key), own) if teams_apply else own
    total = _sum_of(roll.total, [(tm, teams[tm.key]) for tm in roll.teams])
    return {"reps": reps, "teams": teams, "total": total}


def _sum_of(whole: Line, parts: list[tuple[Line, float | None]]) -> float | None:
    """A line's adjusted call from its parts' (adjusted) calls: its own call with each part's
    change added; a line whose call is not available (no close dates, or no amounts) only when
    every part's call is known."""
    if whole.call is not None:
        return whole.counted_call + sum(v - ln.counted_call for ln, v in parts if v is not None)
    known = [v for _, v in parts if v is not None]
    return sum(known) if len(known) == len(parts) else None


@dataclass(frozen=True)
class CallView:
    """What the page and its exports read for one person, period and filters: computed once
    here so a download holds exactly the page's rows (the same scope, filters and as-of day)."""

    ws: ScopedWorkspace
    period: Period
    as_of: date
    roll: Rollup
    adjusted: dict[str, Any]
    adjustments: dict[tuple[str, str], float]  # in force and visible in this view
    trail: list[Change]
    acc: list[dict[str, Any]]
    adjustable: bool
    rows: list[tuple[str, Line, float | None]]  # the table: (level, line, adjusted call)


def _call_view(
    request: Request,
    s: PageUser,
    ws: ScopedWorkspace,
    p: Period,
    day: date,
    f: ViewFilter,
    accuracy: bool = True,
) -> CallView:
    """The view's roll-up, adjusted calls and trail (``accuracy``: and the months' accuracy,
    which only the page shows)."""
    st = state(request)
    as_of, org = forecast_as_of(ws, p, day), st.ws()  # org: the stage rates (one definition)
    key = (s.user.principal().key, p.label, *f.key)
    visible = ws.table("reps").select("rep_id", "team").to_pyarrow().to_pylist()
    rep_keys = {str(r["rep_id"]) for r in visible}
    team_keys = (
        {str(r["team"]) for r in visible if r["team"]}
        if s.user.role != "rep" and not f.rep
        else set()
    )
    current = store(request).current(p.label)
    include = tuple(sorted(k for lv, k in current if lv == "rep" and k in rep_keys))
    roll = st.cached(("forecast", *key, include), lambda: rollup(ws, p, as_of, org, include))
    acc = (
        st.cached(("forecast-accuracy", *key[:1], *f.key), lambda: accuracy_by_month(ws, day, org))
        if accuracy
        else []
    )
    adjustable = not (f.product or f.segment)

    def seen(level: str, target: str) -> bool:
        return target in (rep_keys if level == "rep" else team_keys)

    mine = {k: v for k, v in current.items() if seen(*k)}
    adjusted = _adjusted(roll, mine if adjustable else {}, bool(team_keys))
    rows: list[tuple[str, Line, float | None]] = []
    for tm in roll.teams:
        rows.append(("team", tm, adjusted["teams"][tm.key]))
        rows += [("rep", ln, adjusted["reps"][ln.key]) for ln in roll.reps if ln.team == tm.key]
    rows.append(("total", roll.total, adjusted["total"]))
    trail = [c for c in store(request).trail(p.label) if seen(c.level, c.target)]
    return CallView(ws, p, as_of, roll, adjusted, mine, trail, acc, adjustable, rows)


def _deals(request: Request, s: PageUser, v: CallView, limit: int) -> tuple[int, list[Any]]:
    """The deals behind the view's call (the first ``limit``), each with its CRM link."""
    f = ViewFilter.from_query(request.query_params)
    key = ("forecast-deals", s.user.principal().key, v.period.label, *f.key)
    org = state(request).ws()
    if limit == PAGE_DEALS:  # the page's few rows are kept; an export's are not held in memory
        n, deals = state(request).cached(
            key, lambda: open_deals(v.ws, v.period, v.as_of, org, limit)
        )
    else:
        n, deals = open_deals(v.ws, v.period, v.as_of, org, limit)
    crm = v.ws.settings.crm
    return n, [{**d, "crm_url": crm.url("opportunity", d["opportunity_id"])} for d in deals]


@router.get("/forecast", response_class=HTMLResponse)
def forecast_page(request: Request, s: PageUser, period: Text = None) -> HTMLResponse:
    """The forecast of ``period`` by rep and team with adjustments, trail and accuracy."""
    lang, st = lang_of(request), state(request)
    f = ViewFilter.from_query(request.query_params)
    scoped = scoped_ws(request, s)
    ws = filtered(scoped, f)
    p, error = _period(request, ws, period)
    view = {"options": st.cached(("filter-options", s.user.principal().key, lang),
                                 lambda: filter_options(scoped, lang)), "chosen": f}  # fmt: skip
    day = data_end(ws)
    if day is None:
        return render(request, "forecast.html.j2", s, period=p, error=error, view=view, roll=None)
    v = _call_view(request, s, ws, p, day, f)
    n_deals, deals = _deals(request, s, v, PAGE_DEALS)
    yen = partial(money, code=ws.settings.currency, lang=lang)  # one amount formatter (base's)
    export = view_query({**dict(request.query_params), "period": p.label})
    return render(
        request, "forecast.html.j2", s, period=p, error=error, view=view, roll=v.roll,
        as_of=v.as_of, acc=v.acc, adjusted=v.adjusted, adjustments=v.adjustments,
        adjustable=v.adjustable, table=v.rows, export_query=export,
        trail=[_change_row(c, yen, v.roll, ws.settings.tz) for c in v.trail], yen=yen,
        pct=_error_text, targets=_targets(ws, s, not f.rep) if v.adjustable else [],
        rates=_rates(v.roll, lang),
        rule={"commit": percent(COMMIT_RATE, 0), "best": percent(BEST_CASE_RATE, 0),
              "min": MIN_STAGE_DEALS},
        form_error=request.query_params.get("adjust_error"), n_deals=n_deals, deals=deals,
    )  # fmt: skip


def _export(request: Request, s: PageUser, period: str | None, what: str, ext: str) -> Response:
    """The roll-up's rows or the deals behind the call, as the page computes them, as CSV or
    Excel (:func:`eigyo.app._drill.records_download`: a BOM, formula-safe cells, typed cells)."""
    lang = lang_of(request)
    f = ViewFilter.from_query(request.query_params)
    ws = filtered(scoped_ws(request, s), f)
    try:
        p = views.period_of(ws, period)
    except InputError as e:
        return render(request, "error.html.j2", s, 400, message=e.localized(lang))
    day = data_end(ws)
    if day is None:
        rec = forecast_records(what, p, [], lang, linked=False)
    else:
        v = _call_view(request, s, ws, p, day, f, accuracy=False)
        linked = ws.settings.crm.template("opportunity") is not None
        if what == "rollup":
            rec = forecast_records(what, p, rollup_rows(v.rows, lang), lang, linked)
        else:
            rec = forecast_records(what, p, deal_rows(_deals(request, s, v, EXPORT_ROWS)[1],
                                                      lang), lang, linked)  # fmt: skip
    return records_download(rec, lang, ws.settings.currency, f"forecast-{what}", ext)


@router.get("/forecast/{what}.{ext}", response_class=Response)
def forecast_export(
    request: Request,
    s: PageUser,
    what: Annotated[str, Path(pattern="^(rollup|deals)$")],
    ext: Annotated[str, Path(pattern="^(csv|xlsx)$")],
    period: Text = None,
) -> Response:
    """The roll-up (``rollup``: team, rep and total lines) or the deals behind the call
    (``deals``) of the person's view, as ``csv`` for Excel or an ``xlsx`` workbook."""
    return _export(request, s, period, what, ext)


def _error_text(v: float | None) -> str:
    """A signed error percentage (``+12.5%``, ``−40.0%``); a dash where none can be stated."""
    return "—" if v is None else ("+" if v > 0 else "") + percent(v)


def _rates(roll: Rollup, lang: str) -> list[dict[str, Any]]:
    def label(category: str) -> str:
        return t(f"forecast.cat.{category}", lang)

    return [{**r, "rate_text": percent(r["rate"]), "label": label(r["category"])}
            for r in roll.stage_rates]  # fmt: skip


def _change_row(c: Change, yen: Any, roll: Rollup, tz: tzinfo) -> dict[str, Any]:
    """One trail row as a person reads it: the time in the workspace's time zone."""
    names = {ln.key: ln.name for ln in roll.reps}
    return {"id": c.id, "at": datetime.fromtimestamp(c.at, tz).strftime("%Y-%m-%d %H:%M"),
            "who": c.username, "level": c.level, "target": c.target,
            "name": names.get(c.target, c.target) if c.level == "rep" else c.target,
            "old": yen(c.old), "new": yen(c.new), "comment": c.comment}  # fmt: skip


def _may_adjust(ws: ScopedWorkspace, s: PageUser, level: str, target: str, lang: str) -> None:
    """403 unless the person may adjust ``target`` (a manager: own team and its reps; an
    admin: anyone); 404 for an admin naming a rep or team that does not exist."""
    role, team = s.user.role, s.user.team
    forbidden = HTTPException(status_code=403, detail=t("app.error.forbidden", lang))
    if role == "rep" or (role == "manager" and not team):
        raise forbidden
    reps = ws.table("reps")
    rows = reps.filter(reps.team == target if level == "team" else reps.rep_id == target)
    found = rows.select("team").to_pyarrow().column(0).to_pylist()
    if role == "manager" and (not found or any(x != team for x in found)):
        raise forbidden
    if not found:
        raise HTTPException(status_code=404, detail=t("app.error.not_found", lang))


@router.post("/forecast/adjust", response_class=Response)
def adjust(
    request: Request,
    s: PageUser,
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    period: Annotated[str, Form(max_length=200)] = "",
    target: Annotated[str, Form(max_length=300)] = "",
    amount: Annotated[str, Form(max_length=40)] = "",
    comment: Annotated[str, Form(max_length=MAX_COMMENT)] = "",
    team: Annotated[str, Form(max_length=200)] = "",
    rep: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Record a rep's or team's adjusted call (blank amount: clear it) with its comment."""
    check_csrf(request, s, csrf_token)
    lang = lang_of(request)
    level, _, name = target.partition(":")
    if level not in ("rep", "team") or not name:
        raise HTTPException(status_code=400, detail=t("forecast.error.target", lang))
    ws = scoped_ws(request, s)
    _may_adjust(ws, s, level, name, lang)
    p = views.period_of(ws, period or None)  # InputError: 400 in the reader's language
    # back to the same view: the period and the team or rep filter the form was posted from
    back = {"period": p.label, **{k: v for k, v in (("team", team), ("rep", rep)) if v}}
    # as people type it: ¥1,500,000, full-width １５０００００ (NFKC), with or without commas
    text = unicodedata.normalize("NFKC", amount).replace(",", "").replace("¥", "").strip()
    if text and (not _AMOUNT.match(text) or float(text) > NUMBER_BOUND):
        return RedirectResponse(f"/forecast?{urlencode({**back, 'adjust_error': 'amount'})}", 303)
    if not comment.strip():
        return RedirectResponse(f"/forecast?{urlencode({**back, 'adjust_error': 'comment'})}", 303)
    store(request).set(p.label, level, name, float(text) if text else None,  # type: ignore[arg-type]
                       comment.strip(), s.user.username, s.user.role)  # fmt: skip
    return RedirectResponse(f"/forecast?{urlencode(back)}#trail", status_code=303)
