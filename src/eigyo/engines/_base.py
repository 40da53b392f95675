"""What every engine offers the workspace, and the freshness mark that publishing leaves behind.

An engine answers ``table(name)`` with an Ibis table; that is all the metrics and analyses see.
Publishing (``eigyo engine push``) records which import it copied; opening an engine compares
that with the workspace's latest import and refuses stale copies, because a number computed
on yesterday's data and shown as today's is worse than no number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

import ibis.expr.types as ir

from eigyo.engines._spec import EngineError, EngineSpec
from eigyo.schema import EXTRA_COLUMN, TABLES

if TYPE_CHECKING:
    from eigyo.workspace import Workspace

#: Name of the freshness mark in the engine (a table in PostgreSQL, a JSON file for Spark).
MARK = "_eigyo_push"
#: Names of the canonical tables (their schema never changes after ``eigyo init``).
CANONICAL = frozenset(t.name for t in TABLES)
#: Rows per Arrow batch when copying a table: bounded memory for any table size.
BATCH_ROWS = 200_000


class Engine(Protocol):
    """An opened engine: Ibis tables by canonical name, closed with the workspace."""

    spec: EngineSpec

    def table(self, name: str) -> ir.Table: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class PushResult:
    """What a push copied: the engine (display form), rows per table, and the import it holds."""

    engine: str
    rows: dict[str, int]
    import_id: int | None
    seconds: float

    def to_json(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "import_id": self.import_id,
            "seconds": round(self.seconds, 3),
            "tables": [{"table": k, "rows": v} for k, v in self.rows.items()],
        }


class DuckDBEngine:
    """The workspace's own DuckDB file: queries run where the data lives (nothing to publish)."""

    def __init__(self, ws: Workspace, spec: EngineSpec) -> None:
        self.spec = spec
        self._ws = ws
        self._tables: dict[str, ir.Table] = {}

    def table(self, name: str) -> ir.Table:
        """The Ibis table; canonical ones are looked up once per workspace and then reused.

        Their columns are fixed by :mod:`eigyo.schema` when the workspace is created, so the
        catalogue query Ibis makes for every ``table()`` (a few ms, paid by every analysis,
        several times) needs to run only once. Other tables are looked up each time.
        """
        if name not in CANONICAL:
            return self._ws.con.table(name)
        if name not in self._tables:
            self._tables[name] = self._ws.con.table(name)
        return self._tables[name]

    def close(self) -> None:
        """Nothing to do: the workspace closes its DuckDB connection itself."""


def canonical_columns() -> dict[str, list[str]]:
    """Every canonical table with the columns a push copies (the schema's, then ``extra``)."""
    return {t.name: [*t.column_names, EXTRA_COLUMN] for t in TABLES}


def select_sql(table: str, columns: list[str], have: set[str] | None = None) -> str:
    """The DuckDB query that reads one canonical table in its declared column order. A column
    the table lacks (``have``: its columns; a workspace made before the schema gained one, such
    as ``opportunities.forecast_category``, until its next import adds it) is read as NULL."""
    cols = ", ".join(f'"{c}"' if have is None or c in have else f'NULL AS "{c}"' for c in columns)
    return f'SELECT {cols} FROM "{table}"'


def table_columns(ws: Workspace, table: str) -> set[str]:
    """The columns one table of the workspace's DuckDB file has."""
    rows = ws.raw.execute(
        "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() "
        "AND schema_name = 'main' AND table_name = ?",
        [table],
    ).fetchall()
    return {str(r[0]) for r in rows}


def latest_import(ws: Workspace) -> int | None:
    """The id of the workspace's latest import (None for data inserted without the importer)."""
    rows = ws.raw.execute("SELECT max(import_id) FROM _imports").fetchall()
    return None if rows[0][0] is None else int(rows[0][0])


def new_mark(import_id: int | None) -> dict[str, Any]:
    return {"import_id": import_id, "pushed_at": datetime.now().isoformat(timespec="seconds")}


def check_fresh(ws: Workspace, spec: EngineSpec, mark: dict[str, Any] | None) -> None:
    """Refuse an engine that holds no published data, or data older than the latest import."""
    push = f"eigyo engine push --workspace {ws.path} --engine '{spec.display}'"
    if mark is None:
        raise EngineError(f"{spec.display} holds no eigyo tables yet. Publish them with `{push}`.")
    latest, pushed = latest_import(ws), mark.get("import_id")
    if latest is not None and (pushed is None or int(pushed) < latest):
        raise EngineError(
            f"{spec.display} holds the workspace as of import {pushed} "
            f"(published {mark.get('pushed_at')}), but the workspace has import {latest}. "
            f"Publish again with `{push}`."
        )
