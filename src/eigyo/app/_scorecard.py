"""A one-page rep scorecard for the 1on1 (``/reps/<rep_id>``): KPIs against team and target,
the rep's findings, their open deals with risk flags.

Why these three blocks: a 1on1 asks how the rep is doing (their summary KPIs, next to their
team's and the workspace's targets), what the diagnosis says about them (the findings whose
scope names them) and which deals to talk about (the pipeline review's open deals). Every
number is the library's: the metrics registry (:func:`eigyo.metrics.compute`) on the person's
scoped workspace narrowed to the rep, or to the rep's team (:mod:`eigyo.app._filters`), and
:func:`eigyo.analysis.process.review.open_deals_review`. A rep outside the person's scope is
"not found", never told apart from one that does not exist. The team column is the team as the
person may see it: for a rep signed in, that is themself alone (no one else's rows are read).

Each open deal's id opens the deal in the CRM when ``[crm] opportunity_url`` is configured
(:meth:`eigyo.settings.CrmLinks.url`, the one URL builder of every records view), and the
deals' CSV and Excel are the pipeline review's exports narrowed to the rep (``/pipeline.csv?
rep=…``): the same rows, flags and CRM link column, one definition.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from eigyo.analysis.common import data_end
from eigyo.analysis.process.review import open_deals_review
from eigyo.app import _views as views
from eigyo.app._filters import FilteredWorkspace, ViewFilter
from eigyo.app._pipeline import COLUMNS, cell_text, header
from eigyo.app._web import PageUser, lang_of, render, scoped_findings, scoped_ws
from eigyo.base.formatting import format_metric, format_value
from eigyo.errors import InputError
from eigyo.i18n import t
from eigyo.metrics import REGISTRY, compute
from eigyo.report import finding_view
from eigyo.runbook import SUMMARY_KPIS

router = APIRouter(include_in_schema=False)
Text = Annotated[str | None, Query(max_length=200)]


@router.get("/reps/{rep_id}", response_class=HTMLResponse)
def scorecard(request: Request, s: PageUser, rep_id: str, period: Text = None) -> HTMLResponse:
    """The rep's scorecard for ``period`` (the default period when not given or unreadable)."""
    lang = lang_of(request)
    ws = scoped_ws(request, s)
    reps = ws.table("reps")
    row = reps.filter(reps.rep_id == rep_id).select("name", "team").to_pyarrow().to_pylist()
    if not row:
        return render(request, "error.html.j2", s, 404, message=t("app.error.not_found", lang))
    name, team = row[0]["name"] or rep_id, row[0]["team"]
    error = None
    try:
        p = views.period_of(ws, period)
    except InputError as e:  # an unreadable period: the default one, said once
        p, error = views.period_of(ws, None), e.localized(lang)
    mine = FilteredWorkspace(ws, ViewFilter(rep=rep_id))
    theirs = FilteredWorkspace(ws, ViewFilter(team=team)) if team else None
    cur = ws.settings.currency
    ids = [i for i in SUMMARY_KPIS if i in REGISTRY]
    rep_values = {v.id: v for v in compute(mine, p, ids)}
    team_values = {v.id: v for v in compute(theirs, p, ids)} if theirs else {}
    targets = ws.settings.targets
    kpis = [
        {
            "id": i,
            "label": REGISTRY[i].label(lang),
            "rep": format_metric(rep_values[i], lang, cur),
            "rep_value": rep_values[i].value,
            "team": format_metric(team_values[i], lang, cur) if i in team_values else "—",
            "target": format_value(targets[i], rep_values[i].unit, lang, cur)
            if i in targets
            else "—",
        }
        for i in ids
        if i in rep_values
    ]
    found = scoped_findings(request, s, ws, p)
    own = [
        f for f in found if f.scope.get("rep_id") == rep_id or (team and f.scope == {"team": team})
    ]
    units: dict[str, str] = {m.id: str(m.unit) for m in REGISTRY.values()}
    findings = [finding_view(f, lang, units, found) for f in own]
    as_of = data_end(mine)
    deals = open_deals_review(mine, as_of) if as_of else []
    crm = ws.settings.crm
    rows = [{"cells": [cell_text(c, d.get(c), lang, cur) for c in COLUMNS], "flags": d["flags"],
             "id": d["opportunity_id"], "crm": crm.url("opportunity", d["opportunity_id"])}
            for d in deals]  # fmt: skip
    exports = urlencode({"rep": rep_id})
    return render(request, "scorecard.html.j2", s, period=p, error=error, rep_id=rep_id,
                  name=name, team=team, kpis=kpis, findings=findings, exports=exports,
                  heads=[header(c, lang) for c in COLUMNS], rows=rows)  # fmt: skip
