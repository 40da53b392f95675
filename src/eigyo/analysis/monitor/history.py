"""Where monitoring keeps its history: bookkeeping tables in the workspace's own DuckDB file.

The tables start with ``_`` like ``_imports``, so imports never touch them: a re-import replaces
the data rows by id but the snapshots, chart points and sent alerts stay — the history of what
the numbers looked like at each run is the point of monitoring. They are created on demand, so a
workspace made before monitoring existed needs no migration.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import duckdb
import pyarrow as pa

from eigyo.schema import TABLES
from eigyo.workspace import Workspace

DDL = (
    """CREATE TABLE IF NOT EXISTS _snapshots (
        snapshot_id BIGINT, run_at TIMESTAMP, period VARCHAR, period_start DATE,
        period_end DATE, as_of DATE, data_version VARCHAR, metrics BIGINT, findings BIGINT,
        signals BIGINT)""",
    """CREATE TABLE IF NOT EXISTS _snapshot_metrics (
        snapshot_id BIGINT, metric VARCHAR, dim VARCHAR, grp VARCHAR, value DOUBLE,
        unit VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS _snapshot_findings (
        snapshot_id BIGINT, finding_key VARCHAR, step VARCHAR, "check" VARCHAR,
        severity VARCHAR, metric VARCHAR, scope VARCHAR, impact_jpy DOUBLE, evidence VARCHAR,
        title_ja VARCHAR, title_en VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS _snapshot_points (
        snapshot_id BIGINT, grain VARCHAR, metric VARCHAR, dim VARCHAR, grp VARCHAR,
        label VARCHAR, value DOUBLE, stat DOUBLE, center DOUBLE, lcl DOUBLE, ucl DOUBLE,
        sigma DOUBLE, recent BOOLEAN, signal VARCHAR, direction VARCHAR, worse BOOLEAN)""",
    """CREATE TABLE IF NOT EXISTS _alerts (
        alert_key VARCHAR, snapshot_id BIGINT, raised_at TIMESTAMP, kind VARCHAR,
        severity VARCHAR, metric VARCHAR, scope VARCHAR, message_ja VARCHAR, message_en VARCHAR,
        payload VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS _alert_deliveries (
        alert_key VARCHAR, sink VARCHAR, delivered_at TIMESTAMP)""",
)


def ensure(con: duckdb.DuckDBPyConnection) -> None:
    """Create the monitoring tables if they are missing (idempotent)."""
    for ddl in DDL:
        con.execute(ddl)


def exists(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether monitoring ever ran here (read-only openings must not create tables)."""
    rows = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = '_snapshot_points'"
    ).fetchall()
    return bool(rows[0][0])


def data_version(ws: Workspace) -> str:
    """A fingerprint of the data: every import (id, table, rows loaded/replaced/rejected), the row
    count of every table and the interventions themselves (``eigyo intervention add`` writes them
    without an import). Equal fingerprints mean the same data, so a run can be skipped."""
    con = ws.raw
    imports = con.execute(
        'SELECT import_id, "table", loaded, replaced, rejected FROM _imports ORDER BY ALL'
    ).fetchall()
    counts = con.execute(
        " UNION ALL ".join(f"SELECT '{t.name}', count(*) FROM \"{t.name}\"" for t in TABLES)
    ).fetchall()
    ivs = con.execute(
        "SELECT intervention_id, name, started_at, scope FROM interventions ORDER BY ALL"
    ).fetchall()
    text = json.dumps([imports, counts, ivs], default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict[str, Any]]) -> None:
    """Append rows (dicts of column → value) in one statement through Arrow."""
    if not rows:
        return
    cols = list(rows[0])
    data = pa.table({c: [r[c] for r in rows] for c in cols})
    con.register("__eigyo_monitor_rows", data)
    try:
        con.execute(f'INSERT INTO "{table}" BY NAME SELECT * FROM __eigyo_monitor_rows')
    finally:
        con.unregister("__eigyo_monitor_rows")


def query(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None
) -> list[dict[str, Any]]:
    """Rows of a bookkeeping query as dicts (these tables are small: one row per metric/alert)."""
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description or []]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def next_id(con: duckdb.DuckDBPyConnection, table: str, column: str) -> int:
    return int(con.execute(f"SELECT coalesce(max({column}), 0) + 1 FROM {table}").fetchall()[0][0])
