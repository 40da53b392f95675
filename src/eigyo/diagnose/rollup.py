"""Roll findings up to the level the problem lives at: rep → team → organization.

A team where every rep pushes close dates is one team problem, not nine rep problems: the manager
has one conversation with the team, not nine. A check declares the levels it rolls up to
(``rollup`` in checks.toml); after its groups are judged,

* **rep → team**: when at least ``MIN_MEMBERS`` reps of a team are flagged and they are more than
  half of the team's reps the check could test, their findings become one team finding whose
  evidence lists them (``members``: the drill-down, each with its own figures);
* **team → organization**: when every team the check could test (at least two) is flagged, the
  team findings become one organization finding listing them.

Nothing is re-tested: a roll-up restates findings that each passed the evidence rule. Its
severity is the worst of its members', its q-value the smallest, its impact the sum of theirs
(members are disjoint reps or teams), its value the members' pooled rate (successes ÷ records)
or, for medians, their record-weighted mean, stated as such.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from eigyo.diagnose.checks import Check
from eigyo.diagnose.compare import Tested
from eigyo.diagnose.context import Context
from eigyo.diagnose.model import SEVERITY_RANK, Finding
from eigyo.diagnose.playbook import check_finding, playbook
from eigyo.i18n import LANGS

#: Fewest flagged members a group finding needs: one flagged rep in a team of one is that rep.
MIN_MEMBERS = 2
#: Member keys copied from a member finding's evidence into the group's ``members`` list.
MEMBER_KEYS = ("rep_name", "team", "type", "n", "value", "baseline", "q_value", "successes")
#: Evidence keys a roll-up keeps when all its members hold the same value.
SHARED_KEYS = ("baseline_period", "baseline_which", "type")
#: Figures each part of a merged finding keeps.
PART_KEYS = ("n", "value", "baseline", "q_value", "successes")


def merge_parts(check: Check, findings: list[Finding]) -> list[Finding]:
    """One finding per scope: a check that compares within strata (a team's win rate per deal
    type) can flag the same team twice, as two findings with one id. They become one — the
    costliest part's texts and figures, every part listed in ``evidence.parts`` (its stratum,
    records, value, baseline, q-value, severity and impact) — with the worst severity and the
    parts' impacts summed (the strata hold different records)."""
    by_scope: dict[str, list[Finding]] = {}
    for f in findings:
        by_scope.setdefault(f.id, []).append(f)
    out = []
    for same in by_scope.values():
        if len(same) == 1:
            out.append(same[0])
            continue
        same.sort(key=Finding.sort_key)
        head = same[0]
        extra = [c for c in check.group if c not in check.scope]
        parts = []
        for f in same:
            row: dict[str, Any] = {"part": {c: f.evidence.get(c) for c in extra}}
            row.update({k: f.evidence[k] for k in PART_KEYS if k in f.evidence})
            row.update(severity=f.severity, impact_jpy=f.impact_jpy)
            parts.append(row)
        head.evidence["parts"] = parts
        head.severity = max((f.severity for f in same), key=SEVERITY_RANK.__getitem__)
        impacts = [f.impact_jpy for f in same if f.impact_jpy is not None]
        if len(impacts) > 1:
            head.impact_jpy = sum(impacts)
            formula = playbook()["_generic"]["parts_impact"]
            head.impact_formula = {lang: formula[lang].format(count=len(impacts)) for lang in LANGS}
        out.append(head)
    return out


def roll_up(
    check: Check, findings: list[Finding], tested: Sequence[Tested], ctx: Context
) -> list[Finding]:
    """``findings`` of one check with every group that most of its members share replaced by one
    finding at the group's level (the levels ``check.rollup`` declares, narrowest first)."""
    for level in check.rollup:
        if level == "team" and "rep_id" in check.scope:
            findings = _to_teams(check, findings, tested, ctx)
        elif level == "organization":
            findings = _to_organization(check, findings, tested, ctx)
    return findings


def _team_of(key: dict[str, str], ctx: Context) -> str | None:
    return key.get("team") or ctx.rep_teams.get(key.get("rep_id", ""))


def _to_teams(
    check: Check, findings: list[Finding], tested: Sequence[Tested], ctx: Context
) -> list[Finding]:
    tested_reps: dict[str, set[str]] = {}
    for t in tested:
        team = _team_of(t.key, ctx)
        if team is not None and "rep_id" in t.key:
            tested_reps.setdefault(team, set()).add(t.key["rep_id"])
    flagged: dict[str, list[Finding]] = {}
    for f in findings:
        if f.is_alarm and "rep_id" in f.scope and (team := _team_of(_key(f), ctx)) is not None:
            flagged.setdefault(team, []).append(f)
    out = [f for f in findings if not f.is_alarm or "rep_id" not in f.scope]
    for team in sorted(tested_reps):
        members = flagged.get(team, [])
        reps = {f.scope["rep_id"] for f in members}
        if len(reps) >= MIN_MEMBERS and 2 * len(reps) > len(tested_reps[team]):
            out.append(_group(check, "team", {"team": team}, members, len(tested_reps[team]), ctx))
        else:
            out.extend(members)
    return out


def _to_organization(
    check: Check, findings: list[Finding], tested: Sequence[Tested], ctx: Context
) -> list[Finding]:
    teams = {team for t in tested if (team := _team_of(t.key, ctx)) is not None}
    members = [f for f in findings if f.is_alarm and set(f.scope) == {"team"}]
    flagged = {f.scope["team"] for f in members}
    if len(teams) < MIN_MEMBERS or flagged != teams:
        return findings
    rest = [f for f in findings if f not in members]
    return [*rest, _group(check, "organization", {}, members, len(teams), ctx)]


def _key(f: Finding) -> dict[str, str]:
    """The finding's scope with the group columns its evidence carries (a rep's team)."""
    return {**{k: str(v) for k, v in f.evidence.items() if k == "team"}, **f.scope}


def _member(f: Finding) -> dict[str, Any]:
    """One member of a roll-up: its scope, name, figures and severity (the drill-down row)."""
    row: dict[str, Any] = dict(f.scope)
    row.update({k: f.evidence[k] for k in MEMBER_KEYS if k in f.evidence})
    row["severity"] = f.severity
    row["impact_jpy"] = f.impact_jpy
    if "members" in f.evidence:  # a team of an organization roll-up keeps its reps
        row["members"] = f.evidence["members"]
    return row


def _pooled(members: Iterable[Finding]) -> tuple[int, float, float]:
    """Records, pooled value and record-weighted baseline over the member findings."""
    ms = list(members)
    n = sum(int(f.evidence.get("n", 0)) for f in ms)
    if not n:
        return 0, float("nan"), float("nan")
    if all("successes" in f.evidence for f in ms):
        value = sum(int(f.evidence["successes"]) for f in ms) / n
    else:
        value = sum(float(f.evidence["value"]) * int(f.evidence["n"]) for f in ms) / n
    base = sum(float(f.evidence.get("baseline", 0.0)) * int(f.evidence["n"]) for f in ms) / n
    return n, value, base


def _names(members: Sequence[dict[str, Any]]) -> str:
    return ", ".join(str(m.get("rep_name") or m.get("rep_id") or m.get("team")) for m in members)


def _group(
    check: Check,
    level: str,
    scope: dict[str, str],
    members: list[Finding],
    counted: int,
    ctx: Context,
) -> Finding:
    """One finding at ``level`` standing for ``members`` (``counted``: the members tested)."""
    rows = sorted((_member(f) for f in members), key=lambda m: -(m.get("impact_jpy") or 0.0))
    n, value, baseline = _pooled(members)
    distinct = {tuple(sorted((k, str(m[k])) for k in ("rep_id", "team") if k in m)) for m in rows}
    evidence: dict[str, Any] = {
        "level": level,
        "members": rows,
        "members_count": len(distinct) if level == "team" else len(members),
        "members_tested": counted,
        "n": n,
        "value": round(value, 4),
        "baseline": round(baseline, 4),
        "baseline_kind": check.against,
        "q_value": min(float(f.evidence.get("q_value", 1.0)) for f in members),
        "p_value": min(float(f.evidence.get("p_value", 1.0)) for f in members),
    }
    for key in SHARED_KEYS:  # what every member states alike (the history baseline's dates)
        values = {str(f.evidence.get(key)) for f in members}
        if len(values) == 1 and key in members[0].evidence:
            evidence[key] = members[0].evidence[key]
    severity = max((f.severity for f in members), key=SEVERITY_RANK.__getitem__)
    impacts = [f.impact_jpy for f in members if f.impact_jpy is not None]
    texts = {**evidence, **scope, "member_names": _names(rows)}
    out = check_finding(
        check,
        severity,
        scope,
        evidence,
        texts=texts,
        variant=level,
        currency=ctx.currency,
        impact_jpy=sum(impacts) if impacts else None,
    )
    if impacts:
        formula = playbook()["_generic"]["rollup_impact"]
        out.impact_formula = {lang: formula[lang].format(count=len(impacts)) for lang in LANGS}
    return out
