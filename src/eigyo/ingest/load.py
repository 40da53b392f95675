"""Atomic load: every file of one import, its rejects and its bookkeeping, in one transaction.

Rows replace existing rows with the same key (a later export of the same CRM keeps the workspace
current), rejected rows go to ``_rejects`` with their reasons and whole record, and ``_imports``
gets one row per file. Any exception — including one raised by a progress callback — rolls all of
it back, so the workspace holds either the whole import or none of it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import duckdb
import polars as pl

from eigyo.ingest.report import FileReport
from eigyo.schema import EXTRA_COLUMN, Table
from eigyo.workspace import Workspace

#: Columns the importer adds to the workspace's bookkeeping tables (idempotent).
META_EXTENSIONS = (
    "ALTER TABLE _imports ADD COLUMN IF NOT EXISTS rows_read BIGINT",
    "ALTER TABLE _imports ADD COLUMN IF NOT EXISTS encoding VARCHAR",
    "ALTER TABLE _rejects ADD COLUMN IF NOT EXISTS code VARCHAR",
    "ALTER TABLE _rejects ADD COLUMN IF NOT EXISTS problems VARCHAR",
)

Progress = Callable[[str, int, int], None]


@dataclass
class Staged:
    """One file, validated and ready to write."""

    report: FileReport
    table: Table
    good: pl.DataFrame
    rejects: pl.DataFrame
    reasons_en: pl.DataFrame  # rejects with an English ``reason`` column


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _replace(con: duckdb.DuckDBPyConnection, table: Table, good: pl.DataFrame) -> int:
    """Delete rows whose key arrives again; return how many were replaced."""
    if not table.key or good.is_empty():
        return 0
    con.register("__eigyo_keys", good.select(table.key).to_arrow())
    try:
        on = " AND ".join(f"t.{_q(k)} = k.{_q(k)}" for k in table.key)
        rows = con.execute(
            f"DELETE FROM {_q(table.name)} t USING __eigyo_keys k WHERE {on}"
        ).fetchall()
    finally:
        con.unregister("__eigyo_keys")
    return int(rows[0][0]) if rows else 0


def _insert(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame) -> None:
    if frame.is_empty():
        return
    cols = ", ".join(_q(c) for c in frame.columns)
    con.register("__eigyo_rows", frame.to_arrow())
    try:
        con.execute(f"INSERT INTO {_q(name)} ({cols}) SELECT {cols} FROM __eigyo_rows").fetchall()
    finally:
        con.unregister("__eigyo_rows")


def next_import_id(con: duckdb.DuckDBPyConnection) -> int:
    rows = con.execute("SELECT coalesce(max(import_id), 0) + 1 FROM _imports").fetchall()
    return int(rows[0][0])


def load(
    ws: Workspace,
    staged: Sequence[Staged],
    *,
    source: str,
    started_at: datetime,
    progress: Progress | None = None,
) -> int:
    """Write every staged file in one transaction; return the new import id."""
    with ws.transaction() as con:
        for ddl in META_EXTENSIONS:
            con.execute(ddl).fetchall()
        import_id = next_import_id(con)
        for i, st in enumerate(staged):
            if progress:
                progress("load", i, len(staged))
            st.report.replaced = _replace(con, st.table, st.good)
            _insert(con, st.table.name, st.good.select([*st.table.column_names, EXTRA_COLUMN]))
            _insert(con, "_rejects", _reject_rows(st, import_id))
            _insert(con, "_imports", _import_row(st, import_id, source, started_at))
        if progress:
            progress("load", len(staged), len(staged))
    return import_id


def _reject_rows(st: Staged, import_id: int) -> pl.DataFrame:
    return st.reasons_en.select(
        pl.lit(import_id, pl.Int64).alias("import_id"),
        pl.lit(st.report.file).alias("file"),
        pl.lit(st.table.name).alias("table"),
        pl.col("row").cast(pl.Int64),
        "column",
        "value",
        "reason",
        "record",
        "code",
        "problems",
    )


def _import_row(st: Staged, import_id: int, source: str, started_at: datetime) -> pl.DataFrame:
    r = st.report
    return pl.DataFrame(
        {
            "import_id": [import_id],
            "started_at": [started_at],
            "source": [source],
            "file": [r.file],
            "table": [r.table],
            "loaded": [r.loaded],
            "rejected": [r.rejected],
            "replaced": [r.replaced],
            "rows_read": [r.rows],
            "encoding": [r.encoding],
        },
        schema_overrides={"started_at": pl.Datetime("us")},
    )
