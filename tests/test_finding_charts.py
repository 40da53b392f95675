"""A finding and the chart it links to show the same numbers (issue 16: one sample per number).

The session's demo company (``demo_company``), copied once for the module, with one addition
that real CRMs have and the demo lacks: the SDR logs a meeting on the day it hands a deal over.
The hand-off check counts only the *owner's* meeting or demo; a chart that counted any rep's
meeting would draw those SDR meetings and disagree with the finding beside it.

For every warn/error finding that names a chart, the finding's headline number — its group's
``value`` — must be one of the numbers in that chart's data (the figure JSON the report embeds:
bar heights, heat-map cells, hover data …), up to the rounding of the evidence. Where the check
compares its group with an explicit second group (``baseline = {...}`` in checks.toml: trained
reps, the previous period), the chart must show that group's number too.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

import pytest

from eigyo.base.periods import Period, parse_period
from eigyo.diagnose import Finding, diagnose
from eigyo.diagnose.checks import load_checks
from eigyo.diagnose.model import STEPS
from eigyo.report._figures import Chart, Ctx
from eigyo.report._sections import STEP_CHARTS
from eigyo.workspace import Workspace, open_workspace
from tests.conftest import Demo

PERIOD = "FY2025"
#: Evidence values are rounded to 4 decimals; chart data carries the unrounded number.
TOLERANCE = 6e-4

#: SDR meetings on the day of the hand-off: the SDR is not the owner, so the hand-off check
#: ignores them (only the owner's meeting or demo counts).
SDR_MEETINGS = """
INSERT INTO activities (activity_id, rep_id, type, occurred_at, opportunity_id)
SELECT 'sdr-' || opportunity_id, sdr_rep_id, 'meeting', created_at + INTERVAL 1 HOUR,
       opportunity_id
FROM opportunities WHERE sdr_rep_id IS NOT NULL
"""


@pytest.fixture(scope="module")
def demo(
    demo_company: Demo, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Workspace, Period]]:
    """A copy of the session's demo company, plus the SDRs' meetings on hand-off day."""
    ws = open_workspace(demo_company.copy(tmp_path_factory.mktemp("finding-charts") / "ws"))
    ws.raw.execute(SDR_MEETINGS)
    yield ws, parse_period(PERIOD, ws.settings.fiscal_year_start_month)
    ws.close()


@pytest.fixture(scope="module")
def findings(demo: tuple[Workspace, Period]) -> list[Finding]:
    ws, period = demo
    found: list[Finding] = diagnose(ws, period)
    return found


@pytest.fixture(scope="module")
def charts(demo: tuple[Workspace, Period]) -> dict[str, Chart]:
    """Every chart of the report, by id, as the report builds it (English labels)."""
    ws, period = demo
    ctx = Ctx(ws, period, "en")
    return {c.chart_id: c for builders in STEP_CHARTS.values() for c in (b(ctx) for b in builders)}


def _numbers(node: Any) -> Iterator[float]:
    """Every finite number anywhere in a figure's traces (values, hover data, nested lists)."""
    if isinstance(node, bool):
        return
    if isinstance(node, int | float):
        if math.isfinite(node):
            yield float(node)
    elif isinstance(node, dict):
        for v in node.values():
            yield from _numbers(v)
    elif isinstance(node, list):
        for v in node:
            yield from _numbers(v)


def _shows(numbers: list[float], value: float) -> bool:
    return any(abs(n - value) <= max(TOLERANCE, 1e-6 * abs(value)) for n in numbers)


def _alarms_with_charts(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.is_alarm and f.chart]


def test_the_demo_raises_alarms_that_link_charts(findings: list[Finding]) -> None:
    linked = {f.check for f in _alarms_with_charts(findings)}
    assert {"handoff_delay", "stage_bottleneck", "kpi_gap_by_team"} <= linked


def test_each_finding_shows_its_numbers_in_its_chart(
    findings: list[Finding], charts: dict[str, Chart]
) -> None:
    explicit_baseline = {c.id for c in load_checks() if c.baseline is not None}
    problems = []
    for f in _alarms_with_charts(findings):
        chart = charts.get(str(f.chart))
        where = f"{f.check} {f.scope} → chart {f.chart!r}"
        if chart is None or chart.figure is None:
            problems.append(f"{where}: the report draws no such chart")
            continue
        numbers = list(_numbers(json.loads(chart.figure)["data"]))
        wanted = {"value": f.evidence["value"]}
        if f.check in explicit_baseline:
            wanted["baseline"] = f.evidence["baseline"]
        for key, value in wanted.items():
            if not _shows(numbers, float(value)):
                near = sorted(numbers, key=lambda n: abs(n - float(value)))[:3]
                problems.append(f"{where}: {key} {value} not in the chart (nearest: {near})")
    assert not problems, "\n".join(problems)


def test_every_tested_group_is_in_the_chart(
    demo: tuple[Workspace, Period], charts: dict[str, Chart]
) -> None:
    """Not only the groups the demo flags: every group a linked check tests, so a finding on
    other data (another team, the previous period) still finds its number beside it."""
    from eigyo.diagnose.compare import median, proportion
    from eigyo.diagnose.context import Context

    ws, period = demo
    ctx = Context(ws, period)
    problems = []
    for check in load_checks():
        if not check.chart or check.kind not in ("proportion", "median"):
            continue
        chart = charts[check.chart]
        assert chart.figure is not None, check.chart
        numbers = list(_numbers(json.loads(chart.figure)["data"]))
        test = proportion if check.kind == "proportion" else median
        for t in test(check, ctx.sample(check.sample)):
            wanted = [("value", t.gap_info.value)]
            if check.baseline is not None:
                wanted.append(("baseline", t.gap_info.baseline))
            for key, value in wanted:
                if math.isfinite(value) and not _shows(numbers, value):
                    problems.append(f"{check.id} {t.key} {key} {value:.4f} not in {check.chart}")
    assert not problems, "\n".join(problems)


def test_intervention_chart_carries_the_did_estimate(
    findings: list[Finding], charts: dict[str, Chart]
) -> None:
    """The intervention check's estimate (difference in differences of median response) is on
    its chart, whatever the verdict (the demo's intervention worked: an "info" finding)."""
    found = [f for f in findings if f.check == "intervention_effect" and "estimate" in f.evidence]
    assert found
    figure = charts["intervention"].figure
    assert figure is not None
    numbers = list(_numbers(json.loads(figure)["data"]))
    for f in found:
        assert _shows(numbers, float(f.evidence["estimate"])), f.evidence


def test_dashboard_step_pages_show_the_findings_of_diagnose(
    demo: tuple[Workspace, Period], findings: list[Finding]
) -> None:
    """Each step page of an admin's dashboard lists the findings ``eigyo diagnose`` lists —
    the data step's import-quality findings included (it used to say "0 groups tested")."""
    from eigyo.app import _views as views
    from eigyo.app._scope import Principal, scoped

    ws, period = demo
    admin = scoped(ws, Principal("admin", "admin"))
    found = views.findings(admin, period)
    quality = [f for f in findings if f.check == "import_quality"]
    assert quality and all(f.severity != "ok" for f in quality)
    for step in STEPS:
        items, _ = views.step_view(admin, period, step, found, "en")
        shown = sorted((i.check, i.severity, i.title) for i in items)
        cli = sorted((f.check, f.severity, f.title["en"]) for f in findings if f.step == step)
        assert shown == cli, step


def test_a_manager_is_not_told_the_import_is_fine(demo: tuple[Workspace, Period]) -> None:
    """The import records are admins' only: a manager's quality check is "not available to your
    role", never "ok" (tests/test_scoped_diagnosis.py tests the rest of the scoped diagnosis)."""
    from eigyo.app import _views as views
    from eigyo.app._scope import Principal, scoped

    ws, period = demo
    manager = scoped(ws, Principal("m", "manager", team="大阪営業部"))
    (quality,) = [f for f in views.findings(manager, period) if f.check == "import_quality"]
    assert quality.severity == "info" and quality.evidence["status"] == "not_available_role"
