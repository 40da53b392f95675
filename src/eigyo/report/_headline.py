"""The ten-second headline: bookings against plan, pace, forecast landing, ¥ at stake, top actions.

Why a separate block above everything else: an executive opening the report or the dashboard
asks four questions — are we on plan, will we land it, how much is at stake, what do we do and
who does it — and must not dig through q-values to answer them. Every number here comes from
the one definition the rest of eigyo uses: bookings from the metrics registry (``bookings``),
the plan from :func:`eigyo.analysis.data.forecast.quota_for` (quotas pro-rated to the period),
the landing from :func:`eigyo.analysis.data.forecast.forecast`, the ¥ at stake from
:func:`eigyo.diagnose.overlap.non_overlapping_total` (overlapping findings counted once).
Amounts are compact (1.7億円 style) because a headline is read, not reconciled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import TYPE_CHECKING, Any

from eigyo.analysis.common import data_end
from eigyo.analysis.data.forecast import forecast, quota_for
from eigyo.base.currency import DEFAULT_CURRENCY
from eigyo.base.formatting import format_value, money
from eigyo.base.periods import Period
from eigyo.diagnose.model import Finding
from eigyo.diagnose.overlap import non_overlapping_total
from eigyo.i18n import t
from eigyo.metrics import compute

if TYPE_CHECKING:
    from eigyo.workspace import Workspace

#: How many actions the headline lists.
TOP_ACTIONS = 3


@dataclass(frozen=True)
class Headline:
    """The headline's raw numbers (None where they cannot be known), before formatting."""

    bookings: float | None
    plan: float | None
    as_of: date | None
    elapsed: float | None  # share of the period elapsed at ``as_of`` (0–1)
    landing: float | None  # the forecast of the whole period's bookings
    stake: float | None
    actions: list[tuple[Finding, str | None]] = field(default_factory=list)  # (finding, owner)

    @property
    def attainment(self) -> float | None:
        """Bookings ÷ plan: the share of the plan booked so far."""
        if self.bookings is None or not self.plan:
            return None
        return self.bookings / self.plan


@dataclass(frozen=True)
class HeadlineAction:
    """One of the top actions: what to do, who owns it, and the finding it comes from."""

    text: str
    owner: str
    finding_title: str
    finding_id: str
    impact: str | None


@dataclass(frozen=True)
class HeadlineView:
    """The headline in one language, every number formatted for a reader."""

    bookings: str
    plan: str | None
    attainment: str | None
    pace: str | None  # 「期間の 50% 経過・計画の 42% を受注」
    pace_tone: str  # "good" (booked share ≥ elapsed share), "bad", or "" when unknown
    landing: str | None
    landing_vs_plan: str | None
    stake: str | None
    stake_note: str
    actions: list[HeadlineAction]
    as_of: str | None
    #: The unformatted numbers by name (bookings, plan, attainment, elapsed, landing, stake):
    #: the page carries them as ``data-value`` so a test or a script reads them exactly.
    raw: dict[str, float | None] = field(default_factory=dict)


def elapsed_share(period: Period, as_of: date | None) -> float | None:
    """Share of the period's days up to and including ``as_of`` (clipped to 0–1)."""
    if as_of is None:
        return None
    done = (min(as_of, period.end) - period.start).days + 1
    return max(0.0, min(1.0, done / period.days))


def team_managers(ws: Workspace) -> dict[str, str]:
    """Team → the name of its manager (a rep row with role ``manager`` in that team)."""
    r = ws.table("reps")
    r = r.filter((r.role == "manager") & r.team.notnull())
    rows = r.order_by("rep_id").select("team", "name", "rep_id").to_pyarrow().to_pylist()
    out: dict[str, str] = {}
    for row in rows:
        out.setdefault(str(row["team"]), str(row["name"] or row["rep_id"]))
    return out


def _rep_names(ws: Workspace) -> dict[str, str]:
    r = ws.table("reps").select("rep_id", "name").to_pyarrow().to_pylist()
    return {str(x["rep_id"]): str(x["name"] or x["rep_id"]) for x in r}


def owner_of(f: Finding, managers: dict[str, str], names: dict[str, str]) -> str | None:
    """Who acts on a finding: the rep it names, else the manager of the team it names; None for
    a finding on the whole organization (the head of sales owns it)."""
    rep = f.scope.get("rep_id")
    if rep:
        return names.get(rep, rep)
    team = f.scope.get("team")
    if team:
        return managers.get(team)
    return None


def _landing(ws: Workspace, period: Period, as_of: date | None, booked: float | None) -> Any:
    """What the period lands at: its bookings once it is over, else the forecast as of the
    data's last day (None where the data does not reach the period, or where the forecast is not
    available: every open deal of the period lacks an amount)."""
    if as_of is None or as_of < period.start:
        return None
    if as_of >= period.end:
        return booked
    landing = forecast(ws, period, as_of)["forecast"]
    return None if landing is None else float(landing)


def headline(ws: Workspace, period: Period, findings: list[Finding]) -> Headline:
    """The headline's numbers for ``period`` on ``ws`` (scoped where the dashboard asks)."""
    values = compute(ws, period, ["bookings"])
    booked = values[0].value if values else None
    plan = quota_for(ws, period) or None
    as_of = data_end(ws)
    total, counted, _ = non_overlapping_total(findings)
    managers, names = team_managers(ws), _rep_names(ws)
    alarms = sorted((f for f in findings if f.is_alarm and f.actions), key=Finding.sort_key)
    return Headline(
        bookings=booked,
        plan=plan,
        as_of=as_of,
        elapsed=elapsed_share(period, as_of),
        landing=_landing(ws, period, as_of, booked),
        stake=total if counted else None,
        actions=[(f, owner_of(f, managers, names)) for f in alarms[:TOP_ACTIONS]],
    )


def headline_view(h: Headline, lang: str, currency: str = DEFAULT_CURRENCY) -> HeadlineView:
    """The headline formatted: compact amounts (億/万 in Japanese), shares as %."""

    amount = partial(money, code=currency, compact=True, lang=lang)  # ¥3,200万, not ¥32,004,512

    att = h.attainment
    pace = tone = None
    if att is not None and h.elapsed is not None:
        pace = t(
            "report.headline.pace",
            lang,
            elapsed=format_value(h.elapsed, "ratio", lang),
            booked=format_value(att, "ratio", lang),
        )
        tone = "good" if att >= h.elapsed else "bad"
    vs_plan = None
    if h.landing is not None and h.plan:
        vs_plan = t(
            "report.headline.of_plan", lang, share=format_value(h.landing / h.plan, "ratio", lang)
        )
    actions = []
    for f, owner in h.actions:
        actions.append(
            HeadlineAction(
                text=f.actions[0].get(lang) or f.actions[0].get("ja") or "",
                owner=owner or t("report.headline.owner_org", lang),
                finding_title=f.title.get(lang) or f.title.get("ja") or f.check,
                finding_id=f.id,
                impact=amount(f.impact_jpy) if f.impact_jpy else None,
            )
        )
    return HeadlineView(
        bookings=amount(h.bookings),
        plan=amount(h.plan) if h.plan else None,
        attainment=format_value(att, "ratio", lang) if att is not None else None,
        pace=pace,
        pace_tone=tone or "",
        landing=amount(h.landing) if h.landing is not None else None,
        landing_vs_plan=vs_plan,
        stake=amount(h.stake) if h.stake is not None else None,
        stake_note=t("report.headline.stake_note", lang),
        actions=actions,
        as_of=h.as_of.isoformat() if h.as_of else None,
        raw={
            "bookings": h.bookings,
            "plan": h.plan,
            "attainment": att,
            "elapsed": h.elapsed,
            "landing": h.landing,
            "stake": h.stake,
        },
    )
