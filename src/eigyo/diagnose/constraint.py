"""The constraint: the stage that limits the whole organization's throughput.

Every other process check compares a team with the other teams, so a stage every team handles
badly is invisible to them. Here each stage of the organization's funnel is compared with the
*typical stage* of the same funnel (the median over the other stages,
:func:`eigyo.analysis.process.bottleneck.stage_profiles`): its conversion is tested against the
typical conversion with an exact binomial test, and its time in stage against the typical stage's
median with a sign test (the share of its deals that took longer, against one half: counted in
the engine); each side's p-values are adjusted together (Benjamini–Hochberg) and judged by the
evidence rule — conversion by ``min_effect``, time by ``time_effect`` (relative) — and the stage
is flagged only when both stand out, at the lower of the two severities. The ¥ is that of
closing both the conversion and the time-in-stage gap to the typical stage.

A stage that one team alone drags down is that team's bottleneck (``stage_bottleneck`` reports
it at its own level): the organization finding needs at least half of the teams that hold
``min_n`` entries at the stage to miss the typical conversion by ``min_effect`` themselves.
When no stage meets the rule the check still names the tightest stage ("ok": the process always
has a constraint, it is just not an alarm).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from eigyo.analysis.process.bottleneck import StageProfile, stage_profiles
from eigyo.base import stats
from eigyo.diagnose.checks import Check, evidence_rule
from eigyo.diagnose.context import Context
from eigyo.diagnose.model import Finding
from eigyo.diagnose.playbook import check_finding, plain_finding


def _teams_below(check: Check, p: StageProfile) -> tuple[list[str], int]:
    """Teams (with ``min_n`` entries at the stage) missing the typical conversion by
    ``min_effect``, and how many teams were counted."""
    assert p.typical_conversion is not None
    counted = {t: conv for t, (n, conv) in p.teams.items() if n >= check.min_n}
    below = sorted(
        t for t, conv in counted.items() if p.typical_conversion - conv >= check.min_effect
    )
    return below, len(counted)


def _evidence(check: Check, p: StageProfile, q: float, pv: float, ctx: Context) -> dict[str, Any]:
    assert p.typical_conversion is not None
    targets = ctx.ws.settings.targets
    target = targets.get(f"conversion.{p.stage}", targets.get("stage_conversion"))
    dwell_target = targets.get(f"dwell_days.{p.stage}", targets.get("stage_dwell_days"))
    below, counted = _teams_below(check, p)
    low, high = stats.wilson(p.advanced, p.decided)
    ev: dict[str, Any] = {
        "n": p.decided,
        "value": round(p.conversion, 4),
        "baseline": round(p.typical_conversion, 4),
        "baseline_kind": "typical_stage",
        "effect": round(p.conversion - p.typical_conversion, 4),
        "p_value": float(f"{pv:.3g}"),
        "q_value": float(f"{q:.3g}"),
        "successes": p.advanced,
        "ci_low": round(low, 4),
        "ci_high": round(high, 4),
        "dwell_days": None if p.dwell_days is None else round(p.dwell_days, 1),
        "typical_dwell_days": None if p.typical_dwell is None else round(p.typical_dwell, 1),
        "target": target,
        "target_met": None if target is None else p.conversion >= target,
        "dwell_target": dwell_target,
        "teams_below": below,
        "teams_counted": counted,
    }
    return ev


def _inputs(p: StageProfile, ctx: Context) -> dict[str, float]:
    assert p.typical_conversion is not None
    return {
        "gap": max(0.0, p.typical_conversion - p.conversion),
        "n": float(p.decided),
        "dwell_gap": max(0.0, (p.dwell_days or 0.0) - (p.typical_dwell or 0.0)),
        "advanced": float(p.advanced),
        "period_days": float(ctx.period.days),
        "deal_value": p.deal_value,
    }


def run_constraint(check: Check, ctx: Context) -> list[Finding]:
    """The constraint findings: each stage standing out org-wide (usually one), else the tightest
    stage named in an "ok"."""
    profiles = [
        p
        for p in stage_profiles(ctx.ws, ctx.period, ctx.sample(check.sample))
        if p.typical_conversion is not None
    ]
    tested = [p for p in profiles if p.decided >= check.min_n]
    if len(tested) < 3:  # a "typical stage" needs at least two others
        return [
            plain_finding(check, "insufficient", {"groups": len(profiles), "min_n": check.min_n})
        ]
    pvals = [stats.binomial(p.advanced, p.decided, _clip(p.typical_conversion)) for p in tested]
    qvals = stats.benjamini_hochberg(pvals)
    tvals = [stats.binomial(p.dwell_above, p.dwell_n, 0.5) for p in tested]
    tq = stats.benjamini_hochberg(tvals)
    timing = replace(check, min_effect=check.time_effect)
    findings: list[Finding] = []
    for p, pv, q, tp, tqv in zip(tested, pvals, qvals, tvals, tq, strict=True):
        assert p.typical_conversion is not None
        sev = evidence_rule(check, p.typical_conversion - p.conversion, q)
        longer = evidence_rule(timing, _time_gap(p), tqv)
        if sev is None or longer is None:
            continue
        sev = "warn" if "warn" in (sev, longer) else sev  # both must stand out: the lower counts
        below, counted = _teams_below(check, p)
        if counted and 2 * len(below) < counted:
            continue
        ev = _evidence(check, p, q, pv, ctx)
        ev.update(time_gap=round(_time_gap(p), 4), time_p_value=float(f"{tp:.3g}"))
        ev["time_q_value"] = float(f"{tqv:.3g}")
        scope = {"stage": p.stage}
        texts = {**ev, "teams_below_count": len(below)}
        findings.append(
            check_finding(
                check,
                sev,
                scope,
                ev,
                texts=texts,
                currency=ctx.currency,
                impact_jpy=p.impact_jpy,
                impact_inputs=_inputs(p, ctx),
            )
        )
    if findings:
        return findings
    top = max(tested, key=lambda p: (p.impact_jpy, -p.conversion))
    ev = {"status": "ok", "groups_tested": len(tested), **_evidence(check, top, 1.0, 1.0, ctx)}
    for k in ("p_value", "q_value", "effect"):  # the tightest stage is named, not judged
        ev.pop(k)
    scope = {"stage": top.stage}
    ok = check_finding(check, "ok", {}, ev, text_scope=scope, variant="ok", currency=ctx.currency)
    ok.evidence["constraint_stage"] = top.stage
    return [ok]


def _time_gap(p: StageProfile) -> float:
    """How much longer than the typical stage deals stay (0.5 = 50% longer; 0 when unknown)."""
    if not p.dwell_days or not p.typical_dwell:
        return 0.0
    return p.dwell_days / p.typical_dwell - 1


def _clip(p0: float | None) -> float:
    return min(max(p0 or 0.0, 1e-6), 1 - 1e-6)
