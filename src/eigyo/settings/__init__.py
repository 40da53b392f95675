"""Workspace settings (``eigyo.toml``): declared defaults, a commented template, strict loading.

The template is written as text so that every setting carries its explanation for the person who
edits the file; loading validates every value and reports all problems at once.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from eigyo.base.currency import is_code as is_currency_code
from eigyo.engines._spec import EngineError, parse_engine
from eigyo.errors import WorkspaceError
from eigyo.schema import STAGE_KINDS
from eigyo.settings._crm import CRM_TEMPLATE, CrmLinks, crm_links
from eigyo.settings._event_log import (
    EVENT_LOG_OWNER_RULES,
    EVENT_LOG_TEMPLATE,
    EventLogSettings,
    event_log_settings,
)
from eigyo.settings._import import IMPORT_TEMPLATE, ZIP_RATIO_FLOOR, ImportLimits, import_limits

SETTINGS_FILE = "eigyo.toml"

#: Stage names recognised without a mapping, English and Japanese, in funnel order.
DEFAULT_STAGES: tuple[tuple[str, str], ...] = (
    ("見込み", "prospecting"),
    ("評価", "qualification"),
    ("商談", "meeting"),
    ("提案", "proposal"),
    ("交渉", "negotiation"),
    ("受注", "won"),
    ("失注", "lost"),
)

#: Names of each stage kind that are understood when ``eigyo.toml`` does not map a stage.
STAGE_SYNONYMS: dict[str, str] = {
    "prospecting": "prospecting",
    "prospect": "prospecting",
    "見込み": "prospecting",
    "qualification": "qualification",
    "qualify": "qualification",
    "評価": "qualification",
    "meeting": "meeting",
    "商談": "meeting",
    "提案前": "meeting",
    "商談/提案前": "meeting",
    "proposal": "proposal",
    "提案": "proposal",
    "negotiation": "negotiation",
    "交渉": "negotiation",
    "won": "won",
    "closed won": "won",
    "受注": "won",
    "lost": "lost",
    "closed lost": "lost",
    "失注": "lost",
}

#: Default targets: what "good" means until the organization sets its own (documented in the
#: template). Rates are fractions, durations in the metric's unit.
DEFAULT_TARGETS: dict[str, float] = {
    "win_rate": 0.25,
    "lead_response_sla_rate": 0.80,
    "mql_to_sql_rate": 0.30,
    "call_connect_rate": 0.25,
    "admin_time_share": 0.25,
    "quota_attainment_rate": 0.60,
    "slippage_rate": 0.30,
    "sales_cycle_days": 90.0,
    "stage_conversion": 0.70,
    "stage_dwell_days": 21.0,
    "stale_open_deals": 0.20,
    "missing_close_date_rate": 0.05,
}

#: Where each default target comes from: printed above it in the ``eigyo.toml`` template, so a
#: reader knows which numbers are conventions to replace with the organization's own.
TARGET_SOURCES: dict[str, str] = {
    "stage_conversion": (
        "share of deals entering a stage that move on (every stage; per stage: [targets.conversion]"
        " 提案 = 0.6). eigyo's convention, not a benchmark: with five stages at 0.70 about one deal"
        " in six that enters the funnel is won — replace it with your funnel's own rates."
    ),
    "stage_dwell_days": (
        "median days in a stage of the deals that move on (per stage: [targets.dwell_days])."
        " eigyo's convention: five stages of three weeks make the 90-day sales_cycle_days above."
    ),
    "stale_open_deals": (
        "share of open deals idle more than 60 days (the stale threshold of eigyo's vocabulary)."
        " eigyo's convention: at most one open deal in five without any activity in two months."
    ),
    "missing_close_date_rate": (
        "share of open deals without an expected close date. eigyo's convention: a forecast"
        " needs a date on (almost) every deal; 5% leaves room for deals created this week."
    ),
}


@dataclass(frozen=True)
class Stage:
    name: str
    kind: str


@dataclass(frozen=True)
class Settings:
    """Validated contents of ``eigyo.toml``."""

    name: str = "eigyo workspace"
    timezone: str = "Asia/Tokyo"
    currency: str = "JPY"
    fiscal_year_start_month: int = 4
    engine: str = "duckdb"
    lead_sla_minutes: float = 60.0
    business_hours: tuple[int, int] = (9, 18)
    stages: tuple[Stage, ...] = tuple(Stage(n, k) for n, k in DEFAULT_STAGES)
    targets: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_TARGETS))
    event_log: EventLogSettings = field(default_factory=EventLogSettings)
    import_limits: ImportLimits = field(default_factory=ImportLimits)
    crm: CrmLinks = field(default_factory=CrmLinks)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def stage_kind(self, stage: str) -> str | None:
        """Kind of a stage: from the configured order first, then the known synonyms."""
        for s in self.stages:
            if s.name == stage:
                return s.kind
        return STAGE_SYNONYMS.get(stage.strip().lower())

    def stage_order(self, stage: str) -> int | None:
        for i, s in enumerate(self.stages):
            if s.name == stage:
                return i
        return None


#: Monitoring (``eigyo monitor``): read by :mod:`eigyo.monitor.config`, which validates it.
MONITOR_TEMPLATE = """
[monitor]
# Key metrics charted weekly and monthly, for the organization and per team.
metrics = ["bookings", "win_rate", "lead_response_minutes", "lead_response_sla_rate",
           "mql_to_sql_rate", "call_connect_rate"]
grains = ["week", "month"]
by = ["team"]
weeks = 26            # weekly history charted
months = 24           # monthly history charted
recent_weeks = 8      # points judged against limits from the history before them
recent_months = 3
method = "ewma"       # or "shewhart" (with the run rules below)
rules = ["beyond_3sigma", "two_of_three_2sigma", "four_of_five_1sigma", "eight_same_side"]
lang = "ja"           # language of emails and webhook messages

[monitor.email]
enabled = false
host = "localhost"
port = 25
starttls = false
ssl = false
username = ""
password_env = "EIGYO_SMTP_PASSWORD"   # the password is read from this environment variable
from = "eigyo@localhost"
to = []
subject_prefix = "[eigyo]"
timeout_s = 10

[monitor.webhook]     # Slack-compatible incoming webhook ({"text": ...} JSON)
enabled = false
url = ""
timeout_s = 10
"""

#: Enablement: required capability levels per role, read by
#: :mod:`eigyo.analysis.enablement.training` (defaults in code when absent).
ENABLEMENT_TEMPLATE = """
[enablement]
# Required capability level (1-5) for each selling role; capabilities not listed need
# default_level. The capability gap check and the coaching list compare assessments with this.
default_level = 3
roles = ["generalist", "inbound", "closer", "account_manager"]
# [enablement.required.closer]
# "クロージング" = 4
"""


def _commented(block: str) -> str:
    """A settings block as comments: documented defaults that do not fix a value in the file."""
    return "".join(f"# {line}\n" if line.strip() else "\n" for line in block.splitlines())


def _flat_targets(raw: dict[str, object], prefix: str = "") -> dict[str, object]:
    """``[targets.conversion] 提案 = 0.6`` (or ``"conversion.提案" = 0.6``) as the key
    ``conversion.提案``: per-stage targets read the same however the file nests them."""
    out: dict[str, object] = {}
    for k, v in raw.items():
        if isinstance(v, dict):
            out.update(_flat_targets(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def template(name: str = "eigyo workspace") -> str:
    """The commented ``eigyo.toml`` that ``eigyo init`` writes."""
    stages = "\n".join(f'[[stages]]\nname = "{n}"\nkind = "{k}"\n' for n, k in DEFAULT_STAGES)
    targets = "\n".join(
        (f"# {k}: {TARGET_SOURCES[k]}\n" if k in TARGET_SOURCES else "") + f"{k} = {v}"
        for k, v in DEFAULT_TARGETS.items()
    )
    return f'''# eigyo workspace settings / eigyo ワークスペース設定
# Edit freely; `eigyo` validates this file on every command and names any wrong value.

[workspace]
name = "{name}"
# Time zone of naive timestamps in imported files, and of every period boundary.
timezone = "Asia/Tokyo"
# Currency of every amount (ISO code: JPY, USD, EUR …): how amounts and impacts are written
# (symbol and decimals). Amounts are never converted.
currency = "JPY"
# First month of the fiscal year: FY2025 = 2025-04-01 .. 2026-03-31 with 4.
fiscal_year_start_month = 4
# Where queries run. The data always lives in eigyo.duckdb in this folder; "duckdb" queries it
# there. "postgresql://USER@HOST:5432/DATABASE" or "spark" run them in that engine, on a copy
# published with `eigyo engine push` (see docs/engines.md).
engine = "duckdb"

[leads]
# A lead is answered "within SLA" when first_response_at - mql_at <= this many minutes.
sla_minutes = 60
# Business hours [start, end) in the workspace time zone, used for out-of-hours lead analysis.
business_hours = [9, 18]

# Stages in funnel order, each mapped to a kind:
# prospecting, qualification, meeting, proposal, negotiation, won, lost.
# Stage names not listed here are still analysed under their own names.
{stages}
[targets]
# What "good" means for the diagnosis until you set your own. Rates are fractions (0.25 = 25%),
# sales_cycle_days in days. Any metric id from `eigyo metrics list` may be given a target.
{targets}

# Optional sections, shown with their defaults: uncomment a section to change it.
{_commented(ENABLEMENT_TEMPLATE)}{_commented(MONITOR_TEMPLATE)}{_commented(EVENT_LOG_TEMPLATE)}{_commented(IMPORT_TEMPLATE)}{_commented(CRM_TEMPLATE)}'''


def load(path: Path) -> Settings:
    """Read and validate ``eigyo.toml``; every problem is reported in one error."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise WorkspaceError(
            f"{path} not found. Create a workspace with `eigyo init DIR`."
        ) from None
    except tomllib.TOMLDecodeError as e:
        raise WorkspaceError(f"{path}: not valid TOML: {e}") from None
    problems: list[str] = []
    ws = raw.get("workspace", {})
    leads = raw.get("leads", {})
    tz = str(ws.get("timezone", "Asia/Tokyo"))
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"workspace.timezone: {tz!r} is not a known time zone (e.g. Asia/Tokyo)")
    cur = str(ws.get("currency", "JPY")).strip().upper()
    if not is_currency_code(cur):
        problems.append(f"workspace.currency: {cur!r} must be an ISO 4217 code such as JPY or USD")
    fy = ws.get("fiscal_year_start_month", 4)
    if not isinstance(fy, int) or not 1 <= fy <= 12:
        problems.append(f"workspace.fiscal_year_start_month: {fy!r} must be a month 1-12")
        fy = 4
    sla = leads.get("sla_minutes", 60)
    if not isinstance(sla, int | float) or sla <= 0:
        problems.append(f"leads.sla_minutes: {sla!r} must be a positive number")
        sla = 60
    bh = leads.get("business_hours", [9, 18])
    if not (
        isinstance(bh, list)
        and len(bh) == 2
        and all(isinstance(h, int) for h in bh)
        and 0 <= bh[0] < bh[1] <= 24
    ):
        problems.append(f"leads.business_hours: {bh!r} must be [start, end] hours with start < end")
        bh = [9, 18]
    engine = str(ws.get("engine", "duckdb"))
    try:
        parse_engine(engine)
    except EngineError as e:
        problems.append(f"workspace.engine: {e}")
    stages: list[Stage] = []
    for i, s in enumerate(raw.get("stages", [])):
        kind = s.get("kind")
        if not s.get("name") or kind not in STAGE_KINDS:
            problems.append(
                f"stages[{i}]: needs a name and a kind among {', '.join(STAGE_KINDS)}; got {s!r}"
            )
            continue
        stages.append(Stage(str(s["name"]), str(kind)))
    targets = dict(DEFAULT_TARGETS)
    for k, v in _flat_targets(raw.get("targets", {})).items():
        if not isinstance(v, int | float) or isinstance(v, bool):
            problems.append(f"targets.{k}: {v!r} must be a number")
        else:
            targets[k] = float(v)
    event_log, el_problems = event_log_settings(raw.get("event_log", {}))
    problems += el_problems
    limits, limit_problems = import_limits(raw.get("import", {}))
    problems += limit_problems
    crm, crm_problems = crm_links(raw.get("crm", {}))
    problems += crm_problems
    if len(problems) == 1:  # one sentence: the file, the key and the reason
        raise WorkspaceError(f"{path}: {problems[0]}")
    if problems:
        raise WorkspaceError(f"{path} has {len(problems)} problem(s):\n  " + "\n  ".join(problems))
    return Settings(
        name=str(ws.get("name", "eigyo workspace")),
        timezone=tz,
        currency=cur,
        fiscal_year_start_month=fy,
        engine=engine,
        lead_sla_minutes=float(sla),
        business_hours=(bh[0], bh[1]),
        stages=tuple(stages) if stages else Settings().stages,
        targets=targets,
        event_log=event_log,
        import_limits=limits,
        crm=crm,
    )


#: The sections kept in their own modules, re-exported: callers read every setting here.
__all__ = [
    "CRM_TEMPLATE",
    "EVENT_LOG_OWNER_RULES",
    "EVENT_LOG_TEMPLATE",
    "IMPORT_TEMPLATE",
    "ZIP_RATIO_FLOOR",
    "CrmLinks",
    "EventLogSettings",
    "ImportLimits",
    "crm_links",
    "event_log_settings",
    "import_limits",
]
