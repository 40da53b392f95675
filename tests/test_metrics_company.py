"""A tiny hand-made company whose metrics are worked out by hand in test_metrics_values.py.

Main period: April 2025 (30 days; 21 business days: 22 weekdays less Showa Day, 29 April).
The previous same-length period (for NRR) is 2025-03-02..2025-03-31.

Reps: r1 (team A, closer), r2 (team A, sdr), r3 (team B, generalist), r4 (team B, manager).
"""

from __future__ import annotations

from pathlib import Path

from eigyo import workspace
from eigyo.workspace import Workspace

N = None

REPS = [
    ("r1", "A", "closer", "2020-04-01"),
    ("r2", "A", "sdr", "2021-04-01"),
    ("r3", "B", "generalist", "2022-04-01"),
    ("r4", "B", "manager", "2019-04-01"),
]
# account_id, industry, region, employees
ACCOUNTS = [
    ("a1", "IT", "Tokyo", 30),
    ("a2", "Mfg", "Osaka", 500),
    ("a3", "IT", "Osaka", N),
    ("a4", "Retail", "Tokyo", 2000),
]
# rep_id, period_start, period_end, amount
QUOTAS = [
    ("r1", "2025-04-16", "2025-05-15", 8_000_000),  # 15 of 30 days in April → 4,000,000
    ("r2", "2025-04-01", "2025-04-30", 1_000_000),  # all of April → 1,000,000
    ("r3", "2025-01-01", "2025-03-31", 5_000_000),  # does not overlap April
    ("r3", "2025-03-16", "2025-04-15", 3_100_000),  # 15 of 31 days → 1,500,000
    ("r3", "2025-04-16", "2025-05-15", 1_200_000),  # 15 of 30 days → 600,000
]
# opportunity_id, owner, account, lead, product, type, amount, created, ecd, closed, status
OPPS = [
    ("o1", "r1", "a1", "L1", "X", "new", 1_000_000,
     "2025-02-01 00:00", "2025-04-10", "2025-04-10 12:00", "won"),
    ("o2", "r1", "a2", "L2", "Y", "expansion", 3_000_000,
     "2025-04-02 00:00", "2025-04-12", "2025-04-12 00:00", "won"),
    ("o3", "r3", "a3", N, "X", "new", 2_000_000,
     "2025-03-01 00:00", "2025-04-30", "2025-04-30 18:00", "won"),
    ("o4", "r3", "a1", N, "X", "new", 500_000,
     "2025-03-15 00:00", "2025-05-10", "2025-04-20 00:00", "lost"),
    ("o5", "r2", "a2", N, "Y", "new", 800_000,
     "2025-04-05 00:00", N, "2025-04-25 00:00", "lost"),
    ("o6", "r1", "a1", N, "Y", "renewal", 4_000_000,
     "2025-03-10 00:00", "2025-04-28", "2025-05-02 00:00", "won"),
    ("o7", "r3", "a3", "L3", "X", "new", 600_000,
     "2025-04-06 00:00", "2025-04-30", "2025-05-15 00:00", "won"),
    ("o8", "r2", "a2", N, "X", "new", 700_000,
     "2025-03-20 00:00", "2025-04-15", N, "open"),
    ("o9", "r1", "a1", N, "X", "new", 900_000,
     "2025-01-10 00:00", "2025-03-31", "2025-03-31 23:00", "lost"),
    ("o10", "r1", "a4", N, "X", "new", 250_000,
     "2025-03-01 00:00", N, "2025-03-31 23:59:59", "won"),
]  # fmt: skip
# opportunity_id, changed_at, old_value, new_value (field expected_close_date)
CHANGES = [
    ("o1", "2025-03-20 10:00", "2025-03-31", "2025-04-10"),  # before April: o1 first date March
    ("o3", "2025-04-05 10:00", "2025-04-20", "2025-04-30"),  # at April start: 04-20
    ("o4", "2025-04-10 10:00", "2025-04-25", "2025-05-01"),  # earliest: at start 04-25
    ("o4", "2025-04-18 10:00", "2025-05-01", "2025-05-10"),
    ("o6", "2025-04-15 10:00", "2025-05-31", "2025-04-28"),  # at start May: not due in April
]
# lead_id, created, source, campaign, account, owner, mql, first_response, sql, opportunity_id
LEADS = [
    ("L1", "2025-04-01 09:00", "web", "c1", "a1", "r2",
     "2025-04-01 10:00", "2025-04-01 10:30", "2025-04-02 09:00", "o1"),  # 30 min, SQL, won
    ("L2", "2025-04-02 09:00", "web", "c1", "a2", "r2",
     "2025-04-02 10:00", "2025-04-02 11:30", N, N),  # 90 min; won via o2.lead_id
    ("L3", "2025-04-03 08:00", "event", "c2", "a3", "r3",
     "2025-04-03 09:00", "2025-04-03 10:00", "2025-04-05 09:00", N),  # 60 min exactly; o7 won May
    ("L4", "2025-04-04 08:00", "event", "c2", N, "r3",
     "2025-04-04 09:00", N, N, N),  # never answered
    ("L5", "2025-04-05 08:00", "web", N, "a2", "r2",
     N, "2025-04-05 09:00", N, "o5"),  # no MQL; opportunity lost
    ("L6", "2025-03-31 23:59", "web", "c1", "a1", "r2",
     "2025-04-01 00:10", "2025-04-01 00:20", "2025-04-01 01:00", N),  # created in March
    ("L7", "2025-04-06 08:00", "web", "c1", "a1", "r3",
     "2025-04-06 09:00", "2025-04-06 09:10", N, N),  # 10 min
]  # fmt: skip
# activity_id, rep, type, occurred_at, outcome, account
ACTIVITIES = [
    ("c1", "r1", "call", "2025-04-01 10:00", "connected", "a1"),
    ("c2", "r1", "call", "2025-04-02 10:00", "no_answer", "a1"),
    ("c3", "r1", "call", "2025-04-03 10:00", "connected", "a2"),
    ("c4", "r2", "call", "2025-04-08 10:00", "connected", "a2"),
    ("c5", "r2", "call", "2025-04-09 10:00", N, "a2"),
    ("c7", "r2", "call", "2025-04-30 23:59", "connected", N),
    ("c0", "r3", "call", "2025-03-31 23:59", "connected", "a3"),
    ("c6", "r4", "call", "2025-05-01 00:00", "connected", "a4"),
    ("e1", "r1", "email", "2025-04-01 11:00", "replied", "a1"),
    ("e2", "r3", "email", "2025-04-11 11:00", N, "a3"),
    ("m1", "r1", "meeting", "2025-04-07 14:00", "held", "a1"),
]
# rep_id, date, category, hours
TIME = [
    ("r1", "2025-04-01", "selling", 6),
    ("r1", "2025-04-01", "admin", 2),
    ("r1", "2025-04-30", "admin", 1),
    ("r3", "2025-04-15", "selling", 5),
    ("r3", "2025-04-15", "admin", 1),
    ("r3", "2025-04-15", "training", 2),
    ("r3", "2025-05-01", "admin", 8),
    ("r2", "2025-03-31", "admin", 8),
]
# order_id, account_id, ordered_at, amount, product
ORDERS = [
    ("x1", "a1", "2025-03-05 10:00", 100_000, "X"),
    ("x2", "a1", "2025-04-10 10:00", 150_000, "X"),
    ("x3", "a2", "2025-03-20 10:00", 200_000, "Y"),
    ("x4", "a3", "2025-04-02 10:00", 300_000, "X"),
    ("x5", "a3", "2025-03-01 10:00", 50_000, "X"),  # the day before the previous period
    ("x6", "a4", "2024-12-01 10:00", 80_000, "Y"),
    ("x7", "a4", "2025-02-01 10:00", 20_000, "Y"),
]


def _sql(v: object) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, int | float):
        return repr(v)
    return "'" + str(v).replace("'", "''") + "'"


def insert(ws: Workspace, table: str, columns: str, rows: list[tuple[object, ...]]) -> None:
    """Insert hand-made rows (the importer is not needed to test metrics)."""
    if not rows:
        return
    values = ", ".join("(" + ", ".join(_sql(v) for v in r) + ")" for r in rows)
    ws.raw.execute(f"INSERT INTO {table} ({columns}) VALUES {values}")


def build(path: Path) -> Workspace:
    """The company above in a new workspace at ``path``."""
    ws = workspace.init(path)
    insert(ws, "reps", "rep_id, team, role, hire_date", list(REPS))
    insert(ws, "accounts", "account_id, industry, region, employees", list(ACCOUNTS))
    insert(ws, "quotas", "rep_id, period_start, period_end, amount", list(QUOTAS))
    insert(
        ws,
        "opportunities",
        "opportunity_id, owner_rep_id, account_id, lead_id, product, type, amount, created_at, "
        "expected_close_date, closed_at, status",
        list(OPPS),
    )
    changes = [(o, at, "expected_close_date", old, new) for o, at, old, new in CHANGES]
    insert(
        ws,
        "opportunity_changes",
        "opportunity_id, changed_at, field, old_value, new_value",
        list(changes),
    )
    insert(
        ws,
        "leads",
        "lead_id, created_at, source, campaign, account_id, owner_rep_id, mql_at, "
        "first_response_at, sql_at, opportunity_id",
        list(LEADS),
    )
    insert(
        ws,
        "activities",
        "activity_id, rep_id, type, occurred_at, outcome, account_id",
        list(ACTIVITIES),
    )
    insert(ws, "time_entries", "rep_id, date, category, hours", list(TIME))
    insert(ws, "orders", "order_id, account_id, ordered_at, amount, product", list(ORDERS))
    return ws


def test_company_loads(tmp_path: Path) -> None:
    ws = build(tmp_path / "w")
    assert ws.count("opportunities") == len(OPPS)
    assert ws.count("leads") == len(LEADS)
    ws.close()
