"""Did the fix work? Interventions and their measured effect on the metrics they target.

An intervention (a new SDR team, a training, a response SLA) is a row of the canonical
``interventions`` table, imported or added with :func:`add_intervention`. Its effect on each
targeted metric is a difference-in-differences: the treated reps' change from before to after
the start, less the change of every untouched rep over the same windows (so a market-wide dip
is not credited to the fix). The windows, treated reps, the bootstrap and the verdict's
confidence are those of the diagnosis (``analysis.interventions``, ``diagnose.did``,
``diagnose.stats.bootstrap_did``); this module adds the per-record samples of the other
targeted metrics (conversion, qualification, win rate) and a verdict per metric.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np

from eigyo.analysis.common import data_end
from eigyo.analysis.monitor.interventions import Intervention, interventions, lead_cells, windows
from eigyo.base import stats
from eigyo.base.periods import Period
from eigyo.diagnose import did
from eigyo.errors import InputError
from eigyo.metrics import REGISTRY
from eigyo.workspace import Workspace

CELLS = ("treated_pre", "treated_post", "control_pre", "control_post")
#: Targeted metrics when an intervention names none (``metrics`` column / ``--metrics``).
DEFAULT_TARGETS: tuple[str, ...] = (
    "lead_response_minutes",
    "lead_response_sla_rate",
    "mql_to_sql_rate",
    "lead_conversion_rate",
    "win_rate",
)
MIN_N = 20
Sample = Callable[[Workspace, Intervention, tuple[datetime, datetime, datetime]], ir.Table]


@dataclass
class Effect:
    """The DiD of one metric for one intervention, with its interval and a plain verdict."""

    intervention_id: str
    name: str
    started_at: datetime
    metric: str
    unit: str
    better: str
    verdict: str  # worked | no_effect | worse | too_early
    estimate: float | None = None
    low: float | None = None
    high: float | None = None
    confidence: float = did.CONFIDENCE
    stat: str = "mean"
    window_days: int | None = None
    treated_reps: int = 0
    n: dict[str, int] = field(default_factory=dict)
    levels: dict[str, float | None] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["started_at"] = self.started_at.isoformat(sep=" ")
        return d


def _ts(x: datetime) -> ir.Value:
    return ibis.timestamp(x)


def _leads_by_creation(ws: Workspace, w: tuple[datetime, datetime, datetime]) -> ir.Table:
    lead = ws.table("leads")
    return lead.filter((lead.created_at >= _ts(w[0])) & (lead.created_at < _ts(w[2])))


def _conversion(
    ws: Workspace, iv: Intervention, w: tuple[datetime, datetime, datetime]
) -> ir.Table:
    """Leads created in the windows; 1 when the lead's opportunity is won by now (as the
    ``lead_conversion_rate`` metric counts it)."""
    lead = _leads_by_creation(ws, w)
    opp = ws.table("opportunities")
    won = opp.filter(opp.status == "won")
    value = lead.opportunity_id.isin(won.opportunity_id) | lead.lead_id.isin(
        won.filter(won.lead_id.notnull()).lead_id
    )
    return lead.select(owner=lead.owner_rep_id, at=lead.created_at, value=value.fill_null(False))


def _qualification(
    ws: Workspace, iv: Intervention, w: tuple[datetime, datetime, datetime]
) -> ir.Table:
    """MQL leads created in the windows; 1 when they reached SQL (``mql_to_sql_rate``)."""
    lead = _leads_by_creation(ws, w)
    lead = lead.filter(lead.mql_at.notnull())
    return lead.select(owner=lead.owner_rep_id, at=lead.created_at, value=lead.sql_at.notnull())


def _wins(ws: Workspace, iv: Intervention, w: tuple[datetime, datetime, datetime]) -> ir.Table:
    """Opportunities closed in the windows; 1 when won (``win_rate``)."""
    opp = ws.table("opportunities")
    opp = opp.filter(
        opp.status.isin(("won", "lost"))
        & (opp.closed_at >= _ts(w[0]))
        & (opp.closed_at < _ts(w[2]))
    )
    return opp.select(owner=opp.owner_rep_id, at=opp.closed_at, value=opp.status == "won")


#: Per-record samples of the metrics this module measures besides lead response.
SAMPLES: dict[str, Sample] = {
    "lead_conversion_rate": _conversion,
    "mql_to_sql_rate": _qualification,
    "win_rate": _wins,
}
MEASURABLE: tuple[str, ...] = ("lead_response_minutes", "lead_response_sla_rate", *SAMPLES)


def _cells(ws: Workspace, iv: Intervention, metric: str, period: Period) -> dict[str, np.ndarray]:
    """The four DiD samples of one metric (engine query, then numpy masks over its result)."""
    if metric not in SAMPLES:
        return lead_cells(ws, iv, period)[metric]
    w = windows(iv, period)
    if w is None:
        return {c: np.array([]) for c in CELLS}
    t = SAMPLES[metric](ws, iv, w)
    t = t.select(
        treated=t.owner.isin(list(iv.treated_reps) or [""]).fill_null(False),
        post=t.at >= _ts(w[1]),
        value=t.value.cast("float64"),
    ).to_pyarrow()
    treated = t["treated"].to_numpy(zero_copy_only=False).astype(bool)
    post = t["post"].to_numpy(zero_copy_only=False).astype(bool)
    value = t["value"].to_numpy(zero_copy_only=False).astype(float)
    masks = (treated & ~post, treated & post, ~treated & ~post, ~treated & post)
    return {c: value[m] for c, m in zip(CELLS, masks, strict=True)}


def measure(ws: Workspace, iv: Intervention, metric: str, period: Period) -> Effect:
    """One metric's effect: too early until the after-window is four weeks long and every cell
    holds :data:`MIN_N` records, then the bootstrap DiD (median for durations) and a verdict."""
    m = REGISTRY[metric]
    eff = Effect(iv.intervention_id, iv.name, iv.started_at, metric, m.unit, m.better, "too_early")
    eff.treated_reps = len(iv.treated_reps)
    eff.stat = "median" if m.unit == "minutes" else "mean"
    cells = _cells(ws, iv, metric, period)
    eff.n = {c: len(v) for c, v in cells.items()}
    fn = np.median if eff.stat == "median" else np.mean
    eff.levels = {c: (float(fn(v)) if len(v) else None) for c, v in cells.items()}
    w = windows(iv, period)
    if w is None or (w[2] - w[1]).days < did.MIN_POST_DAYS or min(eff.n.values()) < MIN_N:
        return eff
    eff.window_days = (w[2] - w[1]).days
    est, low, high = stats.bootstrap_did(cells, stat=eff.stat, confidence=did.CONFIDENCE)
    eff.estimate, eff.low, eff.high = est, low, high
    eff.verdict = did.verdict(m.better, low, high)
    return eff


def targets(ws: Workspace, intervention_id: str) -> tuple[str, ...]:
    """The metrics an intervention targets: its ``metrics`` attribute (extra column), else the
    defaults that an intervention on the sales process usually aims at."""
    rows = ws.raw.execute(
        "SELECT extra FROM interventions WHERE intervention_id = ?", [intervention_id]
    ).fetchall()
    extra = json.loads(rows[0][0]) if rows and rows[0][0] else {}
    named = [s.strip() for s in str(extra.get("metrics") or "").split(",") if s.strip()]
    return tuple(m for m in named if m in MEASURABLE) or DEFAULT_TARGETS


def effects(
    ws: Workspace,
    intervention_id: str | None = None,
    metrics: tuple[str, ...] | None = None,
    until: date | None = None,
) -> list[Effect]:
    """The effect of each intervention (or one) on its targeted metrics, measured up to
    ``until`` (default: the last day of data)."""
    unknown = [m for m in metrics or () if m not in MEASURABLE]
    if unknown:
        raise InputError(
            f"Cannot measure {', '.join(unknown)} for interventions. Use: {', '.join(MEASURABLE)}."
        )
    ivs = interventions(ws)
    if intervention_id is not None:
        ivs = [iv for iv in ivs if iv.intervention_id == intervention_id]
        if not ivs:
            known = ", ".join(i.intervention_id for i in interventions(ws)) or "none"
            raise InputError(f"Unknown intervention {intervention_id!r}. Known: {known}.")
    end = until or data_end(ws) or date.today()
    out = []
    for iv in ivs:
        period = Period(min(iv.started_at.date(), end), end, f"until {end.isoformat()}")
        for metric in metrics or targets(ws, iv.intervention_id):
            out.append(measure(ws, iv, metric, period))
    return out


def _parse_start(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.strip().replace("/", "-"))
    except ValueError:
        raise InputError(
            f"--started-at {text!r} is not a date. Use 2025-04-01 or 2025-04-01T09:00."
        ) from None


def _check_scope(ws: Workspace, scope: tuple[str, ...]) -> None:
    """Every scope entry must name a rep or a team: a typo would silently treat nobody."""
    reps = ws.table("reps").select("rep_id", "team").to_pyarrow().to_pylist()
    known = {r["rep_id"] for r in reps} | {r["team"] for r in reps if r["team"]}
    unknown = [s for s in scope if s not in known]
    if not scope or unknown:
        teams = sorted({r["team"] for r in reps if r["team"]})
        raise InputError(
            f"--scope {','.join(unknown) or '(empty)'} names no rep or team. "
            f"Teams: {', '.join(teams) or 'none (import reps first)'}."
        )


def add_intervention(
    ws: Workspace,
    intervention_id: str,
    name: str,
    started_at: str,
    scope: str,
    description: str | None = None,
    metrics: str | None = None,
) -> Intervention:
    """Record an intervention (replacing one with the same id), as an import would."""
    if not intervention_id.strip() or not name.strip():
        raise InputError("--id and --name must not be empty.")
    start = _parse_start(started_at)
    parts = tuple(s.strip() for s in scope.split(",") if s.strip())
    _check_scope(ws, parts)
    named = [s.strip() for s in (metrics or "").split(",") if s.strip()]
    bad = [m for m in named if m not in MEASURABLE]
    if bad:
        raise InputError(f"--metrics {', '.join(bad)}: use some of {', '.join(MEASURABLE)}.")
    extra = json.dumps({"metrics": ",".join(named)}, ensure_ascii=False) if named else None
    with ws.transaction() as con:
        con.execute("DELETE FROM interventions WHERE intervention_id = ?", [intervention_id])
        con.execute(
            "INSERT INTO interventions (intervention_id, name, started_at, scope, description,"
            " extra) VALUES (?, ?, ?, ?, ?, ?)",
            [intervention_id, name, start, ",".join(parts), description, extra],
        )
    return next(iv for iv in interventions(ws) if iv.intervention_id == intervention_id)
