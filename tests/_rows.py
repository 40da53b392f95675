"""Test helper: put hand-made rows into a real workspace's DuckDB tables (no importer needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa

from eigyo import workspace
from eigyo.workspace import Workspace


def new_ws(tmp_path: Path, name: str = "w") -> Workspace:
    return workspace.init(tmp_path / name)


def insert(ws: Workspace, table: str, rows: list[dict[str, Any]]) -> None:
    """INSERT BY NAME so each row gives only the columns it needs; DuckDB casts the strings."""
    if not rows:
        return
    cols = sorted({k for r in rows for k in r})
    data = pa.table({c: [None if r.get(c) is None else str(r[c]) for r in rows] for c in cols})
    ws.raw.register("_rows", data)
    ws.raw.execute(f'INSERT INTO "{table}" BY NAME SELECT * FROM _rows')
    ws.raw.unregister("_rows")
