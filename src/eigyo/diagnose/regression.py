"""The ``regression`` check kind: key metrics that left their control limits for the worse in
the latest ``eigyo monitor`` snapshot of the period.

The evidence is the control chart's own: a point beyond limits learnt from the metric's history
(EWMA or Shewhart with run rules), which keeps false alarms rare by construction.
"""

from __future__ import annotations

from eigyo.diagnose.checks import Check
from eigyo.diagnose.context import Context
from eigyo.diagnose.model import Finding
from eigyo.diagnose.playbook import finding_texts, plain_finding
from eigyo.errors import EigyoError

#: A regression this many sigmas from its centre is an error rather than a warning.
ERROR_Z = 4.0
#: Monitoring charts dozens of series; one chart's signal is not yet a diagnosis. A regression
#: becomes a finding when its value is at least ``min_effect`` sigmas out, or when it persisted
#: for this many consecutive signalled points.
PERSISTENT_POINTS = 4


def run_regressions(check: Check, ctx: Context) -> list[Finding]:
    from eigyo.analysis.monitor.regressions import regressions

    try:
        # ibis 12's list_tables() breaks on DuckDB 2 (fetch_arrow_table is gone): ask directly.
        known = ctx.ws.raw.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = '_snapshots'"
        ).fetchall()[0][0]
        if not known:  # never monitored: nothing to judge yet
            return [plain_finding(check, "no_snapshot", {})]
        rows = ctx.ws.raw.execute("SELECT count(*) FROM _snapshots").fetchall()[0][0]
        if not rows:  # the table exists but holds no snapshot: still nothing to judge
            return [plain_finding(check, "no_snapshot", {})]
        found = regressions(ctx.ws, ctx.period)
    except EigyoError:  # a scoped (dashboard) view may not read organization-wide snapshots
        return [plain_finding(check, "no_snapshot", {})]
    found = [r for r in found if abs(r.z) >= check.min_effect or r.points >= PERSISTENT_POINTS]
    if not found:
        return [plain_finding(check, "ok", {"groups_tested": 0})]
    out = []
    for r in found:
        ev = {
            "metric_id": r.metric,
            "grain": r.grain,
            "label": r.label,
            "since": r.since,
            "points": r.points,
            "value": r.value,
            "baseline": r.center,
            "baseline_kind": "history",  # the metric's own control limits over past snapshots
            "limit": r.limit,
            "z": round(r.z, 2),
            "rule": r.rule,
            "snapshot_id": r.snapshot_id,
        }
        title, cause, actions = finding_texts(
            check, r.scope, ev, unit=r.unit, currency=ctx.currency
        )
        out.append(
            Finding(
                step=check.step,
                check=check.id,
                severity="error" if abs(r.z) >= ERROR_Z else "warn",
                metric=r.metric,
                scope=dict(r.scope),
                evidence=ev,
                cause=cause,
                actions=actions,
                title=title,
                impact_jpy=None,
                unit=r.unit,
                chart=check.chart,
                currency=ctx.currency,
            )
        )
    return out
