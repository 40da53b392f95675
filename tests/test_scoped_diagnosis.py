"""Scoped diagnosis through the dashboard (issue 17, item 7) on the demo company.

A copy of the planted demo company (seed 0) is served by the real app (FastAPI TestClient, the
real DuckDB workspace) with an admin, the manager of the team planted with a low win rate
(truth.json P01), the manager of the team of the rep planted with a slow hand-off (P04), that
rep, and a rep of the low-win-rate team. Every expectation is read from truth.json, from
``eigyo diagnose`` on the whole workspace, or from plain SQL on the database — never from the
dashboard's own filtering code:

* the admin's ``/api/findings`` is exactly ``diagnose(ws)``'s list (ids, in order);
* the manager sees their team's win-rate error (which the old per-scope diagnosis could not
  raise) with the team's figures as SQL counts them, and nothing scoped to another team or to a
  rep outside the team; no outsider's name or rep id is anywhere in what they read;
* a rep sees their own rep findings and organization findings, never a teammate's;
* import_quality says "not available to your role" to both, in ja and en;
* the organization's diagnosis runs once for all of them.

The pure rules of :mod:`eigyo.app._findings_scope` (roll-up members, fail-closed scope keys,
overlaps) are tested at the end on hand-made findings.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import duckdb
import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

from eigyo.app import Principal, ScopedWorkspace, add_user, create_app
from eigyo.app import _views as views
from eigyo.app._findings_scope import Audience, visible_findings
from eigyo.base.periods import parse_period
from eigyo.diagnose import Finding, diagnose
from eigyo.workspace import DB_FILE, open_workspace
from tests.conftest import Demo

PASSWORD = "s3cret-pass"
FY = "FY2025"
FY_START, FY_END = "2025-04-01", "2026-04-01"


def _problem(demo: Demo, check: str) -> dict[str, Any]:
    truth = json.loads(demo.data.truth_path.read_text(encoding="utf-8"))
    return next(p for p in truth["problems"] if p["check"] == check)


@pytest.fixture(scope="module")
def org(demo_company: Demo, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A writable copy with users, the facts SQL says about it, and the whole diagnosis."""
    path = demo_company.copy(tmp_path_factory.mktemp("scoped") / "ws")
    low_team = _problem(demo_company, "kpi_gap_by_team")["scope"]["team"]
    slow_rep = _problem(demo_company, "handoff_delay")["scope"]["rep_id"]
    con = duckdb.connect(str(path / DB_FILE), read_only=True)
    try:
        reps = con.execute("SELECT rep_id, name, team FROM reps ORDER BY rep_id").fetchall()
        interventions = dict(
            con.execute("SELECT intervention_id, scope FROM interventions").fetchall()
        )
        closed = con.execute(
            "SELECT count(*), sum(CAST(o.status = 'won' AS INTEGER)) FROM opportunities o "
            "JOIN reps r ON r.rep_id = o.owner_rep_id WHERE r.team = ? AND o.type = 'new' "
            "AND o.status IN ('won', 'lost') AND o.closed_at >= ? AND o.closed_at < ?",
            [low_team, FY_START, FY_END],
        ).fetchall()[0]
    finally:
        con.close()
    team_of = {r: t for r, _, t in reps}
    slow_team = team_of[slow_rep]
    low_rep = next(r for r, _, t in reps if t == low_team)
    with open_workspace(path) as ws:
        period = parse_period(FY, ws.settings.fiscal_year_start_month)
        whole = diagnose(ws, period)
        # what the dashboard showed before: the diagnosis of the manager's rows alone
        old_manager = diagnose(
            ScopedWorkspace(ws, Principal("x", "manager", team=low_team)), period
        )
        add_user(ws, "admin", PASSWORD, "admin")
        add_user(ws, "low_mgr", PASSWORD, "manager", team=low_team)
        add_user(ws, "slow_mgr", PASSWORD, "manager", team=slow_team)
        add_user(ws, "slow_rep", PASSWORD, "rep", rep_id=slow_rep, team=slow_team)
        add_user(ws, "low_rep", PASSWORD, "rep", rep_id=low_rep, team=low_team)
    return {
        "path": path,
        "reps": reps,
        "team_of": team_of,
        "low_team": low_team,
        "low_closed": closed,
        "slow_rep": slow_rep,
        "slow_team": slow_team,
        "low_rep": low_rep,
        "whole": whole,
        "old_manager": old_manager,
        "interventions": interventions,
    }


@pytest.fixture(scope="module")
def runs() -> Iterator[list[int]]:
    """Counts the organization diagnoses the app runs (each call appends 1)."""
    calls: list[int] = []
    real = views.diagnose

    def counted(*args: Any, **kwargs: Any) -> list[Finding]:
        calls.append(1)
        return real(*args, **kwargs)

    mp = pytest.MonkeyPatch()
    mp.setattr(views, "diagnose", counted)
    try:
        yield calls
    finally:
        mp.undo()


@pytest.fixture(scope="module")
def client(org: dict[str, Any], runs: list[int]) -> Iterator[TestClient]:
    with TestClient(create_app(org["path"])) as c:
        yield c


def login(client: TestClient, user: str) -> TestClient:
    client.cookies.clear()
    page = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    r = client.post("/login", data={"username": user, "password": PASSWORD,
                                    "csrf_token": token.group(1), "next": "/"},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text
    return client


def api_findings(client: TestClient, user: str, lang: str = "ja") -> list[dict[str, Any]]:
    login(client, user)
    r = client.get("/api/findings", params={"period": FY, "lang": lang})
    assert r.status_code == 200, r.text
    assert r.json()["period"] == FY
    return r.json()["findings"]  # type: ignore[no-any-return]


def outsiders(org: dict[str, Any], reps: set[str], teams: set[str]) -> set[str]:
    """Every rep id, rep name and team name outside ``reps`` / ``teams`` (by SQL)."""
    out: set[str] = set()
    for rep_id, name, team in org["reps"]:
        if rep_id not in reps:
            out |= {rep_id, name}
        if team not in teams:
            out.add(team)
    return out


def assert_names_nobody(found: list[dict[str, Any]], names: set[str]) -> None:
    for f in found:
        text = json.dumps(f, ensure_ascii=False)
        leaked = sorted(n for n in names if n in text)
        assert not leaked, (f["check"], f["scope"], leaked)


def test_admin_sees_exactly_eigyo_diagnose(client: TestClient, org: dict[str, Any]) -> None:
    got = api_findings(client, "admin")
    assert [f["id"] for f in got] == [f.id for f in org["whole"]]
    assert [f["severity"] for f in got] == [f.severity for f in org["whole"]]
    admin_quality = [f for f in got if f["check"] == "import_quality"]
    assert admin_quality and all(
        f["evidence"].get("status") != "not_available_role" for f in admin_quality
    )


def test_manager_sees_their_teams_error_against_the_rest(
    client: TestClient, org: dict[str, Any]
) -> None:
    team = org["low_team"]
    n, won = org["low_closed"]
    got = api_findings(client, "low_mgr")
    gap = [f for f in got if f["check"] == "kpi_gap_by_team" and f["scope"] == {"team": team}]
    assert len(gap) == 1 and gap[0]["severity"] == "error"
    ev = gap[0]["evidence"]
    assert ev["n"] == n and ev["successes"] == won and ev["value"] == round(won / n, 4)
    assert ev["baseline_kind"] == "peers" and ev["baseline_n"] > 0  # the rest: an aggregate
    # the same finding as the organization's diagnosis, under the same id
    assert gap[0]["id"] in {f.id for f in org["whole"]}
    # before: the diagnosis of the team's own rows compared the team with itself
    assert not [f for f in org["old_manager"] if f.check == "kpi_gap_by_team" and f.is_alarm]
    # the page shows it too, in Japanese
    login(client, "low_mgr")
    page = client.get("/steps/measure", params={"period": FY})
    assert page.status_code == 200 and f"{team} の受注率" in page.text


def test_manager_sees_nothing_of_other_teams(client: TestClient, org: dict[str, Any]) -> None:
    team = org["low_team"]
    members = {r for r, t in org["team_of"].items() if t == team}
    for lang in ("ja", "en"):
        got = api_findings(client, "low_mgr", lang)
        for f in got:
            assert f["scope"].get("team", team) == team, f
            assert f["scope"].get("rep_id", next(iter(members))) in members, f
        assert_names_nobody(got, outsiders(org, members, {team}))
    # every team or team-rep finding of the organization's diagnosis on this team is there
    mine = {
        f.id
        for f in org["whole"]
        if f.scope.get("team") == team or f.scope.get("rep_id") in members
    }
    assert mine <= {f["id"] for f in got}


def test_manager_sees_their_reps(client: TestClient, org: dict[str, Any]) -> None:
    rep = org["slow_rep"]
    expected = {f.id for f in org["whole"] if f.scope == {"rep_id": rep}}
    assert expected  # truth.json P04: the slow hand-off
    got = api_findings(client, "slow_mgr")
    assert expected <= {f["id"] for f in got}


def test_rep_sees_own_findings_never_teammates(client: TestClient, org: dict[str, Any]) -> None:
    rep = org["slow_rep"]
    own = [f for f in org["whole"] if f.scope.get("rep_id") == rep]
    assert {f.check for f in own} >= {"handoff_delay"}
    for lang in ("ja", "en"):
        got = api_findings(client, "slow_rep", lang)
        assert {f["id"] for f in got if "rep_id" in f["scope"]} == {f.id for f in own}
        for f in got:
            assert f["scope"].get("team", org["slow_team"]) == org["slow_team"], f
            if "intervention_id" in f["scope"]:  # one that names the rep or their team
                names = org["interventions"][f["scope"]["intervention_id"]] or ""
                assert {rep, org["slow_team"]} & set(names.replace(" ", "").split(",")), f
        assert_names_nobody(got, outsiders(org, {rep}, {org["slow_team"]}))
    # organization findings (no scope) are there, as the admin reads them
    org_ids = {f.id for f in org["whole"] if not f.scope and f.check != "import_quality"}
    assert org_ids <= {f["id"] for f in got}


def test_rep_sees_their_teams_finding_without_teammates(
    client: TestClient, org: dict[str, Any]
) -> None:
    team, rep = org["low_team"], org["low_rep"]
    got = api_findings(client, "low_rep", "en")
    gap = [f for f in got if f["check"] == "kpi_gap_by_team"]
    assert [f["scope"] for f in gap] == [{"team": team}]
    assert not [f for f in got if f["scope"].get("rep_id") not in (None, rep)]
    assert_names_nobody(got, outsiders(org, {rep}, {team}))


@pytest.mark.parametrize(("user", "role"), [("low_mgr", "Manager"), ("slow_rep", "Rep")])
def test_admin_only_check_says_not_available_to_the_role(
    client: TestClient, user: str, role: str
) -> None:
    en = [f for f in api_findings(client, user, "en") if f["check"] == "import_quality"]
    ja = [f for f in api_findings(client, user, "ja") if f["check"] == "import_quality"]
    assert len(en) == len(ja) == 1
    assert en[0]["severity"] == "info" and en[0]["scope"] == {}
    assert en[0]["evidence"] == {"status": "not_available_role", "role": role.lower(),
                                 "roles": ["admin"]}  # fmt: skip
    assert "not available to your role" in en[0]["title"] and role in en[0]["title"]
    assert "あなたの役割" in ja[0]["title"] and "表示できません" in ja[0]["title"]


def test_a_check_flagged_elsewhere_says_no_alarm_in_your_scope(
    client: TestClient, org: dict[str, Any]
) -> None:
    # lead_response_sla is planted on another team (truth.json P05)
    elsewhere = {f.scope.get("team") for f in org["whole"] if f.check == "lead_response_sla"}
    assert org["low_team"] not in elsewhere
    got = [f for f in api_findings(client, "low_mgr", "en") if f["check"] == "lead_response_sla"]
    assert len(got) == 1 and got[0]["severity"] == "ok"
    assert got[0]["evidence"] == {"status": "none_in_scope"}
    assert "no alarm in your scope" in got[0]["title"]


def test_the_diagnosis_runs_once_for_everyone(client: TestClient, runs: list[int]) -> None:
    for user in ("admin", "low_mgr", "slow_mgr", "slow_rep", "low_rep"):
        api_findings(client, user)
        login(client, user)
        assert client.get("/", params={"period": FY}).status_code == 200
    assert len(runs) == 1


# ------------------------------------------------------------------ the pure rules


def _finding(check: str, scope: dict[str, str], **evidence: Any) -> Finding:
    text = {"ja": json.dumps(evidence, ensure_ascii=False), "en": "x"}
    return Finding(step="measure", check=check, severity="warn", metric=None, scope=scope,
                   evidence=evidence, cause=text, actions=[text], title=text)  # fmt: skip


MANAGER = Audience(
    "manager",
    team="A",
    reps=frozenset({"r1", "r2"}),
    teams=frozenset({"A"}),
    hidden=frozenset({"r3", "田中", "B"}),
    shown=frozenset({"r1", "r2", "佐藤", "A"}),
)


def test_roll_up_members_and_name_lists_keep_only_the_scope() -> None:
    org_rollup = _finding(
        "slippage_by_rep",
        {},
        level="organization",
        members=[
            {"team": "A", "members": [{"rep_id": "r1"}, {"rep_id": "r3", "rep_name": "田中"}]},
            {"team": "B", "members": [{"rep_id": "r3"}]},
        ],
        teams_below=["A", "B"],
        note="田中 and B",
    )
    (got,) = visible_findings([org_rollup], MANAGER)
    assert got.evidence["members"] == [{"team": "A", "members": [{"rep_id": "r1"}],
                                        "members_hidden": 1}]  # fmt: skip
    assert got.evidence["members_hidden"] == 1
    assert got.evidence["teams_below"] == ["A"]
    assert "note" not in got.evidence and got.evidence["redacted"] == ["note"]
    for lang in ("ja", "en"):  # re-rendered from the playbook with the visible members only
        texts = [got.title[lang], got.cause[lang], *(a[lang] for a in got.actions)]
        assert not [x for x in texts if "田中" in x or "r3" in x], texts
    team = _finding("kpi_gap_by_team", {"team": "A"}, value=0.1, note="田中")
    (scrubbed,) = visible_findings([team], MANAGER)
    assert "田中" not in scrubbed.title["ja"] and "（非表示）" in scrubbed.title["ja"]
    assert scrubbed.actions[0]["ja"] == scrubbed.title["ja"]
    assert org_rollup.evidence["teams_below"] == ["A", "B"]  # the shared finding is untouched


def test_unknown_scope_keys_and_hidden_overlaps_fail_closed() -> None:
    mine = _finding("kpi_gap_by_team", {"team": "A"})
    other = _finding("kpi_gap_by_team", {"team": "B"})
    odd = _finding("stale_deals", {"opportunity_id": "o1"})
    mine.overlaps = [other.id]
    got = visible_findings([mine, other, odd], MANAGER)
    assert [(f.check, f.scope) for f in got] == [("kpi_gap_by_team", {"team": "A"}),
                                                 ("stale_deals", {})]  # fmt: skip
    assert got[0].overlaps == [] and got[1].evidence == {"status": "none_in_scope"}
    assert visible_findings([mine, other, odd], Audience("admin")) == [mine, other, odd]


def test_a_rep_reads_their_teams_roll_up_with_only_themselves_named() -> None:
    rep = Audience(
        "rep",
        rep_id="r1",
        team="A",
        reps=frozenset({"r1"}),
        teams=frozenset({"A"}),
        hidden=frozenset({"r2", "鈴木", "m1", "高橋", "r3", "田中", "B班"}),
        shown=frozenset({"r1", "佐藤", "A"}),
    )
    members = [
        {"rep_id": "r1", "rep_name": "佐藤", "value": 0.6},
        {"rep_id": "r2", "rep_name": "鈴木", "value": 0.7},
        {"rep_id": "m1", "rep_name": "高橋", "value": 0.5},
    ]
    team = _finding("slippage_by_rep", {"team": "A"}, level="team", members=members, n=30,
                    value=0.6, baseline=0.2, q_value=0.001)  # fmt: skip
    teammate = _finding("slippage_by_rep", {"rep_id": "r2"}, rep_name="鈴木")
    (got,) = visible_findings([team, teammate], rep)
    assert got.scope == {"team": "A"}
    assert got.evidence["members"] == [members[0]] and got.evidence["members_hidden"] == 2
    assert "佐藤" in got.cause["ja"] and "ほか 2 件（閲覧範囲外）" in got.cause["ja"]
    assert "and 2 outside your scope" in got.cause["en"]
    for lang in ("ja", "en"):
        texts = [got.title[lang], got.cause[lang], *(a[lang] for a in got.actions)]
        assert not [x for x in texts if any(n in x for n in rep.hidden)], texts
