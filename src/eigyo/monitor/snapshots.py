"""Snapshots: the numbers and findings as they stood at each monitoring run.

``eigyo monitor`` measures the period, diagnoses it, charts the key metrics, and keeps all of it
with the run time and a fingerprint of the data (:func:`store.data_version`). Comparing a run with
the previous one is how a finding "appears" or "worsens"; keeping every run is how a manager later
sees what the organization looked like before a change. With ``since_last`` a run on unchanged
data returns the previous snapshot instead of writing a copy, so a cron job may run as often as
it likes without filling the history or repeating alerts.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from eigyo.analysis.common import data_end
from eigyo.analysis.monitor import history as store
from eigyo.base.periods import Period, fiscal_year_of, parse_period
from eigyo.diagnose import Finding, diagnose
from eigyo.metrics import compute
from eigyo.monitor import config as config_mod
from eigyo.monitor.alerts import Alert, finding_alerts, finding_key, limit_alerts, record
from eigyo.monitor.series import Series, build_series
from eigyo.workspace import Workspace

Phase = Callable[[str], Callable[[str, int, int], None]]


def _no_progress(_: str) -> Callable[[str, int, int], None]:
    return lambda item, done, total: None


@dataclass(frozen=True)
class Snapshot:
    snapshot_id: int
    run_at: datetime
    period: str
    period_start: date
    period_end: date
    as_of: date | None
    data_version: str
    metrics: int
    findings: int
    signals: int

    def to_json(self) -> dict[str, Any]:
        return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in self.__dict__.items()}


@dataclass
class MonitorRun:
    """What one ``eigyo monitor`` did: the snapshot, whether it is new, and the new alerts."""

    snapshot: Snapshot
    created: bool
    alerts: list[Alert] = field(default_factory=list)
    series: list[Series] = field(default_factory=list)


def default_period(ws: Workspace) -> Period:
    """The fiscal year the data reaches into (monitoring watches the year in progress)."""
    end = data_end(ws) or date.today()
    fy = fiscal_year_of(end, ws.settings.fiscal_year_start_month)
    return parse_period(f"FY{fy}", ws.settings.fiscal_year_start_month)


def list_snapshots(ws: Workspace, period: str | None = None) -> list[Snapshot]:
    """Every snapshot (of one period label, if given), oldest first."""
    store.ensure(ws.raw)
    where, params = ("WHERE period = ?", [period]) if period else ("", [])
    rows = store.query(ws.raw, f"SELECT * FROM _snapshots {where} ORDER BY snapshot_id", params)
    return [Snapshot(**r) for r in rows]


def latest(ws: Workspace, period: str | None = None) -> Snapshot | None:
    found = list_snapshots(ws, period)
    return found[-1] if found else None


def _metric_rows(ws: Workspace, period: Period, sid: int) -> list[dict[str, Any]]:
    """Every metric for the organization and per team (one query per metric and grouping)."""
    values = compute(ws, period) + compute(ws, period, by="team")
    return [
        {
            "snapshot_id": sid,
            "metric": v.id,
            "dim": next(iter(v.by), ""),
            "grp": next(iter(v.by.values()), ""),
            "value": v.value,
            "unit": v.unit,
        }
        for v in values
    ]


def _finding_rows(findings: list[Finding], sid: int) -> list[dict[str, Any]]:
    return [
        {
            "snapshot_id": sid,
            "finding_key": finding_key(f),
            "step": f.step,
            "check": f.check,
            "severity": f.severity,
            "metric": f.metric,
            "scope": json.dumps(f.scope, ensure_ascii=False, sort_keys=True),
            "impact_jpy": f.impact_jpy,
            "evidence": json.dumps(f.evidence, ensure_ascii=False, default=str),
            "title_ja": f.title.get("ja", ""),
            "title_en": f.title.get("en", ""),
        }
        for f in findings
    ]


def _point_rows(series: list[Series], sid: int) -> list[dict[str, Any]]:
    rows = []
    for s in series:
        c = s.chart
        sig = {g.index: g for g in c.signals}
        for i, (label, value) in enumerate(zip(c.labels, c.values, strict=True)):
            g = sig.get(i)
            rows.append(
                {
                    "snapshot_id": sid,
                    "grain": s.grain,
                    "metric": s.metric,
                    "dim": s.dim,
                    "grp": s.group,
                    "label": label,
                    "value": value,
                    "stat": c.ewma[i] if c.ewma and i >= c.start else value,
                    "center": c.center,
                    "lcl": c.ewma_lcl[i] if c.ewma_lcl else c.lcl,
                    "ucl": c.ewma_ucl[i] if c.ewma_ucl else c.ucl,
                    "sigma": c.sigma,
                    "recent": c.enough and i >= c.start,
                    "signal": g.rule if g else None,
                    "direction": g.direction if g else None,
                    "worse": bool(g and g.direction == s.worse),
                }
            )
    return rows


def previous_severities(ws: Workspace, snapshot_id: int | None) -> dict[str, str]:
    """finding key → severity in a stored snapshot (empty when there is none)."""
    if snapshot_id is None:
        return {}
    rows = store.query(
        ws.raw,
        "SELECT finding_key, severity FROM _snapshot_findings WHERE snapshot_id = ?",
        [snapshot_id],
    )
    return {r["finding_key"]: r["severity"] for r in rows}


def take_snapshot(
    ws: Workspace,
    period: Period | None = None,
    *,
    since_last: bool = False,
    cfg: config_mod.MonitorConfig | None = None,
    progress: Phase = _no_progress,
) -> MonitorRun:
    """Measure, diagnose and chart one period, store it, and raise the alerts it brings.

    With ``since_last``, unchanged data (same :func:`store.data_version` as the period's latest
    snapshot) stores nothing and raises nothing: the latest snapshot is returned as it was."""
    cfg = cfg or config_mod.load(ws)
    store.ensure(ws.raw)
    period = period or default_period(ws)
    version = store.data_version(ws)
    prev = latest(ws, period.label)
    if since_last and prev is not None and prev.data_version == version:
        return MonitorRun(prev, created=False)
    end = min(period.end, data_end(ws) or period.end)
    tick = progress("metrics")
    tick("metrics", 0, 1)
    sid = store.next_id(ws.raw, "_snapshots", "snapshot_id")
    metric_rows = _metric_rows(ws, period, sid)
    tick("metrics", 1, 1)
    findings = diagnose(ws, period, progress=progress("diagnose"))
    series = build_series(ws, end, cfg, progress("charts"))
    snap = Snapshot(
        sid,
        datetime.now().replace(microsecond=0),
        period.label,
        period.start,
        period.end,
        end,
        version,
        len(metric_rows),
        len(findings),
        sum(len(s.chart.signals) for s in series),
    )
    raised = limit_alerts(series, ws.settings.currency) + finding_alerts(
        previous_severities(ws, prev.snapshot_id if prev else None), findings
    )
    with ws.transaction() as con:
        store.insert_rows(con, "_snapshots", [snap.__dict__])
        store.insert_rows(con, "_snapshot_metrics", metric_rows)
        store.insert_rows(con, "_snapshot_findings", _finding_rows(findings, sid))
        store.insert_rows(con, "_snapshot_points", _point_rows(series, sid))
        new = record(con, sid, raised)
    return MonitorRun(snap, created=True, alerts=new, series=series)


def metric_values(ws: Workspace, snapshot_id: int) -> dict[tuple[str, str, str], float | None]:
    """(metric, dim, group) → value as stored in a snapshot."""
    rows = store.query(
        ws.raw,
        "SELECT metric, dim, grp, value FROM _snapshot_metrics WHERE snapshot_id = ?",
        [snapshot_id],
    )
    return {(r["metric"], r["dim"], r["grp"]): r["value"] for r in rows}
