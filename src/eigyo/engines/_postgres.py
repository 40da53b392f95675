"""PostgreSQL: publish the canonical tables into one schema, and query them there through Ibis.

Publishing streams each DuckDB table as Arrow record batches, writes each batch as CSV in
Arrow's C++ writer (NULL unquoted, empty text quoted, doubles in round-trip precision) and feeds
it to ``COPY … FROM STDIN``: no Python loop over rows, bounded memory, and one transaction for
the whole push, so readers see either the previous copy or the new one, never half of each.
"""

from __future__ import annotations

import io
import time
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import pyarrow.csv as pacsv
import sqlglot.expressions as sge
from ibis.backends.sql.compilers.postgres import PostgresCompiler

from eigyo.engines._base import (
    BATCH_ROWS,
    MARK,
    PushResult,
    canonical_columns,
    check_fresh,
    latest_import,
    new_mark,
    select_sql,
    table_columns,
)
from eigyo.engines._spec import EngineError, EngineSpec
from eigyo.schema import EXTRA_COLUMN, TABLES

if TYPE_CHECKING:
    from eigyo.workspace import Workspace

#: PostgreSQL type of each logical column type of :mod:`eigyo.schema`.
PG_TYPES: dict[str, str] = {
    "string": "TEXT",
    "integer": "BIGINT",
    "number": "DOUBLE PRECISION",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
}
_CSV = pacsv.WriteOptions(include_header=False)


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError:
        raise EngineError(
            "PostgreSQL support needs psycopg. Install it with: pip install 'psycopg[binary]'"
        ) from None
    return psycopg


def _connect_args(spec: EngineSpec) -> dict[str, Any]:
    return {
        "host": spec.host,
        "port": spec.port,
        "user": spec.user,
        "password": spec.password,
        "dbname": spec.database,
    }


def _unreachable(spec: EngineSpec, e: Exception) -> EngineError:
    first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return EngineError(
        f"Cannot connect to {spec.display}: {first}. Check that the server runs, the database "
        "exists and the user may log in (a password goes in the address or in PGPASSWORD)."
    )


def _ddl(spec: EngineSpec) -> list[str]:
    """CREATE TABLE statements for every canonical table, in the engine's schema."""
    out = []
    for t in TABLES:
        cols = [f'"{c.name}" {PG_TYPES[c.type]}' for c in t.columns]
        cols.append(f'"{EXTRA_COLUMN}" TEXT')
        out.append(f'CREATE TABLE "{spec.schema}"."{t.name}" ({", ".join(cols)})')
    return out


def _copy_table(ws: Workspace, cur: Any, spec: EngineSpec, table: str, cols: list[str]) -> int:
    """Stream one DuckDB table into PostgreSQL as CSV batches; returns the rows copied."""
    names = ", ".join(f'"{c}"' for c in cols)
    query = select_sql(table, cols, table_columns(ws, table))
    reader = ws.raw.sql(query).to_arrow_reader(BATCH_ROWS)
    rows = 0
    with cur.copy(f'COPY "{spec.schema}"."{table}" ({names}) FROM STDIN (FORMAT csv)') as cp:
        for batch in reader:
            buf = io.BytesIO()
            pacsv.write_csv(batch, buf, _CSV)
            cp.write(buf.getbuffer())
            rows += batch.num_rows
    return rows


def push(ws: Workspace, spec: EngineSpec) -> PushResult:
    """Replace the engine's copy of every canonical table with the workspace's, atomically."""
    psycopg = _psycopg()
    started = time.perf_counter()
    import_id = latest_import(ws)
    rows: dict[str, int] = {}
    try:
        with psycopg.connect(**_connect_args(spec)) as pg, pg.cursor() as cur:
            cur.execute(f'CREATE SCHEMA IF NOT EXISTS "{spec.schema}"')
            for t in TABLES:
                cur.execute(f'DROP TABLE IF EXISTS "{spec.schema}"."{t.name}"')
            for ddl in _ddl(spec):
                cur.execute(ddl)
            for table, cols in canonical_columns().items():
                rows[table] = _copy_table(ws, cur, spec, table, cols)
            _write_mark(cur, spec, new_mark(import_id))
            for t in TABLES:  # planner statistics: without them joins on large tables crawl
                cur.execute(f'ANALYZE "{spec.schema}"."{t.name}"')
    except psycopg.OperationalError as e:
        raise _unreachable(spec, e) from None
    return PushResult(spec.display, rows, import_id, time.perf_counter() - started)


def _write_mark(cur: Any, spec: EngineSpec, mark: dict[str, Any]) -> None:
    table = f'"{spec.schema}"."{MARK}"'
    cur.execute(f"DROP TABLE IF EXISTS {table}")
    cur.execute(f"CREATE TABLE {table} (import_id BIGINT, pushed_at TEXT)")
    cur.execute(f"INSERT INTO {table} VALUES (%s, %s)", (mark["import_id"], mark["pushed_at"]))


def _read_mark(con: Any, spec: EngineSpec) -> dict[str, Any] | None:
    with con.con.cursor() as cur:
        cur.execute("SELECT to_regclass(%s)", (f'"{spec.schema}"."{MARK}"',))
        if cur.fetchone()[0] is None:
            return None
        cur.execute(f'SELECT import_id, pushed_at FROM "{spec.schema}"."{MARK}"')
        row = cur.fetchone()
    return None if row is None else {"import_id": row[0], "pushed_at": row[1]}


class _Compiler(PostgresCompiler):  # type: ignore[misc]
    """Ibis's PostgreSQL compiler, with the two casts PostgreSQL needs and Ibis leaves out.

    A boolean becomes a number through an integer.
    PostgreSQL casts ``boolean`` to ``integer`` only (``true::bigint`` fails: "cannot cast type
    boolean to bigint", likewise to double precision), while the analyses count flags as
    ``(status == 'won').cast("int64")``, which DuckDB and Spark accept. Going through
    ``integer`` gives the same 0, 1 or null.
    """

    def visit_Cast(self, op: Any, *, arg: Any, to: dt.DataType) -> Any:
        if op.arg.dtype.is_boolean() and to.is_numeric() and not to.is_int32():
            arg = self.cast(arg, dt.int32)
        return super().visit_Cast(op, arg=arg, to=to)

    def visit_Sum(self, op: Any, *, arg: Any, where: Any) -> Any:
        """``SUM`` of integers is ``numeric`` in PostgreSQL; cast it back to the type Ibis
        expects, or results arrive as ``Decimal`` and fail to convert to Arrow's int64/float64."""
        out = super().visit_Sum(op, arg=arg, where=where)
        return self.cast(out, op.dtype) if op.dtype.is_integer() else out

    def visit_WindowFunction(self, op: Any, *, func: Any, **kw: Any) -> Any:
        """A window over a cast sum: ``CAST(SUM(x) OVER (…) AS …)``, not ``CAST(…) OVER``."""
        if isinstance(func, sge.Cast):
            inner = super().visit_WindowFunction(op, func=func.this, **kw)
            return sge.Cast(this=inner, to=func.args["to"])
        return super().visit_WindowFunction(op, func=func, **kw)


class PostgresEngine:
    """Queries run in PostgreSQL, on the tables published into ``spec.schema``."""

    def __init__(self, ws: Workspace, spec: EngineSpec) -> None:
        psycopg = _psycopg()
        self.spec = spec
        args = _connect_args(spec)
        try:
            self.con = ibis.postgres.connect(
                host=args["host"],
                port=args["port"],
                user=args["user"],
                password=args["password"],
                database=args["dbname"],
                schema=spec.schema,
            )
        except psycopg.OperationalError as e:
            raise _unreachable(spec, e) from None
        self.con.compiler = _Compiler()
        try:
            check_fresh(ws, spec, _read_mark(self.con, spec))
        except BaseException:
            self.con.disconnect()
            raise

    def table(self, name: str) -> ir.Table:
        return self.con.table(name, database=self.spec.schema)

    def close(self) -> None:
        self.con.disconnect()
