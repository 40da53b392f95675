"""The ``did`` check kind: did an intervention work? Difference-in-differences of the treated
reps against untouched reps, before vs after the start, with a bootstrap interval."""

from __future__ import annotations

from eigyo.analysis.monitor.interventions import interventions, lead_cells, windows
from eigyo.base import stats
from eigyo.diagnose.checks import Check
from eigyo.diagnose.context import Context
from eigyo.diagnose.model import Finding, Severity
from eigyo.diagnose.playbook import finding_texts

MIN_POST_DAYS = 28
CONFIDENCE = 0.90
VERDICT_SEVERITY: dict[str, Severity] = {
    "worked": "info",
    "no_effect": "warn",
    "worse": "error",
    "too_early": "info",
}


def verdict(better: str, low: float, high: float) -> str:
    """Worked when the whole interval lies on the better side of zero, worse on the other;
    ``better`` is the metric's direction (higher or lower)."""
    better_low, better_high = (low, high) if better == "higher" else (-high, -low)
    if better_low > 0:
        return "worked"
    if better_high < 0:
        return "worse"
    return "no_effect"


def run_did(check: Check, ctx: Context) -> list[Finding]:
    findings = []
    for iv in interventions(ctx.ws):
        w = windows(iv, ctx.period)
        cells = lead_cells(ctx.ws, iv, ctx.period)
        primary = cells[check.value]
        ev: dict[str, object] = {
            "name": iv.name,
            "started_at": iv.started_at.isoformat(sep=" "),
            "treated_reps": len(iv.treated_reps),
            **{f"n_{k}": len(v) for k, v in primary.items()},
        }
        enough = all(len(v) >= check.min_n for v in primary.values())
        if w is None or (w[2] - w[1]).days < MIN_POST_DAYS or not enough:
            outcome = "too_early"
        else:
            ev["window_days"] = (w[2] - w[1]).days
            stat = "median" if check.unit == "minutes" else "mean"
            est, low, high = stats.bootstrap_did(primary, stat=stat, confidence=CONFIDENCE)
            ev.update(
                estimate=round(est, 3),
                ci_low=round(low, 3),
                ci_high=round(high, 3),
                confidence=CONFIDENCE,
            )
            sla = cells["lead_response_sla_rate"]
            if all(len(v) for v in sla.values()):
                e2, l2, h2 = stats.bootstrap_did(sla, stat="mean", confidence=CONFIDENCE)
                ev.update(
                    sla_rate_estimate=round(e2, 4),
                    sla_rate_ci_low=round(l2, 4),
                    sla_rate_ci_high=round(h2, 4),
                )
            outcome = verdict(check.better, low, high)
        ev["verdict"] = outcome
        scope = {"intervention_id": iv.intervention_id}
        title, cause, actions = finding_texts(check, scope, ev, variant=outcome)
        findings.append(
            Finding(
                step=check.step,
                check=check.id,
                severity=VERDICT_SEVERITY[outcome],
                metric=check.metric,
                scope=scope,
                evidence=ev,
                cause=cause,
                actions=actions,
                title=title,
                impact_jpy=None,
                unit=check.unit,
                chart=check.chart,
            )
        )
    return findings
