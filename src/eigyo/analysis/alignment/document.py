"""Step 4's document: ``eigyo alignment`` (lead funnel, response time and SLA, speed against
conversion, value by source), computed once for the command line and the dashboard."""

from __future__ import annotations

from typing import Any

import polars as pl

from eigyo.analysis.alignment import lead_value as av
from eigyo.analysis.alignment import sources as al
from eigyo.analysis.availability import has_time_of_day, no_time_of_day, unavailable
from eigyo.analysis.document import StepDocument, unavailable_document
from eigyo.base.periods import Period
from eigyo.workspace import Workspace

#: Figures of the overall response line that mean nothing without first-response times.
RESPONSE_FIGURES = (
    "answered", "untouched", "within_sla", "median_minutes", "p90_minutes",
    "sla_rate", "sla_rate_low", "sla_rate_high",
)  # fmt: skip


def alignment_document(
    ws: Workspace, p: Period, label: str, by: str = "source", costs: pl.DataFrame | None = None
) -> StepDocument:
    """Leads that became MQL in ``p``: funnel by ``by``, response times by team, source and
    arrival, the response curve, value per source (with campaign ``costs`` when given) and
    disqualifications. Sections whose data is absent are ``null`` and listed as such."""
    missing = unavailable(
        ws, ["alignment", "alignment.response", "alignment.sql", "alignment.disqualifications"]
    )
    if na := missing.pop("alignment", None):
        return unavailable_document(na, period=label)
    missing.pop("alignment.sql", None)  # the funnel shows SQL as null itself
    answered = "alignment.response" not in missing
    if not has_time_of_day(ws, "leads", "mql_at"):
        missing["alignment.arrival"] = no_time_of_day("alignment.arrival", "leads.mql_at")
    overall = al.response_overall(ws, p)
    if not answered:  # no first responses: response figures unknown, not 0% within SLA
        overall.update(dict.fromkeys(RESPONSE_FIGURES))
    out: dict[str, Any] = {
        "overall": overall,
        "funnel": al.funnel(ws, p, by),
        "response_by_team": al.response_times(ws, p, "team") if answered else None,
        "response_by_source": al.response_times(ws, p, "source") if answered else None,
        "response_by_arrival": None
        if missing.keys() & {"alignment.response", "alignment.arrival"}
        else al.response_times(ws, p, "business_hours"),
        "response_curve": av.response_curve(ws, p).to_json() if answered else None,
        "value": av.source_value(ws, p, by if by in ("source", "campaign") else "source", costs),
        "disqualifications": None
        if "alignment.disqualifications" in missing
        else al.disqualifications(ws, p, "source"),
    }
    return StepDocument(
        head={"period": label, "currency": ws.settings.currency}, sections=out, missing=missing
    )
