"""Hand-made stage histories shared by the process tests (this module itself holds no test).

Created in May 2025 unless said otherwise; times are midnight unless given, so every duration is
a whole or half number of days that the tests compute by hand:

- O1 (R1, ¥100, open): 見込み 05-01 → 評価 05-02 → 商談 05-04
- O2 (R1, ¥200, lost 05-05 "価格"): 見込み 05-01 → 評価 05-04 → 失注 05-05
- O3 (R2, ¥300, open): 見込み 05-01 00:00 and 評価 05-01 00:00 (a tie: stage order decides)
  → 商談 05-02 12:00
- O4 (R2, ¥400, won 05-10): 提案 05-01 → 失注 05-03 → 提案 05-06 (reopened) → 受注 05-10
- O5 (R1, ¥500, open): 見込み 05-01 → Demo 05-03 (a stage eigyo.toml does not list) → 商談 05-04
- O6 (R2, ¥600, open): no stage history at all
- O7 (R1, ¥700, open, created 2025-03-01): 見込み 03-01 → 評価 03-03 (outside May)
- O8 (R2, ¥800, open): 商談 05-01 → 評価 05-02 (backward) → 商談 05-05
"""

from __future__ import annotations

from pathlib import Path

from eigyo.workspace import Workspace
from tests._rows import insert, new_ws

HISTORY: dict[str, list[tuple[str, str]]] = {
    "O1": [("見込み", "05-01"), ("評価", "05-02"), ("商談", "05-04")],
    "O2": [("見込み", "05-01"), ("評価", "05-04"), ("失注", "05-05")],
    "O3": [("評価", "05-01"), ("見込み", "05-01"), ("商談", "05-02 12:00")],
    "O4": [("提案", "05-01"), ("失注", "05-03"), ("提案", "05-06"), ("受注", "05-10")],
    "O5": [("見込み", "05-01"), ("Demo", "05-03"), ("商談", "05-04")],
    "O7": [("見込み", "03-01"), ("評価", "03-03")],
    "O8": [("商談", "05-01"), ("評価", "05-02"), ("商談", "05-05")],
}

OPPS: list[tuple[str, str, int, str, str | None, str | None]] = [
    # id, owner, amount, status, closed_at, lost_reason
    ("O1", "R1", 100, "open", None, None),
    ("O2", "R1", 200, "lost", "2025-05-05", "価格"),
    ("O3", "R2", 300, "open", None, None),
    ("O4", "R2", 400, "won", "2025-05-10", None),
    ("O5", "R1", 500, "open", None, None),
    ("O6", "R2", 600, "open", None, None),
    ("O7", "R1", 700, "open", None, None),
    ("O8", "R2", 800, "open", None, None),
]


def _at(day: str) -> str:
    return f"2025-{day}" if " " in day else f"2025-{day} 00:00:00"


def company(tmp_path: Path) -> Workspace:
    """A workspace holding the reps, opportunities and stage history above."""
    ws = new_ws(tmp_path)
    insert(
        ws,
        "reps",
        [
            {"rep_id": "R1", "team": "A", "role": "generalist", "hire_date": "2020-04-01"},
            {"rep_id": "R2", "team": "B", "role": "generalist", "hire_date": "2020-04-01"},
        ],
    )
    insert(
        ws,
        "opportunities",
        [
            {
                "opportunity_id": oid,
                "owner_rep_id": rep,
                "amount": amount,
                "status": status,
                "created_at": "2025-03-01 00:00:00" if oid == "O7" else "2025-05-01 00:00:00",
                "closed_at": None if closed is None else f"{closed} 00:00:00",
                "lost_reason": reason,
            }
            for oid, rep, amount, status, closed, reason in OPPS
        ],
    )
    insert(
        ws,
        "stage_history",
        [
            {"opportunity_id": oid, "stage": stage, "entered_at": _at(day)}
            for oid, rows in HISTORY.items()
            for stage, day in rows
        ],
    )
    return ws
