"""Synthetic companies with known problems, for measuring what the diagnosis finds (issue 17).

A company is drawn from a seed: 2–5 teams of 3–6 reps, a funnel of 3–5 stages with their own
conversion and dwell, 4–5 lead sources, a few thousand deals and leads over two fiscal years
(FY2024–FY2025, diagnosed on FY2025). It is written as canonical CSVs and imported with eigyo's
own importer, so the diagnosis reads it exactly as it reads a customer's export.

A planted problem (:class:`Planted`) sits at one level — the organization, one team, one rep or
one lead source — and records its truth: the checks that should report it and the scope at which
they should (:func:`score` compares a diagnosis with it). Every effect is planted at two to four
times the check's declared ``min_effect`` (checks.toml), so a miss is the diagnosis's, not a
borderline draw's; the thresholds are never tuned to this generator.

Used by tests/test_diagnosis_levels.py (a slice, so the generator cannot rot) and by
bench/recall.py (recall and false alarms over many seeds, bench/RESULTS.md).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import numpy as np

from eigyo import workspace
from eigyo.base.periods import parse_period
from eigyo.diagnose import diagnose
from eigyo.diagnose.coverage import NOT_CHECKED
from eigyo.diagnose.model import Finding
from eigyo.ingest import import_path

FY = parse_period("FY2025")
START = datetime(2024, 4, 1, 9)
END = datetime(2026, 3, 31, 18)  # the data's last day: the end of FY2025
#: The default funnel of eigyo.toml (a company uses 3–5 of them, in order).
STAGES = ("見込み", "評価", "商談", "提案", "交渉")
TEAM_POOL = ("東京", "大阪", "名古屋", "福岡", "札幌", "仙台", "広島")
SOURCE_POOL = ("Web", "メール", "展示会", "紹介", "広告", "ウェビナー")
FAMILY = ("佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤",
          "吉田", "山田", "佐々木", "松本", "井上", "木村")  # fmt: skip
GIVEN = ("健", "彩", "誠", "萌", "翔", "結衣", "大輔", "美咲", "拓海", "葵", "蓮", "陽菜",
         "悠真", "さくら", "湊", "凛")  # fmt: skip

Level = Literal["organization", "team", "rep", "source"]
LEVELS: tuple[Level, ...] = ("organization", "team", "rep", "source")

#: Every kind of planted problem: its level, the checks that should report it, and the checks
#: that rightly fire on the same records as a consequence ("echoes": a team that loses deals at
#: one stage also wins less) — an echo is explained, not a false alarm, and not a finding of
#: the planted problem either. ``org_win_rate`` names a metric instead of a check: whichever
#: check judges the organization's win rate (against its target) reports it.
KINDS: dict[str, tuple[Level, tuple[str, ...], tuple[str, ...]]] = {
    "org_constraint": ("organization", ("process_constraint",), ("stage_bottleneck",)),
    "org_stale": ("organization", ("stale_pipeline",), ("stale_deals",)),
    "org_no_close_dates": ("organization", ("close_date_coverage",), ("missing_close_dates",)),
    "org_win_rate": ("organization", (), ()),
    "team_win_rate": ("team", ("kpi_gap_by_team",), ()),
    "team_bottleneck": (
        "team",
        ("stage_bottleneck",),
        ("kpi_gap_by_team", "process_constraint"),
    ),
    "team_slipping": ("team", ("slippage_by_rep",), ()),
    "rep_win_rate": ("rep", ("rep_win_rate",), ("kpi_gap_by_team",)),
    "rep_slipping": ("rep", ("slippage_by_rep",), ()),
    "source_conversion": (
        "source",
        ("lead_source_to_opportunity", "lead_source_conversion"),
        (),
    ),
}
#: ``org_win_rate``'s truth: any check of this metric at the organization's scope.
METRIC_OF_KIND = {"org_win_rate": "win_rate"}
#: Kinds that cannot share a company: a win rate lowered everywhere (a low win rate, or a
#: constraint that halves it) shrinks every absolute gap in win rate — a weak rep at a fifth of
#: 11% is 9 points below, under rep_win_rate's 15 — so the planted effect would no longer be well
#: above the check's min_effect, and the generator would measure its own overlap.
CONFLICTS = {
    "org_win_rate": {"org_constraint", "team_win_rate", "team_bottleneck", "rep_win_rate"},
    "org_constraint": {"team_win_rate", "rep_win_rate"},
}


@dataclass(frozen=True)
class Rep:
    rep_id: str
    name: str
    team: str


@dataclass(frozen=True)
class Planted:
    """One planted problem and its truth: ``value`` is the team, rep id or source it sits in
    ("" for the organization); ``stage`` the stage of a bottleneck or constraint; ``team`` a
    rep's team and ``members`` a team's reps (the levels just above and below)."""

    kind: str
    value: str = ""
    stage: str | None = None
    team: str | None = None
    members: tuple[str, ...] = ()

    @property
    def level(self) -> Level:
        return KINDS[self.kind][0]

    @property
    def checks(self) -> tuple[str, ...]:
        return KINDS[self.kind][1]

    @property
    def echoes(self) -> tuple[str, ...]:
        return KINDS[self.kind][2]

    def describe(self) -> str:
        where = self.value or "org"
        return f"{self.kind}@{where}" + (f"/{self.stage}" if self.stage else "")


@dataclass
class Plan:
    """One company: its shape and the problems planted in it (none: a clean company)."""

    seed: int
    teams: tuple[str, ...]
    reps: tuple[Rep, ...]
    stages: tuple[str, ...]
    sources: tuple[str, ...]
    deals: int
    leads: int
    planted: tuple[Planted, ...] = ()
    extras: dict[str, Any] = field(default_factory=dict)

    def team_of(self, rep_id: str) -> str:
        return next(r.team for r in self.reps if r.rep_id == rep_id)

    def members(self, team: str) -> tuple[str, ...]:
        return tuple(r.rep_id for r in self.reps if r.team == team)

    def has(self, kind: str) -> list[Planted]:
        return [p for p in self.planted if p.kind == kind]


# --- drawing a company ----------------------------------------------------------------------


def _shape(seed: int) -> Plan:
    """The company's shape from its seed: teams, reps (named), stages, sources, volumes."""
    rng = np.random.default_rng([seed, 0])
    n_teams = int(rng.integers(2, 6))
    teams = tuple(str(t) for t in rng.choice(TEAM_POOL, n_teams, replace=False))
    names = [f"{f} {g}" for f in FAMILY for g in GIVEN]
    picked = rng.choice(len(names), 6 * n_teams, replace=False)
    reps: list[Rep] = []
    for team in teams:
        for _ in range(int(rng.integers(3, 7))):
            i = len(reps)
            reps.append(Rep(f"R{i + 1:03d}", names[int(picked[i])], team))
    n_stages = int(rng.integers(3, 6))
    keep = sorted(rng.choice(len(STAGES), n_stages, replace=False))
    stages = tuple(STAGES[int(i)] for i in keep)
    n_sources = int(rng.integers(4, 6))
    sources = tuple(str(s) for s in rng.choice(SOURCE_POOL, n_sources, replace=False))
    # busy reps in a small company: at least 1,200 deals over the two years, ~100–140 per rep
    deals = max(1200, int(len(reps) * rng.uniform(100, 140)))
    leads = int(deals * rng.uniform(1.6, 2.2))
    return Plan(seed, teams, tuple(reps), stages, sources, deals, leads)


def _plant(kind: str, plan: Plan, rng: np.random.Generator, taken: set[str]) -> Planted:
    """A problem of ``kind`` at a random place of ``plan`` (a team or rep not in ``taken``)."""
    level = KINDS[kind][0]
    if level == "organization":
        busy = {p.stage for p in plan.planted if p.stage}
        free_stages = [s for s in plan.stages if s not in busy]
        stage = str(rng.choice(free_stages)) if kind == "org_constraint" else None
        return Planted(kind, stage=stage)
    if level == "source":
        return Planted(kind, str(rng.choice(plan.sources)))
    free = [t for t in plan.teams if t not in taken]
    team = str(rng.choice(free))
    if level == "team":
        stage = None
        if kind == "team_bottleneck":
            busy = {p.stage for p in plan.planted if p.stage}
            stage = str(rng.choice([s for s in plan.stages if s not in busy]))
        return Planted(kind, team, stage=stage, members=plan.members(team))
    rep = str(rng.choice(plan.members(team)))
    return Planted(kind, rep, team=team)


def draw(seed: int, clean: bool = False) -> Plan:
    """A company of ``seed``: clean, or with one to three problems at different levels. The
    first problem's kind cycles with the seed (every kind over ten consecutive seeds); the
    others are drawn among the kinds of the levels left, skipping kinds that conflict."""
    plan = _shape(seed)
    if clean:
        return plan
    rng = np.random.default_rng([seed, 1])
    kinds = list(KINDS)
    chosen = [kinds[seed % len(kinds)]]
    for _ in range(int(rng.integers(0, 3))):
        levels = {KINDS[c][0] for c in chosen}
        options = [
            k
            for k in kinds
            if KINDS[k][0] not in levels
            and not any(k in CONFLICTS.get(c, ()) or c in CONFLICTS.get(k, ()) for c in chosen)
        ]
        if options:
            chosen.append(str(rng.choice(options)))
    taken: set[str] = set()
    for kind in chosen:
        p = _plant(kind, plan, rng, taken)
        taken.add(p.team or p.value)
        plan.planted = (*plan.planted, p)
    return plan


def fixed(seed: int, *planted: Planted, deals: int = 1500, leads: int = 2400) -> Plan:
    """The small fixed company of the first issue-17 tests: three teams (東京, 大阪, 名古屋),
    twelve reps dealt round-robin (R05 is in 大阪), five stages, four sources."""
    teams = ("東京", "大阪", "名古屋")
    names = ("佐藤 健", "鈴木 彩", "高橋 誠", "田中 萌", "伊藤 翔", "渡辺 結衣",
             "山本 大輔", "中村 美咲", "小林 拓海", "加藤 葵", "吉田 蓮", "山田 陽菜")  # fmt: skip
    reps = tuple(Rep(f"R{i + 1:02d}", names[i], teams[i % 3]) for i in range(12))
    sources = ("Web", "メール", "展示会", "紹介")
    return Plan(seed, teams, reps, STAGES, sources, deals, leads, planted=planted)


# --- generating its records -------------------------------------------------------------------


def _ts(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S")


Rows = list[dict[str, object]]


@dataclass
class _Funnel:
    """Per-stage conversion and median dwell (days) of the whole company, and the multipliers
    planted problems apply to one team's or rep's deals."""

    conv: np.ndarray
    dwell: np.ndarray
    team_factor: dict[str, float] = field(default_factory=dict)
    rep_factor: dict[str, float] = field(default_factory=dict)
    team_stage: dict[tuple[str, int], tuple[float, float]] = field(default_factory=dict)

    def for_rep(self, rep: Rep) -> tuple[np.ndarray, np.ndarray]:
        level = self.team_factor.get(rep.team, 1.0) * self.rep_factor.get(rep.rep_id, 1.0)
        conv = self.conv * level
        dwell = self.dwell.copy()
        for (team, s), (drop, longer) in self.team_stage.items():
            if team == rep.team:
                conv[s] = max(0.15, conv[s] - drop)
                dwell[s] *= longer
        return np.clip(conv, 0.02, 0.98), dwell


def _funnel(plan: Plan, rng: np.random.Generator) -> _Funnel:
    """The company's funnel: a win rate of 32–55% spread over its stages (each within ±3% of the
    others) and 3–9 days per stage — unless a problem is planted in it."""
    k = len(plan.stages)
    low = bool(plan.has("org_win_rate"))
    # org_win_rate: 9–13% against the default target of 25% (min_effect-sized gap: 12+ points)
    win = rng.uniform(0.09, 0.13) if low else rng.uniform(0.32, 0.55)
    conv = np.clip(win ** (1 / k) * rng.uniform(0.97, 1.03, size=k), 0.05, 0.97)
    dwell = rng.uniform(3.0, 9.0, size=k)
    f = _Funnel(conv, dwell)
    for p in plan.has("org_constraint"):
        # every team: 40 points below the typical stage (min_effect 0.15) and 3.5x its dwell
        # (time_effect 1.0 = twice)
        s = plan.stages.index(p.stage or "")
        others = np.delete(np.arange(k), s)
        conv[s] = float(np.median(conv[others])) - 0.40
        dwell[s] = 3.5 * float(np.median(dwell[others]))
    for p in plan.has("team_win_rate"):
        f.team_factor[p.value] = 0.45 ** (1 / k)  # 45% of the others' win rate: 18–30 points
    for p in plan.has("team_bottleneck"):
        # 40 points below the team's usual at one stage (min_effect 0.12), 2.5x the dwell
        f.team_stage[(p.value, plan.stages.index(p.stage or ""))] = (0.40, 2.5)
    for p in plan.has("rep_win_rate"):
        f.rep_factor[p.value] = 0.2 ** (1 / k)  # a fifth of the team's win rate: 26–44 points
    return f


def _slippers(plan: Plan) -> set[str]:
    """Reps who push close dates: every rep of a slipping team, and a slipping rep."""
    out = {p.value for p in plan.has("rep_slipping")}
    for p in plan.has("team_slipping"):
        out |= set(p.members)
    return out


def company(plan: Plan) -> dict[str, Rows]:
    """Canonical rows of one company: reps, opportunities, stage history, opportunity changes,
    activities, leads."""
    rng = np.random.default_rng([plan.seed, 2])
    funnel = _funnel(plan, rng)
    slippers = _slippers(plan)
    stale = bool(plan.has("org_stale"))
    no_dates = bool(plan.has("org_no_close_dates"))
    reps = list(plan.reps)
    weights = rng.uniform(0.7, 1.3, size=len(reps))
    weights /= weights.sum()
    by_rep = {r.rep_id: funnel.for_rep(r) for r in reps}
    scale = rng.uniform(0.5, 2.0)  # the company's typical deal size, around ¥1M
    span = (END - START).total_seconds()
    opps: Rows = []
    history: Rows = []
    changes: Rows = []
    acts: list[tuple[str, datetime, str]] = []
    for d in range(plan.deals):
        rep = reps[int(rng.choice(len(reps), p=weights))]
        conv, dwell = by_rep[rep.rep_id]
        oid = f"O{d + 1:05d}"
        created = START + timedelta(seconds=float(rng.uniform(0, span * 0.97)))
        if rng.random() < 0.06:  # deals opened lately: the open pipeline at the end
            created = END - timedelta(days=float(rng.uniform(1, 60)))
        # abandoned: left open at a stage, never touched again (a stale pipeline everywhere, or
        # the odd forgotten deal of a healthy one)
        abandon = -1
        if rng.random() < (0.20 if stale else 0.003):
            abandon = int(rng.integers(len(plan.stages)))
        t, outcome = created, "won"
        entries: list[tuple[str, datetime]] = []
        for s, stage in enumerate(plan.stages):
            entries.append((stage, t))
            if s == abandon:
                outcome = "abandoned"
                break
            t = t + timedelta(days=float(dwell[s] * rng.lognormal(0.0, 0.5)))
            if rng.random() > conv[s]:
                outcome = "lost"
                break
        ends = t  # when it closes (or would, after the data's end)
        entries = [(s, at) for s, at in entries if at <= END]
        status = "open" if outcome == "abandoned" or ends > END else outcome
        for stage, at in entries:
            history.append({"opportunity_id": oid, "stage": stage, "entered_at": _ts(at)})
            acts.append((oid, at, rep.rep_id))
        closed = ends if status in ("won", "lost") else None
        if closed is not None:
            history.append(
                {"opportunity_id": oid, "stage": "受注" if status == "won" else "失注",
                 "entered_at": _ts(closed)}
            )  # fmt: skip
            acts.append((oid, closed, rep.rep_id))
        elif outcome != "abandoned":  # a deal still in the funnel is worked on
            last = END - timedelta(days=float(rng.uniform(1, 30)))
            acts.append((oid, max(last, created), rep.rep_id))
        # the first expected close date: the cycle as planned — optimistic by up to 15%, usually
        # generous; a rep who slips plans 15–65% of the cycle it takes and pushes the date
        cycle = (ends - created) if outcome != "abandoned" else timedelta(days=60)
        ratio = rng.uniform(0.35, 0.85) if rep.rep_id in slippers else rng.uniform(0.85, 1.6)
        planned = (created + cycle * ratio).date()
        expected: str | None = planned.isoformat()
        pushed = planned < (closed or END).date() and planned <= END.date()
        if pushed:  # pushed out when it came due, to a date after the close (or 30 days on)
            new = (closed + timedelta(days=7)).date() if closed else planned + timedelta(days=30)
            changes.append(
                {"opportunity_id": oid, "changed_at": f"{planned.isoformat()}T10:00:00",
                 "field": "expected_close_date", "old_value": planned.isoformat(),
                 "new_value": new.isoformat()}
            )  # fmt: skip
            expected = new.isoformat()
        if no_dates and status == "open" and rng.random() < 0.70:
            expected = None  # 70% of open deals without a date (target 5%, min_effect 0.10)
            if pushed:
                changes.pop()
        opps.append(
            {"opportunity_id": oid, "owner_rep_id": rep.rep_id,
             "type": "expansion" if rng.random() < 0.2 else "new",
             "amount": int(1_000_000 * scale * rng.lognormal(0.0, 0.5)),
             "created_at": _ts(created), "status": status,
             "closed_at": _ts(closed) if closed else None, "expected_close_date": expected}
        )  # fmt: skip
    activities: Rows = [
        {"activity_id": f"A{i + 1:06d}", "rep_id": r, "type": "meeting", "occurred_at": _ts(at),
         "opportunity_id": o}
        for i, (o, at, r) in enumerate(acts)
    ]  # fmt: skip
    rep_rows: Rows = [
        {"rep_id": r.rep_id, "name": r.name, "team": r.team, "role": "closer",
         "hire_date": "2020-04-01"}
        for r in reps
    ]  # fmt: skip
    return {
        "reps": rep_rows,
        "opportunities": opps,
        "stage_history": history,
        "opportunity_changes": changes,
        "activities": activities,
        "leads": _leads(plan, opps, rng),
    }


def _leads(plan: Plan, opps: Rows, rng: np.random.Generator) -> Rows:
    """Leads from the company's sources; a lead that became a deal was created 1–20 days before
    it. Each source turns 85–115% of the usual share of its leads into deals; a weak source a
    quarter of it (75% fewer won leads; lead_source_conversion's min_effect is 40%). With about
    two leads per deal, a lead turns into a won deal 10–20% of the time."""
    weak = {p.value for p in plan.has("source_conversion")}
    share = rng.dirichlet(np.full(len(plan.sources), 8.0))
    share = 0.5 * share + 0.5 / len(plan.sources)  # every source at least half its fair share
    base = min(0.6, 0.7 * plan.deals / plan.leads)  # about 70% of the deals start as a lead
    rate = {s: base * rng.uniform(0.85, 1.15) * (0.25 if s in weak else 1.0) for s in plan.sources}
    free = [o for o in opps if str(o["created_at"]) > _ts(START + timedelta(days=20))]
    order = rng.permutation(len(free))
    span = (END - START).total_seconds()
    out: Rows = []
    for i in range(plan.leads):
        source = plan.sources[int(rng.choice(len(plan.sources), p=share))]
        opp = None
        if len(order) and rng.random() < rate[source]:
            opp, order = free[int(order[-1])], order[:-1]
        if opp is not None:
            created = datetime.fromisoformat(str(opp["created_at"])) - timedelta(
                days=float(rng.uniform(1, 20))
            )
            owner = str(opp["owner_rep_id"])
        else:
            created = START + timedelta(seconds=float(rng.uniform(0, span * 0.97)))
            owner = plan.reps[int(rng.integers(len(plan.reps)))].rep_id
        out.append(
            {"lead_id": f"L{i + 1:05d}", "created_at": _ts(created), "source": source,
             "owner_rep_id": owner, "mql_at": _ts(created),
             "first_response_at": _ts(created + timedelta(minutes=float(rng.uniform(5, 40)))),
             "status": "converted" if opp else ("disqualified" if rng.random() < 0.6 else "open"),
             "opportunity_id": opp["opportunity_id"] if opp else None}
        )  # fmt: skip
    return out


def write(folder: Path, tables: dict[str, Rows]) -> Path:
    """The tables as canonical CSVs (one file per table, empty cells for None)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        cols = list(dict.fromkeys(k for r in rows for k in r))
        with (folder / f"{name}.csv").open("w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=cols)
            w.writeheader()
            w.writerows({k: ("" if v is None else v) for k, v in r.items()} for r in rows)
    return folder


def diagnose_plan(folder: Path, plan: Plan) -> list[Finding]:
    """Generate, write, import (eigyo's importer) and diagnose FY2025: the findings."""
    data = write(folder / "data", company(plan))
    ws = workspace.init(folder / "ws")
    try:
        import_path(ws, data)
        found: list[Finding] = diagnose(ws, FY)
        return found
    finally:
        ws.close()


# --- scoring a diagnosis against the truth ----------------------------------------------------


Verdict = Literal["own", "other", "missed"]


def _is_org(scope: dict[str, str]) -> bool:
    return set(scope) <= {"stage"}


def _level_match(f: Finding, p: Planted) -> bool:
    """The finding's scope is the planted problem's own level and place."""
    s = f.scope
    if p.level == "organization":
        return _is_org(s) and (p.stage is None or s.get("stage", p.stage) == p.stage)
    if p.level == "team":
        same_stage = p.stage is None or s.get("stage", p.stage) == p.stage
        return s.get("team") == p.value and "rep_id" not in s and same_stage
    if p.level == "rep":
        return s.get("rep_id") == p.value
    return s.get("source") == p.value


def _near(f: Finding, p: Planted) -> bool:
    """The finding's scope is the planted problem's place at another level: a team problem seen
    in its reps or in the organization, a rep's in its team, an organization's anywhere."""
    s = f.scope
    if p.level == "organization":
        return True
    if p.level == "team":
        return s.get("rep_id") in p.members or s.get("team") == p.value or _is_org(s)
    if p.level == "rep":
        return s.get("team") == p.team
    return "source" not in s


def reports(f: Finding, p: Planted) -> bool:
    """The finding comes from a check (or, for a metric truth, of a metric) that reports ``p``."""
    metric = METRIC_OF_KIND.get(p.kind)
    return f.check in p.checks or (metric is not None and f.metric == metric and _is_org(f.scope))


@dataclass
class Score:
    """One diagnosis against its plan: a verdict per planted problem, the alarms explained by a
    planted problem (found at its level, another level, or an echo), the false alarms, and the
    checks that judged (the false-alarm rate's denominator)."""

    verdicts: list[tuple[Planted, Verdict]]
    false_alarms: list[Finding]
    echoes: list[Finding]
    judged: list[str]


def judged_checks(findings: Sequence[Finding]) -> list[str]:
    """Checks that judged this company (not "not available" or "not enough data"); the coverage
    check, which judges the others, is not one."""
    out = {
        f.check
        for f in findings
        if f.check != "data_coverage" and f.evidence.get("status") not in NOT_CHECKED
    }
    return sorted(out)


def score(plan: Plan, findings: Sequence[Finding]) -> Score:
    alarms = [f for f in findings if f.is_alarm]
    verdicts: list[tuple[Planted, Verdict]] = []
    used: set[int] = set()
    for p in plan.planted:
        own = [i for i, f in enumerate(alarms) if reports(f, p) and _level_match(f, p)]
        other = [i for i, f in enumerate(alarms) if reports(f, p) and _near(f, p) and i not in own]
        used.update(own, other)
        verdicts.append((p, "own" if own else "other" if other else "missed"))
    echoes = [
        i
        for i, f in enumerate(alarms)
        if i not in used
        and any(f.check in p.echoes and (_level_match(f, p) or _near(f, p)) for p in plan.planted)
    ]
    false = [f for i, f in enumerate(alarms) if i not in used and i not in echoes]
    return Score(verdicts, false, [alarms[i] for i in echoes], judged_checks(findings))
