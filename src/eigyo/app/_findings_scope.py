"""Scoped diagnosis: which of the organization's findings a signed-in person reads, and how.

Why not diagnose the scoped workspace: a manager's rows hold one team, so every "team against
the other teams" check compared the team with itself and found nothing (the Osaka manager saw
none of Osaka's errors), a rep's own deals came out labelled as the team's, and checks reading
admin-only tables said "no problem found". The dashboard therefore runs the diagnosis once on
the whole workspace (``eigyo diagnose``'s findings, shared by every user) and this module, pure
and declared, keeps what the person may read:

* **admin** — every finding, unchanged.
* **manager** — findings on their team or on one of its reps, and organization findings (no
  scope, or a slice of the whole organization such as a stage, a lead source or an industry).
* **rep** — findings on themselves, organization findings, and their own team's findings when
  the team has at least :data:`MIN_TEAM_FOR_REP` reps (a team aggregate of two people would be
  the teammate's own figure).

A finding compares its scope with a baseline of the rest of the organization; the baseline is
an aggregate (a rate and a count), never rows, so it stays. What names anyone outside the scope
does not: ``members`` (a roll-up's drill-down) and name lists such as ``teams_below`` keep only
visible reps and teams; any other evidence value naming an outsider is removed (its key listed
in ``evidence["redacted"]``); the texts (title, cause, actions, impact formula) are re-rendered
for a roll-up whose member list was cut, and every remaining outsider's name or rep id in them is
replaced by "(hidden)". Records named by a scope (an intervention, a customer) are shown only
when the person's scoped tables hold them. Checks in :data:`ROLE_CHECKS` (the import-quality
check reads the admin-only ``_imports``/``_rejects`` tables and quotes rows of any rep) become one
"not available to your role" finding, and a check all of whose findings lie outside the scope
says "no alarm in your scope" — neither is reported as "no problem found" for the organization.
docs/security.md states the rule for readers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from eigyo.app._scope import Role, ScopedWorkspace
from eigyo.diagnose import Finding
from eigyo.diagnose.checks import load_checks
from eigyo.diagnose.playbook import finding_texts, playbook
from eigyo.i18n import LANGS, t

#: Checks only these roles may see; for the others the check is one "not available to your
#: role" finding. import_quality reads the bookkeeping tables (_imports, _rejects) the scoped
#: workspace refuses to non-admins, and its evidence quotes a row of any rep (example_value).
ROLE_CHECKS: dict[str, tuple[Role, ...]] = {"import_quality": ("admin",)}
#: Scope keys that name a person or a team: the finding is visible when that rep / team is.
REP_KEY = "rep_id"
TEAM_KEY = "team"
#: Scope keys that name a record: visible when the person's scoped table holds it (the value is
#: (table, column) of :class:`ScopedWorkspace`; evidence values under these keys follow it too).
RECORD_KEYS: dict[str, tuple[str, str]] = {
    "intervention_id": ("interventions", "intervention_id"),
    "account": ("accounts", "name"),
    "account_id": ("accounts", "account_id"),
}
#: Scope keys that slice the whole organization (no person, no team): such a finding is an
#: organization finding. Any other key is refused to non-admins (fail closed), so a new check
#: with a new scope column is hidden until it is declared here.
ORG_SLICE_KEYS: frozenset[str] = frozenset(
    {"stage", "source", "campaign", "industry", "type", "metric", "check", "role", "segment"}
)
#: Evidence keys holding lists of team names (the constraint's teams below target).
TEAM_LIST_KEYS: tuple[str, ...] = ("teams_below",)
#: Fewest reps a rep's team needs before the rep sees the team's own findings.
MIN_TEAM_FOR_REP = 3
#: What replaces an outsider's name in a text a person reads.
HIDDEN_KEY = "findings_scope.hidden"
#: How names are listed in a sentence, per language.
_SEP = {"ja": "、", "en": ", "}


@dataclass(frozen=True)
class Audience:
    """What one person may read of the organization's findings (see the module docstring).

    ``reps`` and ``teams``: whose findings and roll-up members are visible; ``hidden``: every
    rep id, rep name and team name outside the scope (never in a text the person reads);
    ``shown``: the names inside it (kept even where an outsider's name is part of one);
    ``records``: per :data:`RECORD_KEYS` key, the values the person's tables hold."""

    role: Role
    rep_id: str | None = None
    team: str | None = None
    reps: frozenset[str] = frozenset()
    teams: frozenset[str] = frozenset()
    hidden: frozenset[str] = frozenset()
    shown: frozenset[str] = frozenset()
    records: Mapping[str, frozenset[str]] = field(default_factory=dict)


def audience(ws: ScopedWorkspace) -> Audience:
    """The :class:`Audience` of ``ws``'s principal. Reads the base ``reps`` table for the names to
    hide (used only to keep them out of texts) and the scoped tables for what is visible."""
    who = ws.who
    if who.role == "admin":
        return Audience("admin")
    everyone = ws.base.table("reps").select("rep_id", "name", "team").to_pyarrow().to_pylist()
    team_of = {r["rep_id"]: r["team"] for r in everyone}
    team = team_of.get(who.rep_id) if who.role == "rep" else who.team
    team = team or who.team
    if who.role == "manager":
        reps = _column(ws.visible_reps(), "rep_id")
        teams = {who.team} if who.team else set()
    else:
        reps = {who.rep_id} if who.rep_id else set()
        size = sum(1 for r in everyone if team and r["team"] == team)
        teams = {team} if team and size >= MIN_TEAM_FOR_REP else set()
    shown: set[str] = set(teams) | ({team} if team else set())
    hidden: set[str] = set()
    for r in everyone:
        names = {str(v) for v in (r["rep_id"], r["name"]) if v}
        (shown if r["rep_id"] in reps else hidden).update(names)
        if r["team"] and r["team"] not in shown:
            hidden.add(str(r["team"]))
    records = {
        key: frozenset(_column(ws.table(table), column))
        for key, (table, column) in RECORD_KEYS.items()
    }
    return Audience(
        who.role,
        who.rep_id,
        team,
        frozenset(reps),
        frozenset(teams),
        frozenset(hidden - shown),
        frozenset(shown),
        records,
    )


def _column(table: Any, column: str) -> set[str]:
    values = table.select(column).distinct().to_pyarrow().column(0).to_pylist()
    return {str(v) for v in values if v is not None}


def visible_findings(findings: Iterable[Finding], who: Audience) -> list[Finding]:
    """The findings ``who`` may read, in the diagnosis's order, redacted as the module docstring
    says. Pure: the shared findings are never changed (copies are returned)."""
    found = list(findings)
    if who.role == "admin":
        return found
    out: list[Finding] = []
    restricted: dict[str, Finding] = {}
    hidden_checks: dict[str, Finding] = {}
    for f in found:
        if who.role not in ROLE_CHECKS.get(f.check, (who.role,)):
            restricted.setdefault(f.check, f)
        elif _visible(f.scope, who):
            out.append(_redacted(f, who))
        else:
            hidden_checks.setdefault(f.check, f)
    shown_checks = {f.check for f in out}
    out += [_not_for_role(f, who) for f in restricted.values()]
    out += [_none_in_scope(f) for c, f in hidden_checks.items() if c not in shown_checks]
    ids = {f.id for f in out}
    return [replace(f, overlaps=[i for i in f.overlaps if i in ids]) for f in out]


def _visible(scope: Mapping[str, str], who: Audience) -> bool:
    """Whether a finding on ``scope`` concerns ``who``'s scope or the whole organization."""
    for key, value in scope.items():
        if key == REP_KEY:
            ok = value in who.reps
        elif key == TEAM_KEY:
            ok = value in who.teams
        elif key in RECORD_KEYS:
            ok = value in who.records.get(key, frozenset())
        else:
            ok = key in ORG_SLICE_KEYS
        if not ok:
            return False
    return True


def _member_visible(member: Mapping[str, Any], who: Audience) -> bool:
    if REP_KEY in member:
        return str(member[REP_KEY]) in who.reps
    if TEAM_KEY in member:
        return str(member[TEAM_KEY]) in who.teams
    return False


def _members(rows: list[Any], who: Audience) -> tuple[list[Any], int]:
    """Visible members (nested roll-ups filtered too) and how many were cut."""
    kept: list[Any] = []
    cut = 0
    for m in rows:
        if isinstance(m, Mapping) and _member_visible(m, who):
            row = dict(m)
            if isinstance(row.get("members"), list):
                row["members"], inner = _members(row["members"], who)
                if inner:
                    row["members_hidden"] = inner
            kept.append(row)
        else:
            cut += 1
    return kept, cut


def _redacted(f: Finding, who: Audience) -> Finding:
    """A copy of ``f`` naming nobody outside ``who``'s scope (members, lists, values, texts)."""
    ev: dict[str, Any] = {}
    removed: list[str] = []
    cut = 0
    names = _Names(who)
    for key, value in f.evidence.items():  # records outside the scope, named anywhere below
        if key in RECORD_KEYS and str(value) not in who.records.get(key, frozenset()):
            names.extra.add(str(value))
    for key, value in f.evidence.items():
        if key == "members" and isinstance(value, list):
            ev[key], cut = _members(value, who)
            if cut:
                ev["members_hidden"] = cut
        elif key in TEAM_LIST_KEYS and isinstance(value, list):
            ev[key] = [v for v in value if str(v) in who.teams]
        elif names.names_outsider(value):
            removed.append(key)
        else:
            ev[key] = value
    if removed:
        ev["redacted"] = removed
    g = replace(f, evidence=ev)
    if cut and "level" in ev:
        g = _rerendered(g, who)
    return names.scrubbed(g)


def _rerendered(f: Finding, who: Audience) -> Finding:
    """A roll-up's texts with its member names cut to the visible ones ("… and N others")."""
    check = next((c for c in load_checks() if c.id == f.check), None)
    if check is None or str(f.evidence["level"]) not in playbook().get(f.check, {}):
        return f
    title: dict[str, str] = {}
    cause: dict[str, str] = {}
    actions: list[dict[str, str]] = [{} for _ in f.actions]
    for lang in LANGS:
        rows = f.evidence["members"]
        shown = [str(m.get("rep_name") or m.get(REP_KEY) or m.get(TEAM_KEY)) for m in rows]
        others = t("findings_scope.others", lang, count=f.evidence.get("members_hidden", 0))
        texts = {**f.evidence, **f.scope, "member_names": _SEP[lang].join([*shown, others])}
        ti, ca, ac = finding_texts(
            check, f.scope, texts, variant=str(f.evidence["level"]), currency=f.currency
        )
        title[lang], cause[lang] = ti[lang], ca[lang]
        for i, a in enumerate(ac[: len(actions)]):
            actions[i][lang] = a[lang]
    return replace(f, title=title, cause=cause, actions=actions)


class _Names:
    """Finds and replaces outsiders' names in evidence values and texts (longest name first,
    so a visible name that contains an outsider's — 東京第一営業部 holding 東京 — is kept)."""

    def __init__(self, who: Audience) -> None:
        self.who = who
        self.extra: set[str] = set()
        self._compiled: tuple[int, re.Pattern[str] | None] | None = None

    def _pattern(self) -> re.Pattern[str] | None:
        if self._compiled is None or self._compiled[0] != len(self.extra):
            names = sorted(self.who.hidden | self.who.shown | self.extra, key=len, reverse=True)
            names = [n for n in names if n]
            pattern = re.compile("|".join(map(re.escape, names))) if names else None
            self._compiled = (len(self.extra), pattern)
        return self._compiled[1]

    def _is_hidden(self, name: str) -> bool:
        return name in self.who.hidden or name in self.extra

    def names_outsider(self, value: Any) -> bool:
        """Whether an evidence value (string, list or dict, at any depth) names an outsider."""
        if isinstance(value, str):
            pattern = self._pattern()
            return pattern is not None and any(
                self._is_hidden(m.group(0)) for m in pattern.finditer(value)
            )
        if isinstance(value, Mapping):
            return any(self.names_outsider(v) for v in value.values())
        if isinstance(value, list | tuple):
            return any(self.names_outsider(v) for v in value)
        return False

    def scrubbed(self, f: Finding) -> Finding:
        """``f`` with every outsider's name in its texts replaced by "(hidden)"."""
        pattern = self._pattern()
        if pattern is None:
            return f

        def text(d: Mapping[str, str]) -> dict[str, str]:
            out = {}
            for lang, s in d.items():

                def sub(m: re.Match[str], mark: str = t(HIDDEN_KEY, lang)) -> str:
                    return mark if self._is_hidden(m.group(0)) else m.group(0)

                out[lang] = pattern.sub(sub, s)
            return out

        return replace(
            f,
            title=text(f.title),
            cause=text(f.cause),
            actions=[text(a) for a in f.actions],
            impact_formula=text(f.impact_formula),
        )


def _label(check: str, lang: str) -> str:
    entry = playbook().get(check, {}).get("label", {})
    return str(entry.get(lang, check)) if isinstance(entry, Mapping) else check


def _not_for_role(f: Finding, who: Audience) -> Finding:
    """The one finding a role-restricted check shows: not available to this role (info)."""
    roles = ROLE_CHECKS[f.check]
    title: dict[str, str] = {
        lang: t(
            "findings_scope.not_available_role",
            lang,
            label=_label(f.check, lang),
            role=t(f"app.role.{who.role}", lang),
            roles=_SEP[lang].join(t(f"app.role.{r}", lang) for r in roles),
        )
        for lang in LANGS
    }
    return Finding(
        step=f.step,
        check=f.check,
        severity="info",
        metric=f.metric,
        scope={},
        evidence={"status": "not_available_role", "role": who.role, "roles": list(roles)},
        cause=title,
        actions=[],
        title=title,
        chart=None,
        currency=f.currency,
    )


def _none_in_scope(f: Finding) -> Finding:
    """A check whose every finding lies outside the scope: no alarm here (not "no problem in
    the organization", which would be false)."""
    title: dict[str, str] = {
        lang: t("findings_scope.none_in_scope", lang, label=_label(f.check, lang)) for lang in LANGS
    }
    return Finding(
        step=f.step,
        check=f.check,
        severity="ok",
        metric=f.metric,
        scope={},
        evidence={"status": "none_in_scope"},
        cause=title,
        actions=[],
        title=title,
        chart=f.chart,
        currency=f.currency,
    )
