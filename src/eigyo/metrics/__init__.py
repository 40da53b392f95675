"""The KPI registry (step 1, ``measure``) and its computation for any period and grouping.

Every metric is declared as data (:data:`REGISTRY`); one compile function per kind turns a
declaration into one Ibis expression that the engine runs. Use :func:`compute` for values,
:func:`compute_series` for monthly trends and :func:`compare` for change against the previous
period and the same period last year.
"""

from eigyo.base.formatting import format_metric, format_value, unit_name
from eigyo.metrics._compute import (
    compare,
    compute,
    compute_series,
    missing_inputs,
    same_period_last_year,
    select,
)
from eigyo.metrics._groups import with_group
from eigyo.metrics._model import DIMENSIONS, NONE_GROUP, Comparison, Metric, MetricValue
from eigyo.metrics._needs import Reason, readable, unmet
from eigyo.metrics._registry import KINDS, REGISTRY, validate
from eigyo.metrics._vocab import POPULATIONS, Ctx

__all__ = [
    "DIMENSIONS",
    "KINDS",
    "NONE_GROUP",
    "POPULATIONS",
    "REGISTRY",
    "Comparison",
    "Ctx",
    "Metric",
    "MetricValue",
    "Reason",
    "compare",
    "compute",
    "compute_series",
    "format_metric",
    "format_value",
    "missing_inputs",
    "readable",
    "same_period_last_year",
    "select",
    "unit_name",
    "unmet",
    "validate",
    "with_group",
]
