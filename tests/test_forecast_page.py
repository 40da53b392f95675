"""The forecast page over HTTP on a copy of the demo company: its numbers are the analysis's (and
its downloads the page's rows, a rep's only their own deals), a manager's adjustment round trip
with its trail survives a re-import and a restart, a manager cannot adjust another team, a rep
cannot adjust at all and sees their own numbers only."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from eigyo.analysis.data.forecast_calls import rollup
from eigyo.app import add_user, create_app
from eigyo.app._adjustments import ADJUSTMENTS_FILE
from eigyo.app._limits import ServerLimits
from eigyo.base.periods import parse_period
from eigyo.ingest import import_path
from eigyo.workspace import generation, open_workspace
from tests._ingest_util import write

PASSWORD = "forecast-pass-1"
TEAM, OTHER = "東京第一営業部", "大阪営業部"
REP, OTHER_REP = "R00002", "R00017"
PERIOD = "FY2025-Q3"
#: One person opens several cold forecasts back to back: more heavy seconds than a person gets.
LIMITS = ServerLimits(heavy_seconds_per_minute=3600.0, heavy_wait_s=300.0)
USERS = {"admin": ("admin", None, None), "boss": ("manager", "R00001", TEAM),
         "rep": ("rep", REP, TEAM)}  # fmt: skip


@pytest.fixture(scope="module")
def ws_path(demo_company: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path: Path = demo_company.copy(tmp_path_factory.mktemp("forecast") / "ws")
    with open_workspace(path) as ws:
        for name, (role, rep, team) in USERS.items():
            add_user(ws, name, PASSWORD, role, rep_id=rep, team=team)
    return path


def login(c: TestClient, user: str) -> str:
    """Sign ``user`` in; returns the session's CSRF token (from the page's logout form)."""
    token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text)
    assert token
    r = c.post("/login", data={"username": user, "password": PASSWORD,
                               "csrf_token": token.group(1)}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text[:300]  # to the overview, not opened here
    page = c.get("/forecast?period=" + PERIOD)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf
    return csrf.group(1)


@pytest.fixture
def client(ws_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(ws_path, LIMITS)) as c:
        yield c


def cells(html: str, level: str) -> dict[str, dict[str, float]]:
    """``data-key`` → column → value of the forecast table's rows of one level."""
    out: dict[str, dict[str, float]] = {}
    for key, row in re.findall(rf'<tr data-level="{level}" data-key="([^"]*)">(.*?)</tr>', html):
        out[key] = {c: float(v) for c, v in re.findall(r'data-col="(\w+)" data-value="([^"]+)"',
                                                       row)}  # fmt: skip
    return out


def download(c: TestClient, url: str) -> list[dict[str, str]]:
    r = c.get(url)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(r.text.lstrip("\ufeff"))))


def adjust(c: TestClient, csrf: str, target: str, amount: str, comment: str) -> Any:
    return c.post("/forecast/adjust", data={"csrf_token": csrf, "period": PERIOD,
                  "target": target, "amount": amount, "comment": comment},
                  follow_redirects=False)  # fmt: skip


def test_the_page_shows_the_analysis_numbers_in_each_scope(
    client: TestClient, ws_path: Path
) -> None:
    with open_workspace(ws_path, read_only=True) as ws:
        p = parse_period(PERIOD, ws.settings.fiscal_year_start_month)
        roll = rollup(ws, p, min(p.end, date(2026, 3, 31)), ws)
        want = {tm.key: tm.call for tm in roll.teams}
        n_open = sum(roll.total.deals[k] for k in ("commit", "best_case", "pipeline", "omitted"))
    login(client, "admin")
    html = client.get(f"/forecast?period={PERIOD}").text
    teams = cells(html, "team")
    assert {k: v["call"] for k, v in teams.items()} == pytest.approx(want)
    assert len(teams) == 6 and 'href="/forecast' in html  # linked from the navigation
    # the deals behind the call: as many as the roll-up counts, commit first
    assert f'id="deals-total" data-total="{n_open}"' in html and n_open > 0
    cats = re.findall(r'<tr data-id="[^"]+" data-category="(\w+)" data-source="stage">', html)
    assert len(cats) == min(n_open, 200) and cats == sorted(
        cats, key=["commit", "best_case", "pipeline"].index
    )
    # the downloads: the roll-up is the page's table line for line, the deals all of the call's
    page = [(lv, k, float(v)) for lv, k, row in
            re.findall(r'<tr data-level="(\w+)" data-key="([^"]*)">(.*?)</tr>', html)
            for v in re.findall(r'data-col="call" data-value="([^"]+)"', row)]  # fmt: skip
    rows = download(client, f"/forecast/rollup.csv?period={PERIOD}")
    assert [float(x["コール（受注＋コミット）"]) for x in rows] == [v for _, _, v in page]
    assert [x["担当者ID"] for x in rows if x["担当者ID"]] == [k for lv, k, _ in page if lv == "rep"]
    deals = download(client, f"/forecast/deals.csv?period={PERIOD}")
    assert len(deals) == n_open and "CRMの商談" not in deals[0]  # no [crm]: no link column
    assert 'class="crm-link"' not in html
    client.post("/logout", data={"csrf_token": re.findall(r'name="csrf_token" value="([^"]+)"',
                                                          html)[0]})  # fmt: skip
    login(client, "rep")
    html = client.get(f"/forecast?period={PERIOD}").text
    assert set(cells(html, "rep")) == {REP} and 'id="adjust-form"' not in html
    # a rep's deals download holds their own deals only, whatever rep the URL names
    mine = int(re.findall(r'id="deals-total" data-total="(\d+)"', html)[0])
    with open_workspace(ws_path, read_only=True) as ws:
        found = ws.raw.execute("SELECT name FROM reps WHERE rep_id = ?", [REP]).fetchone()
    assert found and mine < n_open
    got = download(client, f"/forecast/deals.csv?period={PERIOD}")
    assert len(got) == mine and {x["担当者"] for x in got} <= {found[0]}
    assert download(client, f"/forecast/deals.csv?period={PERIOD}&rep={OTHER_REP}") == []
    assert client.get("/forecast?period=bogus").status_code == 200  # the default, said once


def test_adjustment_round_trip_survives_reimport_and_restart(ws_path: Path) -> None:
    with TestClient(create_app(ws_path, LIMITS)) as c:
        csrf = login(c, "boss")
        assert (
            adjust(c, csrf, f"rep:{REP}", "￥１,５００,０００", "決裁が来週に延びる").status_code
            == 303
        )
        assert adjust(c, csrf, f"rep:{REP}", "2000000", "前倒しで受注見込み").status_code == 303
        html = c.get(f"/forecast?period={PERIOD}").text
        assert cells(html, "rep")[REP]["adjusted"] == 2_000_000
        trail = re.findall(r'<tr data-id="(\d+)" data-level="rep" data-target="([^"]+)">(.*?)</tr>',
                           html)  # fmt: skip
        assert [t[1] for t in trail] == [REP, REP]
        newest, oldest = trail[0][2], trail[1][2]
        assert "boss" in newest and "¥1,500,000" in newest and "¥2,000,000" in newest
        assert "前倒しで受注見込み" in newest and "—" in oldest and "決裁が来週に延びる" in oldest
    before = generation(ws_path)
    deal = ("opportunity_id,owner_rep_id,amount,created_at,expected_close_date,status\n"
            "ONEW1,R00002,999000,2025-10-01 10:00:00,2025-12-20,open\n")  # fmt: skip
    with open_workspace(ws_path) as ws:
        import_path(
            ws, write(ws_path.parent / "more", {"opportunities.csv": deal}) / "opportunities.csv"
        )
    assert generation(ws_path) != before and (ws_path / ADJUSTMENTS_FILE).exists()
    with TestClient(create_app(ws_path, LIMITS)) as c:  # a restart, on the new generation
        login(c, "boss")
        html = c.get(f"/forecast?period={PERIOD}").text
        assert cells(html, "rep")[REP]["adjusted"] == 2_000_000
        assert html.count(f'data-target="{REP}"') == 2
        # the team's adjusted call adds the rep's adjustment in place of their call
        team = cells(html, "team")[TEAM]
        rep = cells(html, "rep")[REP]
        assert team["adjusted"] == pytest.approx(team["call"] - rep["call"] + 2_000_000)


def test_a_manager_cannot_adjust_another_team_and_a_rep_nothing(client: TestClient) -> None:
    csrf = login(client, "boss")
    assert adjust(client, csrf, f"team:{OTHER}", "1", "x").status_code == 403
    assert adjust(client, csrf, f"rep:{OTHER_REP}", "1", "x").status_code == 403
    assert adjust(client, "wrong-token", f"team:{TEAM}", "1", "x").status_code == 403
    ok = adjust(client, csrf, f"team:{TEAM}", "5000000", "チームとして上積み")
    assert ok.status_code == 303
    bad = adjust(client, csrf, f"team:{TEAM}", "-5", "x")
    assert "adjust_error=amount" in bad.headers["location"]
    html = client.get(f"/forecast?period={PERIOD}").text
    assert cells(html, "team")[TEAM]["adjusted"] == 5_000_000
    assert f'data-target="{OTHER}"' not in html
    client.post("/logout", data={"csrf_token": csrf})
    csrf = login(client, "rep")
    assert adjust(client, csrf, f"rep:{REP}", "1", "x").status_code == 403
    html = client.get(f"/forecast?period={PERIOD}").text
    assert f'data-target="{TEAM}"' not in html  # a rep sees no team call, adjusted or not
