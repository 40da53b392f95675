"""The forecast page on a hand-made company whose open deals mostly lack expected close dates
(the public Maven CRM data set has none): categories, calls and past months read "not
available" with the reason, in Japanese and English — never ¥0, never a −100% error."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from eigyo.app import add_user, create_app
from eigyo.app._limits import ServerLimits
from tests._forecast_rows import UNDATED_ROWS
from tests._rows import insert, new_ws

PASSWORD = "forecast-na-pass-1"
PERIOD = "2025-Q2"
TEMPLATE = "https://crm.example.com/deal/{opportunity_id}"
USERS = {"admin": ("admin", None, None), "sato": ("rep", "r1", "A"),
         "suzuki": ("rep", "r2", "B"), "boss": ("manager", None, "B")}  # fmt: skip


@pytest.fixture(scope="module")
def ws_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("forecast-na")
    ws = new_ws(tmp)
    for table, data in UNDATED_ROWS.items():
        insert(ws, table, data)
    for name, (role, rep, team) in USERS.items():
        add_user(ws, name, PASSWORD, role, rep_id=rep, team=team)
    ws.close()
    toml = tmp / "w" / "eigyo.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + f'\n[crm]\nopportunity_url = "{TEMPLATE}"\n',
                    encoding="utf-8")  # fmt: skip
    return tmp / "w"


@pytest.fixture(scope="module")
def client(ws_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(ws_path, ServerLimits(heavy_seconds_per_minute=3600.0))) as c:
        yield c


def login(c: TestClient, user: str, lang: str = "ja") -> None:
    c.cookies.clear()
    c.cookies.set("eigyo_lang", lang)
    token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text)
    assert token
    r = c.post("/login", data={"username": user, "password": PASSWORD,
                               "csrf_token": token.group(1)}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303


def values(html: str, level: str) -> dict[str, dict[str, str]]:
    """``data-key`` → column → the cell's ``data-value`` ("" where not available)."""
    out: dict[str, dict[str, str]] = {}
    for key, row in re.findall(rf'<tr data-level="{level}" data-key="([^"]*)">(.*?)</tr>', html):
        out[key] = dict(re.findall(r'data-col="(\w+)" data-value="([^"]*)"', row))
    return out


def test_no_close_dates_reads_not_available_in_both_languages(client: TestClient) -> None:
    login(client, "admin")
    html = client.get(f"/forecast?period={PERIOD}").text
    # seen at the end of 05-10: u1, u2 (r1) and u3 (r2) undated, d1 (r2) a CRM commit
    reps, teams = values(html, "rep"), values(html, "team")
    assert reps["r1"] == {"won": "500.0", "commit": "", "best_case": "", "pipeline": "",
                          "call": "", "upside": "", "adjusted": ""}  # fmt: skip
    assert (reps["r2"]["commit"], reps["r2"]["call"]) == ("1000.0", "1400.0")  # w3 won 05-10
    assert (teams["A"]["call"], teams["B"]["call"]) == ("", "2100.0")
    assert values(html, "total")[""]["call"] == "2600.0"
    assert 'id="forecast-undated" data-n="3"' in html and "4 件のうち 3 件" in html
    r1 = re.search(r'<tr data-level="rep" data-key="r1">(.*?)</tr>', html)
    assert r1 and "¥0" not in r1.group(1) and r1.group(1).count("—") == 6
    # r1's own view: every open deal lacks a close date — the sentence, not ¥0, in ja and en
    login(client, "sato")
    html = client.get(f"/forecast?period={PERIOD}").text
    tiles = dict(re.findall(r'data-key="(\w+)" data-value="([^"]*)"', html))
    assert tiles == {"won": "500.0", "commit": "", "best_case": "", "pipeline": "", "call": "",
                     "upside": "", "adjusted": ""}  # fmt: skip
    assert 'id="forecast-na"' in html and "未完了の商談 2 件のどれにも完了予定日がない" in html
    login(client, "sato", "en")
    html = client.get(f"/forecast?period={PERIOD}").text
    assert "none of the 2 open deals has an expected close date" in html


def test_past_months_without_close_dates_have_no_error(client: TestClient) -> None:
    """April's call (deals open on 03-31, none dated) cannot be rebuilt: no −100%."""
    for lang, text in (("ja", "1 か月は利用できません"), ("en", "1 months are not available")):
        login(client, "admin", lang)
        html = client.get(f"/forecast?period={PERIOD}").text
        april = re.search(r'<tr data-month="2025-04" data-error="([^"]*)" data-reason="(\w*)">'
                          r"(.*?)</tr>", html)  # fmt: skip
        assert april and april.group(1) == "" and april.group(2) == "no_close_dates"
        assert "%" not in april.group(3) and text in html
