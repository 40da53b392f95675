"""Atomic load: every file of one import, its rejects and its bookkeeping, in one transaction.

Rows replace existing rows with the same key (a later export of the same CRM keeps the workspace
current), rejected rows go to ``_rejects`` with their reasons and whole record, and ``_imports``
gets one row per file. Any exception — including one raised by a progress callback — rolls all of
it back, so the workspace holds either the whole import or none of it. Data-quality warnings
(:mod:`eigyo.ingest.quality`) and the import's report (``_import_reports``) are written in the
same transaction.

Test-only hook: when the environment variable ``EIGYO_TEST_PAUSE_BEFORE_COMMIT`` names a file, the
importer creates that file and sleeps just before ``COMMIT``, so a test can kill the process while
everything is written but nothing committed. Never set it outside tests.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl

from eigyo.ingest.import_report import FileReport, ImportReport
from eigyo.ingest.quality import WARNINGS_DDL, record_warnings
from eigyo.ingest.stream import Stage
from eigyo.ingest.validate import ROW
from eigyo.schema import EXTRA_COLUMN, SQL_TYPES, TABLES, Table

#: Columns the importer adds to the workspace's bookkeeping tables (idempotent).
META_EXTENSIONS = (
    "ALTER TABLE _imports ADD COLUMN IF NOT EXISTS rows_read BIGINT",
    "ALTER TABLE _imports ADD COLUMN IF NOT EXISTS encoding VARCHAR",
    "ALTER TABLE _imports ADD COLUMN IF NOT EXISTS warnings BIGINT",
    "ALTER TABLE _rejects ADD COLUMN IF NOT EXISTS code VARCHAR",
    "ALTER TABLE _rejects ADD COLUMN IF NOT EXISTS problems VARCHAR",
    "ALTER TABLE _rejects ADD COLUMN IF NOT EXISTS detail VARCHAR",
    "CREATE TABLE IF NOT EXISTS _import_reports (import_id BIGINT, report VARCHAR)",
    WARNINGS_DDL,
)
#: Test-only: a file to create before sleeping just ahead of COMMIT (see the module docstring).
PAUSE_ENV = "EIGYO_TEST_PAUSE_BEFORE_COMMIT"

#: ``progress(label, done, total)``: while reading, label is the file being read and done/total
#: count bytes of all input files; while writing, label is ``"load"`` and they count files.
Progress = Callable[[str, int, int], None]


@dataclass
class Staged:
    """One file, validated and ready to write."""

    report: FileReport
    table: Table
    good: pl.DataFrame
    rejects: pl.DataFrame
    reasons_en: pl.DataFrame  # rejects with an English ``reason`` column
    #: Valid rows of a streamed file live in this stage (spooled files) instead of ``good``.
    stage: Stage | None = None
    #: Columns whose values name reps by display name (``reps_from`` of the mapping).
    reps_from: tuple[str, ...] = ()

    @property
    def rel(self) -> str | None:
        """Where the valid rows are, as a relation for SQL (None: ``good`` is empty)."""
        if self.stage is not None:
            return self.stage.relation if self.stage.rows else None
        return None if self.good.is_empty() else "__eigyo_new"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _replace(con: duckdb.DuckDBPyConnection, table: Table, rel: str) -> int:
    """Delete rows whose key arrives again; return how many were replaced."""
    if not table.key:
        return 0
    if not con.execute(f"SELECT 1 FROM {_q(table.name)} LIMIT 1").fetchall():
        return 0  # nothing to replace: skip the key join over every arriving row
    on = " AND ".join(f"t.{_q(k)} = k.{_q(k)}" for k in table.key)
    keys = ", ".join(_q(k) for k in table.key)
    rows = con.execute(
        f"DELETE FROM {_q(table.name)} t USING (SELECT DISTINCT {keys} FROM {rel}) k WHERE {on}"
    ).fetchall()
    return int(rows[0][0]) if rows else 0


def _insert(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame) -> None:
    if frame.is_empty():
        return
    con.register("__eigyo_rows", frame.to_arrow())
    try:
        _insert_from(con, name, "__eigyo_rows", frame.columns)
    finally:
        con.unregister("__eigyo_rows")


def _insert_from(
    con: duckdb.DuckDBPyConnection, name: str, rel: str, columns: Sequence[str]
) -> None:
    cols = ", ".join(_q(c) for c in columns)
    con.execute(f"INSERT INTO {_q(name)} ({cols}) SELECT {cols} FROM {rel}").fetchall()


def _write_rows(con: duckdb.DuckDBPyConnection, st: Staged) -> None:
    """Replace by key, then insert the file's valid rows (from memory or its spooled files)."""
    rel = st.rel
    if rel is None:
        return
    cols = [*st.table.column_names, EXTRA_COLUMN]
    if st.stage is None:
        con.register(rel, st.good.to_arrow())
    try:
        st.report.replaced = _replace(con, st.table, rel)
        _insert_from(con, st.table.name, rel, cols)
    finally:
        if st.stage is None:
            con.unregister(rel)


def next_import_id(con: duckdb.DuckDBPyConnection) -> int:
    rows = con.execute("SELECT coalesce(max(import_id), 0) + 1 FROM _imports").fetchall()
    return int(rows[0][0])


def ensure_meta(con: duckdb.DuckDBPyConnection) -> None:
    """Add the importer's bookkeeping columns and tables (idempotent), and the canonical columns
    the schema gained after the workspace was made (:func:`add_new_columns`)."""
    for ddl in META_EXTENSIONS:
        con.execute(ddl).fetchall()
    add_new_columns(con)


def add_new_columns(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Add to each canonical table the columns the schema declares and the table lacks (the
    schema is extended, never renamed: ``opportunities.forecast_category`` came later), so an
    import into an older workspace writes every column; returns ``table.column`` added."""
    rows = con.execute(
        "SELECT table_name, column_name FROM duckdb_columns() "
        "WHERE database_name = current_database() AND schema_name = 'main'"
    ).fetchall()
    have: dict[str, set[str]] = {}
    for t, c in rows:
        have.setdefault(str(t), set()).add(str(c))
    added = []
    for t in TABLES:
        if t.name not in have:
            continue  # made with the workspace's tables, never here
        for c in t.columns:
            if c.name not in have[t.name]:
                con.execute(
                    f"ALTER TABLE {_q(t.name)} ADD COLUMN {_q(c.name)} {SQL_TYPES[c.type]}"
                ).fetchall()
                added.append(f"{t.name}.{c.name}")
    return added


def load(
    con: duckdb.DuckDBPyConnection,
    staged: Sequence[Staged],
    *,
    source: str,
    started_at: datetime,
    progress: Progress | None = None,
    strict: bool = False,
    skipped_files: Sequence[str] = (),
) -> ImportReport:
    """Write every staged file, its warnings and the report, inside the caller's transaction."""
    ensure_meta(con)
    import_id = next_import_id(con)
    for i, st in enumerate(staged):
        if progress:
            progress("load", i, len(staged))
        _write_rows(con, st)
        _insert(con, "_rejects", _reject_rows(st, import_id))
    for st in staged:  # after every file: owner names resolve against every rep loaded
        if st.reps_from:
            _reps_from_names(con, st)
    for st in staged:  # after every file: references to rows of later files are known
        _warn(con, st, import_id)
        _insert(con, "_imports", _import_row(st, import_id, source, started_at))
        if st.stage is not None:
            st.stage.drop()
    report = ImportReport(
        import_id, source, [s.report for s in staged], strict, list(skipped_files)
    )
    con.execute(
        "INSERT INTO _import_reports VALUES (?, ?)",
        [import_id, json.dumps(report.to_json(), ensure_ascii=False, default=str)],
    ).fetchall()
    if progress:
        progress("load", len(staged), len(staged))
    _pause_for_tests()
    return report


def _warn(con: duckdb.DuckDBPyConnection, st: Staged, import_id: int) -> None:
    rel = st.rel
    if rel is None:
        return
    if st.stage is None:
        con.register(rel, st.good.select([*st.table.column_names, ROW]).to_arrow())
    try:
        counts = record_warnings(
            con, import_id=import_id, file=st.report.file, table=st.table.name, rel=rel
        )
    finally:
        if st.stage is None:
            con.unregister(rel)
    st.report.warning_reasons = counts
    st.report.warnings = sum(counts.values())


#: What ``extra`` says of a rep made from an owner's display name: nothing but the name is known.
SYNTHESIZED_REP = json.dumps(
    {"eigyo:synthesized": "owner name", "eigyo:hire_date": "assumed: first record"}
)


def _reps_from_names(con: duckdb.DuckDBPyConnection, st: Staged) -> None:
    """Owners given by display name: the rep of that name when exactly one rep has it (a user
    export loaded before), else a new rep keyed by the name.

    A new rep is a ``generalist`` whose hire date is the day of their first record in this file
    (``extra`` says both are assumed); reps already in the workspace are never replaced.
    """
    name = _q(st.table.name)
    made: list[str] = []
    resolved = 0
    unique_names = (
        "SELECT name, min(rep_id) AS rep_id FROM reps WHERE name IS NOT NULL "
        "GROUP BY name HAVING count(*) = 1"
    )
    for col in st.reps_from:
        c = _q(col)
        rows = con.execute(
            f"UPDATE {name} SET {c} = r.rep_id FROM ({unique_names}) r "
            f"WHERE {name}.{c} = r.name AND {name}.{c} NOT IN (SELECT rep_id FROM reps)"
        ).fetchall()
        resolved += int(rows[0][0]) if rows else 0
        # the day of their first record: created, or (activities) occurred
        have = st.table.column_names
        when = next((w for w in ("created_at", "occurred_at") if w in have), None)
        first = f"min({_q(when)})::DATE" if when else "current_date"
        new = con.execute(
            f"INSERT INTO reps (rep_id, name, role, hire_date, extra) "
            f"SELECT {c}, {c}, 'generalist', {first}, ? FROM {name} "
            f"WHERE {c} IS NOT NULL AND {c} NOT IN (SELECT rep_id FROM reps) "
            f"GROUP BY {c} ORDER BY {c} RETURNING rep_id",
            [SYNTHESIZED_REP],
        ).fetchall()
        made += [str(r[0]) for r in new]
    if made:
        shown = ", ".join(made[:10]) + (f" … (+{len(made) - 10})" if len(made) > 10 else "")
        st.report.notices.append(
            {
                "code": "reps_created",
                "n": len(made),
                "names": shown,
                "cols": ", ".join(st.reps_from),
            }
        )
    if resolved:
        st.report.notices.append({"code": "reps_resolved", "n": resolved})


def _pause_for_tests() -> None:
    """Test-only (``EIGYO_TEST_PAUSE_BEFORE_COMMIT``): signal, then wait to be killed."""
    marker = os.environ.get(PAUSE_ENV)
    if marker:
        Path(marker).touch()
        time.sleep(600)


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
        "detail",
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
            "warnings": [r.warnings],
        },
        schema_overrides={"started_at": pl.Datetime("us")},
    )
