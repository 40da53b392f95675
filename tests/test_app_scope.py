"""The dashboard's row-level scoping layer and its user store, without HTTP.

A small two-team company is written by hand (ROWS). Each principal's visible ids are stated
here by reading the rules, and every metric a rep or manager gets through the scoped workspace
must equal the same metric computed by the registry on a *separate* workspace that holds only
their rows, filtered in plain Python — an independent query path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from eigyo.app import Principal, ScopedWorkspace, ScopeError, add_user, authenticate, list_users
from eigyo.app._users import hash_password, verify_password
from eigyo.base.periods import parse_period
from eigyo.errors import InputError
from eigyo.metrics import REGISTRY, compute
from eigyo.workspace import Workspace
from tests._rows import insert, new_ws

HOSTILE = "<script>alert('x')</script>"


def _opp(oid: str, rep: str, acc: str, amount: int, status: str, **kw: Any) -> dict[str, Any]:
    closed = kw.pop("closed_at", "2025-05-10 10:00:00" if status != "open" else None)
    return {"opportunity_id": oid, "owner_rep_id": rep, "account_id": acc, "amount": amount,
            "status": status, "created_at": "2025-04-02 09:00:00", "closed_at": closed,
            "expected_close_date": "2025-05-31", **kw}  # fmt: skip


ROWS: dict[str, list[dict[str, Any]]] = {
    "reps": [
        {"rep_id": "r1", "name": "佐藤", "team": "A", "role": "closer", "hire_date": "2024-01-01"},
        {"rep_id": "r2", "name": "鈴木", "team": "A", "role": "closer", "hire_date": "2024-01-01"},
        {"rep_id": "m1", "name": "高橋", "team": "A", "role": "manager", "hire_date": "2023-01-01"},
        {"rep_id": "r3", "name": "田中", "team": "B", "role": "closer", "hire_date": "2024-01-01"},
    ],
    "quotas": [
        {"rep_id": r, "period_start": "2025-04-01", "period_end": "2026-03-31", "amount": 2_000_000}
        for r in ("r1", "r2", "r3")
    ],
    "accounts": [
        {"account_id": "a1", "name": "Alpha", "industry": "IT", "owner_rep_id": "r1"},
        {"account_id": "a2", "name": HOSTILE, "industry": "製造", "owner_rep_id": "r3"},
        {"account_id": "a3", "name": "Gamma", "industry": "IT", "owner_rep_id": "r2"},
        {"account_id": "a4", "name": "Delta", "industry": "小売", "owner_rep_id": "r3"},
    ],
    "opportunities": [
        _opp("o1", "r1", "a1", 1_000_000, "won", closed_at="2025-05-01 10:00:00", product="P1"),
        _opp("o2", "r1", "a2", 500_000, "lost", product="P1", lost_reason="price"),
        _opp("o3", "r2", "a3", 2_000_000, "won", product="P2"),
        _opp("o4", "r3", "a2", 3_000_000, "won", product=HOSTILE),
        _opp("o5", "r3", "a4", 700_000, "open", product="P2"),
    ],
    "leads": [
        {
            "lead_id": "l1",
            "created_at": "2025-04-01 09:00:00",
            "owner_rep_id": "r1",
            "source": "web",
            "account_id": "a1",
            "mql_at": "2025-04-01 10:00:00",
            "first_response_at": "2025-04-01 10:30:00",
        },
        {
            "lead_id": "l2",
            "created_at": "2025-04-01 09:00:00",
            "owner_rep_id": "r3",
            "source": "event",
            "account_id": "a4",
            "mql_at": "2025-04-01 10:00:00",
        },
        {
            "lead_id": "l3",
            "created_at": "2025-04-03 09:00:00",
            "owner_rep_id": "r2",
            "source": "web",
            "account_id": "a3",
        },
    ],
    "stage_history": [
        {"opportunity_id": o, "stage": s, "entered_at": f"2025-04-{d:02d} 09:00:00"}
        for o in ("o1", "o3", "o4")
        for s, d in (("qualification", 2), ("proposal", 10), ("won", 20))
    ],
    "opportunity_changes": [
        {
            "opportunity_id": "o4",
            "changed_at": "2025-04-15 09:00:00",
            "field": "expected_close_date",
            "old_value": "2025-04-30",
            "new_value": "2025-05-31",
        },
    ],
    "activities": [
        {
            "activity_id": f"c{i}",
            "rep_id": rep,
            "type": "call",
            "occurred_at": "2025-04-07 10:00:00",
            "outcome": out,
            "account_id": acc,
        }
        for i, (rep, out, acc) in enumerate(
            [
                ("r1", "connected", "a1"),
                ("r1", "no_answer", "a2"),
                ("r2", "connected", "a3"),
                ("r3", "connected", "a2"),
            ]
        )
    ],
    "time_entries": [
        {"rep_id": r, "date": "2025-04-07", "category": c, "hours": h}
        for r in ("r1", "r2", "r3")
        for c, h in (("selling", 5), ("admin", 3))
    ],
    "orders": [
        {
            "order_id": "x1",
            "account_id": "a1",
            "ordered_at": "2025-05-02 10:00:00",
            "amount": 1_000_000,
            "opportunity_id": "o1",
        },
        {
            "order_id": "x2",
            "account_id": "a2",
            "ordered_at": "2025-05-11 10:00:00",
            "amount": 3_000_000,
            "opportunity_id": "o4",
        },
    ],
    "interventions": [
        {
            "intervention_id": "i1",
            "name": "coaching B",
            "started_at": "2025-04-01 00:00:00",
            "scope": "r3",
        },
        {"intervention_id": "i2", "name": "all hands", "started_at": "2025-04-01 00:00:00"},
        {
            "intervention_id": "i3",
            "name": "team A",
            "started_at": "2025-04-01 00:00:00",
            "scope": "A, r9",
        },
    ],
}

ADMIN = Principal("admin", "admin")
MANAGER_A = Principal("boss", "manager", rep_id="m1", team="A")
REP_1 = Principal("sato", "rep", rep_id="r1", team="A")
REP_3 = Principal("tanaka", "rep", rep_id="r3", team="B")
NOBODY = Principal("ghost", "rep")  # a rep account whose rep_id was never set

#: What each principal may see, by reading the rules in eigyo.app._scope (not by running them).
VISIBLE: dict[str, dict[str, set[str]]] = {
    "sato": {
        "reps": {"r1"}, "opportunities": {"o1", "o2"}, "leads": {"l1"},
        "accounts": {"a1", "a2"}, "activities": {"c0", "c1"}, "orders": {"x1"},
        "interventions": {"i2", "i3"}, "stage_history": {"o1"}, "opportunity_changes": set(),
    },
    "tanaka": {
        "reps": {"r3"}, "opportunities": {"o4", "o5"}, "leads": {"l2"},
        "accounts": {"a2", "a4"}, "activities": {"c3"}, "orders": {"x2"},
        "interventions": {"i1", "i2"}, "stage_history": {"o4"}, "opportunity_changes": {"o4"},
    },
    "boss": {
        "reps": {"r1", "r2", "m1"}, "opportunities": {"o1", "o2", "o3"}, "leads": {"l1", "l3"},
        "accounts": {"a1", "a2", "a3"}, "activities": {"c0", "c1", "c2"}, "orders": {"x1"},
        "interventions": {"i2", "i3"}, "stage_history": {"o1", "o3"},
        "opportunity_changes": set(),
    },
    "ghost": {t: set() for t in ("reps", "opportunities", "leads", "accounts", "orders")},
}  # fmt: skip
ID_COLUMN = {
    "reps": "rep_id", "opportunities": "opportunity_id", "leads": "lead_id",
    "accounts": "account_id", "activities": "activity_id", "orders": "order_id",
    "interventions": "intervention_id", "stage_history": "opportunity_id",
    "opportunity_changes": "opportunity_id",
}  # fmt: skip
FY = "FY2025"


def company(
    tmp_path: Path, name: str = "w", rows: dict[str, list[dict[str, Any]]] = ROWS
) -> Workspace:
    ws = new_ws(tmp_path, name)
    for table, data in rows.items():
        insert(ws, table, data)
    return ws


def only(visible: dict[str, set[str]]) -> dict[str, list[dict[str, Any]]]:
    """ROWS cut down in plain Python to what one principal sees (the independent path)."""
    reps = visible["reps"]
    opps = visible["opportunities"]
    keep: dict[str, list[dict[str, Any]]] = {}
    for table, rows in ROWS.items():
        if table in ID_COLUMN and table in visible:
            col = ID_COLUMN[table]
            keep[table] = [r for r in rows if r[col] in visible[table]]
        elif table in ("quotas", "time_entries"):
            keep[table] = [r for r in rows if r["rep_id"] in reps]
        else:
            keep[table] = [r for r in rows if r.get("opportunity_id") in opps]
    return keep


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return company(tmp_path_factory.mktemp("scope"))


def ids(sws: ScopedWorkspace, table: str) -> set[str]:
    col = ID_COLUMN[table]
    return set(sws.table(table).select(col).to_pyarrow().column(0).to_pylist())


@pytest.mark.parametrize("who", [REP_1, REP_3, MANAGER_A, NOBODY], ids=lambda p: p.username)
def test_each_principal_sees_exactly_their_rows(ws: Workspace, who: Principal) -> None:
    sws = ScopedWorkspace(ws, who)
    for table, expected in VISIBLE[who.username].items():
        assert ids(sws, table) == expected, table


def test_admin_sees_everything(ws: Workspace) -> None:
    sws = ScopedWorkspace(ws, ADMIN)
    for table in ("reps", "opportunities", "leads", "accounts", "orders", "interventions"):
        assert sws.count(table) == len(ROWS[table])
    assert sws.table("_imports").count().to_pyarrow().as_py() == 0


@pytest.mark.parametrize("who", [REP_1, MANAGER_A], ids=lambda p: p.username)
def test_bypasses_are_refused(ws: Workspace, who: Principal) -> None:
    sws = ScopedWorkspace(ws, who)
    for table in ("_imports", "_rejects", "_users", "no_such_table"):
        with pytest.raises(ScopeError):
            sws.table(table)
    for attr in ("raw", "con", "engine"):
        with pytest.raises(ScopeError):
            getattr(sws, attr)
    with pytest.raises(ScopeError), sws.transaction():
        pass
    assert isinstance(ScopeError("x"), PermissionError)


@pytest.mark.parametrize("who", [REP_1, REP_3, MANAGER_A], ids=lambda p: p.username)
def test_metrics_equal_an_independent_workspace_of_their_rows(
    ws: Workspace, tmp_path: Path, who: Principal
) -> None:
    """Every registry metric, whole and by rep, on the scoped view = on a copy of their rows."""
    p = parse_period(FY)
    mine = company(tmp_path, "mine", only(VISIBLE[who.username]))
    sws = ScopedWorkspace(ws, who)
    for by in (None, "team"):
        got = {(v.id, tuple(v.by.items())): v.value for v in compute(sws, p, None, by)}
        want = {(v.id, tuple(v.by.items())): v.value for v in compute(mine, p, None, by)}
        assert got == pytest.approx(want), by
    assert len(REGISTRY) > 20


def test_hand_computed_bookings(ws: Workspace) -> None:
    p = parse_period(FY)

    def bookings(who: Principal) -> float | None:
        return compute(ScopedWorkspace(ws, who), p, ["bookings"])[0].value

    assert bookings(ADMIN) == 6_500_000 - 500_000
    assert bookings(MANAGER_A) == 3_000_000
    assert bookings(REP_1) == 1_000_000
    assert bookings(REP_3) == 3_000_000
    assert compute(ScopedWorkspace(ws, REP_1), p, ["win_rate"])[0].value == 0.5


def test_passwords_are_salted_scrypt_and_checked(tmp_path: Path) -> None:
    h1, h2 = hash_password("correct horse"), hash_password("correct horse")
    assert h1 != h2 and h1.startswith("scrypt$") and "correct" not in h1
    assert verify_password("correct horse", h1)
    assert not verify_password("correct horsE", h1)
    assert not verify_password("x", "garbage")
    w = new_ws(tmp_path)
    add_user(w, "sato", "password-1", "rep", rep_id="r1")
    assert authenticate(w, "sato", "password-1") is not None
    assert authenticate(w, "sato", "password-2") is None
    assert authenticate(w, "nobody", "password-1") is None
    stored = w.raw.execute("SELECT password_hash FROM _users").fetchall()[0][0]
    assert "password-1" not in stored


@pytest.mark.parametrize(
    ("name", "role", "kw", "message"),
    [
        ("x y", "rep", {"rep_id": "r1"}, "User name"),
        ("u", "boss", {}, "--role"),
        ("u", "rep", {}, "--rep-id"),
        ("u", "manager", {}, "--team"),
    ],
)
def test_bad_users_are_refused(
    tmp_path: Path, name: str, role: str, kw: dict[str, str], message: str
) -> None:
    w = new_ws(tmp_path)
    with pytest.raises(InputError, match=message):
        add_user(w, name, "long-enough", role, **kw)
    with pytest.raises(InputError, match="at least"):
        add_user(w, "u", "short", "admin")
    add_user(w, "u", "long-enough", "admin")
    with pytest.raises(InputError, match="exists"):
        add_user(w, "u", "long-enough", "admin")
    add_user(w, "u", "long-enough-2", "manager", team="A", replace=True)
    assert [(u.username, u.role, u.team) for u in list_users(w)] == [("u", "manager", "A")]
