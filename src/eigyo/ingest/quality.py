"""Data-quality warnings: values that are possible but suspicious are loaded *and* flagged.

A rejected row is one the schema forbids; a warning marks a row that is allowed but likely wrong,
so the diagnosis can say "your numbers rest on data that looks off" without dropping anything.
Warnings are computed in the engine (SQL), inside the import's transaction, over the rows the
import just loaded, and written to the ``_warnings`` table (import id, file, table, row, column,
value, code, message). The rules are declared as data below:

- ``unknown_reference``: a reference (``opportunities.owner_rep_id`` → ``reps.rep_id`` …) whose
  value is in no row of the referenced table. Only checked when the referenced table holds at least
  one row, so an organization that never imports ``accounts`` is not flooded with warnings.
- ``order``: two timestamps of one row in an impossible order (closed before created …).
- ``blank``: a value the schema allows to be blank but that the analyses miss (a deal without an
  amount is kept: it counts in win rate and cycle and adds nothing to bookings).
- ``outlier``: an amount above :data:`OUTLIER_ABSOLUTE` (1e12 yen), or farther than
  :data:`OUTLIER_MADS` median absolute deviations from the median of the same file's column
  (robust: a few huge values cannot hide themselves by inflating the spread), when the file has at
  least :data:`OUTLIER_MIN_ROWS` values and a non-zero MAD.

:func:`warnings_summary` is what the diagnosis reads.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from eigyo.i18n import t
from eigyo.workspace import Workspace

WARNINGS_DDL = """CREATE TABLE IF NOT EXISTS _warnings (
    import_id BIGINT, file VARCHAR, "table" VARCHAR, "row" BIGINT, "column" VARCHAR,
    value VARCHAR, code VARCHAR, detail VARCHAR, message VARCHAR)"""

#: (table, column) → (referenced table, its key column).
REFERENCES: dict[tuple[str, str], tuple[str, str]] = {
    ("reps", "manager_id"): ("reps", "rep_id"),
    ("quotas", "rep_id"): ("reps", "rep_id"),
    ("accounts", "owner_rep_id"): ("reps", "rep_id"),
    ("leads", "account_id"): ("accounts", "account_id"),
    ("leads", "owner_rep_id"): ("reps", "rep_id"),
    ("leads", "opportunity_id"): ("opportunities", "opportunity_id"),
    ("opportunities", "account_id"): ("accounts", "account_id"),
    ("opportunities", "owner_rep_id"): ("reps", "rep_id"),
    ("opportunities", "sdr_rep_id"): ("reps", "rep_id"),
    ("opportunities", "lead_id"): ("leads", "lead_id"),
    ("stage_history", "opportunity_id"): ("opportunities", "opportunity_id"),
    ("stage_history", "rep_id"): ("reps", "rep_id"),
    ("opportunity_changes", "opportunity_id"): ("opportunities", "opportunity_id"),
    ("activities", "rep_id"): ("reps", "rep_id"),
    ("activities", "lead_id"): ("leads", "lead_id"),
    ("activities", "opportunity_id"): ("opportunities", "opportunity_id"),
    ("activities", "account_id"): ("accounts", "account_id"),
    ("time_entries", "rep_id"): ("reps", "rep_id"),
    ("trainings", "rep_id"): ("reps", "rep_id"),
    ("assessments", "rep_id"): ("reps", "rep_id"),
    ("orders", "account_id"): ("accounts", "account_id"),
    ("orders", "opportunity_id"): ("opportunities", "opportunity_id"),
}

#: table → (earlier column, later column, code): the later one must not precede the earlier one.
ORDERS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "reps": (("hire_date", "end_date", "ended_before_hired"),),
    "leads": (
        ("created_at", "sql_at", "sql_before_created"),
        ("mql_at", "first_response_at", "responded_before_mql"),
    ),
    "opportunities": (("created_at", "closed_at", "closed_before_created"),),
}

#: table → amount columns checked for outliers.
AMOUNTS: dict[str, tuple[str, ...]] = {
    "opportunities": ("amount",),
    "orders": ("amount",),
    "quotas": ("amount",),
}
#: table → columns a row may leave blank but whose blanks are worth a warning: a deal without an
#: amount still counts in win rate and cycle, yet adds nothing to bookings or pipeline.
EXPECTED: dict[str, tuple[str, ...]] = {"opportunities": ("amount",)}
OUTLIER_ABSOLUTE = 1e12
OUTLIER_MADS = 10
OUTLIER_MIN_ROWS = 20


@dataclass(frozen=True)
class WarningCount:
    """How many rows of one table carry one kind of warning (what the diagnosis shows)."""

    table: str
    column: str
    code: str
    count: int
    import_id: int
    example_row: int
    example_value: str | None

    def message(self, lang: str = "ja") -> str:
        """The warning in words, e.g. ``opportunities.owner_rep_id: 3 rows refer to …``."""
        return t(
            f"ingest.warning.{self.code}",
            lang,
            col=self.column,
            detail=_detail(self.table, self.column, self.code),
        )


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _detail(table: str, column: str, code: str) -> str:
    if code == "unknown_reference":
        ref = REFERENCES.get((table, column))
        return f"{ref[0]}.{ref[1]}" if ref else ""
    for earlier, later, c in ORDERS.get(table, ()):
        if c == code and later == column:
            return earlier
    return ""


def warning_text(table: str, reason: str, lang: str = "ja") -> str:
    """A report's warning key (``column: code``) of ``table`` in words."""
    col, _, code = reason.partition(": ")
    return t(f"ingest.warning.{code}", lang, col=col, detail=_detail(table, col, code))


def _selects(con: duckdb.DuckDBPyConnection, table: str, rel: str) -> list[str]:
    """SQL producing (row, column, value, code) for each rule of ``table`` over relation ``rel``."""
    out: list[str] = []
    for (tab, col), (ref, key) in REFERENCES.items():
        if tab != table:
            continue
        if not con.execute(f"SELECT 1 FROM {_q(ref)} LIMIT 1").fetchall():
            continue
        out.append(
            f"SELECT n._row, '{col}', CAST(n.{_q(col)} AS VARCHAR), 'unknown_reference' "
            f"FROM {rel} n WHERE n.{_q(col)} IS NOT NULL AND NOT EXISTS "
            f"(SELECT 1 FROM {_q(ref)} x WHERE x.{_q(key)} = n.{_q(col)})"
        )
    for earlier, later, code in ORDERS.get(table, ()):
        out.append(
            f"SELECT _row, '{later}', CAST({_q(later)} AS VARCHAR), '{code}' "
            f"FROM {rel} WHERE {_q(later)} < {_q(earlier)}"
        )
    for col in EXPECTED.get(table, ()):
        out.append(f"SELECT _row, '{col}', NULL, 'blank' FROM {rel} WHERE {_q(col)} IS NULL")
    for col in AMOUNTS.get(table, ()):
        c = _q(col)
        out.append(
            f"SELECT _row, '{col}', CAST({c} AS VARCHAR), 'outlier' FROM {rel}, "
            f"(SELECT median({c}) AS med, mad({c}) AS mad, count({c}) AS n FROM {rel}) s "
            f"WHERE {c} > {OUTLIER_ABSOLUTE} OR (s.n >= {OUTLIER_MIN_ROWS} AND s.mad > 0 "
            f"AND abs({c} - s.med) > {OUTLIER_MADS} * s.mad)"
        )
    return out


def record_warnings(
    con: duckdb.DuckDBPyConnection, *, import_id: int, file: str, table: str, rel: str
) -> dict[str, int]:
    """Write the warnings of the rows in ``rel`` (a table/view with ``_row``) to ``_warnings``.

    Runs inside the import's transaction, after every file was loaded (so a reference to a row
    loaded by a later file of the same import is not flagged). Returns counts by ``column: code``.
    """
    con.execute(WARNINGS_DDL).fetchall()
    selects = _selects(con, table, rel)
    if not selects:
        return {}
    union = " UNION ALL ".join(selects)
    con.execute(
        f"INSERT INTO _warnings SELECT ?, ?, ?, w.r, w.c, w.v, w.code, NULL, NULL "
        f"FROM ({union}) w(r, c, v, code)",
        [import_id, file, table],
    ).fetchall()
    counts = con.execute(
        'SELECT "column", code, count(*) FROM _warnings WHERE import_id = ? AND file = ? '
        'AND "table" = ? GROUP BY ALL',
        [import_id, file, table],
    ).fetchall()
    for col, code, _ in counts:
        detail = _detail(table, col, code)
        con.execute(
            "UPDATE _warnings SET detail = ?, message = ? WHERE import_id = ? AND file = ? "
            'AND "table" = ? AND "column" = ? AND code = ?',
            [
                detail,
                t(f"ingest.warning.{code}", "en", col=col, detail=detail),
                import_id,
                file,
                table,
                col,
                code,
            ],
        ).fetchall()
    return {f"{col}: {code}": int(n) for col, code, n in counts}


def warnings_summary(ws: Workspace, *, import_id: int | None = None) -> list[WarningCount]:
    """Warnings by table, column and code, with a count and one example, most frequent first.

    Without ``import_id``: for each table, the warnings of the latest import that loaded it (a
    later import replaces rows by id, so older warnings describe data that may be gone).
    """
    con = ws.raw
    if not con.execute(
        "SELECT 1 FROM information_schema.tables WHERE table_name = '_warnings'"
    ).fetchall():
        return []
    if import_id is None:
        scope = (
            'JOIN (SELECT "table", max(import_id) AS import_id FROM _imports GROUP BY 1) l '
            'USING ("table", import_id)'
        )
        params: list[object] = []
    else:
        scope, params = "WHERE import_id = ?", [import_id]
    rows = con.execute(
        f'SELECT "table", "column", code, count(*), max(import_id), min("row"), '
        f'arg_min(value, "row") FROM _warnings {scope} GROUP BY 1, 2, 3 '
        f"ORDER BY 4 DESC, 1, 2, 3",
        params,
    ).fetchall()
    return [
        WarningCount(tab, col, code, int(n), int(imp), int(r), v)
        for tab, col, code, n, imp, r, v in rows
    ]
