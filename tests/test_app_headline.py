"""The ten-second headline (issue 18 item 3) on the dashboard's overview and the report.

Every number is checked against an independent DuckDB query over the hand-made company of
test_app_scope (its rows, not the workspace): bookings = Σ won amount closed in the period,
plan = Σ quotas pro-rated to the period, attainment = bookings ÷ plan, the share of the period
elapsed at the data's last day — for the admin, the manager of team A and rep r1, each on their
own rows. Also: 億/万 formatting, owners of the top actions, statistics collapsed, and a fiscal
year's card showing 前年比 alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

from eigyo.app import add_user, create_app
from eigyo.base.periods import parse_period
from eigyo.diagnose.model import Finding
from eigyo.report import ReportInput, render_html, report_model
from eigyo.report._headline import owner_of, team_managers
from tests.test_app import PASSWORD, USERS, login
from tests.test_app_scope import FY, ROWS, company

#: The reps each user sees (the scoping rules: a manager their team and themself).
REPS = {"admin": ("r1", "r2", "r3", "m1"), "boss": ("r1", "r2", "m1"), "sato": ("r1",)}
START, END = date(2025, 4, 1), date(2026, 3, 31)


def _sql() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for name in ("opportunities", "quotas", "leads", "activities"):
        rows = [dict(r) for r in ROWS[name]]
        con.register(f"{name}_raw", pa.Table.from_pylist(rows))
    con.execute("""create view opps as select opportunity_id, owner_rep_id, status,
        amount::double amount, created_at::timestamp created_at, closed_at::timestamp closed_at
        from opportunities_raw""")
    return con


def expected(user: str) -> dict[str, float]:
    """The headline's numbers by SQL over the company's rows the user may see."""
    con, reps = _sql(), list(REPS[user])
    booked = con.execute(
        """select coalesce(sum(amount), 0) from opps where status = 'won' and owner_rep_id in
        (select unnest(?)) and closed_at >= ? and closed_at < ?::date + 1""",
        [reps, START, END],
    ).fetchall()[0][0]
    plan = con.execute(
        """select sum(amount::double * (datediff('day', greatest(period_start::date, ?),
        least(period_end::date, ?)) + 1) / (datediff('day', period_start::date,
        period_end::date) + 1)) from quotas_raw where rep_id in (select unnest(?))
        and period_start::date <= ? and period_end::date >= ?""",
        [START, END, reps, END, START],
    ).fetchall()[0][0]
    last = con.execute(
        """select max(d) from (select greatest(max(created_at), max(closed_at))::date d from opps
        where owner_rep_id in (select unnest(?)))""",
        [reps],
    ).fetchall()[0][0]
    return {"bookings": booked, "plan": plan, "attainment": booked / plan,
            "elapsed": ((last - START).days + 1) / ((END - START).days + 1)}  # fmt: skip


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("headline")
    with company(root) as ws:
        for name, (role, rep, team) in USERS.items():
            add_user(ws, name, PASSWORD, role, rep_id=rep, team=team)
    with TestClient(create_app(root / "w")) as c:
        yield c


def _values(html: str) -> dict[str, float]:
    return {k: float(v) for k, v in re.findall(r'id="hl-(\w+)" data-value="([0-9.e+-]+)"', html)}


@pytest.mark.parametrize("user", ["admin", "boss", "sato"])
def test_headline_numbers_equal_sql(client: TestClient, user: str) -> None:
    html = login(client, user).get(f"/?period={FY}").text
    got, want = _values(html), expected(user)
    assert got["bookings"] == pytest.approx(want["bookings"])
    assert got["plan"] == pytest.approx(want["plan"])
    assert got["attainment"] == pytest.approx(want["attainment"])
    assert got["pace"] == pytest.approx(want["elapsed"])
    # the period is not over: it lands at least at what is booked
    assert got["landing"] >= want["bookings"]
    assert 'id="headline"' in html and html.index('id="headline"') < html.index('id="kpis"')


def test_headline_reads_in_oku_man_and_in_english(client: TestClient) -> None:
    login(client, "boss")
    ja = client.get(f"/?period={FY}").text
    assert ">¥300万<" in ja and ">¥400万<" in ja and "75.0%" in ja
    assert "ペースは計画どおり" in ja  # 75% of plan booked with 11% of the year gone
    client.get("/lang/en?next=/", follow_redirects=False)
    en = client.get(f"/?period={FY}").text
    assert ">¥3M<" in en and "Bookings" in en and "of the period elapsed" in en
    client.get("/lang/ja?next=/", follow_redirects=False)


def test_fiscal_year_card_shows_one_change_not_two(client: TestClient) -> None:
    html = login(client, "admin").get(f"/?period={FY}").text
    kpis = html[html.index('id="kpis"') :]
    assert "前期比" not in kpis
    quarter = client.get("/?period=FY2025-Q2").text
    assert "前期比" in quarter[quarter.index('id="kpis"') :]


def test_owners_are_the_rep_or_the_team_manager(tmp_path: Path) -> None:
    ws = company(tmp_path)

    def f(scope: dict[str, str]) -> Finding:
        return Finding("measure", "x", "warn", None, scope, {}, {}, [{"ja": "a", "en": "a"}])

    managers = team_managers(ws)
    names = {"r1": "佐藤"}
    assert managers == {"A": "高橋"}
    assert owner_of(f({"team": "A"}), managers, names) == "高橋"
    assert owner_of(f({"rep_id": "r1"}), managers, names) == "佐藤"
    assert owner_of(f({}), managers, names) is None  # the head of sales


def test_report_first_screen_has_the_headline(tmp_path: Path) -> None:
    ws = company(tmp_path)
    p = parse_period(FY, 4)
    acts = [{"ja": "A チームの商談を見直す", "en": "Review team A's deals"}]
    finding = Finding("measure", "win_rate", "warn", "win_rate", {"team": "A"},
                      {"value": 0.3, "q_value": 0.01}, {"ja": "c", "en": "c"}, acts,
                      impact_jpy=170_313_202.0)  # fmt: skip
    inp = ReportInput("Co", p, datetime(2026, 1, 1), findings=[finding])
    html = render_html(report_model(ws, inp, "ja", formats=("html",), steps=()))
    head = html[html.index('id="headline"') : html.index("</section>", html.index('id="headline"'))]
    assert "¥600万" in head and "100.0%" in head
    assert "¥1.7億" in head  # the ¥ at stake, counted once, compact
    assert "A チームの商談を見直す" in head and "高橋" in head
    # statistics one click away
    art = html[html.index('data-check="win_rate"') :]
    assert art.index("<details") < art.index('class="evidence"')
