"""What the caller hands the report: KPI tiles and findings, already computed.

The report computes no metric itself (the metrics registry and the diagnosis do); it only queries
the chart data (each step's ``chart_data``, read from the checks' samples), so that the numbers
on page one are exactly the ones the CLI prints. :func:`eigyo.report.report_model` adds those
queries to this input once, into the :class:`~eigyo.report.ReportModel` every format renders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from eigyo.base.currency import DEFAULT_CURRENCY
from eigyo.base.periods import Period
from eigyo.diagnose.model import Finding
from eigyo.metrics import Reason

#: The file formats a report is written in.
FORMATS: tuple[str, ...] = ("html", "pdf", "xlsx", "pptx")

Unit = Literal["ratio", "yen", "yen/day", "days", "minutes", "count", "hours", "per_day"]
UNITS: tuple[str, ...] = ("ratio", "yen", "yen/day", "days", "minutes", "count", "hours", "per_day")


@dataclass(frozen=True)
class KpiTile:
    """One KPI on page one: its value against target, previous period and last year.

    ``better`` says which direction is good, so a change is coloured green or red correctly for
    metrics where lower is better (response minutes, admin share, cycle days).
    """

    metric_id: str
    label: dict[str, str]
    unit: str
    value: float | None
    target: float | None = None
    previous: float | None = None
    last_year: float | None = None
    better: Literal["higher", "lower"] = "higher"
    #: Why ``value`` is None (inputs absent, or nothing to compute over): the tile says
    #: 「データなし」 with it and is not judged against its target.
    reason: Reason | None = None

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(
                f"KpiTile {self.metric_id!r}: unit {self.unit!r} must be one of " + ", ".join(UNITS)
            )
        if self.better not in ("higher", "lower"):
            raise ValueError(
                f"KpiTile {self.metric_id!r}: better must be 'higher' or 'lower', "
                f"got {self.better!r}"
            )


@dataclass
class ReportInput:
    """Everything the report shows besides the charts it queries itself."""

    company: str
    period: Period
    generated_at: datetime
    kpis: list[KpiTile] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    data_summary: dict[str, int] = field(default_factory=dict)
    #: The workspace currency (``eigyo.toml``): how every amount in the report reads.
    currency: str = DEFAULT_CURRENCY
