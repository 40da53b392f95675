"""The forecast page on a hand-made company whose open deals mostly lack expected close dates
(the public Maven CRM data set has none): categories, calls and past months read "not
available" with the reason, in Japanese and English — never ¥0, never a −100% error; and the
page's CSV and Excel downloads (the page's rows, an independent SQL query, the CRM link column
of ``[crm] opportunity_url``) on the same company."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import duckdb
import openpyxl
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


def download(c: TestClient, url: str) -> list[dict[str, str]]:
    r = c.get(url)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv"), r.text[:300]
    assert r.content.startswith(b"\xef\xbb\xbf")  # a BOM: Excel reads it as UTF-8
    return list(csv.DictReader(io.StringIO(r.text.lstrip("\ufeff"))))


#: Won and CRM commit per rep from the rows themselves (no change history here), seen at the
#: end of 05-10 for 2025-Q2 — written from the rule, not from the module's expressions.
SQL = """
SELECT r.rep_id,
  (SELECT sum(amount) FROM opportunities o WHERE o.owner_rep_id = r.rep_id AND status = 'won'
     AND closed_at >= '2025-04-01' AND closed_at < '2025-05-11'),
  (SELECT sum(amount) FROM opportunities o WHERE o.owner_rep_id = r.rep_id
     AND forecast_category IN ('commit', 'closed') AND created_at < '2025-05-11'
     AND (status = 'open' OR closed_at >= '2025-05-11')
     AND expected_close_date BETWEEN '2025-04-01' AND '2025-06-30')
FROM reps r ORDER BY 1
"""


def test_rollup_export_is_the_pages_table_and_sql(client: TestClient, ws_path: Path) -> None:
    login(client, "admin")
    html = client.get(f"/forecast?period={PERIOD}").text
    page = re.findall(r'<tr data-level="(\w+)" data-key="([^"]*)">(.*?)</tr>', html)
    rows = download(client, f"/forecast/rollup.csv?period={PERIOD}")
    cols = ("won", "commit", "best_case", "pipeline", "call", "upside", "adjusted")
    heads = ("受注済み", "コミット", "ベストケース", "パイプライン", "コール（受注＋コミット）",
             "アップサイド（＋ベストケース）", "調整後コール")  # fmt: skip
    assert len(rows) == len(page) == 6  # team A, r1, team B, r2, r3, the total: the page's order
    for (level, key, cells), row in zip(page, rows, strict=True):
        want = dict(re.findall(r'data-col="(\w+)" data-value="([^"]*)"', cells))
        got = {c: row[h] for c, h in zip(cols, heads, strict=True)}
        assert {c: float(v) if v else None for c, v in got.items()} == {
            c: float(v) if v else None for c, v in want.items()
        }
        if level == "rep":
            assert row["担当者ID"] == key
    r1 = next(r for r in rows if r["担当者ID"] == "r1")
    assert (r1["未完了の商談数"], r1["うち完了予定日なし"], r1["注記"]) == (
        "2",
        "2",
        "利用できません（完了予定日なし）",
    )
    with duckdb.connect(str(ws_path / "eigyo.duckdb"), read_only=True) as con:
        sql = {rep: (won or 0, commit or 0) for rep, won, commit in con.execute(SQL).fetchall()}
    by_rep = {r["担当者ID"]: r for r in rows if r["担当者ID"]}
    assert {k: float(r["受注済み"]) for k, r in by_rep.items()} == {k: v[0] for k, v in sql.items()}
    # r1's commit is not available (blank), never the SQL's 0
    assert {k: r["コミット"] for k, r in by_rep.items()} == {"r1": "", "r2": "1000", "r3": "0"}
    assert sql["r2"][1] == 1000 and sql["r3"][1] == 0
    book = openpyxl.load_workbook(io.BytesIO(client.get(f"/forecast/rollup.xlsx?period={PERIOD}")
                                             .content))  # fmt: skip
    sheet = book.active
    assert sheet is not None and sheet.max_row == len(rows) + 1
    head = [c.value for c in sheet[1]]
    call = head.index("コール（受注＋コミット）") + 1
    assert [sheet.cell(i, call).value for i in range(2, sheet.max_row + 1)] == [
        float(r["コール（受注＋コミット）"]) if r["コール（受注＋コミット）"] else None
        for r in rows
    ]


def test_deals_link_to_the_crm_on_the_page_and_in_the_exports(client: TestClient) -> None:
    login(client, "admin", "en")
    html = client.get(f"/forecast?period={PERIOD}").text
    table = html[html.index('id="forecast-deals"') :]
    ids = re.findall(r'<tr data-id="([^"]+)"', table)
    hrefs = re.findall(r'class="crm-link" href="([^"]+)"', table)
    assert ids == ["d1"] and hrefs == [
        TEMPLATE.format(opportunity_id=quote(i, safe="")) for i in ids
    ]
    rows = download(client, f"/forecast/deals.csv?period={PERIOD}")
    got = [(r["Deal id"], r["Forecast category"], r["Category from"], r["CRM deal"]) for r in rows]
    assert got == [("d1", "Commit", "CRM", TEMPLATE.format(opportunity_id="d1"))]
    book = openpyxl.load_workbook(io.BytesIO(client.get(f"/forecast/deals.xlsx?period={PERIOD}")
                                             .content))  # fmt: skip
    sheet = book.active
    assert sheet is not None
    head = [c.value for c in sheet[1]]
    assert [c.value for c in sheet[2]][head.index("CRM deal")] == TEMPLATE.format(
        opportunity_id="d1"
    )
    # a rep's download holds only their own lines and deals, whatever the URL asks for
    login(client, "sato", "en")
    assert download(client, f"/forecast/deals.csv?period={PERIOD}&rep=r2") == []
    assert download(client, f"/forecast/deals.csv?period={PERIOD}") == []
    lines = download(client, f"/forecast/rollup.csv?period={PERIOD}&rep=r2")
    assert {r["Rep id"] for r in lines} <= {"r1", ""} and "1000" not in str(lines)
    login(client, "suzuki", "en")
    assert [r["Deal id"] for r in download(client, f"/forecast/deals.csv?period={PERIOD}")] == [
        "d1"
    ]
    lines = download(client, f"/forecast/rollup.csv?period={PERIOD}")
    assert [(r["Rep id"], r["Commit"]) for r in lines] == [
        ("", "1000"),
        ("r2", "1000"),
        ("", "1000"),
    ]
