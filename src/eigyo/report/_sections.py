"""The page's content as plain view records: tiles, findings and one section per runbook step.

Everything a template shows is prepared here, already translated and formatted, so the template
only lays it out (and escapes it) and the same views can later feed the dashboard.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from eigyo.base.currency import DEFAULT_CURRENCY
from eigyo.base.formatting import (
    Delta,
    evidence_items,
    fmt_delta,
    format_value,
    scope_text,
    target_met,
    unit_of_key,
)
from eigyo.diagnose.model import SEVERITY_RANK, STEPS, Finding
from eigyo.i18n import t
from eigyo.metrics import readable
from eigyo.report import _charts_people as people
from eigyo.report import _charts_sales as sales
from eigyo.report._figures import Chart, Ctx
from eigyo.report._model import KpiTile, ReportInput
from eigyo.report.evidence import overlap_links

#: Charts of each runbook step, in the order they appear in its section.
STEP_CHARTS: dict[str, tuple[Callable[[Ctx], Chart], ...]] = {
    "measure": (sales.bookings_by_month, sales.win_rate_by_team),
    "process": (sales.stage_funnel, sales.stage_days, sales.stage_conversion, sales.process_map),
    "specialization": (sales.rep_win_rates, sales.handoff_days),
    "alignment": (people.lead_response, people.untouched_by_source, people.response_curve),
    "enablement": (people.ramp_curves, people.new_rep_win_rate, people.capability_gaps),
    "data": (sales.segment_matrix,),
    "organization": (people.time_share, people.reclaimable_time),
    "monitor": (people.intervention,),
}
#: How many findings page one lists.
TOP_FINDINGS = 5


@dataclass(frozen=True)
class TileView:
    """A KPI tile ready to show: every number already formatted for the reader's language."""

    metric_id: str
    label: str
    value: str
    target: str | None
    met: bool | None
    deltas: list[Delta]
    better: str
    #: Why there is no value (「データなし（…）」 is then the ``value`` text), else None.
    reason: str | None = None


@dataclass(frozen=True)
class FindingView:
    """A finding in one language, evidence formatted, for page one and its step's section."""

    step: str
    step_title: str
    check: str
    severity: str
    severity_label: str
    title: str
    scope: str
    impact: str | None
    evidence: list[tuple[str, str]]
    cause: str
    actions: list[str]
    impact_formula: str = ""
    chart: str | None = None
    #: The finding's id (``eigyo diagnose --records ID``, the dashboard's records page).
    id: str = ""
    #: ``(id, title)`` of the findings whose records it shares: their ¥ do not add up.
    overlaps: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class SectionView:
    """One runbook step: its findings, its charts and, when nothing is wrong, a note saying so
    (or that the data is too thin to say)."""

    step: str
    title: str
    findings: list[FindingView]
    charts: list[Chart]
    note: str | None = None
    problems: int = field(default=0)


def tile_view(tile: KpiTile, lang: str, currency: str = DEFAULT_CURRENCY) -> TileView:
    """A KPI tile, formatted by its unit, with changes coloured by the good direction; a tile
    without a value says 「データなし」 with its reason and is neither met nor missed."""
    deltas = [
        fmt_delta(t(key, lang), tile.value, base, tile.unit, tile.better, currency)
        for key, base in (
            ("report.kpi.vs_previous", tile.previous),
            ("report.kpi.vs_last_year", tile.last_year),
        )
    ]
    missing = tile.value is None and tile.reason is not None
    return TileView(
        metric_id=tile.metric_id,
        label=tile.label.get(lang) or tile.label.get("ja") or tile.metric_id,
        value=(
            t("report.kpi.not_available", lang)
            if missing
            else format_value(tile.value, tile.unit, lang, currency, compact=True)
        ),  # a tile is a headline: ¥3,200万, not ¥32,004,512 (tables keep exact amounts)
        target=(
            None
            if tile.target is None
            else format_value(tile.target, tile.unit, lang, currency, compact=True)
        ),
        met=target_met(tile.value, tile.target, tile.better),
        deltas=[d for d in deltas if d is not None],
        better=tile.better,
        reason=tile.reason.text(lang) if missing and tile.reason else None,
    )


def _pick(texts: dict[str, str], lang: str, fallback: str = "") -> str:
    return texts.get(lang) or texts.get("ja") or texts.get("en") or fallback


def _metric_unit(metric: str | None, units: dict[str, str]) -> str | None:
    """Unit of a finding's metric: as its KPI tile declares it, else guessed from its id."""
    if not metric:
        return None
    return units.get(metric) or unit_of_key(metric, None)


def finding_view(
    f: Finding, lang: str, units: dict[str, str], others: Sequence[Finding] = ()
) -> FindingView:
    """A finding in the reader's language; evidence numbers formatted by the metric's unit;
    the findings it overlaps with named from ``others`` (the whole diagnosis)."""
    return FindingView(
        step=f.step,
        step_title=t(f"steps.{f.step}.short", lang) if f.step in STEPS else f.step,
        check=f.check,
        severity=f.severity,
        severity_label=t(f"report.severity.{f.severity}", lang),
        title=_pick(f.title, lang, f.check),
        scope=scope_text(f.scope, lang, f.evidence),
        impact=(
            None if f.impact_jpy is None else format_value(f.impact_jpy, "yen", lang, f.currency)
        ),
        evidence=evidence_items(
            f.evidence, f.unit or _metric_unit(f.metric, units), lang, f.currency
        ),
        cause=_pick(f.cause, lang),
        actions=[a for a in (_pick(x, lang) for x in f.actions) if a],
        impact_formula=_pick(f.impact_formula, lang) if f.impact_formula else "",
        chart=f.chart,
        id=f.id,
        overlaps=overlap_links(f, others or [f], lang),
    )


def not_available(f: Finding) -> bool:
    """A check that could not judge because the data it needs is absent."""
    return f.evidence.get("status") == "not_available"


def unavailable_note(inp: ReportInput, lang: str) -> str | None:
    """Page one's reminder that "no problem found" covers only what the data allowed to check:
    how many checks could not judge, and which data they need."""
    missing = [f for f in inp.findings if not_available(f)]
    if not missing:
        return None
    needs = sorted({n for f in missing for n in f.evidence.get("needs", [])})
    return t("report.summary.not_available", lang, n=len(missing), needs=readable(needs, lang))


def _sorted(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: f.sort_key())


def top_findings(inp: ReportInput, lang: str) -> list[FindingView]:
    """Page one: the most important warnings and errors, worst and costliest first."""
    units = {k.metric_id: k.unit for k in inp.kpis}
    serious = [f for f in inp.findings if SEVERITY_RANK[f.severity] >= SEVERITY_RANK["warn"]]
    return [finding_view(f, lang, units, inp.findings) for f in _sorted(serious)[:TOP_FINDINGS]]


def step_charts(ctx: Ctx, steps: Iterable[str] = STEPS) -> dict[str, list[Chart]]:
    """The charts of each of ``steps``, queried once (the only part of a section that reads
    the workspace), in runbook order."""
    wanted = set(steps)
    return {s: [build(ctx) for build in STEP_CHARTS[s]] for s in STEPS if s in wanted}


def sections(inp: ReportInput, lang: str, charts: dict[str, list[Chart]]) -> list[SectionView]:
    """One section per runbook step that has its charts in ``charts``, in runbook order, with
    its findings, charts and a note when it has no problem to show (or no data to judge by)."""
    units = {k.metric_id: k.unit for k in inp.kpis}
    out: list[SectionView] = []
    for step in STEPS:
        if step not in charts:
            continue
        found = _sorted([f for f in inp.findings if f.step == step])
        shown = charts[step]
        problems = sum(SEVERITY_RANK[f.severity] >= SEVERITY_RANK["warn"] for f in found)
        note = None
        if not found and not any(c.has_data for c in shown):
            note = t("report.section.not_enough_data", lang)
        elif found and all(not_available(f) for f in found):
            note = t("report.section.not_available", lang)
        elif problems == 0:
            note = t("report.section.no_problems", lang)
        out.append(
            SectionView(
                step=step,
                title=t(f"steps.{step}.title", lang),
                findings=[finding_view(f, lang, units, inp.findings) for f in found],
                charts=shown,
                note=note,
                problems=problems,
            )
        )
    return out
