"""Load and validate the declared checks (``checks.toml``) — every problem reported at once."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from eigyo.diagnose.model import STEPS
from eigyo.metrics._needs import problems as need_problems

KINDS = ("proportion", "median", "did", "regression", "quality")
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

    @property
    def sign(self) -> int:
        """+1 when higher values are better: a gap in the bad direction is ``sign * (base - g)``."""
        return 1 if self.better == "higher" else -1


def _names(value: str | list[str] | None) -> tuple[str, ...]:
    """A column name or a list of them (``strata = "type"`` or ``["team", "type"]``)."""
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def _parse(raw: dict[str, Any], i: int, problems: list[str]) -> Check | None:
    where = f"checks.toml check #{i + 1} ({raw.get('id', '?')})"
    for key in (
        "id",
        "step",
        "kind",
        "sample",
        "metric",
        "group",
        "value",
        "better",
        "min_n",
        "min_effect",
    ):
        if key not in raw:
            problems.append(f"{where}: missing {key!r}")
    if problems and problems[-1].startswith(where):
        return None
    if raw["step"] not in STEPS:
        problems.append(f"{where}: step {raw['step']!r} must be one of {', '.join(STEPS)}")
    if raw["kind"] not in KINDS:
        problems.append(f"{where}: kind {raw['kind']!r} must be one of {', '.join(KINDS)}")
    if raw["better"] not in BETTER:
        problems.append(f"{where}: better {raw['better']!r} must be higher or lower")
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
    )


@cache
def load_checks() -> tuple[Check, ...]:
    """All declared checks, validated; raises ValueError listing every problem."""
    text = resources.files(__package__).joinpath("checks.toml").read_text(encoding="utf-8")
    problems: list[str] = []
    checks = [
        c
        for i, raw in enumerate(tomllib.loads(text)["check"])
        if (c := _parse(raw, i, problems)) is not None
    ]
    ids = [c.id for c in checks]
    problems += [
        f"checks.toml: check id {i!r} declared twice" for i in set(ids) if ids.count(i) > 1
    ]
    problems += [
        f"checks.toml check {c.id}: {p}"
        for c in checks
        for spec in c.needs or ()
        for p in need_problems(spec)
    ]
    if problems:
        raise ValueError("\n".join(problems))
    return tuple(checks)
