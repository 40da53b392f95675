"""A workspace is a folder: ``eigyo.toml`` (settings) and ``eigyo.duckdb`` (the data).

Everything downstream reads tables through :meth:`Workspace.table` (Ibis expressions), so the same
metric code runs on PostgreSQL and Spark: the data stays in DuckDB (the importer writes there) and
the workspace's *engine* (``eigyo.toml`` or ``--engine``, see :mod:`eigyo.engines`) answers the
queries. Bookkeeping tables start with ``_``.
"""

from __future__ import annotations

import re
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
#: DuckDB's file header (the main header and two database headers, 4 KiB each) before its blocks.
_DB_HEADER_BYTES = 3 * 4096

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
        """The Ibis backend of the workspace's own DuckDB file (where the data lives).

        A file DuckDB cannot open — truncated, damaged, not a database, or on a read-only disk —
        is one :class:`WorkspaceError` saying which, never DuckDB's traceback.
        """
        db = self.path / DB_FILE
        try:
            con = ibis.duckdb.connect(str(db), read_only=self.read_only)
            size = con.con.execute(
                "SELECT block_size FROM pragma_database_size() "
                "WHERE database_name = current_database()"
            ).fetchall()
        except duckdb.Error as e:
            raise db_error(db, e) from None
        # A truncated file opens, and fails only at the first query that reads its end. DuckDB
        # writes its file as a header and whole blocks, so a length between blocks is a cut.
        # (The count of blocks is no test: a connection of this process may hold blocks that
        # are not on disk yet.)
        have = db.stat().st_size
        if size and (have - _DB_HEADER_BYTES) % int(size[0][0]):
            con.disconnect()
            detail = f"{have:,} bytes, not whole blocks of {int(size[0][0]):,}: truncated"
            raise WorkspaceError(key="input.workspace.corrupt", db=str(db), detail=detail)
        return con

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
        except BaseException as e:
            raw.execute("ROLLBACK")
            if isinstance(e, duckdb.IOException):  # a full or read-only disk, a damaged file
                raise db_error(self.path / DB_FILE, e) from None
            raise
        try:
            raw.execute("COMMIT")
        except duckdb.IOException as e:
            raise db_error(self.path / DB_FILE, e) from None

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


def db_error(db: Path, e: BaseException) -> WorkspaceError:
    """DuckDB's failure on the workspace file as one sentence: read-only, or damaged."""
    text = str(e).splitlines()[0] if str(e) else type(e).__name__
    low = text.lower()
    if "read-only" in low or "permission denied" in low or "readonly" in low:
        return WorkspaceError(key="input.workspace.read_only", path=str(db.parent))
    if "no space" in low or "disk is full" in low:
        return WorkspaceError(key="input.workspace.disk_full", db=str(db))
    detail = re.sub(r'"[^"]*"', db.name, text)[:200]  # DuckDB quotes the file's full path
    return WorkspaceError(key="input.workspace.corrupt", db=str(db), detail=detail)


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
