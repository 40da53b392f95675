"""Interventions: who was touched, and the four samples a difference-in-differences needs.

The treated group is the reps named in ``scope`` (rep ids or team names, comma-separated); the
control group is every other rep. The windows are the same length before and after the start,
the after-window ending with the period analysed (at most a year).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import ibis
import ibis.expr.types as ir
import numpy as np

from eigyo.analysis.common import minutes_between
from eigyo.base.periods import Period
from eigyo.workspace import Workspace

MAX_WINDOW = timedelta(days=365)


@dataclass(frozen=True)
class Intervention:
    intervention_id: str
    name: str
    started_at: datetime
    scope: tuple[str, ...]
    treated_reps: tuple[str, ...]


def interventions(ws: Workspace) -> list[Intervention]:
    """Interventions with their scope resolved to rep ids (few rows: fetched as a whole)."""
    rows = ws.table("interventions").order_by("started_at", "intervention_id").to_pyarrow()
    reps = ws.table("reps").select("rep_id", "team").to_pyarrow().to_pylist()
    out = []
    for r in rows.to_pylist():
        scope = tuple(s.strip() for s in (r["scope"] or "").split(",") if s.strip())
        treated = tuple(
            sorted(p["rep_id"] for p in reps if p["rep_id"] in scope or p["team"] in scope)
        )
        out.append(Intervention(r["intervention_id"], r["name"], r["started_at"], scope, treated))
    return out


def windows(iv: Intervention, period: Period) -> tuple[datetime, datetime, datetime] | None:
    """(pre_start, start, post_end) or None when the period ends before the intervention."""
    post_end = min(period.end_ts, iv.started_at + MAX_WINDOW)
    if post_end <= iv.started_at:
        return None
    return iv.started_at - (post_end - iv.started_at), iv.started_at, post_end


def lead_sample(ws: Workspace, iv: Intervention, period: Period) -> ir.Table | None:
    """MQL leads created in the intervention's windows (None when the period ends before it
    starts): ``treated`` (owned by a treated rep), ``post`` (created after the start),
    response ``minutes`` (null when unanswered) and ``ok`` (answered within the SLA, 0/1).
    The DiD cells and the intervention chart's window medians both read it."""
    w = windows(iv, period)
    if w is None:
        return None
    pre_start, start, post_end = w
    lead = ws.table("leads")
    lead = lead.filter(
        lead.mql_at.notnull()
        & (lead.created_at >= ibis.timestamp(pre_start))
        & (lead.created_at < ibis.timestamp(post_end))
    )
    mins = minutes_between(lead.mql_at, lead.first_response_at)
    sla = ws.settings.lead_sla_minutes
    return lead.select(
        treated=lead.owner_rep_id.isin(list(iv.treated_reps) or [""]),
        post=lead.created_at >= ibis.timestamp(start),
        minutes=mins,
        ok=(mins.notnull() & (mins <= sla)).cast("float64"),
    )


def lead_cells(ws: Workspace, iv: Intervention, period: Period) -> dict[str, dict[str, np.ndarray]]:
    """Per metric, the four DiD cells of lead-level values (MQL leads by creation time):
    ``lead_response_minutes`` (answered leads) and ``lead_response_sla_rate`` (0/1)."""
    sample = lead_sample(ws, iv, period)
    empty = {
        k: np.array([]) for k in ("treated_pre", "treated_post", "control_pre", "control_post")
    }
    if sample is None:
        return {"lead_response_minutes": empty, "lead_response_sla_rate": dict(empty)}
    t = sample.to_pyarrow()
    treated = t["treated"].to_numpy(zero_copy_only=False).astype(bool)
    post = t["post"].to_numpy(zero_copy_only=False).astype(bool)
    minutes = t["minutes"].to_numpy(zero_copy_only=False).astype(float)
    ok = t["ok"].to_numpy(zero_copy_only=False).astype(float)
    cells: dict[str, dict[str, np.ndarray]] = {
        "lead_response_minutes": {},
        "lead_response_sla_rate": {},
    }
    for name, mask in (
        ("treated_pre", treated & ~post),
        ("treated_post", treated & post),
        ("control_pre", ~treated & ~post),
        ("control_post", ~treated & post),
    ):
        m = minutes[mask]
        cells["lead_response_minutes"][name] = m[~np.isnan(m)]
        cells["lead_response_sla_rate"][name] = ok[mask]
    return cells
