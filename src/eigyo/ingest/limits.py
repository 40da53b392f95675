"""Limits on what one input file may make the importer read, checked before the work.

A file is small on disk and large in memory when it is compressed (.xlsx is a zip of XML,
Parquet pages are compressed and dictionary-encoded) or when its structure is broken (a file
with no line ends is one "header" line). Each check here reads only a zip's directory, a Parquet
file's metadata or the first lines of a text, so a refused file costs next to nothing; each
refusal is an :class:`~eigyo.errors.InputError` that names the file and the limit
(``i18n/input.toml``). The limits are :class:`eigyo.settings.ImportLimits` (``[import]`` in
``eigyo.toml``): :func:`in_force` sets a workspace's limits for one import, and the readers read
them with :func:`current` (a context variable, so that deep readers need no extra argument; a
worker thread is given them explicitly).
"""

from __future__ import annotations

import re
import zipfile
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import partial
from itertools import chain
from pathlib import Path

from eigyo.errors import InputError
from eigyo.settings import ZIP_RATIO_FLOOR, ImportLimits

#: ``ImportLimits`` is frozen: the shared default cannot be changed through the variable.
_LIMITS: ContextVar[ImportLimits] = ContextVar(
    "eigyo_import_limits",
    default=ImportLimits(),  # noqa: B039
)
#: How much of a worksheet's XML is read to find its ``<dimension ref="A1:K123"/>``.
_DIMENSION_HEAD = 4096
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="[A-Z]*\d*:?[A-Z]*(\d+)"')


def current() -> ImportLimits:
    """The limits of the import in progress (the defaults outside one)."""
    return _LIMITS.get()


@contextmanager
def in_force(limits: ImportLimits) -> Iterator[None]:
    """Apply ``limits`` to every file read in this block (this thread)."""
    token = _LIMITS.set(limits)
    try:
        yield
    finally:
        _LIMITS.reset(token)


def _n(value: float) -> str:
    return f"{value:,.0f}"


def check_zip(path: Path, limits: ImportLimits | None = None) -> None:
    """Refuse a zip container (.xlsx) that is not one, is damaged, or unzips to too much.

    The sizes come from the zip's directory; each member is then read through once (and thrown
    away) so that a directory that understates a size fails its CRC check here instead of
    expanding further in the workbook reader. A member may expand by at most ``max_zip_ratio``
    (members under :data:`~eigyo.settings.ZIP_RATIO_FLOOR` excepted) and all together to at most
    ``max_unzipped_bytes``; no worksheet may declare more than ``max_rows`` rows.
    """
    lim = limits or current()
    name, suffix = path.name, path.suffix.lower() or ".zip"
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            total = sum(i.file_size for i in infos)
            if total > lim.max_unzipped_bytes:
                raise InputError(
                    key="input.limits.unzipped",
                    file=name,
                    size=_n(total),
                    limit=_n(lim.max_unzipped_bytes),
                )
            for i in infos:
                ratio = i.file_size / max(i.compress_size, 1)
                if i.file_size > ZIP_RATIO_FLOOR and ratio > lim.max_zip_ratio:
                    raise InputError(
                        key="input.limits.ratio",
                        file=name,
                        member=i.filename,
                        ratio=f"{ratio:,.0f}",
                        limit=f"{lim.max_zip_ratio:g}",
                    )
            sizes = _Expansion()
            for i in infos:
                _check_member(zf, i, name, lim, sizes)
            sizes.check(name, lim)
    except InputError:  # a ValueError too: raised above, not a damaged zip
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError, ValueError):
        raise InputError(key="input.limits.not_zip", file=name, suffix=suffix) from None
    except OSError as e:
        raise InputError(key="errors.read.workbook", file=name, detail=e.strerror or "") from None


class _Expansion:
    """How far a workbook's shared strings can multiply: cells that reference a shared string
    (``t="s"``) × the longest shared string. A 7 MB workbook whose million cells each point at
    the same 1 KB string is 1 GB of text once read, though every member unzips modestly; the
    product bounds what the reader can build, counted while the members are read through."""

    _CELL = re.compile(rb't="s"')
    _OPEN = re.compile(rb"<(?:\w+:)?si[\s>]")
    _CLOSE = re.compile(rb"</(?:\w+:)?si>")
    _KEEP = 16  # bytes carried between chunks, so a tag split by a chunk boundary is still seen

    def __init__(self) -> None:
        self.cells = 0
        self.longest = 0

    def feed_sheet(self, chunks: Iterator[bytes]) -> None:
        tail = b""
        for chunk in chunks:
            buf = tail + chunk
            # a match wholly inside the carried tail was counted with the previous chunk
            self.cells += sum(1 for m in self._CELL.finditer(buf) if m.end() > len(tail))
            tail = buf[-self._KEEP :]

    def feed_strings(self, chunks: Iterator[bytes]) -> None:
        tail, offset, start = b"", 0, None  # offset: where ``buf`` starts in the member
        for chunk in chunks:
            buf = tail + chunk
            # (position, 0 = a string ends, 1 = one begins): "</si><si>" ends one string where
            # the next begins, and the end must be seen first
            marks = [(m.start(), 1) for m in self._OPEN.finditer(buf) if m.end() > len(tail)]
            marks += [(m.end(), 0) for m in self._CLOSE.finditer(buf) if m.end() > len(tail)]
            for pos, opening in sorted(marks):
                if opening:
                    start = offset + pos
                elif start is not None:
                    self.longest = max(self.longest, offset + pos - start)
                    start = None
            if start is not None:  # a string still open is at least this long
                self.longest = max(self.longest, offset + len(buf) - start)
            offset += len(buf) - min(self._KEEP, len(buf))
            tail = buf[-self._KEEP :]

    def check(self, name: str, lim: ImportLimits) -> None:
        total = self.cells * self.longest
        if total > lim.max_unzipped_bytes:
            raise InputError(
                key="input.limits.shared_strings",
                file=name,
                cells=_n(self.cells),
                longest=_n(self.longest),
                size=_n(total),
                limit=_n(lim.max_unzipped_bytes),
            )


def _check_member(
    zf: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    name: str,
    lim: ImportLimits,
    sizes: _Expansion | None = None,
) -> None:
    """Read one member through (its CRC is checked at its end); a worksheet's declared rows;
    the shared-string cells and the longest shared string (``sizes``)."""
    sheet = info.filename.startswith("xl/worksheets/")
    strings = info.filename == "xl/sharedStrings.xml"
    with zf.open(info) as f:
        head = f.read(_DIMENSION_HEAD)
        rest = iter(partial(f.read, 1 << 20), b"")
        if sizes is not None and sheet:
            sizes.feed_sheet(chain([head], rest))
        elif sizes is not None and strings:
            sizes.feed_strings(chain([head], rest))
        else:
            deque(rest, maxlen=0)  # read through to the CRC check
    if sheet and (m := _DIMENSION.search(head)):
        rows = int(m[1])
        if rows > lim.max_rows:
            raise InputError(
                key="input.limits.rows", file=name, rows=_n(rows), limit=_n(lim.max_rows)
            )


def check_parquet(path: Path, limits: ImportLimits | None = None) -> None:
    """Refuse a Parquet file whose metadata declares too many rows, cells or bytes.

    Only the footer is read: row count, columns and each row group's uncompressed size.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    lim = limits or current()
    try:
        meta = pq.read_metadata(path)
    except (pa.ArrowException, OSError, ValueError):
        raise InputError(key="input.limits.not_parquet", file=path.name) from None
    rows, cols = int(meta.num_rows), int(meta.num_columns)
    size = sum(int(meta.row_group(i).total_byte_size) for i in range(meta.num_row_groups))
    check_shape(path.name, rows, cols, lim)
    if size > lim.max_parquet_bytes:
        raise InputError(
            key="input.limits.parquet_bytes",
            file=path.name,
            size=_n(size),
            limit=_n(lim.max_parquet_bytes),
        )


def check_shape(name: str, rows: int, cols: int, limits: ImportLimits | None = None) -> None:
    """Refuse a table of more rows, columns or cells than the limits allow."""
    lim = limits or current()
    if cols > lim.max_columns:
        raise InputError(
            key="input.limits.columns", file=name, n=_n(cols), limit=_n(lim.max_columns)
        )
    if rows > lim.max_rows:
        raise InputError(key="input.limits.rows", file=name, rows=_n(rows), limit=_n(lim.max_rows))
    if rows * cols > lim.max_cells:
        raise InputError(
            key="input.limits.cells", file=name, cells=_n(rows * cols), limit=_n(lim.max_cells)
        )


def check_header(name: str, line: str, limits: ImportLimits | None = None) -> None:
    """Refuse a header line longer than ``max_header_bytes`` (UTF-8 bytes)."""
    lim = limits or current()
    if len(line) * 4 <= lim.max_header_bytes:  # no need to encode a short line
        return
    size = len(line.encode("utf-8", errors="replace"))
    if size > lim.max_header_bytes:
        raise InputError(
            key="input.limits.header", file=name, size=_n(size), limit=_n(lim.max_header_bytes)
        )
