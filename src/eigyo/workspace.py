"""A workspace is a folder: ``eigyo.toml`` (settings) and ``eigyo.duckdb`` (the data).

Why generations (docs/architecture.md, "A shared workspace"): DuckDB lets one process write a
file, or many processes read it, never both — a dashboard holding the file locked every import,
report and monitor run out. So nothing ever writes a file that someone may be reading. A writer
(an import, a monitor snapshot, ``users add``) takes the workspace's write lock (``eigyo.lock``),
copies the current data to a new file ``generations/eigyo-<n>.duckdb``, writes there, and on
:meth:`Workspace.close` publishes it at once by pointing the symlink ``eigyo.duckdb`` at it
(``os.replace``: readers see the old data or the new, never half). Readers open the file the link
names, read-only; a reader that is already open keeps its generation until it re-opens (the
dashboard does per request, :func:`generation`). Old generations are removed two publications
later (an open reader keeps its file's data on POSIX even after the name goes).

Everything downstream reads tables through :meth:`Workspace.table` (Ibis expressions), so the same
metric code runs on PostgreSQL and Spark: the data stays in DuckDB (the importer writes there) and
the workspace's *engine* (``eigyo.toml`` or ``--engine``, see :mod:`eigyo.engines`) answers the
queries. Bookkeeping tables start with ``_``.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import IO, Any

import duckdb
import ibis

from eigyo import engines
from eigyo import settings as settings_mod
from eigyo.errors import WorkspaceError
from eigyo.schema import TABLES, create_table_sql

DB_FILE = "eigyo.duckdb"
#: Where the generations live; ``eigyo.duckdb`` is a symlink to the current one.
GEN_DIR = "generations"
#: Held (``flock``) by the one process that writes the workspace, while it writes.
LOCK_FILE = "eigyo.lock"
#: Seconds a writer waits for another process's write to finish before it gives up with one
#: sentence; ``EIGYO_WRITE_WAIT_S`` overrides it (a nightly import may take minutes).
WRITE_WAIT_S = 120.0
_GEN = re.compile(r"^eigyo-(\d+)\.duckdb$")
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

    def __init__(
        self,
        path: Path,
        *,
        read_only: bool = False,
        engine: str | None = None,
        at: str | None = None,
    ) -> None:
        self.path = path
        self.read_only = read_only
        #: What this reader reads (:func:`generation`'s value: ``at`` while it exists, else the
        #: current one, fixed when the workspace is opened); a writer's is its new file's.
        self.generation = ""
        self._file = path / DB_FILE
        if read_only:
            self._file, self.generation = _reader_file(path, at)
        self._stage: _Stage | None = None
        self._changed = False
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
        db = self.path / DB_FILE  # the name a person knows, in every message
        if self.read_only:
            file = self._file
        else:
            self._stage = _join_stage(self.path)
            file, self.generation = self._stage.file, _gen_key(self.path, self._stage.file)
        try:
            con, file = _connect(file, self.read_only)
            if self.read_only:
                self.generation = _gen_key(self.path, file)
            size = con.con.execute(
                "SELECT block_size FROM pragma_database_size() "
                "WHERE database_name = current_database()"
            ).fetchall()
        except (duckdb.Error, WorkspaceError) as e:
            self._leave()
            raise (e if isinstance(e, WorkspaceError) else db_error(db, e)) from None
        # A truncated file opens, and fails only at the first query that reads its end. DuckDB
        # writes its file as a header and whole blocks, so a length between blocks is a cut.
        # (The count of blocks is no test: a connection of this process may hold blocks that
        # are not on disk yet.)
        have = file.stat().st_size
        if size and (have - _DB_HEADER_BYTES) % int(size[0][0]):
            con.disconnect()
            self._leave()
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
        self.mark_changed()

    def mark_changed(self) -> None:
        """Publish this writer's generation when it closes (:meth:`transaction` calls it; any
        other write is seen by the file's change, this only spares the check)."""
        self._changed = True

    def close(self) -> None:
        """Close; a writer that changed something publishes its generation now, atomically."""
        if "engine" in self.__dict__:
            self.engine.close()
            del self.__dict__["engine"]
        if "con" in self.__dict__:
            con = self.__dict__.pop("con")
            stage = self._stage
            if stage is not None and (self._changed or stage.changed) and stage.users == 1:
                # the last writer of this process: everything into the file, no WAL
                with suppress(duckdb.Error):
                    con.con.execute("CHECKPOINT")
            con.disconnect()
        self._leave()

    def _leave(self) -> None:
        if self._stage is not None:
            stage, self._stage = self._stage, None
            _leave_stage(self.path, stage, self._changed)
            self._changed = False

    def __del__(self) -> None:  # a writer dropped without close() still publishes
        with suppress(Exception):  # never raise from a finalizer
            if getattr(self, "_stage", None) is not None:
                self.close()

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
    if "could not set lock" in low or "conflicting lock" in low:
        return WorkspaceError(key="input.workspace.locked", db=str(db))
    detail = re.sub(r'"[^"]*"', db.name, text)[:200]  # DuckDB quotes the file's full path
    return WorkspaceError(key="input.workspace.corrupt", db=str(db), detail=detail)


# -- generations -----------------------------------------------------------------------------
def generation(path: Path) -> str:
    """Which generation ``eigyo.duckdb`` names now: the link's target, ``""`` for a plain file
    (a workspace no writer has published to yet). One ``readlink``: cheap enough per request."""
    try:
        return os.readlink(path / DB_FILE)
    except OSError:
        return ""


def _gen_key(path: Path, file: Path) -> str:
    return os.path.relpath(file, path) if file.parent.name == GEN_DIR else ""


def generation_number(gen: str) -> int:
    """The number of a generation (:func:`generation`'s value); 0 for a plain file."""
    m = _GEN.match(Path(gen).name)
    return int(m.group(1)) if m else 0


_gen_number = generation_number


def _reader_file(path: Path, at: str | None) -> tuple[Path, str]:
    """The file a reader opens: generation ``at`` while it exists, else the current one."""
    if at and (path / at).is_file():
        return path / at, at
    gen = generation(path)
    return (path / gen if gen else path / DB_FILE), gen


def _connect(file: Path, read_only: bool) -> tuple[Any, Path]:
    """Ibis on ``file`` and the file it opened: a generation removed between reading the link
    and opening it (two publications meanwhile) is retried on the link's new target."""
    for _ in range(3):
        try:
            return ibis.duckdb.connect(str(file), read_only=read_only), file
        except duckdb.IOException:
            if file.exists() or not read_only:
                raise
            path = file.parent.parent if file.parent.name == GEN_DIR else file.parent
            file = _reader_file(path, None)[0]
    return ibis.duckdb.connect(str(file), read_only=read_only), file


def _fsync(path: Path, directory: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0))
    try:
        # some file systems cannot sync a directory: the data's fsync is what counts
        with suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


@dataclass
class _Stage:
    """One process's new generation: its file, the write lock, the writers sharing it."""

    file: Path
    lock: IO[str]
    users: int = 0
    changed: bool = False
    #: The copy's (mtime, size) as made: any write — a transaction or a plain statement —
    #: changes them by the time the last connection closed (DuckDB checkpoints on close).
    made: tuple[int, int] = (0, 0)


#: Writers of one process share one new generation (as they shared one DuckDB instance before):
#: a second ``open_workspace`` in a process sees the first's committed writes.
_STAGES: dict[Path, _Stage] = {}
_STAGES_LOCK = threading.RLock()


def _write_lock(path: Path) -> IO[str]:
    """The workspace's write lock (``flock``), waited for up to :data:`WRITE_WAIT_S`; past that
    one sentence naming who holds it. Released by the kernel when the holder dies."""
    wait = float(os.environ.get("EIGYO_WRITE_WAIT_S", WRITE_WAIT_S))
    try:
        f = (path / LOCK_FILE).open("a+", encoding="utf-8")
    except OSError as e:
        raise db_error(path / DB_FILE, e) from None
    deadline = time.monotonic() + wait
    try:
        import fcntl
    except ImportError:  # Windows: no flock; one writer at a time is then up to the operator
        return f
    while True:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                f.seek(0)
                holder = f.read().strip() or "?"
                f.close()
                raise WorkspaceError(
                    key="errors.workspace.busy", path=str(path), holder=holder, seconds=int(wait)
                ) from None
            time.sleep(0.1)
    f.seek(0)
    f.truncate()
    f.write(f"pid {os.getpid()}, since {time.strftime('%Y-%m-%d %H:%M:%S')}")
    f.flush()
    return f


def _join_stage(path: Path) -> _Stage:
    """This process's new generation of ``path`` (made on first use: lock, copy)."""
    key = path.resolve()
    with _STAGES_LOCK:
        stage = _STAGES.get(key)
        if stage is None:
            lock = _write_lock(path)
            try:
                file = _new_generation(path)
            except BaseException:
                lock.close()
                raise
            st = file.stat()
            stage = _STAGES[key] = _Stage(file, lock, made=(st.st_mtime_ns, st.st_size))
        stage.users += 1
        return stage


def _new_generation(path: Path) -> Path:
    """Copy the current data to the next generation's file (under the write lock)."""
    gens = path / GEN_DIR
    try:
        gens.mkdir(exist_ok=True)
        current = generation(path)
        src = path / current if current else path / DB_FILE
        for f in gens.iterdir():  # a writer that died before publishing left its copy
            if _gen_number(f.name.split(".duckdb")[0] + ".duckdb") > _gen_number(current):
                shutil.rmtree(f) if f.is_dir() else f.unlink(missing_ok=True)
        dst = gens / f"eigyo-{_gen_number(current) + 1:06d}.duckdb"
        shutil.copyfile(src, dst)
        wal = Path(f"{src}.wal")  # a plain file whose last writer died: DuckDB replays it
        if wal.exists():
            shutil.copyfile(wal, f"{dst}.wal")
    except OSError as e:
        raise db_error(path / DB_FILE, e) from None
    return dst


def _leave_stage(path: Path, stage: _Stage, changed: bool) -> None:
    """One writer less; the last publishes the generation when any writer changed it, else
    drops it. Either way the write lock goes."""
    with _STAGES_LOCK:
        stage.changed = stage.changed or changed
        stage.users -= 1
        if stage.users > 0:
            return
        _STAGES.pop(path.resolve(), None)
    try:
        st = stage.file.stat()
        written = (st.st_mtime_ns, st.st_size) != stage.made or Path(f"{stage.file}.wal").exists()
        if stage.changed or written:
            _publish(path, stage.file)
        else:
            _drop(stage.file)
    finally:
        stage.lock.close()


def _drop(file: Path) -> None:
    for f in (file, Path(f"{file}.wal")):
        f.unlink(missing_ok=True)
    shutil.rmtree(f"{file}.tmp", ignore_errors=True)


def _publish(path: Path, file: Path) -> None:
    """Make ``file`` the current generation in one step, then remove the old ones."""
    link = path / DB_FILE
    try:
        _fsync(file)
        _fsync(file.parent, directory=True)
        tmp = path / f".{DB_FILE}.{os.getpid()}.new"
        tmp.unlink(missing_ok=True)
        os.symlink(os.path.relpath(file, path), tmp)
        os.replace(tmp, link)  # atomic: a reader resolves the old target or the new
        _fsync(path, directory=True)
    except OSError as e:
        raise db_error(link, e) from None
    keep = _gen_number(file.name) - 1  # the previous one stays for a reader opening it now
    for f in (path / GEN_DIR).iterdir():
        n = _gen_number(f.name.split(".duckdb")[0] + ".duckdb")
        if 0 < n < keep:
            _drop(path / GEN_DIR / f"eigyo-{n:06d}.duckdb")


def _create_tables(path: Path) -> None:
    """The canonical and bookkeeping tables: straight into a new file, or — in a workspace that
    has data — through a new generation, only when one is missing."""
    db = path / DB_FILE
    ddl = [create_table_sql(t) for t in TABLES] + list(META_DDL)
    if not db.exists():
        con = duckdb.connect(str(db))
        try:
            for stmt in ddl:
                con.execute(stmt)
        finally:
            con.close()
        return
    with Workspace(path, read_only=True) as ws:
        have = {
            str(r[0]) for r in ws.raw.execute("SELECT table_name FROM duckdb_tables()").fetchall()
        }
    if {t.name for t in TABLES} <= have and {"_imports", "_rejects"} <= have:
        return
    with Workspace(path) as ws, ws.transaction() as con:
        for stmt in ddl:
            con.execute(stmt)


def init(path: Path, *, name: str | None = None, exist_ok: bool = False) -> Workspace:
    """Create a workspace folder with a commented ``eigyo.toml`` and an empty database."""
    cfg = path / settings_mod.SETTINGS_FILE
    if cfg.exists() and not exist_ok:
        raise WorkspaceError(key="errors.workspace.exists", path=str(path), cfg=str(cfg))
    path.mkdir(parents=True, exist_ok=True)
    if not cfg.exists():
        cfg.write_text(settings_mod.template(name or path.resolve().name), encoding="utf-8")
    _create_tables(path)
    return Workspace(path)


def open_workspace(
    path: Path, *, read_only: bool = False, engine: str | None = None, at: str | None = None
) -> Workspace:
    """Open an existing workspace, explaining how to create one when the folder is not one.

    ``engine`` overrides the engine of ``eigyo.toml`` for this opening (``--engine``); ``at``
    names the generation a reader opens (:func:`generation`'s value; the current one when it is
    gone or not given).
    """
    if not (path / settings_mod.SETTINGS_FILE).exists():
        raise WorkspaceError(
            key="errors.workspace.not_workspace", path=str(path), cfg=settings_mod.SETTINGS_FILE
        )
    return Workspace(path, read_only=read_only, engine=engine, at=at)
