"""Missing is not zero, and amounts read in the workspace currency (issue 15, items 4 and 6).

A small company written as canonical CSVs and imported through the real importer: two teams
closing 40 deals each in April 2025 (team A wins 4, team B 24, every deal 1,000.25), and 40
MQLs that carry no first response and no SQL date — the marketing-funnel export that once
read 「リード SLA 0.0% 目標未達」. Every expected figure is worked out by hand below.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from eigyo import workspace
from eigyo.base.formatting import format_value, money
from eigyo.base.periods import parse_period
from eigyo.cli import main
from eigyo.diagnose import diagnose
from eigyo.ingest import import_path
from eigyo.metrics import compute, format_metric
from eigyo.report import render_html, report_model
from eigyo.runbook import kpi_tiles, report_input

PERIOD = "2025-04"
AMOUNT = 1000.25
#: 28 won deals (4 + 24) × 1,000.25.
BOOKINGS = 28 * AMOUNT
#: Team A's gap to team B: (0.6 − 0.1) × 40 deals × the average won deal 1,000.25.
IMPACT = 0.5 * 40 * AMOUNT


def _csvs(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "reps.csv").write_text(
        "rep_id,name,team,role,hire_date\nra,Aoki,A,closer,2024-01-01\nrb,Baba,B,closer,2024-01-01\n",
        encoding="utf-8",
    )
    opps = ["opportunity_id,owner_rep_id,amount,created_at,status,closed_at,type"]
    for team, rep, won in (("A", "ra", 4), ("B", "rb", 24)):
        for i in range(40):
            status = "won" if i < won else "lost"
            opps.append(f"{team}{i},{rep},{AMOUNT},2025-04-01,{status},2025-04-15T10:00,new")
    (folder / "opportunities.csv").write_text("\n".join(opps) + "\n", encoding="utf-8")
    leads = ["lead_id,created_at,source,owner_rep_id,mql_at"]
    leads += [f"l{i},2025-04-02,web,{'ra' if i % 2 else 'rb'},2025-04-02T10:00" for i in range(40)]
    (folder / "leads.csv").write_text("\n".join(leads) + "\n", encoding="utf-8")
    return folder


def _workspace(root: Path, currency: str) -> Path:
    ws = workspace.init(root / f"ws-{currency}")
    toml = ws.path / "eigyo.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace('currency = "JPY"', f'currency = "{currency}"'),
        encoding="utf-8",
    )
    ws.close()
    ws = workspace.open_workspace(root / f"ws-{currency}")
    import_path(ws, _csvs(root / "data"))
    ws.close()
    return root / f"ws-{currency}"


@pytest.fixture(scope="module")
def usd(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _workspace(tmp_path_factory.mktemp("usd"), "USD")


@pytest.fixture(scope="module")
def jpy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _workspace(tmp_path_factory.mktemp("jpy"), "JPY")


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    try:
        main(list(args))
    except SystemExit as e:
        assert not e.code, capsys.readouterr()
    return capsys.readouterr().out


# --- the money formatter -------------------------------------------------------------------


def test_one_money_formatter_sign_before_symbol() -> None:
    assert money(-5000, "JPY") == "-¥5,000"
    assert money(1234.5, "USD") == "$1,234.50"
    assert money(-0.004, "USD") == "$0.00"  # rounds to zero: no "-$0.00"
    assert money(1234.5, "EUR") == "€1,234.50"
    assert money(1234, "KRW") == "₩1,234"
    assert money(1234, "XYZ") == "XYZ 1,234.00"  # an undeclared code: its code, 2 decimals
    # The metrics and the report format amounts with the same function.
    assert format_value(-5000, "yen", "ja") == "-¥5,000"
    assert format_value(-5000, "yen", "en", "USD") == "-$5,000.00"


def test_bad_currency_code_is_refused(tmp_path: Path) -> None:
    from eigyo.errors import WorkspaceError

    ws = workspace.init(tmp_path / "w")
    toml = ws.path / "eigyo.toml"
    ws.close()
    toml.write_text(
        toml.read_text(encoding="utf-8").replace('currency = "JPY"', 'currency = "dollars"'),
        encoding="utf-8",
    )
    with pytest.raises(WorkspaceError, match=r"workspace\.currency"):
        workspace.open_workspace(tmp_path / "w")


# --- missing is not zero -------------------------------------------------------------------


def test_metrics_without_their_inputs_are_null_with_a_reason(jpy: Path) -> None:
    ws = workspace.open_workspace(jpy, read_only=True)
    try:
        got = {v.id: v for v in compute(ws, parse_period(PERIOD))}
    finally:
        ws.close()
    assert got["bookings"].value == pytest.approx(BOOKINGS) and got["bookings"].reason is None
    assert got["win_rate"].value == pytest.approx(28 / 80)
    for mid, need in (
        ("lead_response_minutes", "leads.first_response_at"),
        ("lead_response_sla_rate", "leads.first_response_at"),
        ("mql_to_sql_rate", "leads.sql_at"),
        ("calls_per_rep_day", "activities.type=call"),
        ("call_connect_rate", "activities.type=call"),
        ("admin_time_share", "time_entries"),
        ("quota_attainment_rate", "quotas"),
        ("nrr", "orders"),
        ("repeat_customer_rate", "orders"),
        ("order_revenue", "orders"),  # a sum: 0 would be a lie without any order
    ):
        v = got[mid]
        assert v.value is None and v.reason is not None, mid
        assert v.reason.code == "missing_data" and need in v.reason.needs, (mid, v.reason)
    sla = got["lead_response_sla_rate"]
    assert sla.to_json("en")["reason"] == {
        "code": "missing_data",
        "needs": ["leads.first_response_at"],
        "text": "needs leads.first_response_at",
    }
    assert format_metric(sla, "ja") == "データなし（leads.first_response_at が必要です）"
    assert format_metric(sla, "en") == "not available (needs leads.first_response_at)"


def test_empty_population_names_itself(jpy: Path) -> None:
    """Data exists but not in the period: null, and the reason says which records are missing."""
    ws = workspace.open_workspace(jpy, read_only=True)
    try:
        got = {v.id: v for v in compute(ws, parse_period("2025-06"), ["win_rate", "bookings"])}
    finally:
        ws.close()
    assert got["bookings"].value == 0.0  # a real zero: deals exist, none won in June
    win = got["win_rate"]
    assert win.value is None and win.reason is not None
    assert win.to_json("en")["reason"] == {
        "code": "no_records",
        "needs": [],
        "text": "no closed deals in the period",
    }


def test_metrics_json_has_reason_and_currency(
    jpy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _cli(capsys, "metrics", "-w", str(jpy), "-p", PERIOD, "-f", "json", "--lang", "en",
               "-m", "bookings", "-m", "mql_to_sql_rate")  # fmt: skip
    doc = json.loads(out)
    assert doc == {
        "period": PERIOD,
        "currency": "JPY",
        "metrics": [
            {"id": "bookings", "value": BOOKINGS, "unit": "yen", "by": {}, "reason": None},
            {
                "id": "mql_to_sql_rate",
                "value": None,
                "unit": "ratio",
                "by": {},
                "reason": {
                    "code": "missing_data",
                    "needs": ["leads.sql_at"],
                    "text": "needs leads.sql_at",
                },
            },
        ],
    }


def test_diagnosis_does_not_judge_unavailable_metrics(jpy: Path) -> None:
    ws = workspace.open_workspace(jpy, read_only=True)
    try:
        found = diagnose(ws, parse_period(PERIOD))
    finally:
        ws.close()
    for check in ("lead_response_sla", "untouched_leads"):
        mine = [f for f in found if f.check == check]
        assert len(mine) == 1, mine
        f = mine[0]
        assert f.severity == "info" and f.evidence["status"] == "not_available"
        assert f.evidence["needs"] == ["leads.first_response_at"]
        assert f.title["en"].endswith("not available: needs leads.first_response_at")
        assert f.impact_jpy is None
    admin = next(f for f in found if f.check == "admin_time")
    assert admin.severity == "info" and admin.evidence["needs"] == ["time_entries"]
    # The data that is there is still judged: team A's win-rate gap is an alarm.
    gap = next(f for f in found if f.check == "kpi_gap_by_team")
    assert gap.severity == "error" and gap.scope == {"team": "A"}
    assert gap.impact_jpy == pytest.approx(IMPACT)


def test_report_tiles_say_not_available_never_zero(jpy: Path) -> None:
    ws = workspace.open_workspace(jpy, read_only=True)
    try:
        p = parse_period(PERIOD)
        tiles = {k.metric_id: k for k in kpi_tiles(ws, p)}
        html = render_html(report_model(ws, report_input(ws, p, diagnose(ws, p)), "ja"))
    finally:
        ws.close()
    sla = tiles["lead_response_sla_rate"]
    assert sla.value is None and sla.reason is not None
    tile = re.search(r'<div class="kpi[^"]*" id="kpi-lead_response_sla_rate".*?</div>\s*</div>',
                     html, re.S)  # fmt: skip
    assert tile is not None
    text = tile.group(0)
    assert '<div class="kpi-value">データなし</div>' in text
    assert '<div class="kpi-reason">leads.first_response_at が必要です</div>' in text
    assert "目標未達" not in text and " missed" not in text  # not judged against its 80% target
    # Its charts say which data they need instead of drawing every lead as untouched.
    chart = re.search(r'id="chart-untouched-by-source".*?</figure>', html, re.S)
    assert chart is not None
    assert "データなし（leads.first_response_at が必要です）" in chart.group(0)
    assert "chart-data-untouched-by-source" not in html
    # JPY is unchanged: whole yen with the ¥ sign.
    assert money(BOOKINGS, "JPY") == "¥28,007" and "¥28,007" in html


# --- currency ------------------------------------------------------------------------------


def test_usd_workspace_prints_dollars_in_cli_text(
    usd: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _cli(capsys, "metrics", "-w", str(usd), "-p", PERIOD, "-m", "bookings", "--lang", "en")
    assert "$28,007.00" in out and "¥" not in out
    out = _cli(capsys, "diagnose", "-w", str(usd), "-p", PERIOD, "--lang", "en")
    assert "$20,005.00" in out and "¥" not in out


def test_usd_workspace_diagnose_json(usd: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = json.loads(_cli(capsys, "diagnose", "-w", str(usd), "-p", PERIOD, "-f", "json",
                          "--lang", "en"))  # fmt: skip
    assert doc["currency"] == "USD"
    gap = next(f for f in doc["findings"] if f["check"] == "kpi_gap_by_team")
    assert gap["impact_jpy"] == pytest.approx(IMPACT) and gap["currency"] == "USD"
    assert "$1,000.25" in gap["impact_formula"] and "¥" not in json.dumps(doc)
    assert all(f["currency"] == "USD" for f in doc["findings"])


def test_usd_workspace_report_html(usd: Path) -> None:
    ws = workspace.open_workspace(usd, read_only=True)
    try:
        p = parse_period(PERIOD)
        html = render_html(report_model(ws, report_input(ws, p, diagnose(ws, p)), "en"))
    finally:
        ws.close()
    bookings = re.search(r'id="kpi-bookings".*?<div class="kpi-value">([^<]*)</div>', html, re.S)
    assert bookings is not None and bookings.group(1) == "$28,007.00"
    assert "$20,005.00" in html  # team A's impact
    assert "¥" not in html.split("<script")[0]  # the page's text, before Plotly's bundle


def test_jpy_diagnose_json_unchanged(jpy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = json.loads(_cli(capsys, "diagnose", "-w", str(jpy), "-p", PERIOD, "-f", "json",
                          "--lang", "ja"))  # fmt: skip
    gap = next(f for f in doc["findings"] if f["check"] == "kpi_gap_by_team")
    assert gap["impact_jpy"] == 20005 and isinstance(gap["impact_jpy"], int)
    assert gap["currency"] == "JPY" and "¥1,000" in gap["impact_formula"]


def test_dashboard_tiles_and_explorer_read_the_same_definitions(usd: Path) -> None:
    """The dashboard (a manager of team A) shows n/a with the reason and dollars, scoped."""
    pytest.importorskip("fastapi")
    from eigyo.app import _views as views
    from eigyo.app._scope import Principal, ScopedWorkspace

    base = workspace.open_workspace(usd, read_only=True)
    try:
        ws = ScopedWorkspace(base, Principal("boss", "manager", "ra", "A"))
        p = parse_period(PERIOD)
        ov = views.overview(ws, p, views.findings(ws, p), "en")
        rows = views.explorer_table(
            views.metric_rows(ws, p, ["bookings", "mql_to_sql_rate"], None), "en", "USD"
        )
    finally:
        base.close()
    tiles = {k.metric_id: k for k in ov.tiles}
    sla = tiles["lead_response_sla_rate"]
    assert (sla.value, sla.reason, sla.met) == (
        "not available",
        "needs leads.first_response_at",
        None,
    )
    assert tiles["bookings"].value == "$4,001.00"  # team A: 4 won × 1,000.25
    assert {r["id"]: r["value"] for r in rows} == {
        "bookings": "$4,001.00",
        "mql_to_sql_rate": "not available (needs leads.sql_at)",
    }


def test_every_reason_has_its_texts() -> None:
    """Each metric's empty population and need reads in both languages."""
    from eigyo.i18n import catalogue
    from eigyo.metrics import REGISTRY, Reason

    for m in REGISTRY.values():
        pop = m.empty_population
        if pop is not None:
            assert f"metrics.population.{pop}" in catalogue(), m.id
            assert Reason("no_records", population=pop).text("en") != ""
        assert all(Reason("missing_data", needs=m.needs).text(lang) for lang in ("ja", "en"))
