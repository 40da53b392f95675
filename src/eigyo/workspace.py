"""A workspace is a folder: ``eigyo.toml`` (settings) and ``eigyo.duckdb`` (the data).

Everything downstream reads tables through :meth:`Workspace.table` (Ibis expressions), so the same
metric code runs on PostgreSQL and Spark: the data stays in DuckDB (the importer writes there) and
the workspace's *engine* (``eigyo.toml`` or ``--engine``, see :mod:`eigyo.engines`) answers the
queries. Bookkeeping tables start with ``_``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import Any

import duckdb
import ibis

from eigyo import engines
from eigyo import settings as settings_mod
from eigyo.errors import WorkspaceError
from eigyo.schema import TABLES, create_table_sql

DB_FILE = "eigyo.duckdb"

#: Bookkeeping tables: one row per import, one row per rejected input row.
META_DDL = (
    """CREATE TABLE IF NOT EXISTS _imports (
        import_id BIGINT, started_at TIMESTAMP, source VARCHAR, file VARCHAR, "table" VARCHAR,
        loaded BIGINT, rejected BIGINT, replaced BIGINT, rows_read BIGINT, encoding VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS _rejects (
        import_id BIGINT, file VARCHAR, "table" VARCHAR, "row" BIGINT, "column" VARCHAR,
        value VARCHAR, reason VARCHAR, record VARCHAR, code VARCHAR, problems VARCHAR)""",
)


class Workspace:
    """An opened workspace. Use :func:`init` to create one and :func:`open_workspace` to open it."""

    def __init__(self, path: Path, *, read_only: bool = False, engine: str | None = None) -> None:
        self.path = path
        self.read_only = read_only
        self.settings = settings_mod.load(path / settings_mod.SETTINGS_FILE)
        if not (path / DB_FILE).exists():
            raise WorkspaceError(
                key="errors.workspace.db_missing", db=str(path / DB_FILE), path=str(path)
            )
        #: Where queries run: ``engine`` when given (``--engine``), else ``eigyo.toml``'s.
        self.engine_spec = engines.parse_engine(engine or self.settings.engine)

    @cached_property
    def con(self) -> Any:
        """The Ibis backend of the workspace's own DuckDB file (where the data lives)."""
        return ibis.duckdb.connect(str(self.path / DB_FILE), read_only=self.read_only)

    @cached_property
    def engine(self) -> engines.Engine:
        """The engine that answers :meth:`table`, opened on first use (DuckDB by default)."""
        return engines.connect(self, self.engine_spec)

    @property
    def raw(self) -> duckdb.DuckDBPyConnection:
        """The underlying DuckDB connection, for transactions and bulk loads only."""
        return self.con.con  # type: ignore[no-any-return]

    def table(self, name: str) -> ibis.Table:
        """A table as an Ibis expression, in the workspace's engine: the one entry point."""
        return self.engine.table(name)

    def count(self, name: str) -> int:
        # fetchall: a half-read result (fetchone) keeps the connection busy for Ibis afterwards.
        return int(self.raw.execute(f'SELECT count(*) FROM "{name}"').fetchall()[0][0])

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All or nothing: commit when the block ends normally, roll back on any exception."""
        raw = self.raw
        raw.execute("BEGIN TRANSACTION")
        try:
            yield raw
        except BaseException:
            raw.execute("ROLLBACK")
            raise
        raw.execute("COMMIT")

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.close()
            del self.__dict__["engine"]
        if "con" in self.__dict__:
            self.con.disconnect()
            del self.__dict__["con"]

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _create_tables(db: Path) -> None:
    con = duckdb.connect(str(db))
    try:
        for t in TABLES:
            con.execute(create_table_sql(t))
        for ddl in META_DDL:
            con.execute(ddl)
    finally:
        con.close()


def init(path: Path, *, name: str | None = None, exist_ok: bool = False) -> Workspace:
    """Create a workspace folder with a commented ``eigyo.toml`` and an empty database."""
    cfg = path / settings_mod.SETTINGS_FILE
    if cfg.exists() and not exist_ok:
        raise WorkspaceError(key="errors.workspace.exists", path=str(path), cfg=str(cfg))
    path.mkdir(parents=True, exist_ok=True)
    if not cfg.exists():
        cfg.write_text(settings_mod.template(name or path.resolve().name), encoding="utf-8")
    _create_tables(path / DB_FILE)
    return Workspace(path)


def open_workspace(path: Path, *, read_only: bool = False, engine: str | None = None) -> Workspace:
    """Open an existing workspace, explaining how to create one when the folder is not one.

    ``engine`` overrides the engine of ``eigyo.toml`` for this opening (``--engine``).
    """
    if not (path / settings_mod.SETTINGS_FILE).exists():
        raise WorkspaceError(
            key="errors.workspace.not_workspace", path=str(path), cfg=settings_mod.SETTINGS_FILE
        )
    return Workspace(path, read_only=read_only, engine=engine)
