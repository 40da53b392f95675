"""Helpers shared by the importer tests: a real workspace and small CSV folders written by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eigyo import workspace
from eigyo.workspace import Workspace

REPS = """rep_id,name,team,role,hire_date
r1,田中,東京,closer,2024-04-01
r2,佐藤,大阪,sdr,2024-04-01
"""

OPPS = """opportunity_id,owner_rep_id,amount,created_at,status,closed_at,region
o1,r1,"￥1,200,000",2025-04-01 10:00,won,2025-05-01T00:00:00Z,関東
o2,r2,300000,2025-04-02,open,,関西
"""


def write(folder: Path, files: dict[str, str | bytes]) -> Path:
    """Write ``files`` (name → text or bytes) into ``folder`` and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        data = content.encode("utf-8") if isinstance(content, str) else content
        (folder / name).write_bytes(data)
    return folder


def new_ws(tmp: Path) -> Workspace:
    return workspace.init(tmp / "ws")


def rows(ws: Workspace, sql: str) -> list[tuple[Any, ...]]:
    return ws.raw.execute(sql).fetchall()


def snapshot(ws: Workspace) -> dict[str, list[str]]:
    """Every table's rows, sorted: compare before and after to prove nothing changed."""
    names = [r[0] for r in rows(ws, "SELECT table_name FROM information_schema.tables")]
    return {n: sorted(map(repr, rows(ws, f'SELECT * FROM "{n}"'))) for n in sorted(names)}
