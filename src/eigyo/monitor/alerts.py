"""Alerts: what changed for the worse since the last run, said once.

Two things raise an alert: a key metric leaves its control limits in the direction that hurts
(a control-chart signal among the recent points), and a finding appears or gets more severe
than in the previous snapshot. Each alert has a key that names the event — the metric, scope and
first point of the excursion; the check, scope and severity of the finding — and a key already
in ``_alerts`` is never raised again, so a weekly cron job does not repeat last week's news.
Sinks (email, webhook) record what they delivered, so a failed delivery is retried next time and
a successful one is not repeated.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb

from eigyo.analysis.monitor import history as store
from eigyo.base.currency import DEFAULT_CURRENCY
from eigyo.base.formatting import format_value, named
from eigyo.diagnose.model import SEVERITY_RANK, Finding
from eigyo.i18n import LANGS, t
from eigyo.metrics import REGISTRY
from eigyo.monitor.control import episodes
from eigyo.monitor.series import Series


@dataclass
class Alert:
    """One event worth telling someone, with its message in both languages."""

    key: str
    kind: str  # limit | finding_new | finding_worse
    severity: str
    metric: str | None
    scope: dict[str, str]
    message: dict[str, str]
    payload: dict[str, Any] = field(default_factory=dict)
    raised_at: datetime | None = None
    snapshot_id: int | None = None

    def to_json(self, lang: str = "ja") -> dict[str, Any]:
        return {
            "key": self.key,
            "kind": self.kind,
            "severity": self.severity,
            "metric": self.metric,
            "scope": self.scope,
            "message": self.message.get(lang, ""),
            "evidence": self.payload,
            "raised_at": None if self.raised_at is None else self.raised_at.isoformat(sep=" "),
            "snapshot_id": self.snapshot_id,
        }


def finding_key(f: Finding) -> str:
    """Identity of a finding across runs: its check and scope (not its numbers)."""
    return f"{f.check}|{json.dumps(f.scope, sort_keys=True, ensure_ascii=False)}"


def _scope_text(scope: dict[str, str], lang: str, evidence: dict[str, Any] | None = None) -> str:
    """The scope's values, people by name with the id second (``evidence`` names them)."""
    if not scope:
        return t("monitor.scope.org", lang)
    return ", ".join(named(k, v, evidence, lang) for k, v in scope.items())


def limit_alerts(series: list[Series], currency: str = DEFAULT_CURRENCY) -> list[Alert]:
    """One alert per excursion (adjacent signalled points) in the worse direction.

    Messages are written once, when raised, so amounts in them take the workspace ``currency``
    then; the payload keeps the plain numbers and names the currency beside them."""
    out = []
    for s in series:
        c = s.chart
        for run in episodes([g for g in c.signals if g.direction == s.worse]):
            last = run[-1]
            m = REGISTRY[s.metric]
            value = c.values[last.index]
            limit = _limit(s, last.index)
            payload = {
                "grain": s.grain,
                "label": last.label,
                "since": run[0].label,
                "value": value,
                "stat": c.ewma[last.index] if c.ewma else value,
                "center": c.center,
                "limit": limit,
                "sigma": c.sigma,
                "rules": sorted({g.rule for g in run}),
                "direction": last.direction,
                "method": c.method,
                "currency": currency,
            }
            key = f"limit|{s.grain}|{s.metric}|{s.dim}={s.group}|{last.direction}|{run[0].label}"
            msg: dict[str, str] = {
                lang: t(
                    "monitor.alert.limit",
                    lang,
                    scope=_scope_text(s.scope, lang),
                    metric=m.label(lang),
                    grain=t(f"monitor.grain.{s.grain}", lang),
                    label=last.label,
                    value=format_value(value, m.unit, lang, currency),
                    limit=format_value(limit, m.unit, lang, currency),
                    center=format_value(c.center, m.unit, lang, currency),
                    side=t(f"monitor.side.{last.direction}", lang),
                )
                for lang in LANGS
            }
            out.append(Alert(key, "limit", "warn", s.metric, s.scope, msg, payload))
    return out


def _limit(s: Series, i: int) -> float | None:
    """The limit crossed at point ``i``: the EWMA limit there, else the 3-sigma limit."""
    c = s.chart
    up = s.worse == "up"
    if c.method == "ewma" and c.ewma_ucl:
        return c.ewma_ucl[i] if up else c.ewma_lcl[i]
    return c.ucl if up else c.lcl


#: Checks whose findings come from monitoring itself (see :func:`finding_alerts`).
ECHO_CHECKS = frozenset({"kpi_regression"})


def finding_alerts(previous: dict[str, str], findings: list[Finding]) -> list[Alert]:
    """Alarms (warn/error) that are new since the previous snapshot or more severe than there.

    ``previous`` maps :func:`finding_key` to the severity it had in the previous snapshot."""
    out = []
    for f in findings:
        # kpi_regression findings restate the limit alerts of the previous snapshot: the same
        # news would otherwise be told twice, once as a limit and once as a finding.
        if not f.is_alarm or f.check in ECHO_CHECKS:
            continue
        key = finding_key(f)
        before = previous.get(key)
        if before is not None and SEVERITY_RANK[before] >= SEVERITY_RANK[f.severity]:
            continue
        kind = "finding_new" if before is None else "finding_worse"
        msg: dict[str, str] = {
            lang: t(
                f"monitor.alert.{kind}",
                lang,
                title=f.title.get(lang) or f.check,
                scope=_scope_text(f.scope, lang, f.evidence),
                severity=f.severity,
                before=before or "",
            )
            for lang in LANGS
        }
        payload: dict[str, Any] = {
            "check": f.check,
            "step": f.step,
            "before": before,
            "impact_jpy": f.impact_jpy,  # the key name stays; the amount is in ``currency``
            "currency": f.currency,
            "evidence": f.evidence,
        }
        out.append(
            Alert(f"finding|{key}|{f.severity}", kind, f.severity, f.metric, f.scope, msg, payload)
        )
    return out


def record(con: duckdb.DuckDBPyConnection, snapshot_id: int, alerts: list[Alert]) -> list[Alert]:
    """Store the alerts whose key was never raised before; return those (the new ones)."""
    store.ensure(con)
    seen = {r["alert_key"] for r in store.query(con, "SELECT alert_key FROM _alerts")}
    now = datetime.now().replace(microsecond=0)
    new: list[Alert] = []
    for a in alerts:
        if a.key in seen:
            continue
        seen.add(a.key)
        a.raised_at, a.snapshot_id = now, snapshot_id
        new.append(a)
    store.insert_rows(con, "_alerts", [_row(a) for a in new])
    return new


def _row(a: Alert) -> dict[str, Any]:
    return {
        "alert_key": a.key,
        "snapshot_id": a.snapshot_id,
        "raised_at": a.raised_at,
        "kind": a.kind,
        "severity": a.severity,
        "metric": a.metric,
        "scope": json.dumps(a.scope, ensure_ascii=False, sort_keys=True),
        "message_ja": a.message["ja"],
        "message_en": a.message["en"],
        "payload": json.dumps(a.payload, ensure_ascii=False, default=str),
    }


def _from_row(r: dict[str, Any]) -> Alert:
    return Alert(
        key=r["alert_key"],
        kind=r["kind"],
        severity=r["severity"],
        metric=r["metric"],
        scope=json.loads(r["scope"]),
        message={"ja": r["message_ja"], "en": r["message_en"]},
        payload=json.loads(r["payload"]),
        raised_at=r["raised_at"],
        snapshot_id=r["snapshot_id"],
    )


def list_alerts(
    con: duckdb.DuckDBPyConnection, *, undelivered_to: str | None = None, limit: int = 100
) -> list[Alert]:
    """Alerts newest first; with ``undelivered_to``, only those that sink has not delivered."""
    store.ensure(con)
    where, params = "", []
    if undelivered_to is not None:
        where = "WHERE alert_key NOT IN (SELECT alert_key FROM _alert_deliveries WHERE sink = ?)"
        params = [undelivered_to]
    rows = store.query(
        con,
        f"SELECT * FROM _alerts {where} ORDER BY raised_at DESC, alert_key LIMIT {int(limit)}",
        params,
    )
    return [_from_row(r) for r in rows]


def mark_delivered(con: duckdb.DuckDBPyConnection, sink: str, alerts: list[Alert]) -> None:
    now = datetime.now().replace(microsecond=0)
    rows = [{"alert_key": a.key, "sink": sink, "delivered_at": now} for a in alerts]
    store.insert_rows(con, "_alert_deliveries", rows)
