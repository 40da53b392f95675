"""Big CSV files in chunks: read, validate and stage a few tens of MB at a time.

A 20M-row export does not fit in memory as one frame of strings, so a CSV larger than
:data:`STREAM_BYTES` is cut into blocks of about :data:`CHUNK_BYTES` at line ends that lie outside
quoted values (a quoted value may span lines), each block is decoded with the encoding detected on
the file's start, validated like a whole file, and its valid rows are spooled to Parquet files
(rows appended block by block to an uncommitted table would stay in memory), which the load then
reads directly (:class:`Stage`). Duplicates across blocks are found in SQL (the first row stays,
as within one frame); only when there are some are the rows copied into a staging table inside the
import's transaction, dropped before COMMIT, so it is never seen. DuckDB's memory limit is lowered
meanwhile (:func:`bounded_memory`) so its big operators spill to disk.

Reading, validating and spooling overlap: while one block is validated, a worker thread reads and
parses the next (:func:`ahead`) and another writes the one before (:meth:`Stage.append`) — polars
works outside the GIL, so the second core is used where validation alone would leave it idle.

Files this cannot cut safely — bare-CR line endings, encodings other than UTF-8 and CP932 — are
read whole, as before.
"""

from __future__ import annotations

import contextvars
import itertools
import shutil
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import duckdb
import polars as pl

from eigyo.ingest.encoding import decode, utf8_bytes
from eigyo.ingest.readers import RawTable, read_csv_text
from eigyo.ingest.validate import ROW
from eigyo.schema import Table
from eigyo.workspace import GEN_DIR

#: Files larger than this are streamed (module attribute so tests can lower it).
STREAM_BYTES = 64 << 20
#: About how many bytes one block holds.
CHUNK_BYTES = 32 << 20
#: DuckDB's memory limit while a streamed import runs: the duplicate check, a staging table (when
#: keys repeat) and the copy into the target spill to the database's temp directory beyond it.
MEMORY_LIMIT = "1GB"
_STREAMABLE = ("utf-8-sig", "utf-8", "cp932")
_HEAD = 1 << 20


@dataclass
class Block:
    """One block of a streamed file, read as text, with spreadsheet row numbers."""

    raw: RawTable
    bytes_done: int


def streamable(path: Path, encoding: str | None) -> str | None:
    """The encoding to stream ``path`` with, or None when it must be read whole."""
    if path.suffix.lower() not in (".csv", ".tsv", ".txt") or path.stat().st_size <= STREAM_BYTES:
        return None
    with path.open("rb") as f:
        head = f.read(_HEAD)
    cut = head.rfind(b"\n")
    if cut < 0 or b"\r" in head.replace(b"\r\n", b""):
        return None
    _, enc = decode(head[: cut + 1], path.name, encoding)
    return enc if enc.lower() in _STREAMABLE else None


def _cut(data: bytes) -> int:
    """The last newline of ``data`` outside quotes (data starts outside quotes), or -1."""
    pos = data.rfind(b"\n")
    if pos < 0:
        return -1
    quotes = data.count(b'"', 0, pos)
    while quotes % 2 and pos > 0:  # inside a quoted value: step back to an earlier newline
        prev = data.rfind(b"\n", 0, pos)
        if prev < 0:
            return -1
        quotes -= data.count(b'"', prev, pos)
        pos = prev
    return pos


def _blocks(path: Path) -> Iterator[tuple[bytes, bytes, int]]:
    """(header line, block of whole rows, bytes read so far) for each block of the file."""
    with path.open("rb") as f:
        head = f.read(_HEAD)
        end = head.find(b"\n") + 1
        header, pending = head[:end], head[end:]
        done = len(head)
        while True:
            more = f.read(CHUNK_BYTES)
            done += len(more)
            data = pending + more
            if not more:
                if data.strip():
                    yield header, data, done
                return
            cut = _cut(data)
            if cut < 0:
                pending = data
                continue
            yield header, data[: cut + 1], done
            pending = data[cut + 1 :]


def csv_blocks(path: Path, enc: str) -> Iterator[Block]:
    """Each block as a :class:`RawTable` whose ``_row`` counts from the file's header.

    The next block is read while the caller validates this one (:func:`ahead`).
    """
    return ahead(_csv_blocks(path, enc))


#: Rows per block when a table already in memory (an event log's events) is validated in
#: blocks: its valid rows are spooled like a streamed CSV's instead of held a second time.
FRAME_BLOCK_ROWS = 500_000


def frame_blocks(raw: RawTable, nbytes: int) -> Iterator[Block]:
    """``raw`` cut into blocks of :data:`FRAME_BLOCK_ROWS` rows (zero-copy slices).

    An event log is read whole (its cases and resources are derived from all events), but its
    events need not be validated whole: a block at a time keeps the validation's intermediate
    columns small. Progress is reported as the share of ``nbytes`` (the file's size) the rows so
    far stand for; the reader's malformed rows come with the first block.
    """
    height = max(raw.frame.height, 1)
    for start in range(0, raw.frame.height, FRAME_BLOCK_ROWS):
        part = raw.frame.slice(start, FRAME_BLOCK_ROWS)
        done = nbytes * min(start + FRAME_BLOCK_ROWS, height) // height
        yield Block(RawTable(part, raw.encoding, raw.malformed if start == 0 else []), done)


_T = TypeVar("_T")


def ahead(items: Iterator[_T]) -> Iterator[_T]:
    """``items`` as they are, each next one produced in a worker thread meanwhile.

    Reading and parsing a block (polars, outside the GIL) then overlaps with the caller's work on
    the one before, on another core. At most one item is produced ahead, so memory holds one
    more block; the worker resumes the generator only after the previous step returned, so it is
    never run twice at once. An exception raised while producing an item is raised here.
    The worker runs in a copy of the caller's context, so the import's limits
    (:mod:`eigyo.ingest.limits`) hold there too.
    """
    ctx = contextvars.copy_context()
    with ThreadPoolExecutor(1, thread_name_prefix="eigyo-read") as pool:
        nxt = pool.submit(ctx.run, _step, items)
        while step := nxt.result():
            nxt = pool.submit(ctx.run, _step, items)
            yield step[0]


def _step(items: Iterator[_T]) -> list[_T]:
    """The next item of ``items`` as a one-item list, or an empty list at the end."""
    return list(itertools.islice(items, 1))


def _csv_blocks(path: Path, enc: str) -> Iterator[Block]:
    offset = 0
    for header, body, done in _blocks(path):
        data = header + body
        text, _ = decode(data, path.name, enc)
        raw = read_csv_text(text, path.name, utf8_bytes(data, enc))
        raw.encoding = enc
        raw.frame = raw.frame.with_columns(pl.col(ROW) + offset)
        raw.malformed = [(r + offset, v, d) for r, v, d in raw.malformed]
        offset += raw.frame.height + len(raw.malformed)
        yield Block(raw, done)


def _spool_parent(con: duckdb.DuckDBPyConnection) -> str | None:
    """The workspace's folder (None: the system temp folder, for in-memory databases). A writer's
    new generation lives in ``generations/``; its spools go to the workspace folder all the same,
    where the next import sweeps them."""
    rows = con.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchall()
    path = Path(rows[0][0]) if rows and rows[0][0] else None
    if path is None or not path.parent.is_dir():
        return None
    return str(path.parent.parent if path.parent.name == GEN_DIR else path.parent)


def sweep_leftovers(con: duckdb.DuckDBPyConnection) -> int:
    """Remove spool folders a killed import left next to the database; returns how many.

    Safe at the start of an import: the workspace's write lock admits one writer at a time, so
    no other import of this workspace can be spooling now.
    """
    parent = _spool_parent(con)
    if parent is None:
        return 0
    leftovers = [p for p in Path(parent).glob(".eigyo-stage-*") if p.is_dir()]
    for p in leftovers:
        shutil.rmtree(p, ignore_errors=True)
    return len(leftovers)


@contextmanager
def bounded_memory(con: duckdb.DuckDBPyConnection, limit: str = MEMORY_LIMIT) -> Iterator[None]:
    """Lower DuckDB's ``memory_limit`` (so big operators spill to disk), restoring it after."""
    before = _memory_limit(con)
    con.execute(f"SET memory_limit = '{limit}'").fetchall()
    try:
        yield
    finally:  # the default exactly when it was the default (the text form is rounded)
        con.execute("RESET memory_limit").fetchall()
        if _memory_limit(con) != before:
            con.execute(f"SET memory_limit = '{before}'").fetchall()


def _memory_limit(con: duckdb.DuckDBPyConnection) -> str:
    return str(con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0])


class Stage:
    """The valid rows of one streamed file, spooled block by block to Parquet files.

    Rows appended to an uncommitted DuckDB table stay in memory (outside its buffer limit), so
    blocks go to Parquet files in a folder next to the workspace. After the last block,
    :meth:`duplicates` checks that no key repeats across blocks; then the files themselves are the
    relation the load reads (:attr:`relation`, a ``read_parquet`` over them): the rows are written
    once, straight into the target table, which DuckDB writes to the database file as it goes.
    When keys do repeat, the files are first loaded into a staging table inside the import's
    transaction and the later repeats deleted from it (:meth:`duplicates`). The files are removed by
    :meth:`drop` after the load, or :meth:`discard` when the import fails.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, name: str) -> None:
        self.con, self.name, self.rows = con, name, 0
        self._dir: Path | None = None
        self._files: list[Path] = []
        self._table = False
        self._pool: ThreadPoolExecutor | None = None
        self._writing: Future[None] | None = None

    def append(self, good: pl.DataFrame) -> None:
        """Spool one block's valid rows; the file is written while the next block is read.

        One write at a time: a block waits for the one before it, so memory holds at most one
        block being written.
        """
        if good.is_empty():
            return
        if self._dir is None:
            self._dir = Path(tempfile.mkdtemp(prefix=".eigyo-stage-", dir=_spool_parent(self.con)))
        path = self._dir / f"{len(self._files):06d}.parquet"
        self._wait()
        self._pool = self._pool or ThreadPoolExecutor(1, thread_name_prefix="eigyo-spool")
        self._writing = self._pool.submit(_write, good, path)
        self._files.append(path)
        self.rows += good.height

    def _wait(self) -> None:
        """Wait for the spool file being written (raising what its write raised)."""
        writing, self._writing = self._writing, None
        if writing is not None:
            writing.result()

    @property
    def relation(self) -> str:
        """The valid rows, as SQL for a relation (the staging table once there is one)."""
        self._wait()
        if self._table or not self._files:
            return self.name
        files = ", ".join("'" + str(f).replace("'", "''") + "'" for f in self._files)
        return f"read_parquet([{files}])"

    def _to_table(self) -> None:
        """Load the spooled blocks into the staging table and remove the files."""
        try:
            self.con.execute(
                f"CREATE TABLE {self.name} AS SELECT * FROM {self.relation}"
            ).fetchall()
            self._table = True
        finally:
            self.discard()

    def discard(self) -> None:
        """Remove the spooled files (after the load, or when the import fails)."""
        if self._pool is not None:  # the write under way ends first (its error is moot now)
            self._pool.shutdown(wait=True)
            self._pool, self._writing = None, None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
        self._dir, self._files = None, []

    def duplicates(self, table: Table) -> pl.DataFrame:
        """Rows whose key appeared in an earlier block, as rejects; removed from the stage.

        ``SELECT DISTINCT`` over the key columns of the files tells whether any key repeats; only
        then are the rows copied into the staging table, where the window over all rows finds the
        repeats and they are deleted.
        """
        if not table.key or not self.rows:
            return pl.DataFrame()
        keys = ", ".join(f'"{k}"' for k in table.key)
        distinct = self.con.execute(
            f"SELECT count(*) FROM (SELECT DISTINCT {keys} FROM {self.relation})"
        ).fetchall()
        if int(distinct[0][0]) == self.rows:  # no key repeats: skip the window over all rows
            return pl.DataFrame()
        self._to_table()
        value = " || ', ' || ".join(f'CAST("{k}" AS VARCHAR)' for k in table.key)
        col = ",".join(table.key)
        result = self.con.sql(
            f"SELECT row::BIGINT AS row, '{col}' AS \"column\", {value} AS value, "
            "'duplicate' AS code, first::VARCHAR AS detail, "
            f"'{col}:duplicate:' || first AS problems, NULL::VARCHAR AS record FROM ("
            f"SELECT *, {ROW} AS row, min({ROW}) OVER (PARTITION BY {keys}) AS first "
            f"FROM {self.name}) WHERE row > first ORDER BY row"
        ).to_arrow_table()
        dups = pl.DataFrame(pl.from_arrow(result))
        if not dups.is_empty():
            self.con.register("__eigyo_dups", dups.select("row").to_arrow())
            try:
                self.con.execute(
                    f"DELETE FROM {self.name} WHERE {ROW} IN (SELECT row FROM __eigyo_dups)"
                ).fetchall()
            finally:
                self.con.unregister("__eigyo_dups")
            self.rows -= dups.height
        return dups

    def drop(self) -> None:
        """Drop the staging table, if any, and remove the spooled files."""
        self.discard()
        if self._table:
            self.con.execute(f"DROP TABLE IF EXISTS {self.name}").fetchall()
            self._table = False


def _write(good: pl.DataFrame, path: Path) -> None:
    """One spool file: LZ4 Parquet (fast to write and to read back), no column statistics."""
    good.write_parquet(path, compression="lz4", statistics=False)


Tick = Callable[[int], None]
