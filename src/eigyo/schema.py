"""The canonical import format, declared once as data.

Import validation, the generated documentation (``docs/import-format.md``), the DuckDB table
definitions and the demo generator all read this declaration, so the import contract lives in
exactly one place. Extend it, never rename: tests outside the project rely on these names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from eigyo.base.vocabulary import ROLES as ROLES  # the roles `reps.role` allows

ColumnType = Literal["string", "integer", "number", "date", "timestamp"]

#: DuckDB / SQL type for each logical column type.
SQL_TYPES: dict[str, str] = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "number": "DOUBLE",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
}

LEAD_STATUSES = ("open", "working", "converted", "disqualified")
OPPORTUNITY_TYPES = ("new", "expansion", "renewal")
#: ``unknown``: ended without a known outcome (an event-log case that reached no won or lost
#: activity): neither open nor closed, so win rates, pipelines and stale lists leave it out.
OPPORTUNITY_STATUSES = ("open", "won", "lost", "unknown")
CHANGE_FIELDS = ("expected_close_date", "amount", "stage", "owner_rep_id")
ACTIVITY_TYPES = ("call", "email", "meeting", "demo", "proposal", "other")
ACTIVITY_OUTCOMES = ("connected", "no_answer", "replied", "held", "no_show", "other")
TIME_CATEGORIES = ("selling", "admin", "internal", "training", "travel", "other")
STAGE_KINDS = ("prospecting", "qualification", "meeting", "proposal", "negotiation", "won", "lost")
#: The CRM's forecast category of a deal (Salesforce ForecastCategoryName, HubSpot forecast
#: category), where the export has one: ``commit`` (the rep stakes their call on it),
#: ``best_case`` (could land this period), ``pipeline`` (open, not called), ``omitted`` (left out
#: of the forecast), ``closed`` (the CRM counts it as closed). Blank: the forecast page derives
#: a category from the deal's stage (:mod:`eigyo.analysis.data.forecast_calls`).
FORECAST_CATEGORIES = ("commit", "best_case", "pipeline", "omitted", "closed")


@dataclass(frozen=True)
class Column:
    """One canonical column: its type, whether a row without it is rejected, what it may hold."""

    name: str
    type: ColumnType = "string"
    required: bool = False
    allowed: tuple[str, ...] = ()
    min_value: float | None = None
    max_value: float | None = None
    description: str = ""


@dataclass(frozen=True)
class Table:
    """One canonical file/table. ``key`` names the columns that identify a row across imports."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    required_file: bool = False
    description: str = ""
    references: dict[str, str] = field(default_factory=dict)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(
            f"Column {name!r} is not in table {self.name!r}. Existing columns: "
            + ", ".join(self.column_names)
        )


#: The largest magnitude any number column accepts unless it declares a tighter bound: 10^15
#: (a thousand trillion yen) is above any amount, cost or count a sales organization records, and
#: far below where sums lose their cents or overflow (1e308 loads as a finite float and becomes
#: infinity in the first sum). A value beyond it is a typo or hostile, and the row is rejected.
NUMBER_BOUND = 1e15


def _c(
    name: str,
    type: ColumnType = "string",
    *,
    req: bool = False,
    allowed: tuple[str, ...] = (),
    min_value: float | None = None,
    max_value: float | None = None,
    desc: str = "",
) -> Column:
    if type in ("number", "integer"):
        min_value = -NUMBER_BOUND if min_value is None else min_value
        max_value = NUMBER_BOUND if max_value is None else max_value
    return Column(name, type, req, allowed, min_value, max_value, desc)


#: Name of the column that keeps every input column the schema does not list (JSON object).
EXTRA_COLUMN = "extra"

TABLES: tuple[Table, ...] = (
    Table(
        "reps",
        (
            _c("rep_id", req=True),
            _c("name"),
            _c("team"),
            _c("role", req=True, allowed=ROLES),
            _c("hire_date", "date", req=True),
            _c("end_date", "date"),
            _c("manager_id"),
            _c(
                "monthly_cost",
                "number",
                min_value=0,
                desc="fully loaded monthly cost in the workspace currency",
            ),
        ),
        key=("rep_id",),
        required_file=True,
        description="sales people and their managers",
    ),
    Table(
        "quotas",
        (
            _c("rep_id", req=True),
            _c("period_start", "date", req=True),
            _c("period_end", "date", req=True),
            _c("amount", "number", req=True, min_value=0),
        ),
        key=("rep_id", "period_start", "period_end"),
        description="quota per rep and period (both ends included)",
    ),
    Table(
        "accounts",
        (
            _c("account_id", req=True),
            _c("name"),
            _c("industry"),
            _c("employees", "integer", min_value=0),
            _c("annual_revenue", "number", min_value=0),
            _c("region"),
            _c("created_at", "timestamp"),
            _c("owner_rep_id"),
        ),
        key=("account_id",),
        description="customer and prospect companies",
    ),
    Table(
        "leads",
        (
            _c("lead_id", req=True),
            _c("created_at", "timestamp", req=True),
            _c("source"),
            _c("campaign"),
            _c("account_id"),
            _c("title"),
            _c("owner_rep_id"),
            _c("mql_at", "timestamp"),
            _c("first_response_at", "timestamp"),
            _c("sql_at", "timestamp"),
            _c("disqualified_at", "timestamp"),
            _c("status", allowed=LEAD_STATUSES),
            _c("opportunity_id"),
        ),
        key=("lead_id",),
        description="marketing leads and their hand-off to sales",
    ),
    Table(
        "opportunities",
        (
            _c("opportunity_id", req=True),
            _c("account_id"),
            _c("owner_rep_id", req=True),
            _c("sdr_rep_id"),
            _c("lead_id"),
            _c("product"),
            _c("type", allowed=OPPORTUNITY_TYPES),
            _c(
                "amount",
                "number",
                min_value=0,
                desc="blank: unknown (the deal counts in win rate and cycle, not in amounts)",
            ),
            _c("created_at", "timestamp", req=True),
            _c("expected_close_date", "date"),
            _c(
                "closed_at",
                "timestamp",
                desc="when won or lost; status unknown: when its record ends (its last event)",
            ),
            _c("status", req=True, allowed=OPPORTUNITY_STATUSES),
            _c("lost_reason"),
            _c(
                "forecast_category",
                allowed=FORECAST_CATEGORIES,
                desc="the CRM's forecast category; blank: derived from the stage",
            ),
        ),
        key=("opportunity_id",),
        required_file=True,
        description="deals (商談)",
    ),
    Table(
        "stage_history",
        (
            _c("opportunity_id", req=True),
            _c("stage", req=True),
            _c("entered_at", "timestamp", req=True),
            _c("rep_id"),
        ),
        key=("opportunity_id", "stage", "entered_at"),
        description="each stage an opportunity entered",
    ),
    Table(
        "opportunity_changes",
        (
            _c("opportunity_id", req=True),
            _c("changed_at", "timestamp", req=True),
            _c("field", req=True, allowed=CHANGE_FIELDS),
            _c("old_value"),
            _c("new_value"),
        ),
        key=("opportunity_id", "changed_at", "field"),
        description="field history of opportunities",
    ),
    Table(
        "activities",
        (
            _c("activity_id", req=True),
            _c("rep_id", req=True),
            _c("type", req=True, allowed=ACTIVITY_TYPES),
            _c("occurred_at", "timestamp", req=True),
            _c("duration_minutes", "number", min_value=0),
            _c("outcome", allowed=ACTIVITY_OUTCOMES),
            _c("lead_id"),
            _c("opportunity_id"),
            _c("account_id"),
        ),
        key=("activity_id",),
        description="calls, emails, meetings and other sales activities",
    ),
    Table(
        "time_entries",
        (
            _c("rep_id", req=True),
            _c("date", "date", req=True),
            _c("category", req=True, allowed=TIME_CATEGORIES),
            _c("hours", "number", req=True, min_value=0, max_value=24),
        ),
        key=("rep_id", "date", "category"),
        description="time sheets: hours per rep, day and category",
    ),
    Table(
        "trainings",
        (
            _c("rep_id", req=True),
            _c("program", req=True),
            _c("capability"),
            _c("completed_at", "timestamp", req=True),
            _c("score", "number"),
        ),
        key=("rep_id", "program", "completed_at"),
        description="completed training programs",
    ),
    Table(
        "assessments",
        (
            _c("rep_id", req=True),
            _c("capability", req=True),
            _c("level", "integer", req=True, min_value=1, max_value=5),
            _c("assessed_at", "timestamp", req=True),
        ),
        key=("rep_id", "capability", "assessed_at"),
        description="capability assessments (1–5)",
    ),
    Table(
        "orders",
        (
            _c("order_id", req=True),
            _c("account_id", req=True),
            _c("ordered_at", "timestamp", req=True),
            _c("amount", "number", req=True),
            _c("product"),
            _c("opportunity_id"),
        ),
        key=("order_id",),
        description="orders / invoices per account",
    ),
    Table(
        "interventions",
        (
            _c("intervention_id", req=True),
            _c("name", req=True),
            _c("started_at", "timestamp", req=True),
            _c("scope", desc="comma-separated rep_id or team names"),
            _c("description"),
        ),
        key=("intervention_id",),
        description="changes made to the organization, to measure",
    ),
)

TABLES_BY_NAME: dict[str, Table] = {t.name: t for t in TABLES}


def table(name: str) -> Table:
    """Look up a canonical table by name, saying which exist when it does not."""
    try:
        return TABLES_BY_NAME[name]
    except KeyError:
        raise KeyError(
            f"Unknown table {name!r}. Canonical tables: " + ", ".join(TABLES_BY_NAME)
        ) from None


def create_table_sql(t: Table) -> str:
    """DDL for one canonical table, with the ``extra`` JSON column for unlisted input columns."""
    cols = [f'"{c.name}" {SQL_TYPES[c.type]}' for c in t.columns]
    cols.append(f'"{EXTRA_COLUMN}" VARCHAR')
    return f'CREATE TABLE IF NOT EXISTS "{t.name}" ({", ".join(cols)})'
