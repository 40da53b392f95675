"""Which data each analysis cannot do without, and the one line it gives when that is absent.

Real exports are partial: Maven and the Salesforce-style B2B file have no stage history and no
leads, Olist has date-only MQLs without response times, BPI has no leads at all. An analysis run
on such data either crashed or printed empty tables and zeros that read as findings ("0 stuck
deals", "¥0 cost per won deal"). So every analysis command, and each section of one, declares
its inputs here as data in the metric registry's notation (``table``, ``table.column``,
``table.column=value``, ``a | b``; see :mod:`eigyo.metrics._needs`); the commands check them
with one count query and, when a need is unmet, say "not available: needs X" (text) or give
``{"not_available": {"code", "needs", "text"}}`` (JSON) — a stated unknown, never a zero.

Time of day is a need of its own: a column whose every value sits at exactly 00:00:00 holds
dates, not times (an export that writes "2018-02-01"), and an hour-of-day analysis on it would
put every lead at midnight, i.e. outside business hours.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from eigyo.i18n import catalogue, t
from eigyo.metrics._needs import parse, present
from eigyo.workspace import Workspace

Code = Literal["missing_data", "no_time_of_day", "not_enough_data"]

#: What each analysis needs: ``command`` for the whole command, ``command.section`` for one
#: section of its output. A command whose own needs are unmet prints one line and nothing else.
NEEDS: dict[str, tuple[str, ...]] = {
    "process": ("stage_history",),
    "funnel": ("stage_history",),
    "pipeline": ("opportunities",),
    "pipeline.stuck": ("stage_history",),
    "pipeline.slippage": ("opportunity_changes | opportunities.expected_close_date",),
    "skills": ("opportunities.closed_at",),
    "simulate": ("reps", "opportunities.closed_at"),
    "simulate.cost_per_won_deal": ("reps.monthly_cost",),
    "simulate.lead_response_minutes": ("leads.mql_at", "leads.first_response_at"),
    "alignment": ("leads.mql_at",),
    "alignment.response": ("leads.first_response_at",),
    "alignment.sql": ("leads.sql_at",),
    "alignment.disqualifications": ("leads.disqualified_at | leads.status=disqualified",),
    "enablement": ("reps", "opportunities.closed_at"),
    "enablement.training": ("trainings",),
    "enablement.capability": ("assessments",),
    "time": ("time_entries | activities",),
    "time.shares": ("time_entries",),
    "time.calls": ("activities.type=call",),
    "segments": ("opportunities.closed_at",),
    "icp": ("accounts", "opportunities.account_id", "opportunities.closed_at"),
    "customers": ("orders",),
    "ltv": ("orders",),
    "winprob": ("opportunities.closed_at",),
    "forecast": ("opportunities.closed_at",),
    "forecast.quota": ("quotas",),
    "monitor": ("opportunities",),
}


@dataclass(frozen=True)
class NotAvailable:
    """Why an analysis (or one section of it) gives no answer: the same shape everywhere.

    ``needs`` are the unmet needs as written in :data:`NEEDS`; ``detail`` holds the figures of a
    ``not_enough_data`` reason (e.g. "0 customers with a repeat purchase, 10 needed")."""

    analysis: str
    code: Code = "missing_data"
    needs: tuple[str, ...] = ()
    detail: str | None = None

    def reason(self, lang: str = "ja") -> str:
        """``needs MQL dates (leads.mql_at)`` / ``MQL 日時（leads.mql_at）が必要です``."""
        if self.code == "not_enough_data" and self.detail is None:
            return t("analysis_na.reason.not_enough_plain", lang)
        if self.code == "not_enough_data":
            return t("analysis_na.reason.not_enough_data", lang, detail=self.detail)
        if self.code == "no_time_of_day":
            cols = ", ".join(self.needs)
            return t("analysis_na.reason.no_time_of_day", lang, columns=cols)
        alt = t("analysis_na.or", lang)
        needs = ", ".join(alt.join(need_label(n.key, lang) for n in parse(s)) for s in self.needs)
        return t("analysis_na.reason.missing_data", lang, needs=needs)

    def line(self, lang: str = "ja") -> str:
        """The line a command prints: 「データなし: …が必要です」 / "not available: needs …"."""
        return t("analysis_na.line", lang, reason=self.reason(lang))

    def section_line(self, section: str, lang: str = "ja") -> str:
        """One section's line, naming the section: "Response times — not available: needs …"."""
        return t("analysis_na.section", lang, section=section, reason=self.reason(lang))

    def to_json(self, lang: str = "ja") -> dict[str, Any]:
        """``{"code", "needs", "text"}``: what ``"not_available"`` holds in every command (the same
        keys as a metric's ``reason``)."""
        return {"code": self.code, "needs": list(self.needs), "text": self.reason(lang)}


def need_label(key: str, lang: str = "ja") -> str:
    """A need as a person reads it: "MQL dates (leads.mql_at)"; the bare key when unnamed."""
    name = f"analysis_na.need.{key}"
    return t(name, lang, key=key) if name in catalogue() else key


def unavailable(ws: Workspace, names: Iterable[str]) -> dict[str, NotAvailable]:
    """The analyses among ``names`` (keys of :data:`NEEDS`) whose data is absent, each with its
    unmet needs; every need of every name is counted in one query."""
    names = [n for n in dict.fromkeys(names) if NEEDS.get(n)]
    found = present(ws, [s for n in names for s in NEEDS[n]])
    out: dict[str, NotAvailable] = {}
    for n in names:
        unmet = tuple(s for s in NEEDS[n] if not found[s])
        if unmet:
            out[n] = NotAvailable(n, "missing_data", unmet)
    return out


def check(ws: Workspace, name: str) -> NotAvailable | None:
    """The reason ``name`` cannot run on this workspace, or None when its data is there."""
    return unavailable(ws, [name]).get(name)


def has_time_of_day(ws: Workspace, table: str, column: str) -> bool:
    """Whether some value of a timestamp column has a time other than 00:00:00.

    An export that writes dates only ("2018-02-01") is stored at midnight; read as a time, every
    record would arrive at 0:00 — outside business hours, in the worst call window. One count
    query; a column without values has no time information either.
    """
    tab = ws.table(table)
    col = tab[column]
    n = tab.count(where=col.notnull() & (col != col.truncate("D")))
    return int(n.execute() or 0) > 0


def no_time_of_day(analysis: str, *columns: str) -> NotAvailable:
    """The reason an hour-of-day view is empty: its timestamps hold dates only."""
    return NotAvailable(analysis, "no_time_of_day", tuple(columns))


def not_enough(analysis: str, detail: str | None) -> NotAvailable:
    """The data exists but is too little for the analysis (a model that cannot be fitted)."""
    return NotAvailable(analysis, "not_enough_data", (), detail)
