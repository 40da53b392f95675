"""Spark (the optional ``[spark]`` extra): publish the tables as Parquet, query them in Spark.

Spark has no durable catalog of its own without a Hive metastore, so a published workspace is a
folder of Parquet files (one per canonical table, written by DuckDB in streaming batches) that
any Spark session can read; on a cluster that folder is a shared path (``?path=``). Each opened
engine registers the files as temporary views with a name of its own, so two workspaces in one
session never read each other's tables. Ibis runs Spark with the session time zone UTC, which
makes epoch seconds of the stored naive timestamps the same as on DuckDB and PostgreSQL.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ibis.expr.operations as ops
import ibis.expr.types as ir

from eigyo.engines._base import (
    MARK,
    PushResult,
    canonical_columns,
    check_fresh,
    latest_import,
    new_mark,
    select_sql,
    table_columns,
)
from eigyo.engines._spec import DEFAULT_SPARK_FOLDER, EngineError, EngineSpec

if TYPE_CHECKING:
    from eigyo.workspace import Workspace

INSTALL = "pip install 'eigyo[spark]'"


def folder(ws: Workspace, spec: EngineSpec) -> Path:
    """Where the published Parquet files of this workspace live for Spark."""
    return Path(spec.path) if spec.path else ws.path / DEFAULT_SPARK_FOLDER


def push(ws: Workspace, spec: EngineSpec) -> PushResult:
    """Write every canonical table as Parquet into a new folder, then swap it into place."""
    started = time.perf_counter()
    target = folder(ws, spec)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    import_id = latest_import(ws)
    rows: dict[str, int] = {}
    try:
        for table, cols in canonical_columns().items():
            out = str(staging / f"{table}.parquet").replace("'", "''")
            res = ws.raw.execute(
                f"COPY ({select_sql(table, cols, table_columns(ws, table))}) TO '{out}' "
                "(FORMAT parquet)"
            ).fetchall()
            rows[table] = int(res[0][0])
        (staging / f"{MARK}.json").write_text(json.dumps(new_mark(import_id)), encoding="utf-8")
        _swap(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return PushResult(str(target), rows, import_id, time.perf_counter() - started)


def _swap(new: Path, target: Path) -> None:
    """Replace ``target`` by ``new``; the old copy is removed only once the new one is there."""
    old = target.with_name(f".{target.name}-old-{uuid.uuid4().hex[:8]}")
    if target.exists():
        target.rename(old)
    new.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def _spark_session_class() -> Any:
    """PySpark's ``SparkSession``, or the exact command that installs the optional extra."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise EngineError(f"Spark support is not installed. Install it with: {INSTALL}") from None
    return SparkSession


def _session(spec: EngineSpec) -> tuple[Any, bool]:
    """The active Spark session (tests, notebooks), or a new one; True when we started it."""
    session_class = _spark_session_class()
    active = session_class.getActiveSession()
    if active is not None:
        return active, False
    if not os.environ.get("JAVA_HOME") and shutil.which("java") is None:
        raise EngineError(
            "Spark needs Java 17 and none was found. Install it (Debian/Ubuntu: "
            "apt-get install openjdk-17-jre-headless) or set JAVA_HOME."
        )
    builder = (
        session_class.builder.appName("eigyo")
        .master(spec.master or "local[*]")
        .config("spark.sql.warehouse.dir", tempfile.mkdtemp(prefix="eigyo-spark-warehouse-"))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        # A cached table keeps its plan's partitions unless adaptive execution may coalesce
        # them: each sample the diagnosis caches held 200 (spark.sql.shuffle.partitions), and
        # every query over it ran 200 tasks — the overlap of the large demo's alarms, hundreds
        # of thousands. Coalesced, a small sample is a few partitions.
        .config("spark.sql.optimizer.canChangeCachedPlanOutputPartitioning", "true")
    )
    try:
        session = builder.getOrCreate()
    except Exception as e:  # the JVM gateway fails with many exception types
        raise EngineError(f"Spark did not start ({type(e).__name__}: {e}).") from None
    # Spark logs a failing task's Java trace itself; eigyo says what failed in one sentence
    # (eigyo.engines._failure), and --debug shows the trace.
    session.sparkContext.setLogLevel("OFF")
    return session, True


def _register_before_caching(con: Any) -> None:
    """Make ``Table.cache()`` behave on Spark as on the other engines.

    * It registers the in-memory tables its expression reads first, as every other execution
      does. Ibis's Spark backend compiles the cached query without them, so caching a sample
      that joins the stage catalogue (an in-memory table) failed with
      ``TABLE_OR_VIEW_NOT_FOUND`` unless some earlier query had happened to register it.
    * The cached table keeps the types of the expression it caches. Spark reads ``x / 86400.0``
      as a decimal; Ibis declares the expression ``float64`` and converts results to it, but
      read back from Spark's catalogue the cached column was a decimal, and the stage dwell
      medians of the large demo came back as ``Decimal`` (a ``TypeError`` in
      ``analysis.process.bottleneck``).
    * It stores the table on the local disk of Spark's block manager (``DISK_ONLY``), not in
      the JVM's heap. Ibis's ``cache()`` is Spark's ``MEMORY_AND_DISK``: in ``local[N]`` the
      driver is also the executor, and the large demo's cached samples held about 570 MB of a
      1 GB driver's heap, which then ran out of memory in the overlap of the findings. Read
      back from disk the rows are the same."""

    def cached(name: str, expr: ir.Table) -> ir.Table:
        con._run_pre_execute_hooks(expr)
        table = _persist_on_disk(con, name, expr)
        declared = expr.schema()
        if table.schema() == declared:
            return table  # type: ignore[no-any-return]
        op = table.op()
        return ops.DatabaseTable(  # type: ignore[no-any-return]
            op.name, schema=declared, source=con, namespace=op.namespace
        ).to_expr()

    con._create_cached_table = cached


def _persist_on_disk(con: Any, name: str, expr: ir.Table) -> ir.Table:
    """Ibis's ``_create_cached_table`` for PySpark with ``DISK_ONLY`` instead of ``cache()``'s
    ``MEMORY_AND_DISK``: the DataFrame goes where Ibis's ``release()`` unpersists it."""
    from pyspark import StorageLevel

    df = con._session.sql(con.compile(expr)).persist(StorageLevel.DISK_ONLY)
    df.createTempView(name)
    con._cached_dataframes[name] = df
    return con.table(name)  # type: ignore[no-any-return]


class SparkEngine:
    """Queries run in Spark, on the Parquet files that ``eigyo engine push`` wrote."""

    def __init__(self, ws: Workspace, spec: EngineSpec) -> None:
        _spark_session_class()  # a missing extra is the first thing to say
        self.spec = spec
        self.folder = folder(ws, spec)
        mark_file = self.folder / f"{MARK}.json"
        mark = json.loads(mark_file.read_text("utf-8")) if mark_file.exists() else None
        check_fresh(ws, spec, mark)
        import ibis

        self._session, self._owned = _session(spec)
        self.con = ibis.pyspark.connect(self._session)
        _register_before_caching(self.con)
        self._prefix = f"eigyo_{uuid.uuid4().hex[:10]}_"
        self._views: dict[str, ir.Table] = {}

    def table(self, name: str) -> ir.Table:
        """The published table as an Ibis table (registered as a view on first use)."""
        if name not in self._views:
            path = self.folder / f"{name}.parquet"
            if not path.exists():
                raise EngineError(f"{path} is missing: {name!r} was not published to Spark.")
            self._views[name] = self.con.read_parquet(path, table_name=self._prefix + name)
        return self._views[name]

    def close(self) -> None:
        """Drop this engine's views; stop the session only if this engine started it."""
        for name in self._views:
            self._session.catalog.dropTempView(self._prefix + name)
        self._views.clear()
        if self._owned:
            self._session.stop()
