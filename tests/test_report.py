"""The HTML report of the runbook: self-contained, bilingual, escaped, and its numbers right.

A tiny hand-made workspace (rows inserted directly, independent of the importer and the demo)
whose chart values are computed by hand below.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

import plotly.offline
import polars as pl
import pytest

from eigyo.analysis import measure
from eigyo.analysis.alignment import chart_data as alignment_charts
from eigyo.base.formatting import format_value
from eigyo.base.periods import Period
from eigyo.diagnose.model import STEPS, Finding
from eigyo.errors import InputError
from eigyo.i18n import catalogue, t
from eigyo.report import KpiTile, ReportInput, render_html, report_model, write_report
from eigyo.workspace import Workspace, init

FY2024 = Period(date(2024, 4, 1), date(2025, 3, 31), "FY2024")
EVIL = "<script>alert('x')</script>"

ROWS = {
    "reps (rep_id, name, team, role, hire_date)": [
        "('r1', '佐藤', '東日本', 'generalist', DATE '2023-01-10')",
        f"('r2', '{EVIL.replace(chr(39), chr(39) * 2)}', '東日本', 'closer', DATE '2024-05-01')",
        "('r3', '鈴木', '西日本', 'generalist', DATE '2024-06-01')",
        "('s1', '田中', '西日本', 'sdr', DATE '2024-04-01')",
        "('m1', '山本', '東日本', 'manager', DATE '2020-04-01')",
    ],
    "accounts (account_id, name, industry)": [
        "('a1', 'A社', '製造')",
        "('a2', 'B社', 'IT')",
    ],
    "opportunities (opportunity_id, account_id, owner_rep_id, sdr_rep_id, amount, created_at,"
    " closed_at, status)": [
        "('o1', 'a1', 'r1', NULL, 1000000, '2024-04-05', '2024-05-10', 'won')",
        "('o2', 'a1', 'r1', NULL, 400000, '2024-04-10', '2024-06-01', 'lost')",
        "('o3', 'a2', 'r2', 's1', 2000000, '2024-05-01', '2024-07-01', 'won')",
        "('o4', 'a2', 'r3', NULL, 300000, '2024-05-15', '2024-08-01', 'lost')",
        "('o5', NULL, 'r3', NULL, 200000, '2024-06-01', '2024-09-01', 'lost')",
        "('o6', 'a1', 'r3', NULL, 500000, '2024-07-01', '2024-10-01', 'won')",
        "('o7', 'a1', 'r1', NULL, 300000, '2023-10-01', '2023-12-01', 'won')",
        "('o8', 'a2', 'r2', NULL, 900000, '2024-11-01', NULL, 'open')",
    ],
    "stage_history (opportunity_id, stage, entered_at)": [
        "('o1', '見込み', '2024-04-05'), ('o1', '評価', '2024-04-15')",
        "('o1', '提案', '2024-04-25'), ('o1', '受注', '2024-05-10')",
        "('o2', '見込み', '2024-04-10'), ('o2', '評価', '2024-04-20')",
        "('o2', '失注', '2024-06-01')",
        "('o3', '見込み', '2024-05-01'), ('o3', 'デモ', '2024-05-05')",
        "('o3', '受注', '2024-07-01')",
        "('o4', '見込み', '2024-05-15'), ('o4', '失注', '2024-08-01')",
    ],
    "activities (activity_id, rep_id, type, occurred_at, opportunity_id, lead_id)": [
        "('x1', 'r2', 'meeting', '2024-05-04', 'o3', NULL)",
        "('x2', 'r3', 'call', '2024-04-02', NULL, 'l4')",
    ],
    "leads (lead_id, created_at, source, owner_rep_id, mql_at, first_response_at)": [
        "('l1', '2024-04-01 09:00', 'Web', 'r1', '2024-04-01 09:00', '2024-04-01 09:30')",
        "('l2', '2024-04-01 10:00', '展示会', 'r3', '2024-04-01 10:00', '2024-04-01 12:00')",
        "('l3', '2024-04-02 10:00', 'Web', 'r3', '2024-04-02 10:00', NULL)",
        "('l4', '2024-04-02 11:00', '<b>evil</b>', 'r3', NULL, NULL)",
        "('l5', '2024-11-01 10:00', 'Web', 'r3', '2024-11-01 10:00', '2024-11-01 10:20')",
    ],
    "time_entries (rep_id, date, category, hours)": [
        "('r1', DATE '2024-04-01', 'selling', 6), ('r1', DATE '2024-04-01', 'admin', 2)",
        "('r3', DATE '2024-04-01', 'selling', 3), ('r3', DATE '2024-04-01', 'admin', 5)",
    ],
    "interventions (intervention_id, name, started_at, scope)": [
        "('i1', 'SLA導入', '2024-10-01', '西日本')",
    ],
}


def _fill(ws: Workspace) -> None:
    for target, values in ROWS.items():
        ws.raw.execute(f"INSERT INTO {target} VALUES {', '.join(values)}")


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    w = init(tmp_path / "w")
    _fill(w)
    return w


@pytest.fixture
def empty_ws(tmp_path: Path) -> Workspace:
    return init(tmp_path / "empty")


KPIS = [
    KpiTile("bookings", {"ja": "受注額", "en": "Bookings"}, "yen", 3_500_000, 5_000_000,
            3_000_000, 2_000_000, "higher"),
    KpiTile("win_rate", {"ja": "勝率", "en": "Win rate"}, "ratio", 0.5, 0.25, 0.55),
    KpiTile("lead_response_minutes", {"ja": "リード対応時間", "en": "Lead response"}, "minutes",
            30, 60, 45, 20, "lower"),
]  # fmt: skip
HOSTILE = "<img src=x onerror=alert(1)>"
FINDINGS = [
    Finding(
        step="alignment",
        check="lead_sla",
        severity="error",
        metric="lead_response_sla_rate",
        scope={"team": "西日本"},
        evidence={"value": 0.42, "target": 0.8, "leads": 1200},
        cause={"ja": "西日本のリード対応が遅い", "en": "The West team answers leads late"},
        actions=[
            {"ja": "SLAを設定して毎朝確認する", "en": "Set an SLA and review it every morning"}
        ],
        impact_jpy=12_300_000,
        title={"ja": "リード対応SLA未達", "en": "Lead SLA missed"},
    ),
    Finding(
        step="measure",
        check="win_rate",
        severity="warn",
        metric="win_rate",
        scope={"rep_id": HOSTILE},
        evidence={"value": 0.2, "target": 0.25},
        cause={"ja": f"原因{HOSTILE}", "en": f"cause {HOSTILE}"},
        actions=[],
        title={"ja": "勝率が目標未満", "en": "Win rate below target"},
    ),
    Finding("process", "stall", "info", None, {}, {}, {"ja": "情報", "en": "info"}, []),
]


def _input(findings: list[Finding] | None = None, kpis: list[KpiTile] | None = None) -> ReportInput:
    return ReportInput(
        company="デモ株式会社",
        period=FY2024,
        generated_at=datetime(2025, 4, 2, 9, 0),
        kpis=KPIS if kpis is None else kpis,
        findings=FINDINGS if findings is None else findings,
        data_summary={"reps": 5, "opportunities": 8},
    )


def _charts(page: str) -> dict[str, dict[str, Any]]:
    """The Plotly figures embedded in the page, by chart id."""
    blocks = re.findall(
        r'<script type="application/json" class="chart-data" id="chart-data-([^"]+)">'
        r"(.*?)</script>",
        page,
        flags=re.S,
    )
    return {k: json.loads(v) for k, v in blocks}


def _section(page: str, step: str) -> str:
    start = page.index(f'<section id="step-{step}"')
    return page[start : page.index("</section>", start)]


@pytest.fixture
def page(ws: Workspace) -> str:
    return render_html(report_model(ws, _input(), formats=("html",)))


def test_report_is_written_with_every_step_in_runbook_order(ws: Workspace, tmp_path: Path) -> None:
    out = write_report(
        report_model(ws, _input(), formats=("html",)), tmp_path / "out" / "report.html"
    )
    assert out == tmp_path / "out" / "report.html"
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert '<html lang="ja">' in page
    positions = [page.index(f'<section id="step-{s}" class="step"') for s in STEPS]
    assert positions == sorted(positions)
    for step in STEPS:
        assert t(f"steps.{step}.title", "ja") in _section(page, step)
    assert page.index('id="summary"') < positions[0]
    assert not list(out.parent.glob(".report.html.*")), "temporary file left behind"


def test_report_is_self_contained(page: str) -> None:
    bundle = plotly.offline.get_plotlyjs()
    assert page.count(bundle[:2000]) == 1, "plotly.js must be embedded exactly once"
    tags = re.findall(r"<(?:script|link|img|iframe|source)\b[^>]*>", page, flags=re.I)
    assert not [tag for tag in tags if re.search(r"\b(?:src|href)\s*=", tag, flags=re.I)]
    assert not re.search(r"@import|url\(\s*['\"]?https?:", page)
    assert "Plotly.newPlot" in page


def test_findings_and_texts_follow_the_language(ws: Workspace) -> None:
    ja = render_html(report_model(ws, _input(), formats=("html",)))
    en = render_html(report_model(ws, _input(), "en", formats=("html",)))
    assert '<html lang="en">' in en
    for text in ("リード対応SLA未達", "西日本のリード対応が遅い", "SLAを設定して毎朝確認する"):
        assert text in ja and text not in en
    for text in ("Lead SLA missed", "The West team answers leads late", "Set an SLA and review"):
        assert text in en and text not in ja
    for step in STEPS:
        assert t(f"steps.{step}.title", "en") in _section(en, step)
    assert t("report.summary.heading", "en") in en
    assert "¥12,300,000" in ja and "42.0%" in ja and "1,200" in ja


def test_summary_lists_serious_findings_first(page: str) -> None:
    summary = page[page.index('id="summary"') : page.index('id="kpis"')]
    checks = re.findall(r'class="finding sev-(\w+)"[^>]*data-check="(\w+)"', summary)
    assert checks == [("error", "lead_sla"), ("warn", "win_rate")]
    assert 'data-check="stall"' in _section(page, "process")
    assert t("report.section.no_problems", "ja") in _section(page, "process")


def test_data_values_are_escaped(page: str, ws: Workspace) -> None:
    for hostile in (EVIL, HOSTILE, "<b>evil</b>"):
        assert hostile not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    rep_names = [n for tr in _charts(page)["rep-win-rate"]["data"] for n in tr["text"]]
    assert "&lt;script&gt;alert('x')&lt;/script&gt;" in rep_names


def test_win_rate_by_team_numbers(ws: Workspace, page: str) -> None:
    # Closed in FY2024: 東日本 o1 won, o2 lost, o3 won; 西日本 o4, o5 lost, o6 won.
    df = measure.win_rate_by_team(ws, FY2024)
    assert df.select("team", "won", "lost", "closed").rows() == [
        ("東日本", 2, 1, 3),
        ("西日本", 1, 2, 3),
    ]
    bar, org, target = _charts(page)["win-rate-by-team"]["data"]
    assert bar["x"] == ["東日本", "西日本"]
    # the organization's 3 of 6 and the default target of 25%, as reference lines
    assert (org["name"], org["y"]) == ("全社", [pytest.approx(0.5)] * 2)
    assert (target["name"], target["y"]) == ("目標", [0.25, 0.25])
    assert bar["y"] == pytest.approx([2 / 3, 1 / 3])
    # won, lost; then per deal type the rate and count, in the period and the one before
    assert [row[:2] for row in bar["customdata"]] == [[2, 1], [1, 2]]
    rates = [pytest.approx(2 / 3), pytest.approx(1 / 3)]
    assert [row[2:4] for row in bar["customdata"]] == [[rates[0], 3], [rates[1], 3]]


def test_funnel_and_stage_days_numbers(page: str) -> None:
    charts = _charts(page)
    (funnel,) = charts["funnel"]["data"]
    # Settings order first (失注 is no funnel step), then the unlisted stage under its own name.
    assert funnel["y"] == ["見込み", "評価", "提案", "受注", "デモ"]
    assert funnel["x"] == [4, 2, 1, 2, 1]
    (days,) = charts["stage-days"]["data"]
    # 見込み: 10, 10, 4, 78 days → median 10; 評価: 10 and 42 → 26; 提案 15; デモ 57.
    assert days["x"] == ["見込み", "評価", "提案", "デモ"]
    assert days["y"] == pytest.approx([10, 26, 15, 57])


def test_alignment_and_monitor_numbers(ws: Workspace, page: str) -> None:
    box = alignment_charts.lead_response_by_team(ws, FY2024)
    assert box.select("team", "leads", "median").rows() == [
        ("東日本", 1, 30.0),
        ("西日本", 2, 70.0),
    ]
    untouched = alignment_charts.untouched_by_source(ws, FY2024)
    assert untouched.filter(pl.col("source") == "Web").select("leads", "untouched").row(0) == (3, 1)
    fig = _charts(page)["intervention"]
    assert [tr["y"] for tr in fig["data"]] == [[120.0, 20.0], [30.0]]
    assert any(
        s["type"] == "line" and s["x0"].startswith("2024-10-01") for s in fig["layout"]["shapes"]
    )


def _tile(page: str, metric: str) -> str:
    at = page.index(f'id="kpi-{metric}"')
    return page[page.rindex('<div class="kpi', 0, at) : page.index('class="kpi-better"', at)]


def test_kpi_tiles_are_formatted_and_coloured(page: str) -> None:
    tile = _tile(page, "bookings")
    # a tile is a headline: amounts from a million read in 万 / 億 (tables keep them exact)
    assert "¥350万" in tile and "¥500万" in tile and 'class="kpi missed"' in tile
    assert '<li class="delta good">' in tile and "+16.7%" in tile and "+75.0%" in tile
    tile = _tile(page, "lead_response_minutes")
    assert "30.0分" in tile and 'class="kpi met"' in tile
    assert re.search(r'delta good">[^<]*<b>-33.3%', tile)
    assert re.search(r'delta bad">[^<]*<b>\+50.0%', tile)
    assert re.search(r'delta bad">[^<]*<b>-5.0pt', _tile(page, "win_rate"))


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_empty_workspace_renders_no_data_notes(empty_ws: Workspace, lang: str) -> None:
    page = render_html(
        report_model(empty_ws, _input(findings=[], kpis=[]), lang, formats=("html",))
    )
    assert not _charts(page)
    n_charts = page.count('class="chart-card"')
    assert n_charts >= len(STEPS)
    assert page.count('<p class="no-data">') == n_charts
    for step in STEPS:
        assert t("report.section.not_enough_data", lang) in _section(page, step)
    assert t("report.summary.none", lang) in page


@pytest.mark.parametrize(
    ("value", "unit", "lang", "text"),
    [
        (1_234_567, "yen", "ja", "¥1,234,567"),
        (-5_000, "yen", "en", "-¥5,000"),
        (0.256, "ratio", "ja", "25.6%"),
        (12.34, "days", "ja", "12.3日"),
        (12.34, "days", "en", "12.3 days"),
        (145, "minutes", "ja", "145分"),
        (52_000, "yen/day", "en", "¥52,000/day"),
        (3.25, "per_day", "ja", "3.25/日"),
        (1_500, "count", "en", "1,500"),
        (None, "ratio", "ja", "—"),
    ],
)
def test_values_are_formatted_by_unit(value: float | None, unit: str, lang: str, text: str) -> None:
    assert format_value(value, unit, lang) == text


def test_every_report_text_exists_in_both_languages() -> None:
    keys = [k for k in catalogue() if k.startswith("report.")]
    assert len(keys) > 50
    assert all(catalogue()[k]["ja"].strip() and catalogue()[k]["en"].strip() for k in keys)


def test_bad_inputs_are_refused(ws: Workspace) -> None:
    with pytest.raises(InputError, match="ja or en"):
        report_model(ws, _input(), "fr")
    with pytest.raises(ValueError, match="unit"):
        KpiTile("x", {"ja": "x", "en": "x"}, "furlongs", 1.0)
