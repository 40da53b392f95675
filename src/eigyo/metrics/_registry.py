"""The registry: every declared metric, validated as a whole when eigyo loads.

Validation collects every problem (a missing text, an unknown kind, parameter or dimension)
before reporting, so a contributor adding metrics sees all mistakes at once.
"""

from __future__ import annotations

from collections.abc import Iterable

from eigyo.metrics._catalog_leads_activity import ACTIVITY_METRICS, CUSTOMER_METRICS, LEAD_METRICS
from eigyo.metrics._catalog_sales import SALES_METRICS
from eigyo.metrics._groups import reachable
from eigyo.metrics._kinds import GENERIC_KINDS, Kind
from eigyo.metrics._kinds_specific import SPECIAL_KINDS
from eigyo.metrics._model import CATEGORIES, DIMENSIONS, DIRECTIONS, UNITS, Metric
from eigyo.metrics._needs import problems as need_problems
from eigyo.metrics._vocab import ACTIVITY_TYPES, CONDITIONS, POPULATIONS, VALUES

KINDS: dict[str, Kind] = {k.name: k for k in (*GENERIC_KINDS, *SPECIAL_KINDS)}

#: Populations a special kind's ``empty`` may name besides the named populations: the
#: denominators those kinds build themselves (texts in ``i18n/metrics.toml`` ``[population]``).
EMPTY_POPULATIONS: tuple[str, ...] = (
    *POPULATIONS,
    "quota_reps",
    "closed_amount_in_p",
    "due_in_p",
    "prior_orders",
    "orders_to_date",
    "active_reps",
)

#: Parameters whose value must be a name from a vocabulary, and that vocabulary.
_NAMED: dict[str, Iterable[str]] = {
    "where": POPULATIONS,
    "num_where": POPULATIONS,
    "den_where": POPULATIONS,
    "condition": CONDITIONS,
    "value": VALUES,
    "weight": (*VALUES, "one"),
    "num_value": (*VALUES, "one"),
    "den_value": (*VALUES, "one"),
    "activity": ACTIVITY_TYPES,
    "reach": ("won", "any"),
}


def _problems_of(m: Metric) -> list[str]:
    out: list[str] = []
    for name in ("label_ja", "label_en", "definition_ja", "definition_en"):
        if not str(getattr(m, name)).strip():
            out.append(f"{name} is empty")
    for name, allowed in (("unit", UNITS), ("better", DIRECTIONS), ("category", CATEGORIES)):
        if getattr(m, name) not in allowed:
            out.append(f"{name} {getattr(m, name)!r} must be one of {', '.join(allowed)}")
    kind = KINDS.get(m.kind)
    if kind is None:
        return [*out, f"kind {m.kind!r} is unknown; kinds: {', '.join(KINDS)}"]
    for p in kind.required:
        if p not in m.params:
            out.append(f"kind {m.kind} needs parameter {p!r}")
    for p, v in m.params.items():
        if p not in (*kind.required, *kind.optional):
            out.append(
                f"parameter {p!r} is not one of kind {m.kind}: {kind.required + kind.optional}"
            )
        elif p in _NAMED and str(v) not in _NAMED[p]:
            out.append(f"{p}={v!r} is not one of {', '.join(_NAMED[p])}")
    for spec in m.needs:
        out += need_problems(spec)
    if m.empty is not None and m.empty not in EMPTY_POPULATIONS:
        out.append(f"empty {m.empty!r} is not one of {', '.join(EMPTY_POPULATIONS)}")
    if m.drill is not None and m.drill not in POPULATIONS:
        out.append(f"drill {m.drill!r} is not one of {', '.join(POPULATIONS)}")
    for d in m.dims:
        if d not in DIMENSIONS:
            out.append(f"dimension {d!r} is unknown; dimensions: {', '.join(DIMENSIONS)}")
    # the drill-down lists its population grouped by each dimension too
    for pop in (*(m.params.get(p, "") for p in ("where", "num_where", "den_where")), m.drill):
        base = POPULATIONS.get(str(pop or ""), ("", None))[0]
        out += [
            f"{base} records cannot be grouped by {d}"
            for d in m.dims
            if base and d in DIMENSIONS and not reachable(d, base)
        ]
    return out


def validate(metrics: Iterable[Metric]) -> list[str]:
    """Every problem of a set of declarations, as ``metric id: problem`` lines."""
    problems: list[str] = []
    seen: set[str] = set()
    for m in metrics:
        if m.id in seen:
            problems.append(f"{m.id}: declared twice")
        seen.add(m.id)
        problems += [f"{m.id}: {p}" for p in _problems_of(m)]
    return problems


def _build() -> dict[str, Metric]:
    metrics = (*SALES_METRICS, *LEAD_METRICS, *ACTIVITY_METRICS, *CUSTOMER_METRICS)
    problems = validate(metrics)
    if problems:
        raise RuntimeError("Invalid metric registry:\n  " + "\n  ".join(problems))
    return {m.id: m for m in metrics}


#: Every metric by id, in catalogue order (outcome and pipeline, leads, activity, customers).
REGISTRY: dict[str, Metric] = _build()
