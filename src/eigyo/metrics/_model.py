"""What a metric is (a declaration) and what computing one gives (a value per group).

A metric is data: texts in both languages, its unit and better direction, the *kind* whose compile
function computes it, that kind's parameters, and the groupings it allows. Nothing here touches
the engine, so the registry can be validated and documented without a workspace.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from eigyo.base.vocabulary import NONE
from eigyo.metrics._needs import Reason

Unit = Literal["ratio", "yen", "yen/day", "days", "minutes", "count", "hours", "per_day"]
Direction = Literal["higher", "lower"]
Category = Literal["outcome", "activity", "process", "customer"]

UNITS: tuple[str, ...] = ("ratio", "yen", "yen/day", "days", "minutes", "count", "hours", "per_day")
DIRECTIONS: tuple[str, ...] = ("higher", "lower")
CATEGORIES: tuple[str, ...] = ("outcome", "activity", "process", "customer")

#: Every grouping eigyo knows. ``month`` splits the period into its calendar months.
DIMENSIONS: tuple[str, ...] = (
    "team",
    "rep_id",
    "role",
    "source",
    "campaign",
    "industry",
    "region",
    "size_band",
    "product",
    "type",
    "deal_size_band",
    "month",
)

#: Groupings by the record's rep (owner_rep_id / rep_id) and that rep's team and role.
REP_DIMS: tuple[str, ...] = ("team", "rep_id", "role")
#: Groupings by the record's account.
ACCOUNT_DIMS: tuple[str, ...] = ("industry", "region", "size_band")
OPPORTUNITY_DIMS: tuple[str, ...] = (
    *REP_DIMS,
    "source",
    "campaign",
    *ACCOUNT_DIMS,
    "product",
    "type",
    "deal_size_band",
    "month",
)
LEAD_DIMS: tuple[str, ...] = (*REP_DIMS, "source", "campaign", *ACCOUNT_DIMS, "month")
ACTIVITY_DIMS: tuple[str, ...] = (*REP_DIMS, *ACCOUNT_DIMS, "month")
REP_ONLY_DIMS: tuple[str, ...] = (*REP_DIMS, "month")
ORDER_DIMS: tuple[str, ...] = (*ACCOUNT_DIMS, "product", "month")
ACCOUNT_ONLY_DIMS: tuple[str, ...] = (*ACCOUNT_DIMS, "month")

#: Label of the group holding records whose grouping value is missing (no team, no source …).
NONE_GROUP = NONE


@dataclass(frozen=True)
class Metric:
    """One KPI, declared once; the compile function of ``kind`` reads ``params``.

    ``needs`` names the data without which the metric means nothing (``leads.first_response_at``;
    see :mod:`eigyo.metrics._needs`): when the workspace lacks it the metric is "not available",
    never 0. ``empty`` names the population whose absence in a period leaves the value
    undefined (default: the kind's ``where`` / ``den_where``), for the reason shown then.
    ``drill`` names the population whose records a drill-down lists behind a value (default:
    the kind's ``where``); declared here so the dashboard, the API and the CLI list the same rows.
    """

    id: str
    label_ja: str
    label_en: str
    definition_ja: str
    definition_en: str
    unit: Unit
    better: Direction
    category: Category
    kind: str
    params: Mapping[str, str | float] = field(default_factory=dict)
    dims: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()
    empty: str | None = None
    drill: str | None = None

    @property
    def drill_population(self) -> str | None:
        """The named population a drill-down lists (``None``: the value has no record list)."""
        where = self.drill or self.params.get("where")
        return None if where is None else str(where)

    @property
    def empty_population(self) -> str | None:
        """The population a ``None`` value means was empty in the period."""
        where = self.empty or self.params.get("den_where") or self.params.get("where")
        return None if where is None else str(where)

    def label(self, lang: str = "ja") -> str:
        return self.label_en if lang == "en" else self.label_ja

    def definition(self, lang: str = "ja") -> str:
        return self.definition_en if lang == "en" else self.definition_ja

    def text(self, name: str) -> str:
        """A string parameter (a column or a named population, condition or value)."""
        return str(self.params[name])

    def number(self, name: str, default: float | None = None) -> float:
        value = self.params.get(name, default)
        if value is None:
            raise KeyError(f"metric {self.id!r} has no parameter {name!r}")
        return float(value)


@dataclass(frozen=True)
class MetricValue:
    """A metric for one group (``by`` is ``{}`` for the whole organization).

    ``value`` is ``None`` where the metric is not available (its inputs are absent) or
    undefined (a rate over zero records); ``reason`` then says which, never a silent 0.
    """

    id: str
    value: float | None
    unit: str
    by: dict[str, str] = field(default_factory=dict)
    reason: Reason | None = None

    def to_json(self, lang: str = "ja") -> dict[str, Any]:
        """One entry of ``eigyo metrics --format json``: the contract's ``id``, ``value``,
        ``unit`` and ``by``, plus ``reason`` (``null`` when there is a value)."""
        return {
            "id": self.id,
            "value": self.value,
            "unit": self.unit,
            "by": dict(self.by),
            "reason": None if self.reason is None else self.reason.to_json(lang),
        }


@dataclass(frozen=True)
class Comparison:
    """A metric in a period next to the period just before it and the same period a year earlier."""

    id: str
    unit: str
    by: dict[str, str]
    value: float | None
    previous: float | None
    last_year: float | None
    reason: Reason | None = None  # why ``value`` is None, as in MetricValue

    @property
    def change(self) -> float | None:
        """Relative change vs the previous period (0.1 = +10%); None when undefined."""
        return _relative(self.value, self.previous)

    @property
    def change_last_year(self) -> float | None:
        return _relative(self.value, self.last_year)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "unit": self.unit,
            "by": dict(self.by),
            "value": self.value,
            "previous": self.previous,
            "last_year": self.last_year,
            "change": self.change,
            "change_last_year": self.change_last_year,
            "reason": None if self.reason is None else self.reason.to_json(),
        }


def _relative(now: float | None, then: float | None) -> float | None:
    if now is None or then is None or then == 0:
        return None
    return (now - then) / abs(then)
