"""Run the declared checks: sample → compare → evidence rule → findings with playbook texts.

The evidence rule (documented in checks.toml): a gap in the flagged direction of at least
``min_effect`` with a Benjamini–Hochberg q-value below 0.05 is a warning; twice that with q
below 0.01 is an error. Nothing else raises an alarm, so noise and small samples stay quiet.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from eigyo.base import stats
from eigyo.base.periods import Period
from eigyo.diagnose.checks import Check, load_checks
from eigyo.diagnose.compare import Tested, median, proportion
from eigyo.diagnose.context import Context
from eigyo.diagnose.did import run_did
from eigyo.diagnose.impact import estimate
from eigyo.diagnose.model import Finding, Severity
from eigyo.diagnose.playbook import finding_texts, impact_formula, not_available, plain_finding
from eigyo.diagnose.quality import run_quality
from eigyo.diagnose.regression import run_regressions
from eigyo.metrics import REGISTRY
from eigyo.workspace import Workspace

Q_WARN, Q_ERROR = 0.05, 0.01
Progress = Callable[[str, int, int], None]


def severity(check: Check, t: Tested) -> Severity | None:
    """The evidence rule; ``None`` when the group raises nothing."""
    if t.gap >= 2 * check.min_effect and t.q_value < Q_ERROR and check.flag != "better":
        return "error"
    if t.gap >= check.min_effect and t.q_value < Q_WARN:
        return "warn"
    return None


def _eligible(check: Check, t: Tested, targets: dict[str, float]) -> bool:
    if t.gap_info.n < check.min_n or t.base_n < check.min_n:
        return False
    if check.max_share is not None and t.share > check.max_share:
        return False
    if check.target and check.target in targets:
        # Worse than the baseline is not enough: it must also miss the target.
        return check.sign * (targets[check.target] - t.gap_info.value) > 0
    return True


def _evidence(check: Check, t: Tested) -> dict[str, object]:
    g = t.gap_info
    ev: dict[str, object] = {
        "n": g.n,
        "value": round(g.value, 4),
        "baseline": round(g.baseline, 4),
        "baseline_n": t.base_n,
        "effect": round(t.effect, 4),
        "p_value": float(f"{t.p_value:.3g}"),
        "q_value": float(f"{t.q_value:.3g}"),
        "share": round(t.share, 4),
    }
    ev.update({k: (round(v, 4) if isinstance(v, float) else v) for k, v in t.extra.items()})
    return ev


def needs_of(check: Check) -> tuple[str, ...]:
    """The data a check needs: its own declaration, else what its metric declares."""
    if check.needs is not None:
        return check.needs
    metric = REGISTRY.get(check.metric)
    return metric.needs if metric is not None else ()


def run_check(check: Check, ctx: Context) -> list[Finding]:
    """All findings of one check (at least one: an alarm, "ok", "not enough data" or — when
    the data it needs is absent — "not available", never judged against a target)."""
    unmet = ctx.unmet(needs_of(check))
    if unmet:
        return [not_available(check, unmet)]
    if check.kind == "did":
        return run_did(check, ctx)
    if check.kind == "regression":
        return run_regressions(check, ctx)
    if check.kind == "quality":
        return run_quality(check, ctx)
    sample = ctx.sample(check.sample)
    tested = proportion(check, sample) if check.kind == "proportion" else median(check, sample)
    targets = ctx.ws.settings.targets
    eligible = [t for t in tested if _eligible(check, t, targets)]
    if not any(t.gap_info.n >= check.min_n and t.base_n >= check.min_n for t in tested):
        return [plain_finding(check, "insufficient", {"groups": len(tested), "min_n": check.min_n})]
    for t, q in zip(eligible, stats.benjamini_hochberg([t.p_value for t in eligible]), strict=True):
        t.q_value = q
    findings = []
    for t in eligible:
        sev = severity(check, t)
        if sev is None:
            continue
        scope = {k: v for k, v in t.key.items() if k in check.scope}
        ev = {**{k: v for k, v in t.key.items() if k not in check.scope}, **_evidence(check, t)}
        title, cause, actions = finding_texts(check, t.key, ev, currency=ctx.currency)
        yen, inputs = estimate(check.impact, t.gap_info, ctx)
        findings.append(
            Finding(
                step=check.step,
                check=check.id,
                severity=sev,
                metric=check.metric,
                scope=scope,
                evidence=ev,
                cause=cause,
                actions=actions,
                title=title,
                impact_jpy=yen,
                unit=check.unit,
                impact_formula=impact_formula(check.impact, inputs, ctx.currency),
                chart=check.chart,
                currency=ctx.currency,
            )
        )
    if not findings:
        findings.append(plain_finding(check, "ok", {"groups_tested": len(eligible)}))
    return findings


def diagnose(
    ws: Workspace,
    period: Period,
    *,
    check_ids: Sequence[str] | None = None,
    progress: Progress | None = None,
) -> list[Finding]:
    """Run the runbook's checks over one period; findings sorted most important first."""
    checks = [c for c in load_checks() if check_ids is None or c.id in check_ids]
    ctx = Context(ws, period)
    ctx.check_needs(n for c in checks for n in needs_of(c))
    findings: list[Finding] = []
    for i, check in enumerate(checks):
        if progress:
            progress(check.id, i, len(checks))
        findings.extend(run_check(check, ctx))
    for f in findings:  # every finding says which currency its amounts are in
        f.currency = ctx.currency
    if progress:
        progress("", len(checks), len(checks))
    return sorted(findings, key=Finding.sort_key)
