"""View filters (issue 18 item 4): team, rep, product and segment in the URL, inside the scope.

Bookings under each filter are checked against an independent DuckDB query over the company's
rows (test_app_scope), for the admin, the manager of team A and rep r1; a filter naming rows
outside a person's scope yields nothing of them, and the selects offer only the person's own
teams, reps, products and segments. The CSV export of a metric's records obeys the same rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import duckdb
import pyarrow as pa
import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

from eigyo.app import add_user, create_app
from eigyo.app._limits import ServerLimits
from tests.test_app import PASSWORD, USERS, login, shows_id
from tests.test_app_headline import REPS
from tests.test_app_scope import FY, HOSTILE, ROWS, company


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("filters")
    with company(root) as ws:
        for name, (role, rep, team) in USERS.items():
            add_user(ws, name, PASSWORD, role, rep_id=rep, team=team)
    limits = ServerLimits(heavy_seconds_per_minute=3600.0, heavy_wait_s=300.0)
    with TestClient(create_app(root / "w", limits)) as c:
        yield c


def sql_bookings(user: str, where: str) -> float:
    """Σ won amount in FY2025 of the user's reps' deals that also match ``where`` (SQL)."""
    con = duckdb.connect()
    for name in ("opportunities", "accounts", "reps"):
        con.register(name, pa.Table.from_pylist([dict(r) for r in ROWS[name]]))
    return float(
        con.execute(
            f"""select coalesce(sum(o.amount), 0) from opportunities o
            left join accounts a using (account_id) join reps r on r.rep_id = o.owner_rep_id
            where o.status = 'won' and o.owner_rep_id in (select unnest(?))
            and o.closed_at::timestamp >= '2025-04-01' and o.closed_at::timestamp < '2026-04-01'
            and ({where})""",
            [list(REPS[user])],
        ).fetchall()[0][0]
    )


def bookings_on_page(html: str) -> float:
    m = re.search(r'id="hl-bookings" data-value="([^"]*)"', html)
    assert m, "no headline"
    return float(m.group(1)) if m.group(1) not in ("", "None") else 0.0


CASES = [
    ("team=A", "r.team = 'A'"),
    ("team=B", "r.team = 'B'"),
    ("rep=r1", "o.owner_rep_id = 'r1'"),
    ("rep=r3", "o.owner_rep_id = 'r3'"),
    ("product=P1", "o.product = 'P1'"),
    ("segment=IT", "a.industry = 'IT'"),
    ("team=A&product=P2", "r.team = 'A' and o.product = 'P2'"),
]


@pytest.mark.parametrize("user", ["admin", "boss", "sato"])
@pytest.mark.parametrize(("query", "where"), CASES)
def test_filtered_bookings_equal_sql_and_stay_in_scope(
    client: TestClient, user: str, query: str, where: str
) -> None:
    login(client, user)
    html = client.get(f"/?period={FY}&{query}").text
    assert bookings_on_page(html) == pytest.approx(sql_bookings(user, where))


def test_selects_offer_only_the_persons_rows(client: TestClient) -> None:
    html = login(client, "boss").get(f"/?period={FY}").text
    assert 'id="f-team"' not in html  # one team in scope: nothing to choose
    at = html.index('id="f-rep"')
    reps = html[at : html.index("</select>", at)]
    assert 'value="r1"' in reps and 'value="r2"' in reps and 'value="r3"' not in reps
    admin = login(client, "admin").get(f"/?period={FY}").text
    at = admin.index('id="f-team"')
    assert 'value="B"' in admin[at : admin.index("</select>", at)]
    html = login(client, "boss").get(f"/?period={FY}").text
    assert "田中" not in html and HOSTILE not in html  # r3's name and r3's product
    period = html[html.index('id="f-period"') :]
    assert 'value="FY2025" selected' in period and 'value="FY2025-Q1"' in period
    rep = login(client, "sato").get(f"/?period={FY}").text
    assert 'id="f-rep"' not in rep  # themself only: nothing to choose


def test_links_keep_the_view(client: TestClient) -> None:
    html = login(client, "admin").get(f"/?period={FY}&team=A&product=P1").text
    assert f'href="/metrics?period={FY}&amp;team=A&amp;product=P1"' in html
    assert f'href="/steps/measure?period={FY}&amp;team=A&amp;product=P1"' in html
    assert 'id="clear-filters"' in html


def test_exports_obey_scope_under_filters(client: TestClient) -> None:
    login(client, "sato")
    r = client.get(f"/metrics/records?metric=bookings&period={FY}&rep=r3")
    assert r.status_code == 200
    assert not shows_id(r.text, "o4") and not shows_id(r.text, "o3")


# ------------------------------------------------------------------------ the pipeline review

AS_OF = "2025-05-10"  # the company's data reaches this day (the review day)


def sql_open_deals(user: str, where: str = "true") -> dict[str, dict[str, object]]:
    """Deals open at the end of the review day among the user's reps' deals (SQL)."""
    con = duckdb.connect()
    con.register("opportunities", pa.Table.from_pylist([dict(r) for r in ROWS["opportunities"]]))
    rows = con.execute(
        f"""select opportunity_id, amount, expected_close_date::date < ?::date as past_due
        from opportunities where owner_rep_id in (select unnest(?))
        and created_at::timestamp < ?::date + 1
        and (closed_at is null or closed_at::timestamp >= ?::date + 1) and ({where})""",
        [AS_OF, list(REPS[user]), AS_OF, AS_OF],
    ).fetchall()
    return {r[0]: {"amount": r[1], "past_due": int(r[2])} for r in rows}


@pytest.mark.parametrize("user", ["admin", "boss", "sato"])
def test_pipeline_lists_the_open_deals_of_the_scope(client: TestClient, user: str) -> None:
    login(client, user)
    html = client.get("/pipeline").text
    want = sql_open_deals(user)
    got = re.findall(r'<tr data-id="([^"]+)" data-flags="([^"]*)"', html)
    assert {i for i, _ in got} == set(want)
    for i, flags in got:
        assert ("past_due" in flags.split()) == bool(want[i]["past_due"])
    assert f'data-total="{len(want)}"' in html
    csv_text = client.get("/pipeline.csv").text
    ids = {line.split(",")[0] for line in csv_text.splitlines()[1:]}
    assert ids == set(want)
    for other in {"o1", "o2", "o3", "o4", "o5"} - set(want):
        assert other not in csv_text
    r = client.get("/pipeline.xlsx")
    assert r.status_code == 200 and r.content[:2] == b"PK"


def test_pipeline_filters_and_changes_stay_in_scope(client: TestClient) -> None:
    login(client, "boss")
    html = client.get("/pipeline?team=B&since=2025-04-10").text
    # team B's deals: outside the manager's scope
    assert not shows_id(html, "o5") and not shows_id(html, "o4")
    html = client.get("/pipeline?since=2025-04-10").text
    changed = dict(re.findall(r'<tr data-id="([^"]+)" data-changes="([^"]*)"', html))
    assert changed == {"o1": "won stage", "o2": "lost", "o3": "won stage"}
    login(client, "admin")
    csv_text = client.get("/pipeline.csv?team=B").text
    assert "o5" in csv_text and "700000" in csv_text and "700000.0" not in csv_text
    assert "o5" not in client.get("/pipeline.csv?team=A").text
    bad = client.get("/pipeline?since=yesterday").text
    assert 'role="alert"' in bad


# ------------------------------------------------------------------------ the rep scorecard


@pytest.mark.parametrize(("user", "rep"), [("admin", "r1"), ("admin", "r3"), ("boss", "r2"),
                                           ("sato", "r1")])  # fmt: skip
def test_scorecard_numbers_equal_sql(client: TestClient, user: str, rep: str) -> None:
    login(client, user)
    html = client.get(f"/reps/{rep}?period={FY}").text
    m = re.search(r'<tr data-metric="bookings">.*?data-value="([^"]*)"', html, re.S)
    assert m
    assert float(m.group(1)) == pytest.approx(sql_bookings("admin", f"o.owner_rep_id = '{rep}'"))
    deals = set(re.findall(r'<tr data-id="([^"]+)" data-flags', html))
    assert deals == set(sql_open_deals("admin", f"owner_rep_id = '{rep}'"))


@pytest.mark.parametrize(("user", "rep"), [("boss", "r3"), ("sato", "r2"), ("sato", "m1")])
def test_scorecard_outside_scope_is_not_found(client: TestClient, user: str, rep: str) -> None:
    login(client, user)
    r = client.get(f"/reps/{rep}?period={FY}")
    assert r.status_code == 404
    assert "田中" not in r.text and "鈴木" not in r.text


# ------------------------------------------------------------------ grouped metrics by team


@pytest.mark.parametrize("user", ["admin", "boss"])
def test_team_table_has_one_column_per_team_equal_to_sql(client: TestClient, user: str) -> None:
    login(client, user)
    html = client.get(f"/metrics?by=team&metric=bookings&metric=win_rate&period={FY}").text
    table = html[
        html.index('id="team-table"') : html.index("</table>", html.index('id="team-table"'))
    ]
    teams = re.findall(r'<th data-team="([^"]+)"', table)
    assert teams == (["A", "B"] if user == "admin" else ["A"])
    row = table[table.index('data-metric="bookings"') :]
    for team in teams:
        got = re.search(rf'data-team="{team}" data-value="([^"]*)"', row)
        assert got and float(got.group(1)) == pytest.approx(
            sql_bookings(user, f"r.team = '{team}'")
        )
    assert "<svg" in table or "points" not in table  # trend lines are inline SVG


def test_spark_points_scale_into_the_box() -> None:
    from eigyo.app._team_table import SPARK_H, SPARK_W, spark_points

    assert spark_points([1.0]) == "" and spark_points([None, 2.0, None]) == ""
    pts = [tuple(map(float, p.split(","))) for p in spark_points([0.0, None, 10.0]).split()]
    assert pts == [(0.0, SPARK_H - 1), (SPARK_W, 1.0)]


def test_explorer_keeps_the_filters_in_its_form_and_drill_down(client: TestClient) -> None:
    login(client, "admin")
    html = client.get(f"/metrics?metric=bookings&by=team&period={FY}&product=P1").text
    assert '<input type="hidden" name="product" value="P1">' in html
    assert "&group=A&product=P1" in html
    r = client.get(f"/metrics/records?metric=bookings&period={FY}&by=team&group=B&product=P1")
    assert not shows_id(r.text, "o4")  # team B's won deal is not a P1 deal
