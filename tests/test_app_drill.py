"""Drill-down from tiles and bars, CRM record links, filters narrowing the findings (issue 18).

On the planted demo company (seed 0, FY2025) every expectation comes from plain SQL on the
DuckDB file, never from the code under test: a KPI tile's records count what the tile counts
(won deals, the closed deals of the win rate) and add up to its sum (bookings), with and without
a team filter; a win-rate bar's link lists that team's closed deals; the CRM template is checked
when the settings load (one sentence: file, key, reason), fills in the id percent-encoded and
becomes a link on the records pages and a column of the CSV and Excel exports; the findings under
a team filter are exactly those whose scope or records meet the team.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import duckdb
import openpyxl
import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

from eigyo.app import Principal, ScopedWorkspace, add_user, create_app
from eigyo.app._filters import FilteredWorkspace, ViewFilter
from eigyo.app._findings_filter import narrow
from eigyo.app._limits import ServerLimits
from eigyo.app._metric_records import metric_records
from eigyo.base.periods import parse_period
from eigyo.diagnose import Finding, behind, diagnose
from eigyo.errors import WorkspaceError
from eigyo.metrics import compute
from eigyo.settings import CrmLinks, load
from eigyo.workspace import DB_FILE, open_workspace
from tests.conftest import Demo
from tests.test_app_scope import ROWS, company

FY = "FY2025"
START, END = "2025-04-01", "2026-04-01"
PASSWORD = "drill-pass-1"
TEMPLATE = "https://crm.example.com/lightning/r/Opportunity/{opportunity_id}/view"


def _sql(path: Path, query: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(path / DB_FILE), read_only=True)
    try:
        return con.execute(query, params or []).fetchall()
    finally:
        con.close()


def _teams(path: Path) -> list[str]:
    return [t for (t,) in _sql(path, "SELECT DISTINCT team FROM reps WHERE team IS NOT NULL "
                                     "ORDER BY 1")]  # fmt: skip


@pytest.fixture(scope="module")
def served(demo_company: Demo, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A copy of the demo company with a CRM template and an admin, served by the dashboard."""
    path = demo_company.copy(tmp_path_factory.mktemp("drill") / "w")
    toml = path / "eigyo.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + f'\n[crm]\nopportunity_url = "{TEMPLATE}"\n',
                    encoding="utf-8")  # fmt: skip
    with open_workspace(path) as ws:
        add_user(ws, "admin", PASSWORD, "admin")
        add_user(ws, "boss", PASSWORD, "manager", team=_teams(path)[1])
    limits = ServerLimits(heavy_seconds_per_minute=3600.0, heavy_wait_s=600.0)
    with TestClient(create_app(path, limits)) as c:
        token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text)
        assert token
        r = c.post("/login", data={"username": "admin", "password": PASSWORD,
                                   "csrf_token": token.group(1), "next": "/"},
                   follow_redirects=False)  # fmt: skip
        assert r.status_code == 303
        yield c, path


def _login(client: TestClient, user: str) -> None:
    client.cookies.clear()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token
    r = client.post("/login", data={"username": user, "password": PASSWORD,
                                    "csrf_token": token.group(1), "next": "/"},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303


def _total(html: str) -> int:
    m = re.search(r'id="records-count" data-total="(\d+)"', html)
    assert m, html[:500]
    return int(m.group(1))


def _href(html: str, anchor_id: str) -> str:
    m = re.search(rf'id="{anchor_id}" href="([^"]+)"', html)
    assert m, anchor_id
    return m.group(1).replace("&amp;", "&")


def _csv(client: TestClient, url: str) -> list[dict[str, str]]:
    r = client.get(url)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(r.text.lstrip("\ufeff"))))


def _csv_url(page_url: str) -> str:
    return page_url.replace("/records?", "/records.csv?")


# ----------------------------------------------------------------------------- KPI tiles


@pytest.mark.parametrize("team", [None, 0])
def test_tile_records_equal_the_tile_and_sql(served: Any, team: int | None) -> None:
    client, path = served
    name = None if team is None else _teams(path)[team]
    query = f"period={FY}" + ("" if name is None else f"&team={quote(name)}")
    where = "" if name is None else "AND r.team = ?"
    params = [START, END] + ([] if name is None else [name])
    overview = client.get(f"/?{query}").text

    won = _sql(path, "SELECT count(*), sum(o.amount) FROM opportunities o LEFT JOIN reps r "
               "ON r.rep_id = o.owner_rep_id WHERE o.status = 'won' AND o.closed_at >= ? "
               f"AND o.closed_at < ? {where}", params)[0]  # fmt: skip
    closed = _sql(path, "SELECT count(*) FROM opportunities o LEFT JOIN reps r "
                  "ON r.rep_id = o.owner_rep_id WHERE o.status IN ('won', 'lost') "
                  f"AND o.closed_at >= ? AND o.closed_at < ? {where}", params)[0][0]  # fmt: skip
    with open_workspace(path, read_only=True) as ws:
        p = parse_period(FY, ws.settings.fiscal_year_start_month)
        view = ScopedWorkspace(ws, Principal("admin", "admin"))
        if name is not None:
            view = FilteredWorkspace(view, ViewFilter(team=name))
        tiles = {v.id: v.value for v in compute(view, p, ["won_deals", "bookings", "win_rate"])}

    url = _href(overview, "kpi-records-won_deals")
    assert _total(client.get(url).text) == tiles["won_deals"] == won[0] > 0
    rows = _csv(client, _csv_url(_href(overview, "kpi-records-bookings")))
    assert len(rows) == won[0]
    assert sum(float(r["金額"]) for r in rows) == pytest.approx(tiles["bookings"])
    assert tiles["bookings"] == pytest.approx(float(won[1]))
    url = _href(overview, "kpi-records-win_rate")
    assert _total(client.get(url).text) == closed
    rows = _csv(client, _csv_url(url))
    assert sum(r["状態"] == "won" for r in rows) / len(rows) == pytest.approx(tiles["win_rate"])


def test_a_managers_tile_records_are_the_teams(served: Any) -> None:
    """Scoped to the person: the manager's won-deals tile lists their team's won deals only,
    and a bar link naming another team gives none of that team's rows."""
    client, path = served
    team, other = _teams(path)[1], _teams(path)[0]
    _login(client, "boss")
    try:
        overview = client.get(f"/?period={FY}").text
        expected = _sql(path, "SELECT o.opportunity_id FROM opportunities o JOIN reps r ON "
                        "r.rep_id = o.owner_rep_id WHERE r.team = ? AND o.status = 'won' AND "
                        "o.closed_at >= ? AND o.closed_at < ?", [team, START, END])  # fmt: skip
        url = _href(overview, "kpi-records-won_deals")
        assert _total(client.get(url).text) == len(expected) > 0
        rows = _csv(client, _csv_url(url))
        assert sorted(r["商談ID"] for r in rows) == sorted(x for (x,) in expected)
        html = client.get(f"/metrics/win_rate/records?period={FY}&by=team&group={quote(other)}")
        assert _total(html.text) == 0
    finally:
        _login(client, "admin")


def test_records_page_reads_as_people_read(served: Any) -> None:
    """Names not ids, ¥ formatted, dates to the minute, days idle, paged 100 at a time."""
    client, path = served
    html = client.get(f"/metrics/opportunities_created/records?period={FY}").text
    created = _sql(path, "SELECT count(*) FROM opportunities WHERE created_at >= ? AND "
                   "created_at < ?", [START, END])[0][0]  # fmt: skip
    assert _total(html) == created > 100
    body = html[html.index('<table id="records-table">') :]
    assert body.count("<tr>") == 101  # the header and one page
    for head in ("取引先", "担当者", "金額", "放置日数", "CRMの商談"):
        assert f">{head}</th>" in body
    assert re.search(r"<td class=\"num\">¥[\d,]+</td>", body)
    assert re.search(r"<td>20\d\d-\d\d-\d\d \d\d:\d\d</td>", body)
    assert 'rel="next"' in html
    second = client.get(f"/metrics/opportunities_created/records?period={FY}&offset=100").text
    assert "101〜" in second


def test_days_idle_of_open_deals_equal_sql(demo_company: Demo) -> None:
    """Days idle: whole days from a deal's last activity (else its creation) to the period's
    end, for the deals still open then; a deal closed by then has none."""
    path = demo_company.workspace
    with demo_company.open() as ws:
        p = parse_period(FY, ws.settings.fiscal_year_start_month)
        rec = metric_records(ScopedWorkspace(ws, Principal("admin", "admin")), p,
                             "opportunities_created", limit=10**6)  # fmt: skip
    expected = dict(_sql(path,
        "WITH a AS (SELECT opportunity_id, max(occurred_at) AS last FROM activities WHERE "
        "opportunity_id IS NOT NULL AND occurred_at < ?::TIMESTAMP GROUP BY 1) "
        "SELECT o.opportunity_id, floor((epoch(?::TIMESTAMP) - epoch(coalesce(a.last, "
        "o.created_at))) / 86400) FROM opportunities o LEFT JOIN a USING (opportunity_id) "
        "WHERE o.created_at >= ? AND o.created_at < ? AND (o.closed_at IS NULL OR "
        "o.closed_at >= ?::TIMESTAMP)", [END, END, START, END, END]))  # fmt: skip
    got = {r["opportunity_id"]: r["idle_days"] for r in rec.rows if r["idle_days"] is not None}
    assert got == pytest.approx(expected) and len(got) > 0 and rec.notes == ()
    assert all(r["idle_days"] is None for r in rec.rows if r["opportunity_id"] not in expected)


def test_days_idle_without_activities_is_not_available(tmp_path: Path) -> None:
    rows = {k: v for k, v in ROWS.items() if k != "activities"}
    with company(tmp_path, rows=rows) as ws:
        p = parse_period(FY, ws.settings.fiscal_year_start_month)
        rec = metric_records(ScopedWorkspace(ws, Principal("admin", "admin")), p,
                             "opportunities_created")  # fmt: skip
    assert rec.notes == ("drill.idle_unknown",) and rec.rows
    assert all(r["idle_days"] is None for r in rec.rows)


# ----------------------------------------------------------------------------- chart bars


def test_every_chart_links_its_marks_or_says_why_not() -> None:
    """Each chart of the report (references.toml [charts], kept equal to the built charts by
    test_registries) is declared once: its marks link (MARKS), or UNLINKED says why not; a mark
    is named by as many values as its records' grouping or sample columns take."""
    from eigyo.app._bar_records import SAMPLE_BARS, SOURCES
    from eigyo.app._chart_links import MARKS, UNLINKED
    from eigyo.diagnose.checks import references
    from eigyo.metrics import REGISTRY

    charts = set(references().charts)
    assert set(MARKS) | set(UNLINKED) == charts and not set(MARKS) & set(UNLINKED)
    for chart, spec in MARKS.items():
        if spec.metric is not None:
            assert REGISTRY[spec.metric].drill_population and len(spec.by) == len(spec.keys)
        else:
            bar = SAMPLE_BARS[chart]
            assert bar.sample in SOURCES and len(bar.columns) == len(spec.keys), chart


def test_a_bar_link_gives_that_groups_rows(served: Any) -> None:
    client, path = served
    html = client.get(f"/steps/measure?period={FY}").text
    at = html.index('id="bars-win-rate-by-team"')
    links = re.findall(r'data-x="([^"]+)" href="([^"]+)"', html[at : html.index("</details>", at)])
    assert [x for x, _ in links] == _teams(path)
    for team, href in links:
        url = href.replace("&amp;", "&")
        expected = _sql(path, "SELECT o.opportunity_id FROM opportunities o JOIN reps r ON "
                        "r.rep_id = o.owner_rep_id WHERE r.team = ? AND o.status IN "
                        "('won', 'lost') AND o.closed_at >= ? AND o.closed_at < ?",
                        [team, START, END])  # fmt: skip
        assert _total(client.get(url).text) == len(expected)
        rows = _csv(client, _csv_url(url))
        assert sorted(r["商談ID"] for r in rows) == sorted(x for (x,) in expected)
        assert {r["チーム"] for r in rows} == {team}


def test_untouched_bar_link_gives_the_sources_leads(served: Any) -> None:
    client, path = served
    html = client.get(f"/steps/alignment?period={FY}").text
    at = html.index('id="bars-untouched-by-source"')
    links = re.findall(r'data-x="([^"]+)" href="([^"]+)"', html[at : html.index("</details>", at)])
    assert links
    source, href = links[0]
    n = _sql(path, "SELECT count(*) FROM leads WHERE source = ? AND mql_at IS NOT NULL AND "
             "created_at >= ? AND created_at < ?", [source, START, END])[0][0]  # fmt: skip
    assert _total(client.get(href.replace("&amp;", "&")).text) == n > 0


def _figure(html: str, chart: str) -> dict[str, Any]:
    m = re.search(rf'class="chart-data" data-target="plot-{chart}">(.*?)</script>', html, re.S)
    assert m, chart
    return dict(json.loads(m.group(1)))


def test_handoff_bar_lists_the_closers_handoffs(served: Any) -> None:
    """A bar drawn from a diagnosis sample (median days from an SDR's hand-off to the closer's
    first meeting): its records are the closer's hand-offs — as many as the bar's n."""
    client, path = served
    html = client.get(f"/steps/specialization?period={FY}").text
    bar = _figure(html, "handoff-days")["data"][0]
    at = html.index('id="bars-handoff-days"')
    links = dict(
        re.findall(r'data-x="([^"]+)" href="([^"]+)"', html[at : html.index("</details>", at)])
    )
    name, n = bar["x"][0], bar["customdata"][0]
    (rep,) = _sql(path, "SELECT rep_id FROM reps WHERE name = ?", [name])[0]
    expected = _sql(path, "SELECT DISTINCT o.opportunity_id FROM opportunities o JOIN activities a "
                    "ON a.opportunity_id = o.opportunity_id AND a.rep_id = o.owner_rep_id AND "
                    "a.occurred_at >= o.created_at AND a.type IN ('meeting', 'demo') WHERE "
                    "o.sdr_rep_id IS NOT NULL AND o.owner_rep_id = ? AND o.created_at >= ? "
                    "AND o.created_at < ?", [rep, START, END])  # fmt: skip
    url = links[name].replace("&amp;", "&")
    assert _total(client.get(url).text) == n == len(expected) > 0
    rows = _csv(client, url.replace("/records?", "/records.csv?"))
    assert sorted(r["商談ID"] for r in rows) == sorted(x for (x,) in expected)


def _mark_links(html: str, chart: str) -> list[tuple[str, str, str]]:
    """The link list under a chart: (points, label, URL) per group its marks draw."""
    at = html.index(f'id="bars-{chart}"')
    found = re.findall(r'data-points="([^"]*)" data-x="([^"]*)" href="([^"]+)"',
                       html[at : html.index("</details>", at)])  # fmt: skip
    assert found, chart
    return [(p, x, u.replace("&amp;", "&")) for p, x, u in found]


def _csv_of(client: TestClient, url: str) -> list[dict[str, str]]:
    return _csv(client, url.replace("/records?", "/records.csv?"))


#: A stage entry of a deal created in FY2025, its next entry's time and kind, its deal's team
#: and status: the process charts' population, written independently of eigyo's analysis.
_ENTRIES = """
WITH k AS (SELECT * FROM (VALUES ('won', 'won'), ('lost', 'lost')) AS t(stage, kind)),
e AS (SELECT h.opportunity_id, h.stage, h.entered_at, o.status, r.team,
  lead(h.entered_at) OVER w AS next_at, lead(h.stage) OVER w AS next_stage
  FROM stage_history h JOIN opportunities o USING (opportunity_id)
  LEFT JOIN reps r ON r.rep_id = o.owner_rep_id
  WHERE o.created_at >= ? AND o.created_at < ?
  WINDOW w AS (PARTITION BY h.opportunity_id ORDER BY h.entered_at, h.stage))
"""


def test_process_marks_list_their_stage_entries(served: Any) -> None:
    """Stage days: a bar's records are the stage's entries with a next entry (as many as SQL
    counts, their median days the bar's height); the funnel: a step's records are the deals
    that entered the stage (its number); stage conversion: a cell's records are its decided
    entries (the cell's n); the process map: a link's records are the entries from one stage to
    the next (its count)."""
    client, path = served
    html = client.get(f"/steps/process?period={FY}").text
    days = _figure(html, "stage-days")["data"][0]
    heights = dict(zip(days["x"], days["y"], strict=True))
    for _, stage, url in _mark_links(html, "stage-days")[:3]:
        n, median = _sql(path, _ENTRIES + "SELECT count(*), median((epoch(next_at) - "
                         "epoch(entered_at)) / 86400) FROM e WHERE stage = ? AND next_at IS NOT "
                         "NULL", [START, END, stage])[0]  # fmt: skip
        rows = _csv_of(client, url)
        assert _total(client.get(url).text) == len(rows) == n > 0
        assert {r["ステージ"] for r in rows} == {stage}
        assert median == pytest.approx(heights[stage], abs=1e-6)
    funnel = _figure(html, "funnel")["data"][0]
    entered = dict(zip(funnel["y"], funnel["x"], strict=True))
    for _, stage, url in _mark_links(html, "funnel"):
        (n,) = _sql(path, _ENTRIES + "SELECT count(DISTINCT opportunity_id) FROM e WHERE stage "
                    "= ?", [START, END, stage])[0]  # fmt: skip
        assert _total(client.get(url).text) == entered[stage] == n > 0
    heat = _figure(html, "stage-conversion")["data"][0]
    links = _mark_links(html, "stage-conversion")
    assert len(links) == sum(v is not None for row in heat["z"] for v in row)
    for points, _, url in links[:4]:
        i, j = (int(v) for v in points.split(":")[1].split(","))
        team, stage = heat["y"][i], heat["x"][j]
        (n,) = _sql(path, _ENTRIES + "SELECT count(*) FROM e WHERE team = ? AND stage = ? AND "
                    "stage NOT IN ('won', 'lost') AND (next_at IS NOT NULL OR status = 'lost')",
                    [START, END, team, stage])[0]  # fmt: skip
        assert _total(client.get(url).text) == heat["customdata"][i][j] == n > 0
    sankey = _figure(html, "process-map")["data"][0]["link"]
    for points, _, url in _mark_links(html, "process-map")[:3]:
        i = int(points.split(":")[1])
        a, b = parse_qs(urlsplit(url).query)["group"]
        (n,) = _sql(path, _ENTRIES + "SELECT count(*) FROM e WHERE stage = ? AND next_stage = ?",
                    [START, END, a, b])[0]  # fmt: skip
        assert _total(client.get(url).text) == sankey["value"][i] == n > 0


def test_deal_marks_list_their_closed_deals(served: Any) -> None:
    """A rep's dot, an industry's bubble and a team's month of bookings list the deals they
    count: as many as the mark's number, the bookings adding up to the point's height."""
    client, path = served
    closed = ("SELECT count(*) FROM opportunities o LEFT JOIN reps r ON r.rep_id = o.owner_rep_id "
              "LEFT JOIN accounts a ON a.account_id = o.account_id WHERE o.status IN ('won', "
              "'lost') AND o.closed_at >= ? AND o.closed_at < ? ")  # fmt: skip
    html = client.get(f"/steps/specialization?period={FY}").text
    dots = {
        name: x
        for tr in _figure(html, "rep-win-rate")["data"]
        for name, x in zip(tr["text"], tr["x"], strict=True)
    }
    for _, name, url in _mark_links(html, "rep-win-rate")[:3]:
        (n,) = _sql(path, closed + "AND r.name = ?", [START, END, name])[0]
        assert _total(client.get(url).text) == dots[name] == n > 0
    html = client.get(f"/steps/data?period={FY}").text
    bubbles = _figure(html, "segment-matrix")["data"][0]
    per = {i: c[0] for i, c in zip(bubbles["text"], bubbles["customdata"], strict=True)}
    for _, industry, url in _mark_links(html, "segment-matrix")[:3]:
        (n,) = _sql(path, closed + "AND a.industry = ?", [START, END, industry])[0]
        assert _total(client.get(url).text) == per[industry] == n > 0
    html = client.get(f"/steps/measure?period={FY}").text
    lines = {tr["name"]: tr for tr in _figure(html, "bookings-by-month")["data"]}
    links = _mark_links(html, "bookings-by-month")
    assert len(links) == sum(len(tr["x"]) for tr in lines.values())
    for points, month, url in links[-3:]:
        curve, i = (int(v) for v in points.split(":"))
        team = _figure(html, "bookings-by-month")["data"][curve]["name"]
        trace = lines[team]
        n, total = _sql(path, "SELECT count(*), sum(o.amount) FROM opportunities o JOIN reps r "
                        "ON r.rep_id = o.owner_rep_id WHERE o.status = 'won' AND r.team = ? AND "
                        "strftime(o.closed_at, '%Y-%m') = ?", [team, month[:7]])[0]  # fmt: skip
        rows = _csv_of(client, url)
        assert len(rows) == trace["customdata"][i] == n > 0
        assert sum(float(r["金額"]) for r in rows) == pytest.approx(trace["y"][i]) and total


def test_people_marks_list_their_leads_and_reps(served: Any) -> None:
    """A team's lead-response box lists the team's MQLs (its n); a team's reclaimable-time bar
    the team's reps with hours in the period (the reps it adds up)."""
    client, path = served
    html = client.get(f"/steps/alignment?period={FY}").text
    box = _figure(html, "lead-response")["data"][0]
    for points, _, url in _mark_links(html, "lead-response")[:3]:
        i = int(points.split(":")[1])
        team = box["x"][i].split("<br>")[0]
        (n,) = _sql(path, "SELECT count(*) FROM leads l LEFT JOIN reps r ON r.rep_id = "
                    "l.owner_rep_id WHERE l.mql_at IS NOT NULL AND l.created_at >= ? AND "
                    "l.created_at < ? AND r.team = ?", [START, END, team])[0]  # fmt: skip
        assert _total(client.get(url).text) == box["customdata"][i][1] == n > 0
    html = client.get(f"/steps/organization?period={FY}").text
    for _, team, url in _mark_links(html, "reclaimable-time")[:3]:
        expected = _sql(path, "SELECT t.rep_id FROM time_entries t JOIN reps r USING (rep_id) "
                        "WHERE r.team = ? AND t.date >= ? AND t.date < ? GROUP BY 1 HAVING "
                        "sum(t.hours) > 0", [team, START, END])  # fmt: skip
        rows = _csv_of(client, url)
        assert sorted(r["担当者ID"] for r in rows) == sorted(x for (x,) in expected)
        assert len(rows) > 0


def test_enablement_marks_list_their_rows(served: Any) -> None:
    """New reps' win rate: a team's bar (without onboarding) and its dot (with) list the new
    reps' closed deals they count (the mark's n); a capability-gap cell is one rep's one
    capability: one record whose gap is the cell's."""
    client, path = served
    html = client.get(f"/steps/enablement?period={FY}").text
    data = _figure(html, "new-rep-win-rate")["data"]
    links = _mark_links(html, "new-rep-win-rate")
    assert {p.split(":")[0] for p, _, _ in links} == {"0", "1"}  # bars and dots both link
    for points, _, url in links:
        curve, i = (int(v) for v in points.split(":"))
        assert f"group={'0' if curve == 0 else '1'}" in url  # trained = 0 bars, 1 dots
        assert _total(client.get(url).text) == data[curve]["customdata"][i]
    heat = _figure(html, "capability-gaps")["data"][0]
    for points, _, url in _mark_links(html, "capability-gaps")[:3]:
        i, j = (int(v) for v in points.split(":")[1].split(","))
        rows = _csv_of(client, url)
        assert _total(client.get(url).text) == len(rows) == 1
        (name,) = _sql(path, "SELECT name FROM reps WHERE rep_id = ?", [rows[0]["担当者ID"]])[0]
        assert heat["y"][i].endswith(name) and rows[0]["能力"] == heat["x"][j]
        assert float(rows[0]["不足"]) == heat["z"][i][j]


def test_a_bad_mark_link_is_one_sentence(served: Any) -> None:
    """An unknown chart, a mark named by the wrong number of values, a value longer than any
    label: 400 with one sentence in the reader's language, never a traceback."""
    client, _ = served
    cases = {
        "/charts/nope/records?group=A": "グラフ nope の要素にはレコード一覧がありません。",
        "/charts/stage-conversion/records?group=A": "このグラフの要素は 2 個の値（team, stage）",
        f"/charts/stage-days/records?group={'x' * 201}": "リンクの値が長すぎます（201文字。",
    }
    for url, sentence in cases.items():
        r = client.get(f"{url}&period={FY}")
        assert r.status_code == 400 and sentence in r.text and "Traceback" not in r.text
    r = client.get(f"/charts/nope/records.csv?group=A&period={FY}")  # the exports say it too
    assert r.status_code == 400 and "グラフ nope の要素にはレコード一覧がありません。" in r.text


# ------------------------------------------------------------------------------ CRM links


def test_crm_links_on_pages_and_exports(served: Any) -> None:
    client, _ = served
    url = f"/metrics/won_deals/records?period={FY}"
    html = client.get(url).text
    ids = re.findall(r"<tr><td>([^<]+)</td>", html[html.index("<tbody>") :])
    hrefs = re.findall(r'class="crm-link" href="([^"]+)"', html)
    assert hrefs and hrefs == [TEMPLATE.format(opportunity_id=quote(i, safe="")) for i in ids]
    rows = _csv(client, _csv_url(url))
    assert all(r["CRMの商談"] == TEMPLATE.format(opportunity_id=r["商談ID"]) for r in rows)
    book = openpyxl.load_workbook(
        io.BytesIO(client.get(url.replace("/records?", "/records.xlsx?")).content)
    )
    sheet = book.active
    assert sheet is not None
    head = [c.value for c in sheet[1]]
    col = head.index("CRMの商談")
    assert sheet.cell(2, col + 1).value == TEMPLATE.format(opportunity_id=sheet.cell(2, 1).value)


def test_pipeline_review_links_every_deal_to_the_crm(served: Any) -> None:
    """The Monday pipeline review: each open deal's id (and each changed deal's) opens its CRM
    record, and the CSV and Excel exports carry the link as a column."""
    client, _ = served
    html = client.get("/pipeline?since=2026-01-01").text
    deals = html[html.index('id="deals-table"') : html.index('id="changes-table"')]
    ids = re.findall(r'<tr data-id="([^"]+)"', deals)
    hrefs = re.findall(r'class="crm-link" href="([^"]+)"', deals)
    assert ids and hrefs == [TEMPLATE.format(opportunity_id=quote(i, safe="")) for i in ids]
    changed = html[html.index('id="changes-table"') :]
    changed_ids = re.findall(r'<tr data-id="([^"]+)"', changed)
    changed_hrefs = re.findall(r'class="crm-link" href="([^"]+)"', changed)
    assert changed_ids and changed_hrefs == [
        TEMPLATE.format(opportunity_id=quote(i, safe="")) for i in changed_ids
    ]
    rows = _csv(client, "/pipeline.csv")
    assert rows and all(r["CRMの商談"] == TEMPLATE.format(opportunity_id=r["商談ID"]) for r in rows)
    book = openpyxl.load_workbook(io.BytesIO(client.get("/pipeline.xlsx").content))
    sheet = book.active
    assert sheet is not None
    head = [c.value for c in sheet[1]]
    col = head.index("CRMの商談") + 1
    assert sheet.max_row == len(rows) + 1
    assert all(
        sheet.cell(i, col).value == TEMPLATE.format(opportunity_id=sheet.cell(i, 1).value)
        for i in range(2, sheet.max_row + 1)
    )


def test_scorecard_links_deals_to_the_crm_and_exports_them(served: Any) -> None:
    """The 1on1 scorecard: each open deal's id opens its CRM record, and its CSV and Excel (the
    pipeline review's exports narrowed to the rep) hold the same deals with the link column."""
    client, path = served
    (rep,) = _sql(path, "SELECT owner_rep_id FROM opportunities WHERE status = 'open' GROUP BY 1 "
                  "ORDER BY count(*) DESC, 1 LIMIT 1")[0]  # fmt: skip
    html = client.get(f"/reps/{rep}?period={FY}").text
    deals = html[html.index('id="deals-table"') :]
    ids = re.findall(r'<tr data-id="([^"]+)"', deals)
    hrefs = re.findall(r'class="crm-link" href="([^"]+)"', deals)
    assert ids and hrefs == [TEMPLATE.format(opportunity_id=quote(i, safe="")) for i in ids]
    csv_url = _href_class(html, "export-csv")
    assert csv_url == f"/pipeline.csv?rep={quote(rep)}"
    rows = _csv(client, csv_url)
    assert sorted(r["商談ID"] for r in rows) == sorted(ids)
    assert all(r["CRMの商談"] == TEMPLATE.format(opportunity_id=r["商談ID"]) for r in rows)
    book = openpyxl.load_workbook(io.BytesIO(client.get(_href_class(html, "export-xlsx")).content))
    sheet = book.active
    assert sheet is not None and sheet.max_row == len(ids) + 1
    col = [c.value for c in sheet[1]].index("CRMの商談") + 1
    assert all(
        sheet.cell(i, col).value == TEMPLATE.format(opportunity_id=sheet.cell(i, 1).value)
        for i in range(2, sheet.max_row + 1)
    )


def _href_class(html: str, cls: str) -> str:
    m = re.search(rf'class="{cls}" href="([^"]+)"', html)
    assert m, cls
    return m.group(1).replace("&amp;", "&")


def test_finding_records_carry_the_crm_column(served: Any) -> None:
    client, _ = served
    html = client.get(f"/?period={FY}").text
    for fid in dict.fromkeys(re.findall(r'href="/findings/([^"?]+)\?', html)):
        page = client.get(f"/findings/{fid}?period={FY}").text
        if 'data-column="opportunity_id"' in page:
            break
    else:
        pytest.fail("no finding of the overview lists deals")
    assert 'data-column="crm_url"' in page and 'class="crm-link"' in page
    rows = _csv(client, f"/findings/{fid}/records.csv?period={FY}")
    assert rows and all(r["CRMの商談"] == TEMPLATE.format(opportunity_id=r["商談ID"]) for r in rows)


def test_no_template_no_column(demo_company: Demo) -> None:
    with demo_company.open() as ws:
        p = parse_period(FY, ws.settings.fiscal_year_start_month)
        view = ScopedWorkspace(ws, Principal("admin", "admin"))
        rec = metric_records(view, p, "won_deals", limit=5)
    assert rec.rows and not any(c.endswith("crm_url") for c in rec.columns)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ('"javascript:alert({opportunity_id})"', "must start with http:// or https://"),
        ('"https://crm.example.com/{opp_id}"', "uses the placeholder {opp_id}; the only one"),
        ('"https://crm.example.com/list"', "has no {opportunity_id} placeholder"),
        ('"https://crm.example.com/{opportunity_id"', "unbalanced brace"),
        ("42", "must be a URL text"),
    ],
)
def test_crm_template_refused_in_one_sentence(tmp_path: Path, value: str, reason: str) -> None:
    f = tmp_path / "eigyo.toml"
    f.write_text(f"[crm]\nopportunity_url = {value}\n", encoding="utf-8")
    with pytest.raises(WorkspaceError) as e:
        load(f)
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith(f"{f}: crm.opportunity_url: ") and reason in msg


def test_crm_unknown_key_and_encoding(tmp_path: Path) -> None:
    f = tmp_path / "eigyo.toml"
    f.write_text('[crm]\ndeal_url = "https://x.example.com/{opportunity_id}"\n', encoding="utf-8")
    with pytest.raises(WorkspaceError, match=r"crm\.deal_url: unknown key; known keys: "):
        load(f)
    f.write_text('[crm]\nlead_url = "https://x.example.com/l?id={lead_id}&x={{y}}"\n',
                 encoding="utf-8")  # fmt: skip
    crm = load(f).crm
    assert crm.url("lead", "L/1?a=b#c 日本") == (
        "https://x.example.com/l?id=L%2F1%3Fa%3Db%23c%20%E6%97%A5%E6%9C%AC&x={y}"
    )
    assert crm.url("opportunity", "o1") is None and CrmLinks().kinds == ()


# ------------------------------------------------------------------ filters narrow findings


@pytest.fixture(scope="module")
def diagnosis(demo_company: Demo) -> dict[str, Any]:
    with demo_company.open() as ws:
        p = parse_period(FY, ws.settings.fiscal_year_start_month)
        return {"period": p, "found": diagnose(ws, p)}


def _expected_ids(path: Path, p: Any, found: list[Finding], team: str) -> list[str]:
    """By the rule, independently: a team or rep scope meets the team by SQL; otherwise the
    finding's records (read on the whole company) meet it when one record's deal, lead or rep
    belongs to the team (SQL); a finding without records is kept."""
    team_of = dict(_sql(path, "SELECT rep_id, team FROM reps"))
    owner = dict(_sql(path, "SELECT opportunity_id, owner_rep_id FROM opportunities"))
    lead_owner = dict(_sql(path, "SELECT lead_id, owner_rep_id FROM leads"))
    keep = []
    with open_workspace(path, read_only=True) as ws:
        for f in found:
            if "team" in f.scope and f.scope["team"] != team:
                continue
            if "rep_id" in f.scope and team_of.get(f.scope["rep_id"]) != team:
                continue
            try:
                rows = behind.page(behind.records(ws, p, f), 10**6)
            except behind.NoRecords:
                keep.append(f.id)
                continue
            reps = set()
            for r in rows:
                if "opportunity_id" in r and r["opportunity_id"] in owner:
                    reps.add(owner[r["opportunity_id"]])
                elif "lead_id" in r:
                    reps.add(lead_owner.get(r["lead_id"]))
                elif "rep_id" in r:
                    reps.add(r["rep_id"])
                else:
                    reps.add("*")  # not a person's record (an import warning): not narrowed
            if "*" in reps or any(team_of.get(x) == team for x in reps):
                keep.append(f.id)
    return keep


def test_team_filter_narrows_findings_to_exact_ids(
    demo_company: Demo, diagnosis: dict[str, Any]
) -> None:
    path, p, found = demo_company.workspace, diagnosis["period"], diagnosis["found"]
    hidden_somewhere = False
    with demo_company.open() as ws:
        for team in _teams(path):
            view = FilteredWorkspace(ScopedWorkspace(ws, Principal("admin", "admin")),
                                     ViewFilter(team=team))  # fmt: skip
            kept, note = narrow(view, p, found)
            assert [f.id for f in kept] == _expected_ids(path, p, found, team), team
            assert note is not None and note.filters == (("team", team),)
            assert note.hidden == len(found) - len(kept)
            hidden_somewhere |= note.hidden > 0
            assert all(set(f.overlaps) <= {k.id for k in kept} for f in kept)
        unfiltered, none = narrow(ScopedWorkspace(ws, Principal("admin", "admin")), p, found)
    assert hidden_somewhere and none is None and unfiltered == found


def test_overview_says_which_filter_applies(served: Any, diagnosis: dict[str, Any]) -> None:
    client, path = served
    team = _teams(path)[0]
    html = client.get(f"/?period={FY}&team={quote(team)}").text
    m = re.search(r'id="findings-narrowed" data-shown="(\d+)" data-hidden="(\d+)"', html)
    assert m and f"チーム: {team}" in html
    expected = _expected_ids(path, diagnosis["period"], diagnosis["found"], team)
    assert int(m.group(1)) == len(expected)
    assert int(m.group(2)) == len(diagnosis["found"]) - len(expected)
    assert 'id="findings-narrowed"' not in client.get(f"/?period={FY}").text
