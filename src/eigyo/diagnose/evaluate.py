"""Run the declared checks: sample → compare → evidence rule → findings with playbook texts.

The evidence rule (documented in checks.toml): a gap in the flagged direction of at least
``min_effect`` with a Benjamini–Hochberg q-value below 0.05 is a warning; twice that with q
below 0.01 is an error. Nothing else raises an alarm, so noise and small samples stay quiet. The
q-values are adjusted over every group the comparing checks of one diagnosis test
(:func:`prepare` → :func:`adjust` → :func:`judge`), not check by check.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import ibis.expr.types as ir

from eigyo.analysis.common import covers
from eigyo.base import stats
from eigyo.base.formatting import format_value
from eigyo.base.periods import Period
from eigyo.diagnose.checks import Q_ERROR, Q_WARN, Check, evidence_rule, load_checks
from eigyo.diagnose.compare import Tested, against_target, median, proportion
from eigyo.diagnose.concentration import run_concentration
from eigyo.diagnose.constraint import run_constraint
from eigyo.diagnose.context import Context
from eigyo.diagnose.coverage import run_coverage
from eigyo.diagnose.did import run_did
from eigyo.diagnose.impact import estimate
from eigyo.diagnose.model import Finding, Severity
from eigyo.diagnose.overlap import mark
from eigyo.diagnose.playbook import (
    check_finding,
    not_available,
    plain_finding,
)
from eigyo.diagnose.quality import run_quality
from eigyo.diagnose.regression import run_regressions
from eigyo.diagnose.rollup import merge_parts, roll_up
from eigyo.i18n import LANGS
from eigyo.metrics import REGISTRY
from eigyo.workspace import Workspace

__all__ = ["Q_ERROR", "Q_WARN", "diagnose", "run_check", "severity"]
Progress = Callable[[str, int, int], None]


def severity(check: Check, t: Tested) -> Severity | None:
    """The evidence rule; ``None`` when the group raises nothing."""
    return evidence_rule(check, t.gap, t.q_value)


def _eligible(check: Check, t: Tested, targets: dict[str, float]) -> bool:
    if t.gap_info.n < check.min_n or t.base_n < check.min_n:
        return False
    if check.max_share is not None and t.share > check.max_share:
        return False
    if check.target and check.target in targets:
        # Worse than the baseline is not enough: it must also miss the target.
        return check.sign * (targets[check.target] - t.gap_info.value) > 0
    return True


def _evidence(check: Check, t: Tested, ctx: Context) -> dict[str, object]:
    g = t.gap_info
    ev: dict[str, object] = {
        "n": g.n,
        "value": round(g.value, 4),
        "baseline": round(g.baseline, 4),
        "baseline_kind": check.against,
        "baseline_n": t.base_n,
        "effect": round(t.effect, 4),
        "p_value": float(f"{t.p_value:.3g}"),
        "q_value": float(f"{t.q_value:.3g}"),
        "share": round(t.share, 4),
    }
    extra = t.evidence_extra()
    ev.update({k: (round(v, 4) if isinstance(v, float) else v) for k, v in extra.items()})
    if check.target and check.target in ctx.ws.settings.targets:
        ev["target"] = ctx.ws.settings.targets[check.target]
    if "rep_id" in t.key:  # people are named, the id second
        ev["rep_name"] = ctx.rep_names.get(t.key["rep_id"], t.key["rep_id"])
    if check.against == "history":
        prev = ctx.history
        ev["baseline_period"] = f"{prev.start.isoformat()}..{prev.end.isoformat()}"
        ev["baseline_which"] = "year_ago" if prev.label.endswith("-yoy") else "previous"
    return ev


def _readable(ev: dict[str, object]) -> dict[str, object]:
    """The evidence plus the few derived figures the texts quote (a shrunk rate as %, how many
    teams share an organization-wide gap); the finding's evidence keeps the numbers only."""
    out = dict(ev)
    shrunk = ev.get("shrunk_value")
    if isinstance(shrunk, float):
        out["shrunk_value_text"] = format_value(shrunk, "ratio", "en")
    below = ev.get("teams_below")
    if isinstance(below, list):
        out["teams_below_count"] = len(below)
    return out


def _partial_history(check: Check, ctx: Context) -> Finding | None:
    """A history baseline the data covers only in part is no baseline: say why, judge nothing
    (a quarter against a previous quarter holding one month of data raises false alarms). The
    data counts from the first deal created or closed; missing up to ``HISTORY_GRACE`` of the
    baseline period at its start is tolerated (:func:`~eigyo.analysis.common.covers`)."""
    prev = ctx.history
    start = ctx.data_start
    if start is None or covers(start, prev):
        return None
    ev = {"baseline_period": f"{prev.start.isoformat()}..{prev.end.isoformat()}"}
    ev["data_start"] = start.isoformat()
    return plain_finding(check, "partial_baseline", ev)


def _shared(check: Check, sample: ir.Table, target: float) -> tuple[list[str], int]:
    """The ``shared_by`` groups (each with ``min_n`` records) that miss ``target`` by
    ``min_effect`` themselves, and how many were counted: one GROUP BY in the engine."""
    assert check.shared_by is not None
    t = sample.filter(sample[check.value].notnull())
    rows = (
        t.group_by(check.shared_by)
        .agg(n=t.count(), k=t[check.value].sum())
        .to_pyarrow()
        .to_pylist()
    )
    counted = [r for r in rows if r["n"] >= check.min_n]
    below = [
        str(r[check.shared_by])
        for r in counted
        if check.sign * (target - r["k"] / r["n"]) >= check.min_effect
    ]
    return sorted(below), len(counted)


def needs_of(check: Check) -> tuple[str, ...]:
    """The data a check needs: its own declaration, else what its metric declares."""
    if check.needs is not None:
        return check.needs
    metric = REGISTRY.get(check.metric)
    return metric.needs if metric is not None else ()


@dataclass
class Pending:
    """A comparing check whose groups are tested but not yet judged: the q-values come from one
    Benjamini–Hochberg adjustment over every group of every comparing check of the diagnosis."""

    check: Check
    tested: list[Tested]
    eligible: list[Tested]
    shared: tuple[list[str], int] | None = None


def prepare(check: Check, ctx: Context) -> list[Finding] | Pending:
    """Test one check's groups (p-values), or its findings when it judges on its own: "not
    available", "not enough data", a partial history, and the kinds with their own rule."""
    unmet = ctx.unmet(needs_of(check))
    if unmet:
        return [not_available(check, unmet)]
    if check.kind == "did":
        return run_did(check, ctx)
    if check.kind == "regression":
        return run_regressions(check, ctx)
    if check.kind == "quality":
        return run_quality(check, ctx)
    if check.kind == "constraint":
        return run_constraint(check, ctx)
    if check.kind == "concentration":
        return run_concentration(check, ctx)
    if check.kind == "coverage":
        return [run_coverage(check, [])]
    if check.against == "history" and (why := _partial_history(check, ctx)) is not None:
        return [why]
    sample = ctx.sample(check.sample)
    targets = ctx.ws.settings.targets
    shared: tuple[list[str], int] | None = None
    if check.against == "target":
        target = targets[check.target or check.metric]
        tested = against_target(check, sample, target)
        if check.shared_by:
            shared = _shared(check, sample, target)
    elif check.kind == "proportion":
        tested = proportion(check, sample)
    else:
        tested = median(check, sample)
    eligible = [t for t in tested if _eligible(check, t, targets)]
    if not any(t.gap_info.n >= check.min_n and t.base_n >= check.min_n for t in tested):
        return [plain_finding(check, "insufficient", {"groups": len(tested), "min_n": check.min_n})]
    return Pending(check, tested, eligible, shared)


def adjust(pending: Sequence[Pending]) -> None:
    """One Benjamini–Hochberg adjustment over every group the comparing checks test: a
    diagnosis runs a hundred tests or more, and adjusting within each check alone let one of
    them cross q < 0.05 by chance in most clean companies (tests/test_diagnosis_levels.py)."""
    groups = [t for p in pending for t in p.eligible]
    for t, q in zip(groups, stats.benjamini_hochberg([t.p_value for t in groups]), strict=True):
        t.q_value = q


def judge(p: Pending, ctx: Context) -> list[Finding]:
    """The findings of one tested check, by the evidence rule on the adjusted q-values."""
    check, shared, targets = p.check, p.shared, ctx.ws.settings.targets
    findings = []
    for t in p.eligible:
        sev = severity(check, t)
        if sev is None:
            continue
        if shared is not None and shared[1] and 2 * len(shared[0]) < shared[1]:
            continue  # one team's problem: the team check reports it at its own level
        scope = {k: v for k, v in t.key.items() if k in check.scope}
        ev: dict[str, object] = {k: v for k, v in t.key.items() if k not in check.scope}
        ev.update(_evidence(check, t, ctx))
        if shared is not None:
            ev[f"{check.shared_by}s_below"], ev[f"{check.shared_by}s_counted"] = shared
        yen, inputs = estimate(check.impact, t.gap_info, ctx)
        findings.append(
            check_finding(
                check,
                sev,
                scope,
                ev,
                texts=_readable(ev),
                text_scope=t.key,
                currency=ctx.currency,
                impact_jpy=yen,
                impact_inputs=inputs,
            )
        )
    findings = merge_parts(check, findings)  # one finding per scope (deal types are its parts)
    if check.rollup:  # most members of a group share it: one finding at the group's level
        findings = roll_up(check, findings, p.eligible, ctx)
    if not findings and check.against == "target" and not check.group:
        target = targets[check.target or check.metric]
        findings.append(_within_target(check, p.tested[0], target))
    elif not findings:
        findings.append(plain_finding(check, "ok", {"groups_tested": len(p.eligible)}))
    return findings


def run_check(check: Check, ctx: Context) -> list[Finding]:
    """All findings of one check run alone (at least one: an alarm, "ok", "not enough data" or
    — when the data it needs is absent — "not available", never judged against a target); its
    groups are adjusted among themselves."""
    p = prepare(check, ctx)
    if not isinstance(p, Pending):
        return p
    adjust([p])
    return judge(p, ctx)


def _within_target(check: Check, t: Tested, target: float) -> Finding:
    """The organization's "ok" against a target says where it stands: the value and the target
    (meeting the target, or missing it by less than the rule asks), not "0 groups tested"."""
    ev: dict[str, Any] = {"value": round(t.gap_info.value, 4), "target": target}
    ev["n"] = t.gap_info.n
    ev.update(baseline_kind="target", q_value=float(f"{t.q_value:.3g}"))
    texts: dict[str, Any] = {
        lang: {
            "value_text": format_value(t.gap_info.value, check.unit, lang),
            "target_text": format_value(target, check.unit, lang),
        }
        for lang in LANGS
    }
    f = plain_finding(check, "ok_target", ev, texts)
    f.severity, f.evidence["status"] = "ok", "ok"  # tested and fine: an "ok", not information
    return f


def diagnose(
    ws: Workspace,
    period: Period,
    *,
    check_ids: Sequence[str] | None = None,
    progress: Progress | None = None,
) -> list[Finding]:
    """Run the runbook's checks over one period; findings sorted most important first."""
    checks = [c for c in load_checks() if check_ids is None or c.id in check_ids]
    with Context(ws, period) as ctx:  # the samples' engine tables are dropped on the way out
        findings = _run(checks, ctx, progress)
    return sorted(findings, key=Finding.sort_key)


def _run(checks: list[Check], ctx: Context, progress: Progress | None) -> list[Finding]:
    """Every finding of ``checks`` over one diagnosis's context, unsorted."""
    ctx.check_needs(n for c in checks for n in needs_of(c))
    findings: list[Finding] = []
    pending: list[Pending] = []
    for i, check in enumerate(checks):
        if progress:
            progress(check.id, i, len(checks))
        if check.kind == "coverage":  # judges the other checks: runs once they have
            continue
        p = prepare(check, ctx)
        if isinstance(p, Pending):
            pending.append(p)
        else:
            findings.extend(p)
    adjust(pending)
    for p in pending:
        findings.extend(judge(p, ctx))
    findings += [run_coverage(c, findings) for c in checks if c.kind == "coverage"]
    mark(findings, ctx)  # the alarms sharing deals, leads or reps: their ¥ do not add up
    for f in findings:  # every finding says which currency its amounts are in
        f.currency = ctx.currency
    if progress:
        progress("", len(checks), len(checks))
    return findings
