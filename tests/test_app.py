"""The dashboard over HTTP (FastAPI TestClient): login, every route, scoping, CSRF, API, upload.

The company is the hand-made one of test_app_scope; users: an admin, the manager of team A, rep r1
(team A) and rep r3 (team B). A rep must not reach another rep's records by id, by API filter,
by drill-down or by export, and a rep's API metrics must equal the registry's values on a
workspace holding only their rows.
"""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

from eigyo.app import add_user, create_app
from eigyo.base.periods import parse_period
from eigyo.cli import app as cli_app
from eigyo.diagnose.model import STEPS
from eigyo.metrics import compute
from tests.test_app_scope import FY, HOSTILE, VISIBLE, company, only

PASSWORD = "s3cret-pass"
USERS = {
    "admin": ("admin", None, None),
    "boss": ("manager", "m1", "A"),
    "sato": ("rep", "r1", "A"),
    "tanaka": ("rep", "r3", "B"),
}
PAGES = ["/", *(f"/steps/{s}" for s in STEPS), "/metrics", "/metrics?by=team&metric=bookings",
         f"/metrics/records?metric=bookings&period={FY}", "/process", "/simulate"]  # fmt: skip


@pytest.fixture(scope="module")
def ws_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("app")
    with company(root) as ws:
        for name, (role, rep, team) in USERS.items():
            add_user(ws, name, PASSWORD, role, rep_id=rep, team=team)
    return root / "w"


@pytest.fixture(scope="module")
def client(ws_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(ws_path)) as c:
        yield c


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no CSRF field in the page"
    return m.group(1)


def shows_id(html: str, record_id: str) -> bool:
    """Whether a page shows a record id as a word of its own.

    A bare substring test is flaky: the page's random CSRF token (43 URL-safe characters) contains
    "o5" about once in 40 pages. Tokens and other long random strings are removed first.
    """
    text = re.sub(r"[A-Za-z0-9_-]{32,}", " ", html)
    word = rf"(?<![A-Za-z0-9_-]){re.escape(record_id)}(?![A-Za-z0-9_-])"
    return re.search(word, text) is not None


def login(client: TestClient, user: str, password: str = PASSWORD) -> TestClient:
    client.cookies.clear()
    token = csrf_of(client.get("/login").text)
    r = client.post("/login", data={"username": user, "password": password,
                                    "csrf_token": token, "next": "/metrics"},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303 and r.headers["location"] == "/metrics", r.text
    return client


def test_anonymous_is_sent_to_login_and_api_says_401(client: TestClient) -> None:
    client.cookies.clear()
    r = client.get("/metrics?by=team", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=/metrics")
    assert client.get("/api/metrics").status_code == 401
    assert client.get("/api/records/opportunities").status_code == 401
    page = client.get("/login")
    assert page.status_code == 200 and 'type="password"' in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert page.headers["x-frame-options"] == "DENY"


def test_login_cookie_wrong_password_and_logout(client: TestClient) -> None:
    client.cookies.clear()
    token = csrf_of(client.get("/login").text)
    bad = client.post("/login", data={"username": "sato", "password": "nope-nope",
                                      "csrf_token": token})  # fmt: skip
    assert bad.status_code == 401 and "パスワードが違います" in bad.text
    no_csrf = client.post("/login", data={"username": "sato", "password": PASSWORD})
    assert no_csrf.status_code == 403
    token = csrf_of(client.get("/login").text)
    ok = client.post("/login", data={"username": "sato", "password": PASSWORD,
                                     "csrf_token": token}, follow_redirects=False)  # fmt: skip
    cookie = ok.headers["set-cookie"]
    assert "eigyo_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert client.get("/api/me").json()["rep_id"] == "r1"
    assert client.post("/logout", follow_redirects=False).status_code == 403  # no token
    token = csrf_of(client.get("/").text)
    session = client.cookies.get("eigyo_session")
    out = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303
    client.cookies.set("eigyo_session", session or "")  # the old token is dead server-side
    assert client.get("/api/me").status_code == 401


def test_open_redirects_are_refused(client: TestClient) -> None:
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        r = client.get("/lang/en", params={"next": target}, follow_redirects=False)
        assert r.headers["location"] == "/"


@pytest.mark.parametrize("user", list(USERS))
def test_every_page_renders_for_every_role(client: TestClient, user: str) -> None:
    login(client, user)
    for url in PAGES:
        r = client.get(url)
        assert r.status_code == 200, (url, r.text[:500])
        assert "<html" in r.text or url.startswith("/metrics/records")
    imp = client.get("/import")
    assert imp.status_code == (200 if user == "admin" else 403)
    assert client.get("/steps/nonsense").status_code == 404
    assert client.get("/?period=FY2025-Q5").status_code == 200  # bad period: message, not a crash


def test_rep_cannot_reach_other_records(client: TestClient) -> None:
    login(client, "sato")
    got = client.get("/api/records/opportunities").json()
    assert {r["opportunity_id"] for r in got["rows"]} == {"o1", "o2"} and got["total"] == 2
    assert client.get("/api/records/opportunities/o4").status_code == 404
    assert client.get("/api/records/opportunities/o1").json()["owner_rep_id"] == "r1"
    assert client.get("/api/records/accounts/a4").status_code == 404
    by_filter = client.get("/api/records/opportunities", params={"filter": "owner_rep_id=r3"})
    assert by_filter.json()["rows"] == []
    team_b = client.get("/api/records/reps", params={"filter": "team=B"}).json()
    assert team_b["rows"] == []
    export = client.get("/api/export/opportunities")
    rows = list(csv.DictReader(io.StringIO(export.text.lstrip("\ufeff"))))
    assert {r["opportunity_id"] for r in rows} == {"o1", "o2"}
    drill = client.get(f"/api/metrics/bookings/records?period={FY}&by=rep_id&group=r3").json()
    assert drill["rows"] == []
    page = client.get(f"/metrics/records?metric=bookings&period={FY}").text
    assert shows_id(page, "o1") and not shows_id(page, "o4") and not shows_id(page, "o3")
    grouped = client.get(f"/api/metrics?period={FY}&by=rep_id&metric=bookings").json()
    assert [m["by"] for m in grouped["metrics"]] == [{"rep_id": "r1"}]
    assert client.get("/api/records/_users").status_code == 422  # not a table of the API


def test_manager_sees_the_team_not_the_other(client: TestClient) -> None:
    login(client, "boss")
    got = client.get("/api/records/opportunities").json()
    assert {r["opportunity_id"] for r in got["rows"]} == VISIBLE["boss"]["opportunities"]
    teams = client.get(f"/api/metrics?period={FY}&by=team&metric=won_deals").json()
    assert teams["metrics"] == [{"id": "won_deals", "value": 2.0, "unit": "count",
                                 "by": {"team": "A"}, "reason": None}]  # fmt: skip
    assert client.get("/api/records/leads/l2").status_code == 404


def test_rep_api_metrics_equal_an_independent_computation(
    client: TestClient, tmp_path: Path
) -> None:
    login(client, "tanaka")
    api = client.get(f"/api/metrics?period={FY}").json()
    mine = company(tmp_path, "mine", only(VISIBLE["tanaka"]))
    want = {v.id: v.value for v in compute(mine, parse_period(FY))}
    got = {m["id"]: m["value"] for m in api["metrics"]}
    assert api["period"] == FY and got == pytest.approx(want)
    assert got["bookings"] == 3_000_000


def test_admin_sees_all_and_hostile_text_is_inert(client: TestClient) -> None:
    login(client, "admin")
    assert client.get("/api/records/opportunities").json()["total"] == 5
    page = client.get(f"/metrics?period={FY}&by=product&metric=bookings").text
    assert HOSTILE not in page and "&lt;script&gt;" in page
    drill = client.get(f"/metrics/records?metric=bookings&period={FY}&by=product&group={HOSTILE}")
    assert "o4" in drill.text and HOSTILE not in drill.text
    export = client.get("/api/export/accounts").text
    assert "<script>" in export  # CSV keeps data as data (served as text/csv, attachment)


def test_openapi_is_served_and_local_only(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    for path in ("/api/metrics", "/api/findings", "/api/records/{table}", "/api/export/{table}"):
        assert path in spec["paths"]
    assert "/login" not in spec["paths"]
    assert client.get("/docs").status_code == 404  # Swagger UI would load from a CDN


def test_language_toggle(client: TestClient) -> None:
    login(client, "sato")
    assert "概要" in client.get("/").text
    r = client.get("/lang/en", params={"next": "/metrics"}, follow_redirects=False)
    assert r.headers["location"] == "/metrics" and "eigyo_lang=en" in r.headers["set-cookie"]
    client.cookies.set("eigyo_lang", "en")
    page = client.get("/").text
    assert "Overview" in page and 'lang="en"' in page
    client.cookies.set("eigyo_lang", "ja")


def test_state_changes_need_the_csrf_token(client: TestClient) -> None:
    login(client, "admin")
    files = {"files": ("leads.csv", b"lead_id,created_at\nz1,2025-04-01\n", "text/csv")}
    assert client.post("/import", files=files).status_code == 403
    assert client.post("/simulate", data={"structure": "pod"}).status_code == 403
    bad = client.post("/import", files=files, headers={"X-CSRF-Token": "forged"})
    assert bad.status_code == 403


def test_rep_cannot_import_or_simulate(client: TestClient) -> None:
    login(client, "sato")
    token = csrf_of(client.get("/simulate").text)
    files = {"files": ("leads.csv", b"lead_id,created_at\nz1,2025-04-01\n", "text/csv")}
    assert client.post("/import", files=files, data={"csrf_token": token}).status_code == 403
    assert client.post("/simulate", data={"csrf_token": token}).status_code == 403


def test_upload_import_shows_progress_and_report(client: TestClient) -> None:
    login(client, "admin")
    token = csrf_of(client.get("/import").text)
    body = "lead_id,created_at,owner_rep_id,source\nz1,2025-04-01,r1,web\nz2,not a date,r1,web\n"
    files = {"files": ("leads.csv", body.encode(), "text/csv")}
    r = client.post("/import", files=files, headers={"X-CSRF-Token": token, "HX-Request": "true"})
    assert r.status_code == 200
    job = re.search(r'id="job-([0-9a-f]+)"', r.text)
    assert job
    for _ in range(100):
        status = client.get(f"/api/import/jobs/{job.group(1)}").json()
        if status["finished"]:
            break
        time.sleep(0.1)
    assert status["error"] is None, status
    assert status["report"]["loaded"] == 1 and status["report"]["rejected"] == 1
    page = client.get(f"/import/jobs/{job.group(1)}").text
    assert 'id="import-report"' in page and "leads.csv" in page
    login(client, "sato")  # the new lead is r1's: the rep sees it at once
    assert client.get("/api/records/leads/z1").status_code == 200
    bad = client.post("/import", files={"files": ("../../evil.csv", b"x", "text/csv")},
                      headers={"X-CSRF-Token": token})  # fmt: skip
    assert bad.status_code in (400, 403)


def test_users_cli(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    ws = company(tmp_path)
    ws.close()
    runner = CliRunner()
    w = str(tmp_path / "w")
    args = ["users", "add", "kim", "--role", "manager", "--team", "B", "--password-stdin"]
    r = runner.invoke(cli_app, [*args, "--workspace", w], input="long-password\n")
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli_app, ["users", "list", "--workspace", w, "--format", "json"])
    assert '"username": "kim"' in r.output and "long-password" not in r.output
    assert "scrypt" not in r.output
