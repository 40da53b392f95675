"""What an import left behind, read back: its rejected rows as a CSV for Excel, and its report.

Rejected rows go back to the people who own the source data, who open them in Excel: the CSV is
UTF-8 *with a BOM* (without one, Excel on Japanese Windows reads UTF-8 as CP932 and garbles every
name), one row per rejected row with file, row, column, value and reason, followed by the original
record spread back into its own columns so it can be fixed in place and imported again. A text
cell a spreadsheet would run as a formula (``=HYPERLINK(…)``, ``+cmd|…``, ``@SUM(1)``) is written
with a ``'`` in front (:mod:`eigyo.base.csv_safe`): rejected rows are the least trusted data.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from eigyo.base.csv_safe import safe_frame
from eigyo.errors import InputError
from eigyo.i18n import t
from eigyo.ingest.import_report import ImportReport, reason_text
from eigyo.workspace import Workspace

#: Columns of the rejects CSV before the original record's own columns.
REJECT_CSV_COLUMNS = ("file", "row", "column", "value", "reason")


def _has_table(ws: Workspace, name: str) -> bool:
    sql = "SELECT 1 FROM information_schema.tables WHERE table_name = ?"
    return bool(ws.raw.execute(sql, [name]).fetchall())


def resolve_import(ws: Workspace, import_id: int | None, lang: str = "ja") -> int:
    """``import_id`` if that import exists, else the latest one; an error when there is none."""
    ids = {int(r[0]) for r in ws.raw.execute("SELECT DISTINCT import_id FROM _imports").fetchall()}
    if not ids:
        raise InputError(t("ingest.export.no_import", lang))
    if import_id is None:
        return max(ids)
    if import_id not in ids:
        known = ", ".join(str(i) for i in sorted(ids))
        raise InputError(t("ingest.export.unknown_import", lang, id=import_id, known=known))
    return import_id


def saved_report(ws: Workspace, import_id: int | None = None, lang: str = "ja") -> ImportReport:
    """The report saved with an import (default: the latest), as it was printed then."""
    imp = resolve_import(ws, import_id, lang)
    rows = []
    if _has_table(ws, "_import_reports"):
        sql = "SELECT report FROM _import_reports WHERE import_id = ?"
        rows = ws.raw.execute(sql, [imp]).fetchall()
    if not rows:
        raise InputError(t("ingest.export.no_report", lang, id=imp))
    return ImportReport.from_json(json.loads(rows[0][0]))


def _reasons(frame: pl.DataFrame, lang: str) -> pl.Series:
    """The reason in ``lang``, rendered once per distinct (code, value, detail)."""
    if "detail" not in frame.columns or lang == "en":
        return frame.get_column("reason")
    combos = frame.select("code", "value", "detail", "reason").unique(["code", "value", "detail"])
    texts = [
        reason_text(c, v, d or "", lang) if c and (d is not None or c == "missing") else r
        for c, v, d, r in combos.iter_rows()
    ]
    combos = combos.with_columns(pl.Series("__text", texts, dtype=pl.String))
    joined = frame.join(
        combos.drop("reason"), on=["code", "value", "detail"], how="left", nulls_equal=True
    )
    return joined.get_column("__text").alias("reason")


def _record_columns(ws: Workspace, imp: int) -> list[str]:
    """The original records' column names, in file order, over every distinct layout."""
    layouts = ws.raw.execute(
        'SELECT json_keys(record) AS k, min(file), min("row") FROM _rejects '
        "WHERE import_id = ? AND record IS NOT NULL AND json_valid(record) GROUP BY 1 "
        "ORDER BY 2, 3",
        [imp],
    ).fetchall()
    names: dict[str, None] = {}
    for keys, _, _ in layouts:
        names.update(dict.fromkeys(keys))
    return list(names)


def export_rejects(
    ws: Workspace, out: Path, *, import_id: int | None = None, lang: str = "ja"
) -> int:
    """Write the rejected rows of one import (default: the latest) to ``out``; return the count."""
    imp = resolve_import(ws, import_id, lang)
    keys = _record_columns(ws, imp)
    picks = [
        f"json_extract_string(record, '$.\"{k.replace(chr(34), chr(92) + chr(34))}\"')"
        for k in keys
    ]
    names = [f"{k} (record)" if k in REJECT_CSV_COLUMNS else k for k in keys]
    cols = ", ".join(f"{p} AS c{i}" for i, p in enumerate(picks))
    result = ws.raw.sql(
        f'SELECT * EXCLUDE (record, import_id, "table"){", " + cols if cols else ""} '
        'FROM _rejects WHERE import_id = ? ORDER BY file, "row"',
        params=[imp],
    ).to_arrow_table()
    frame = pl.DataFrame(pl.from_arrow(result))
    frame = frame.with_columns(_reasons(frame, lang))
    frame = frame.select(
        *REJECT_CSV_COLUMNS, *(pl.col(f"c{i}").alias(n) for i, n in enumerate(names))
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    safe_frame(frame).write_csv(out, include_bom=True)
    return int(frame.height)
