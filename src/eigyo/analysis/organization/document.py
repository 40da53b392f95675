"""Step 7's time document: ``eigyo time`` (selling and admin shares, their trend, time per win,
best call windows, reclaimable bookings), computed once for the command line and the
dashboard."""

from __future__ import annotations

from typing import Any

from eigyo.analysis.availability import has_time_of_day, no_time_of_day, unavailable
from eigyo.analysis.document import StepDocument, unavailable_document
from eigyo.analysis.organization import time_use as tu
from eigyo.base.periods import Period
from eigyo.workspace import Workspace


def time_document(ws: Workspace, p: Period, label: str, by: str = "team") -> StepDocument:
    """Time use in ``p`` grouped by ``by``: shares, trend and reclaimable time need time
    entries, call windows need call times of day; efficiency needs neither."""
    missing = unavailable(ws, ["time", "time.shares", "time.calls"])
    if na := missing.pop("time", None):
        return unavailable_document(na, period=label)
    if "time.calls" not in missing and not has_time_of_day(ws, "activities", "occurred_at"):
        missing["time.calls"] = no_time_of_day("time.calls", "activities.occurred_at")
    logged = "time.shares" not in missing
    out: dict[str, Any] = {
        "shares": tu.time_shares(ws, p, by) if logged else None,
        "trend": tu.time_trend(ws, p, "team") if logged else None,
        "efficiency": tu.efficiency(ws, p, by),
        "call_windows": None if "time.calls" in missing else tu.call_windows(ws, p, "window"),
        "reclaimable": tu.reclaimable_time(ws, p, by) if logged else None,
    }
    return StepDocument(
        head={"period": label, "currency": ws.settings.currency}, sections=out, missing=missing
    )
