"""Load and validate the declared checks (``checks.toml``) — every problem reported at once.

Every name a check uses is checked when the checks load, against the one place that defines it:
``sample`` (:data:`eigyo.diagnose.context.SAMPLES`), ``metric`` (the metric registry, or a
measure of ``references.toml``), ``impact`` (``playbook.toml`` ``[_impact]``) and ``chart``
(``references.toml`` ``[charts]``, kept equal to the report's charts by a test) — so a typo fails
at import with the nearest valid name, not later on real data or as a chart that never shows.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from eigyo.diagnose.context import SAMPLES
from eigyo.diagnose.model import STEPS, Severity
from eigyo.errors import DeclarationError
from eigyo.metrics import REGISTRY
from eigyo.metrics._needs import problems as need_problems

#: The evidence rule's q-value bounds (docs/evidence-rule.md): below Q_WARN with a gap of at least
#: ``min_effect`` is a warning; below Q_ERROR with twice that gap an error.
Q_WARN, Q_ERROR = 0.05, 0.01

KINDS = (
    "proportion", "median", "did", "regression", "quality", "constraint", "concentration",
    "coverage",
)  # fmt: skip
#: What a finding's baseline is (``evidence.baseline_kind``): the other groups, a target of
#: ``eigyo.toml``, the group's own previous period, or the typical stage of the same funnel.
AGAINST = ("peers", "target", "history", "typical_stage")
#: The levels a finding can roll up to, narrowest first.
ROLLUP = ("team", "organization")
BETTER = ("higher", "lower")


@dataclass(frozen=True)
class Filter:
    """Rows whose ``column`` equals ``equals`` (e.g. trained = 1)."""

    column: str
    equals: Any


@dataclass(frozen=True)
class Check:
    id: str
    step: str
    kind: str
    sample: str
    metric: str
    group: tuple[str, ...]
    value: str
    better: str
    min_n: int
    min_effect: float
    impact: str = "none"
    strata: tuple[str, ...] = ()
    subject: Filter | None = None
    baseline: Filter | None = None
    flag: str = "worse"
    max_share: float | None = None
    target: str | None = None
    unit: str = "ratio"
    isolate: str | None = None
    scope: tuple[str, ...] = ()
    chart: str | None = None
    relative: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    #: Data the check cannot judge without (``table``, ``table.column``, ``a | b``: the metric
    #: registry's notation); ``None`` takes the needs its metric declares in the registry.
    needs: tuple[str, ...] | None = None
    #: Pseudo-records of the baseline's rate added to a group before its gap is measured
    #: (empirical-Bayes shrinkage): a rep with 6 closed deals is not judged on 6 coin flips.
    shrink: float = 0.0
    #: The baseline a finding states (``AGAINST``); ``target`` tests the whole sample (or each
    #: group) against the ``target`` of ``eigyo.toml`` instead of against peers.
    against: str = "peers"
    #: An organization-wide finding needs at least half of these groups (each with ``min_n``
    #: records) to show the gap themselves; otherwise the group check reports it at its level.
    shared_by: str | None = None
    #: ``constraint``: how much longer than the typical stage (relative: 1.0 = twice its median
    #: time) the stage must also keep deals, by the same evidence rule — the constraint is the
    #: stage whose conversion AND time in stage stand out.
    time_effect: float = 0.0
    #: The levels a finding of this check rolls up to (``ROLLUP``, in order): when most members
    #: of a team share a rep finding, one team finding lists them; when every team shares a
    #: team finding, one organization finding does (eigyo.diagnose.rollup).
    rollup: tuple[str, ...] = ()

    @property
    def sign(self) -> int:
        """+1 when higher values are better: a gap in the bad direction is ``sign * (base - g)``."""
        return 1 if self.better == "higher" else -1


def evidence_rule(check: Check, gap: float, q: float) -> Severity | None:
    """The evidence rule for one gap in the check's unit and its q-value; ``None``: no alarm.
    Opportunities (``flag = "better"``) are never raised above a warning."""
    if gap >= 2 * check.min_effect and q < Q_ERROR and check.flag != "better":
        return "error"
    if gap >= check.min_effect and q < Q_WARN:
        return "warn"
    return None


def _names(value: str | list[str] | None) -> tuple[str, ...]:
    """A column name or a list of them (``strata = "type"`` or ``["team", "type"]``)."""
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


Problem = tuple[str, dict[str, object]]

#: Keys every check declares.
REQUIRED = (
    "id", "step", "kind", "sample", "metric", "group", "value", "better", "min_n", "min_effect",
)  # fmt: skip
#: Samples the kinds that do not compare groups read themselves (not from ``SAMPLES``).
KIND_SAMPLES = {
    "did": "interventions",
    "regression": "snapshots",
    "quality": "import_warnings",
    "coverage": "findings",
}


@dataclass(frozen=True)
class Measure:
    """A number a check tests that is not a KPI of the metric registry: the column ``value`` of
    the sample ``sample`` defines it (``references.toml`` ``[measures]``)."""

    id: str
    sample: str
    value: str
    unit: str
    ja: str
    en: str

    def defined_by(self, check: Check) -> bool:
        """Whether ``check`` reads the sample column that defines this measure."""
        return (self.sample, self.value) == (check.sample, check.value)


@dataclass(frozen=True)
class References:
    """Every name ``checks.toml`` may use, each with where its list comes from (for errors)."""

    samples: tuple[str, ...]
    metrics: tuple[str, ...]
    measures: dict[str, Measure]
    impacts: tuple[str, ...]
    charts: dict[str, str]
    playbook: tuple[str, ...]
    #: Check id → the text variants its playbook entry declares (``team``, ``organization`` …).
    variants: dict[str, tuple[str, ...]] = field(default_factory=dict)


def _read(name: str) -> dict[str, Any]:
    text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    return tomllib.loads(text)


@cache
def references() -> References:
    """The names checks may reference, read from their one definition each: the samples of
    :mod:`eigyo.diagnose.context`, the metric registry, ``references.toml`` (charts, measures)
    and ``playbook.toml`` (impact formulas, a text entry per check)."""
    refs = _read("references.toml")
    book = _read("playbook.toml")
    return References(
        samples=(*SAMPLES, *KIND_SAMPLES.values()),
        metrics=tuple(REGISTRY),
        measures={k: Measure(id=k, **v) for k, v in refs["measures"].items()},
        impacts=(*book["_impact"], "none"),
        charts=dict(refs["charts"]),
        playbook=tuple(k for k in book if not k.startswith("_")),
        variants={
            k: tuple(v for v, e in entry.items() if isinstance(e, dict) and "title" in e)
            for k, entry in book.items()
            if not k.startswith("_")
        },
    )


def _unknown(where: str, key: str, value: object, known: Sequence[str], among: str) -> Problem:
    """An unknown name, with the closest known one (difflib) so the fix is one glance away."""
    nearest = difflib.get_close_matches(str(value), known, n=1, cutoff=0.0)
    return (
        "declarations.unknown",
        {
            "where": where,
            "key": key,
            "value": value,
            "among": among,
            "nearest": nearest[0] if nearest else "",
        },
    )


def _parse(raw: dict[str, Any], where: str, problems: list[Problem]) -> Check | None:
    missing = [k for k in REQUIRED if k not in raw]
    problems += [("declarations.missing", {"where": where, "key": k}) for k in missing]
    if missing:
        return None
    checked = (("step", STEPS), ("kind", KINDS), ("better", BETTER))
    for key, allowed in (*checked, ("against", AGAINST)):
        if key not in raw:
            continue
        if raw[key] not in allowed:
            problems.append(
                (
                    "declarations.not_one_of",
                    {"where": where, "key": key, "value": raw[key], "allowed": ", ".join(allowed)},
                )
            )
    filters = {
        k: Filter(raw[k]["column"], raw[k]["equals"]) for k in ("subject", "baseline") if k in raw
    }
    return Check(
        id=raw["id"],
        step=raw["step"],
        kind=raw["kind"],
        sample=raw["sample"],
        metric=raw["metric"],
        group=tuple(raw["group"]),
        value=raw["value"],
        better=raw["better"],
        min_n=int(raw["min_n"]),
        min_effect=float(raw["min_effect"]),
        impact=raw.get("impact", "none"),
        strata=_names(raw.get("strata")),
        subject=filters.get("subject"),
        baseline=filters.get("baseline"),
        flag=raw.get("flag", "worse"),
        max_share=raw.get("max_share"),
        target=raw.get("target"),
        unit=raw.get("unit", "ratio"),
        isolate=raw.get("isolate"),
        scope=tuple(raw.get("scope", raw["group"])),
        chart=raw.get("chart"),
        relative=bool(raw.get("relative", False)),
        needs=None if "needs" not in raw else _names(raw["needs"]),
        shrink=float(raw.get("shrink", 0.0)),
        against=raw.get("against", "peers"),
        shared_by=raw.get("shared_by"),
        time_effect=float(raw.get("time_effect", 0.0)),
        rollup=_names(raw.get("rollup")),
    )


def _mismatch(where: str, measure: Measure, c: Check) -> Problem:
    """A measure read from another column than the one that defines it: two numbers, one name."""
    values = {"where": where, "value": measure.id, "sample": measure.sample}
    got = f"{c.sample}.{c.value}"
    return ("declarations.measure_mismatch", {**values, "column": measure.value, "got": got})


def reference_problems(c: Check, refs: References) -> list[Problem]:
    """Every name of one check that points nowhere: its sample, metric, impact, chart and
    playbook entry; a measure must be read from the sample column that defines it."""
    where = f"check {c.id}"
    out: list[Problem] = []
    own = KIND_SAMPLES.get(c.kind)
    samples = (own,) if own else refs.samples
    if c.sample not in samples:
        out.append(_unknown(where, "sample", c.sample, samples, "diagnose/context.py SAMPLES"))
    measure = refs.measures.get(c.metric)
    if measure is None and c.metric not in refs.metrics:
        known = (*refs.metrics, *refs.measures)
        among = "eigyo.metrics.REGISTRY / references.toml [measures]"
        out.append(_unknown(where, "metric", c.metric, known, among))
    elif measure is not None and c.sample in samples and not measure.defined_by(c):
        out.append(_mismatch(where, measure, c))  # (an unknown sample is reported above)
    unit = measure.unit if measure else REGISTRY[c.metric].unit if c.metric in REGISTRY else None
    if unit is not None and c.unit != unit:  # one number, one unit: the texts format it so
        values: dict[str, object] = {"where": where, "value": c.unit, "metric": c.metric}
        values["unit"] = unit
        out.append(("declarations.unit_mismatch", values))
    if c.impact not in refs.impacts:
        out.append(_unknown(where, "impact", c.impact, refs.impacts, "playbook.toml [_impact]"))
    if c.chart is not None and c.chart not in refs.charts:
        charts = tuple(refs.charts)
        out.append(_unknown(where, "chart", c.chart, charts, "references.toml [charts]"))
    if c.id not in refs.playbook:
        out.append(_unknown(where, "id", c.id, refs.playbook, "playbook.toml"))
    for level in c.rollup:  # a roll-up speaks of the group: its texts are the level's variant
        if level not in ROLLUP:
            out.append(_unknown(where, "rollup", level, ROLLUP, "eigyo.diagnose.checks.ROLLUP"))
        elif c.id in refs.playbook and level not in refs.variants.get(c.id, ()):
            among = f"playbook.toml [{c.id}.*]"
            known = refs.variants.get(c.id, ()) or ROLLUP
            out.append(_unknown(where, "rollup", level, known, among))
    return out


def parse_checks(text: str, source: str = "checks.toml") -> tuple[Check, ...]:
    """Checks declared in ``text``, validated as a whole: every problem — a missing key, a
    value out of its list, a name that points nowhere — in one :class:`DeclarationError`."""
    problems: list[Problem] = []
    checks = []
    for i, raw in enumerate(tomllib.loads(text).get("check", [])):
        where = f"check #{i + 1} ({raw.get('id', '?')})"
        if (c := _parse(raw, where, problems)) is not None:
            checks.append(c)
    ids = [c.id for c in checks]
    problems += [
        ("declarations.twice", {"where": source, "value": i})
        for i in sorted(set(ids))
        if ids.count(i) > 1
    ]
    refs = references()
    for c in checks:
        problems += reference_problems(c, refs)
        problems += [
            ("declarations.need", {"where": f"check {c.id}", "detail": p})
            for spec in c.needs or ()
            for p in need_problems(spec)
        ]
    if problems:
        raise DeclarationError(source, problems)
    return tuple(checks)


@cache
def load_checks() -> tuple[Check, ...]:
    """All declared checks, validated; raises :class:`DeclarationError` listing every problem."""
    text = resources.files(__package__).joinpath("checks.toml").read_text(encoding="utf-8")
    return parse_checks(text)


def measure_of(check: Check) -> Measure | None:
    """The declared measure a check tests when its number is not a registry KPI."""
    return references().measures.get(check.metric)
