"""The records behind a finding and the overlap of findings (issue 17, items 8 and 5).

On the planted demo company (seed 0) every expectation comes from plain SQL on the DuckDB file
or from truth.json, never from the code under test: the deals behind the planted team's and a
rep's win-rate findings, the idle deals behind an organization-wide stale-pipeline finding, a
roll-up's members, the top customer's deals; overlaps marked both ways exactly when two
findings' records intersect; the non-overlapping total on a hand-built case; the CLI's CSV with
a formula typed into the CRM neutralized; the dashboard's records page and exports for an admin
and for a manager, who sees only their own team's rows.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import duckdb
import openpyxl
import pytest
from typer.testing import CliRunner

from eigyo.base.periods import Period, parse_period
from eigyo.cli import app as cli_app
from eigyo.diagnose import Finding, behind, diagnose
from eigyo.diagnose.overlap import non_overlapping_total
from eigyo.errors import InputError
from eigyo.report.evidence import csv_text, record_list
from eigyo.workspace import DB_FILE, open_workspace
from tests.conftest import Demo

FY = "FY2025"
START, END = "2025-04-01", "2026-04-01"
PASSWORD = "s3cret-pass"


def _problem(demo: Demo, check: str) -> dict[str, Any]:
    truth = json.loads(demo.data.truth_path.read_text(encoding="utf-8"))
    return next(p for p in truth["problems"] if p["check"] == check)


def _sql(path: Path, query: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(path / DB_FILE), read_only=True)
    try:
        return con.execute(query, params or []).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def org(demo_company: Demo) -> dict[str, Any]:
    """The shared demo workspace (read only), its period and its whole diagnosis."""
    with demo_company.open() as ws:
        period = parse_period(FY, ws.settings.fiscal_year_start_month)
        found = diagnose(ws, period)
    return {"path": demo_company.workspace, "period": period, "found": found}


def _records(path: Path, period: Period, f: Finding) -> list[dict[str, Any]]:
    with open_workspace(path, read_only=True) as ws:
        t = behind.records(ws, period, f)
        return behind.page(t, 10**6)


def _one(found: list[Finding], check: str, **scope: str) -> Finding:
    return next(
        f for f in found if f.check == check and all(f.scope.get(k) == v for k, v in scope.items())
    )


def _hand(check: str, scope: dict[str, str], evidence: dict[str, Any], **kw: Any) -> Finding:
    return Finding(step="measure", check=check, severity=kw.pop("severity", "warn"), metric=None,
                   scope=scope, evidence=evidence, cause={}, actions=[], **kw)  # fmt: skip


# ---------------------------------------------------------------- the records behind findings


def test_team_win_rate_records_are_the_teams_closed_deals(demo_company: Demo, org: dict) -> None:
    """P01: the team's won and lost deals of the deal type compared, closed in the period."""
    team = _problem(demo_company, "kpi_gap_by_team")["scope"]["team"]
    f = _one(org["found"], "kpi_gap_by_team", team=team)
    rows = _records(org["path"], org["period"], f)
    expected = _sql(org["path"],
        "SELECT o.opportunity_id, o.amount, r.name, a.name FROM opportunities o "
        "JOIN reps r ON r.rep_id = o.owner_rep_id LEFT JOIN accounts a USING (account_id) "
        "WHERE r.team = ? AND o.type = ? AND o.status IN ('won', 'lost') "
        "AND o.closed_at >= ? AND o.closed_at < ?",
        [team, f.evidence["type"], START, END])  # fmt: skip
    assert sorted((r["opportunity_id"], r["amount"], r["rep_name"], r["account_name"])
                  for r in rows) == sorted(expected)  # fmt: skip
    assert len(rows) == f.evidence["n"]
    assert rows[0]["won"] == 0  # the lost deals that make the gap come first
    assert {"account_name", "rep_name", "amount", "current_stage", "status"} <= set(rows[0])


def test_rep_finding_records_are_the_reps_deals(org: dict) -> None:
    """A rep's win-rate (or hand-off) finding lists the deals of that rep only, named."""
    checks = ("rep_win_rate", "handoff_loss")
    f = next(f for f in org["found"] if f.check in checks and "rep_id" in f.scope and f.is_alarm)
    rep = f.scope["rep_id"]
    rows = _records(org["path"], org["period"], f)
    if f.check == "rep_win_rate":
        query = ("SELECT opportunity_id FROM opportunities WHERE owner_rep_id = ? AND type = ? "
                 "AND status IN ('won', 'lost') AND closed_at >= ? AND closed_at < ?")  # fmt: skip
        params = [rep, f.evidence["type"], START, END]
    else:
        query = ("SELECT opportunity_id FROM opportunities WHERE owner_rep_id = ? AND "
                 "sdr_rep_id IS NOT NULL AND status IN ('won', 'lost') AND created_at >= ? "
                 "AND created_at < ?")  # fmt: skip
        params = [rep, START, END]
    expected = sorted(x for (x,) in _sql(org["path"], query, params))
    assert sorted(r["opportunity_id"] for r in rows) == expected
    name = _sql(org["path"], "SELECT name FROM reps WHERE rep_id = ?", [rep])[0][0]
    assert {r["rep_name"] for r in rows} == {name}


def test_organization_target_finding_lists_only_the_idle_deals(org: dict) -> None:
    """Stale pipeline against its target, organization-wide: the deals idle over 60 days at
    the period's end — not every open deal."""
    f = _hand("stale_pipeline", {}, {"n": 1})
    rows = _records(org["path"], org["period"], f)
    idle = _sql(org["path"],
        "WITH o AS (SELECT * FROM opportunities WHERE created_at < ?::TIMESTAMP "
        "AND (closed_at IS NULL OR closed_at >= ?::TIMESTAMP)), "
        "a AS (SELECT opportunity_id, max(occurred_at) AS last FROM activities "
        "WHERE opportunity_id IS NOT NULL AND occurred_at < ?::TIMESTAMP GROUP BY 1) "
        "SELECT o.opportunity_id FROM o LEFT JOIN a USING (opportunity_id) "
        "WHERE epoch(?::TIMESTAMP) - epoch(coalesce(a.last, o.created_at)) > 60 * 86400",
        [END] * 4)  # fmt: skip
    open_deals = _sql(org["path"], "SELECT count(*) FROM opportunities WHERE created_at < ? "
                      "AND (closed_at IS NULL OR closed_at >= ?)", [END, END])[0][0]  # fmt: skip
    assert sorted(r["opportunity_id"] for r in rows) == sorted(x for (x,) in idle)
    assert 0 < len(rows) < open_deals
    assert all(r["idle_days"] > 60 for r in rows)


def test_rolled_up_finding_is_the_union_of_its_members(org: dict) -> None:
    """A roll-up (evidence.members) lists its members' deals, within its own scope."""
    reps = _sql(org["path"], "SELECT DISTINCT r.rep_id, r.name, r.team FROM reps r JOIN "
                "opportunities o ON o.owner_rep_id = r.rep_id WHERE r.team = (SELECT team FROM "
                "reps WHERE rep_id = 'R00012') AND o.status IN ('won', 'lost') AND "
                "o.closed_at >= ? AND o.closed_at < ? ORDER BY 1", [START, END])  # fmt: skip
    team, members = reps[0][2], [{"rep_id": r, "rep_name": n} for r, n, _ in reps[:2]]
    f = _hand("rep_win_rate", {"team": team}, {"members": members})
    rows = _records(org["path"], org["period"], f)
    expected = _sql(org["path"],
        "SELECT opportunity_id FROM opportunities WHERE owner_rep_id IN (?, ?) AND "
        "status IN ('won', 'lost') AND closed_at >= ? AND closed_at < ?",
        [reps[0][0], reps[1][0], START, END])  # fmt: skip
    assert sorted(r["opportunity_id"] for r in rows) == sorted(x for (x,) in expected)
    assert {r["rep_name"] for r in rows} == {m["rep_name"] for m in members}


def test_concentration_lists_the_top_customers_won_deals(org: dict) -> None:
    top = _sql(org["path"],
        "SELECT account_id, sum(amount) s FROM opportunities WHERE status = 'won' AND "
        "closed_at >= ? AND closed_at < ? AND amount IS NOT NULL AND account_id IS NOT NULL "
        "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1", [START, END])[0]  # fmt: skip
    f = _hand("revenue_concentration", {"account": "x"}, {"account_id": top[0]})
    rows = _records(org["path"], org["period"], f)
    assert sum(r["amount"] for r in rows) == pytest.approx(top[1])
    assert {r["status"] for r in rows} == {"won"}


def test_findings_without_records_say_why(org: dict) -> None:
    with open_workspace(org["path"], read_only=True) as ws:
        for f, key in (
            (_one(org["found"], "intervention_effect"), "records.none.did"),
            (_one(org["found"], "data_coverage"), "records.none.coverage"),
            (_hand("stale_deals", {}, {"status": "ok"}, severity="ok"), "records.none.not_judged"),
        ):
            with pytest.raises(behind.NoRecords) as e:
                behind.records(ws, org["period"], f)
            assert e.value.key == key
            rl = record_list(ws, org["period"], f, 10)
            assert rl.reason == key and rl.rows == []


# ------------------------------------------------------------------------------------ overlap


def test_overlaps_are_marked_both_ways_exactly_when_records_intersect(org: dict) -> None:
    found = org["found"]
    by_id = {f.id: f for f in found}
    weighed = [f for f in found if f.is_alarm and (f.impact_jpy or 0) > 0]
    assert any(f.overlaps for f in weighed)
    keys: dict[str, set[tuple[str, str]]] = {}
    with open_workspace(org["path"], read_only=True) as ws:
        for f in weighed:
            pop = behind.population(ws, org["period"], f)
            rows = pop.table.select(pop.key).to_pyarrow().to_pylist()
            keys[f.id] = {(pop.key, str(r[pop.key])) for r in rows}
    for a in weighed:
        for o in a.overlaps:
            assert a.id in by_id[o].overlaps  # both ways
        for b in weighed:
            if a.id != b.id:
                assert (b.id in a.overlaps) == bool(keys[a.id] & keys[b.id]), (a.id, b.id)
    quiet = [f for f in found if not (f.is_alarm and (f.impact_jpy or 0) > 0)]
    assert all(f.overlaps == [] for f in quiet)
    # the planted team's win-rate gap and its stale pipeline are different deals
    team_gap = _one(found, "kpi_gap_by_team")
    assert not any(o.startswith("stale_deals-") for o in team_gap.overlaps)


def test_non_overlapping_total_is_greedy_by_impact() -> None:
    """A (100) overlaps B (80), B overlaps C (50); D (30) stands alone; an info finding and an
    alarm without impact count for nothing: A, C and D are summed, B is left out."""
    a = _hand("a", {}, {}, impact_jpy=100.0)
    b = _hand("b", {}, {}, impact_jpy=80.0, severity="error")
    c = _hand("c", {}, {}, impact_jpy=50.0)
    d = _hand("d", {}, {}, impact_jpy=30.0)
    info = _hand("e", {}, {}, impact_jpy=1000.0, severity="info")
    none = _hand("f", {}, {})
    a.overlaps, b.overlaps, c.overlaps = [b.id], [a.id, c.id], [b.id]
    total, counted, skipped = non_overlapping_total([d, c, b, a, info, none])
    assert total == 180.0
    assert counted == [a.id, c.id, d.id] and skipped == [b.id]


def test_report_summary_states_the_non_overlapping_total(demo_runbook: Any) -> None:
    html = demo_runbook.report.read_text(encoding="utf-8")
    total, _, skipped = non_overlapping_total(demo_runbook.findings)
    stake = re.search(r'<div class="stake" id="stake">(.*?)</div>', html, re.S)
    assert stake and f"¥{round(total):,}" in stake.group(1)
    assert "二重に数えていません" in stake.group(1) and f"重なる{len(skipped)}件" in stake.group(1)
    f = next(f for f in demo_runbook.findings if f.overlaps)
    assert f'id="finding-{f.id}"' in html and f'href="#finding-{f.overlaps[0]}"' in html


# ------------------------------------------------------------------------------------ the CLI


def test_cli_csv_neutralizes_formulas_and_unknown_ids_name_the_nearest(
    demo_company: Demo, demo_copy: Path, tmp_path: Path
) -> None:
    team = _problem(demo_company, "stale_deals")["scope"]["team"]
    hostile = '=HYPERLINK("http://evil.example","x")'
    con = duckdb.connect(str(demo_copy / DB_FILE))
    try:  # a name typed into the CRM as a formula, on one of the team's open deals' account
        con.execute(
            "UPDATE accounts SET name = ? WHERE account_id = (SELECT o.account_id FROM "
            "opportunities o JOIN reps r ON r.rep_id = o.owner_rep_id WHERE r.team = ? AND "
            "o.closed_at IS NULL AND o.account_id IS NOT NULL ORDER BY 1 LIMIT 1)",
            [hostile, team],
        )
    finally:
        con.close()
    runner = CliRunner()
    doc = json.loads(runner.invoke(cli_app, ["diagnose", "-w", str(demo_copy), "-p", FY,
                                             "--format", "json"]).stdout)  # fmt: skip
    f = next(
        x for x in doc["findings"] if x["check"] == "stale_deals" and x["scope"] == {"team": team}
    )
    out = tmp_path / "idle.csv"
    r = runner.invoke(cli_app, ["diagnose", "-w", str(demo_copy), "-p", FY, "--records", f["id"],
                                "--out", str(out)])  # fmt: skip
    assert r.exit_code == 0, r.output
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    head, body = rows[0], rows[1:]
    assert head[:2] == ["商談ID", "取引先"] and len(body) == f["evidence"]["n"]
    cells = [c for row in body for c in row]
    assert "'" + hostile in cells and hostile not in cells
    # the JSON form: the same records, the total as SQL counts the team's open deals
    r = runner.invoke(cli_app, ["diagnose", "-w", str(demo_copy), "-p", FY, "--records", f["id"],
                                "--format", "json", "--lang", "en"])  # fmt: skip
    got = json.loads(r.stdout)
    n = _sql(demo_copy, "SELECT count(*) FROM opportunities o JOIN reps r ON r.rep_id = "
             "o.owner_rep_id WHERE r.team = ? AND o.created_at < ? AND (o.closed_at IS NULL OR "
             "o.closed_at >= ?)", [team, END, END])[0][0]  # fmt: skip
    assert got["total"] == n == len(got["rows"]) and got["labels"][0] == "Deal id"
    # a mistyped id: one line naming the nearest ids, exit status 1 (a domain error)
    r = runner.invoke(cli_app, ["diagnose", "-w", str(demo_copy), "-p", FY,
                                "--records", f["id"][:-1]])  # fmt: skip
    assert r.exit_code == 1 and isinstance(r.exception, InputError)  # main(): one line, exit 1
    assert f["id"] in str(r.exception) and f["id"][:-1] in str(r.exception)
    # a records file must be CSV or Excel
    r = runner.invoke(cli_app, ["diagnose", "-w", str(demo_copy), "-p", FY, "--records", f["id"],
                                "--out", str(tmp_path / "x.txt")])  # fmt: skip
    assert r.exit_code == 1 and isinstance(r.exception, InputError)


def test_cli_records_carry_the_crm_links(org: dict[str, Any], demo_company: Demo,
                                        demo_copy: Path, tmp_path: Path) -> None:  # fmt: skip
    """With ``[crm]`` templates, ``--records --out`` writes each record's CRM link as a last
    column (CSV and Excel) and the JSON rows carry it: the URL of the template with the id
    percent-encoded, exactly as the dashboard links it; a deal finding gets the deal's link, a
    lead finding the lead's."""
    deal = "https://crm.example.com/r/Opportunity/{opportunity_id}/view?x=1"
    lead = "https://crm.example.com/leads/{lead_id}"
    toml = demo_copy / "eigyo.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + f'\n[crm]\nopportunity_url = "{deal}"\n'
                    f'lead_url = "{lead}"\n', encoding="utf-8")  # fmt: skip
    team = _problem(demo_company, "stale_deals")["scope"]["team"]
    runner = CliRunner()
    # the copy's findings are the shared workspace's (same data; ids are check and scope)
    stale = _one(org["found"], "stale_deals", team=team)
    out = tmp_path / "idle.csv"
    r = runner.invoke(cli_app, ["diagnose", "-w", str(demo_copy), "-p", FY, "--records",
                                stale.id, "--out", str(out)])  # fmt: skip
    assert r.exit_code == 0, r.output
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert rows[0][0] == "商談ID" and rows[0][-1] == "CRMの商談"
    assert len(rows) - 1 == stale.evidence["n"]
    assert all(row[-1] == deal.format(opportunity_id=quote(row[0], safe="")) for row in rows[1:])
    untouched = next(f for f in org["found"] if f.check == "untouched_leads" and f.is_alarm)
    book = tmp_path / "leads.xlsx"
    r = runner.invoke(cli_app, ["diagnose", "-w", str(demo_copy), "-p", FY, "--records",
                                untouched.id, "--out", str(book), "--format", "json",
                                "--lang", "en"])  # fmt: skip
    got = json.loads(r.stdout)
    assert got["columns"][-1] == "lead_crm_url" and got["labels"][-1] == "CRM lead"
    assert got["rows"] and all(
        x["lead_crm_url"] == lead.format(lead_id=quote(x["lead_id"], safe="")) for x in got["rows"]
    )
    sheet = openpyxl.load_workbook(book).worksheets[0]
    (top,) = [i for i, row in enumerate(sheet.iter_rows(values_only=True)) if "CRM lead" in row]
    head = [c.value for c in sheet[top + 1]]
    col, key = head.index("CRM lead") + 1, head.index("Lead id") + 1
    cells = [(sheet.cell(i, key).value, sheet.cell(i, col).value)
             for i in range(top + 2, sheet.max_row + 1) if sheet.cell(i, key).value]  # fmt: skip
    assert len(cells) == got["total"] == len(got["rows"])
    assert all(url == lead.format(lead_id=quote(str(i), safe="")) for i, url in cells)


def test_csv_text_keeps_numbers_and_quotes_formulas() -> None:
    f = _hand("stale_deals", {"team": "A"}, {})
    from eigyo.report.evidence import RecordList

    row = {"opportunity_id": "O1", "account_name": "@SUM(A1)", "amount": -5000.0}
    rl = RecordList(f, ["opportunity_id", "account_name", "amount"], [row], 1)
    rows = list(csv.reader(io.StringIO(csv_text(rl, "en").lstrip("\ufeff"))))
    assert rows == [["Deal id", "Account", "Amount"], ["O1", "'@SUM(A1)", "-5000"]]


# ------------------------------------------------------------------------------ the dashboard


@pytest.fixture(scope="module")
def served(demo_company: Demo, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A copy of the demo company served with an admin and the planted team's manager."""
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from eigyo.app import add_user, create_app

    path = demo_company.copy(tmp_path_factory.mktemp("records-app") / "ws")
    team = _problem(demo_company, "kpi_gap_by_team")["scope"]["team"]
    with open_workspace(path) as ws:
        add_user(ws, "admin", PASSWORD, "admin")
        add_user(ws, "mgr", PASSWORD, "manager", team=team)
        source = _problem(demo_company, "untouched_leads")["scope"]["source"]
        rep = _sql(path, "SELECT min(owner_rep_id) FROM leads l JOIN reps r ON r.rep_id = "
                   "l.owner_rep_id WHERE r.team = ? AND l.mql_at IS NOT NULL AND l.source = ? "
                   "AND l.created_at >= ?", [team, source, START])[0][0]  # fmt: skip
        add_user(ws, "rep", PASSWORD, "rep", rep_id=rep, team=team)
    with TestClient(create_app(path)) as client:
        yield client, path, team


def _login(client: Any, user: str) -> None:
    client.cookies.clear()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token
    r = client.post("/login", data={"username": user, "password": PASSWORD,
                                    "csrf_token": token.group(1), "next": "/"},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303


def test_dashboard_records_page_and_exports_for_admin_and_manager(
    demo_company: Demo, served: Any
) -> None:
    client, path, team = served
    source = _problem(demo_company, "untouched_leads")["scope"]["source"]
    leads_sql = ("SELECT l.lead_id, r.name, r.team FROM leads l JOIN reps r ON r.rep_id = "
                 "l.owner_rep_id WHERE coalesce(l.source, '(unknown)') = ? "
                 "AND l.mql_at IS NOT NULL AND l.created_at >= ? AND l.created_at < ?")  # fmt: skip
    every = _sql(path, leads_sql, [source, START, END])
    mine = [x for x in every if x[2] == team]
    assert 0 < len(mine) < len(every)

    _login(client, "admin")
    home = client.get(f"/?period={FY}").text
    assert 'id="stake"' in home and "二重に数えていません" in home
    link = re.search(r'href="(/findings/untouched_leads-[0-9a-f]+\?period=FY2025)"', home)
    step = client.get(f"/steps/alignment?period={FY}").text
    link = link or re.search(r'href="(/findings/untouched_leads-[0-9a-f]+\?period=FY2025)"', step)
    assert link, "the finding links to its records"
    page = client.get(link.group(1))
    assert page.status_code == 200
    assert f'data-total="{len(every)}"' in page.text and "リードID" in page.text
    fid = link.group(1).split("/")[2].split("?")[0]
    r = client.get(f"/findings/{fid}/records.csv?period={FY}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    body = list(csv.reader(io.StringIO(r.text.lstrip("\ufeff"))))
    assert sorted(row[0] for row in body[1:]) == sorted(x[0] for x in every)

    _login(client, "mgr")
    page = client.get(f"/findings/{fid}?period={FY}")
    assert page.status_code == 200 and f'data-total="{len(mine)}"' in page.text
    outsiders = {name for _, name, t in _sql(path, "SELECT rep_id, name, team FROM reps")
                 if t != team}  # fmt: skip
    r = client.get(f"/findings/{fid}/records.csv?period={FY}")
    body = list(csv.reader(io.StringIO(r.text.lstrip("\ufeff"))))
    assert sorted(row[0] for row in body[1:]) == sorted(x[0] for x in mine)
    assert not any(name in r.text or name in page.text for name in outsiders)
    x = client.get(f"/findings/{fid}/records.xlsx?period={FY}")
    assert x.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(x.content)).worksheets[0]
    assert sheet.max_row == 3 + len(mine)  # title, count and header rows, then the records
    # a finding on another team is not found for this manager (never told apart)
    other = _problem(demo_company, "stage_bottleneck")["scope"]
    bottleneck = _hand("stage_bottleneck", other, {})  # an id is the check and its scope
    assert client.get(f"/findings/{bottleneck.id}?period={FY}").status_code == 404
    assert client.get(f"/findings/{bottleneck.id}/records.csv?period={FY}").status_code == 404
    assert client.get(f"/findings/no-such-id?period={FY}").status_code == 404

    # a rep opening the same organization finding gets their own leads only
    _login(client, "rep")
    rep = _sql(path, "SELECT rep_id FROM _users WHERE username = 'rep'")[0][0]
    own = _sql(path, leads_sql + " AND l.owner_rep_id = ?", [source, START, END, rep])
    r = client.get(f"/findings/{fid}/records.csv?period={FY}")
    body = list(csv.reader(io.StringIO(r.text.lstrip("\ufeff"))))
    assert r.status_code == 200 and 0 < len(own) < len(mine)
    assert sorted(row[0] for row in body[1:]) == sorted(x[0] for x in own)
