"""The import's guard against garbled text: a file read with the wrong encoding (or garbled
before it was written) must not replace good names. The detection itself is
:mod:`eigyo.ingest.garbled`; this module runs it on a staged file's text columns against the rows
they would replace, in the engine for a streamed file."""

from __future__ import annotations

import duckdb

from eigyo.errors import InputError
from eigyo.ingest import garbled
from eigyo.ingest.load import Staged
from eigyo.ingest.validate import is_id
from eigyo.schema import EXTRA_COLUMN


def refuse_garbled(con: duckdb.DuckDBPyConnection, st: Staged) -> None:
    """Refuse to replace existing rows' text with text that looks garbled (mojibake).

    For each free-text column of a file read whole — names and notes, and ``extra`` (the
    columns the schema does not list, such as an opportunity's name), not ids or coded values:
    when its new values look garbled (:func:`eigyo.ingest.garbled.looks_garbled`) and the rows
    they would replace did not, the import stops (a wrong ``--encoding``, or a file cut inside a
    character and read another way, must not overwrite good names). When they replace nothing,
    or replace text as garbled, they load with a notice. A streamed file (decoded strictly as
    UTF-8 or CP932, so garbled only when its source was) is judged on a sample of
    :data:`GARBLED_SAMPLE` values per column, read from its spooled rows in the engine.
    """
    if not st.table.key or (st.stage is None and st.good.is_empty()):
        return
    keys = list(st.table.key)
    free = [
        c.name
        for c in st.table.columns
        if c.type == "string" and not c.allowed and not is_id(c) and c.name not in keys
    ]
    view = "__eigyo_garbled"
    if st.stage is not None:
        rel = st.stage.relation
        present = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {rel}").fetchall()}
    else:
        con.register(view, st.good.to_arrow())
        rel, present = view, set(st.good.columns)
    try:
        for col in [c for c in (*free, EXTRA_COLUMN) if c in present]:
            _garbled_column(con, st, rel, keys, col)
    finally:
        if st.stage is None:
            con.unregister(view)


#: Values of a column the garbled check reads from a streamed file (its first rows with text).
GARBLED_SAMPLE = 10_000


def _garbled_column(
    con: duckdb.DuckDBPyConnection, st: Staged, rel: str, keys: list[str], col: str
) -> None:
    """The garbled check of one column of the rows in ``rel`` (see :func:`refuse_garbled`)."""
    limit = f"LIMIT {GARBLED_SAMPLE}" if st.stage is not None else ""
    new = [
        r[0]
        for r in con.execute(
            f'SELECT "{col}" FROM {rel} WHERE "{col}" IS NOT NULL {limit}'
        ).fetchall()
    ]
    if not garbled.looks_garbled(new):
        return
    using = ", ".join(f'"{k}"' for k in keys)
    picked = ", ".join(f'"{k}"' for k in keys)
    sql = (
        f'SELECT t."{col}" FROM "{st.table.name}" t '
        f"JOIN (SELECT {picked} FROM {rel} {limit}) s USING ({using})"
    )
    old = [r[0] for r in con.execute(sql).fetchall()]
    values = {"col": col, "examples": garbled.examples(new), "enc": st.report.encoding or "-"}
    if old and not garbled.looks_garbled(old):
        n = len(old)
        if st.stage is not None:  # the sample judged; the message counts every row replaced
            count = f'SELECT count(*) FROM "{st.table.name}" t JOIN {rel} s USING ({using})'
            n = int(con.execute(count).fetchall()[0][0])
        raise InputError(key="input.garbled.refused", file=st.report.file, n=f"{n:,}", **values)
    st.report.notices.append({"code": "input.garbled.warned", **values})
