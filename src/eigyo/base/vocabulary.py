"""The words eigyo's numbers are grouped and judged by, defined once.

Each label here is data that reaches people and JSON readers (a group called ``(none)``, a size
band called ``50-299``, "stale after 60 days"); when two modules each wrote their own copy the
copies drifted (``<50`` in one place, ``1-49`` in another). Every other module imports these
names; a test fails on a copy of a missing label outside this module.
"""

from __future__ import annotations

# --- missing values ---------------------------------------------------------------------------

#: Group of the records that have no value for the grouping attribute (a rep without a team, a
#: deal without a stage, an account without an employee count): its own group, never dropped.
NONE = "(none)"
#: Group of the records whose attribute the export did not record (lead source, industry, lost
#: reason, the owner of an event-log case): the attribute exists, its value is not known.
UNKNOWN = "(unknown)"
#: Team of the records whose rep is unknown or has no team.
NO_TEAM = NONE
#: The group that pools every record (the funnel without ``--by``, all training programs).
ALL = "(all)"
#: How a number that has no value reads in a table, tile or sentence (never ``0`` or ``nan``).
DASH = "—"

# --- statistical verdicts ---------------------------------------------------------------------

#: Verdicts every statistical answer uses, so the report and CLI translate one vocabulary.
NOT_ENOUGH_DATA = "not_enough_data"
NO_EVIDENCE = "no_evidence"

# --- bands ------------------------------------------------------------------------------------

#: Employee-count bands of a company: (lowest employees, label), ascending. The labels are the
#: metric registry's (``eigyo metrics --by size_band``, docs/metrics.md); the segment analysis
#: once called the first band ``1-49`` though it also holds companies of 0 employees.
SIZE_BANDS: tuple[tuple[int, str], ...] = (
    (0, "<50"),
    (50, "50-299"),
    (300, "300-999"),
    (1000, "1000+"),
)
#: Deal-size bands in the workspace currency: (lowest amount, label), ascending.
DEAL_SIZE_BANDS: tuple[tuple[int, str], ...] = (
    (0, "<1M"),
    (1_000_000, "1M-5M"),
    (5_000_000, "5M-20M"),
    (20_000_000, "20M+"),
)

# --- thresholds -------------------------------------------------------------------------------

#: Days without activity after which an open deal counts as stale: the ``stale_deals`` check,
#: the deal lists of the report and Excel, and the playbook's "60+ days" texts.
STALE_DAYS = 60

# --- roles ------------------------------------------------------------------------------------

#: Every role a rep may have in ``reps.role`` (the canonical import format).
ROLES = ("generalist", "sdr", "inbound", "closer", "account_manager", "customer_success", "manager")
#: Roles that carry a quota and sell: ramp, onboarding and training compare these.
SELLING_ROLES = ("generalist", "inbound", "closer", "account_manager")
#: The role that manages and is left out of sellers' comparisons.
MANAGER = "manager"

# --- calendar ---------------------------------------------------------------------------------

#: Weekday index as the engines return it (Monday = 0), as keys of translated labels.
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
