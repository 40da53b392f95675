"""Typed columns to canonical CSV text: ids, timestamps, dates and labels, appended chunk by chunk.

Generated data stays integer until this last step; here integers become ``O0000042``-style ids,
``2025-04-01T09:15:00`` timestamps and ``2025-04-01`` dates, and missing values (:data:`NA` or
``-1``) become empty cells. Every file gets exactly the columns of ``eigyo.schema`` in their order,
and a table without rows still gets its header, so the importer sees all thirteen files.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO

import numpy as np
import numpy.typing as npt
import polars as pl

from eigyo.demo import _calendar as cal
from eigyo.schema import TABLES, table

TS_FORMAT = "%Y-%m-%dT%H:%M:%S"
#: (prefix, digits) of each kind of id: large scale needs 7 digits of deals, 9 of activities.
ID_FORMATS = {
    "rep": ("R", 5),
    "account": ("A", 7),
    "lead": ("L", 8),
    "opportunity": ("O", 7),
    "activity": ("ACT", 9),
    "order": ("ORD", 7),
}


def ids(kind: str, idx: npt.ArrayLike, offset: int) -> pl.Series:
    """Global ids, numbered from 1, from chunk-local indices (``-1`` → empty)."""
    prefix, width = ID_FORMATS[kind]
    s = pl.Series("i", np.asarray(idx, dtype=np.int64))
    text = pl.concat_str(
        [pl.lit(prefix), (pl.col("i") + offset + 1).cast(pl.Utf8).str.zfill(width)]
    )
    return pl.DataFrame(s).select(pl.when(pl.col("i") >= 0).then(text).alias("i")).to_series()


def ts(values: npt.ArrayLike) -> pl.Series:
    """Calendar seconds as naive local datetimes (:data:`NA` → empty)."""
    arr = np.asarray(values, dtype=np.int64)
    s = pl.Series("t", arr).set(pl.Series(arr == cal.NA), None)
    return pl.from_epoch(s, time_unit="s")


def dates(values: npt.ArrayLike) -> pl.Series:
    """Day numbers as dates (:data:`NA` → empty)."""
    arr = np.asarray(values, dtype=np.int64)
    return pl.Series("d", arr).set(pl.Series(arr == cal.NA), None).cast(pl.Int32).cast(pl.Date)


def labels(words: tuple[str, ...], codes: npt.ArrayLike) -> pl.Series:
    """Codes into a word list (``-1`` → empty)."""
    arr = np.asarray(codes, dtype=np.int64)
    idx = pl.Series("c", arr).set(pl.Series(arr < 0), None)
    return pl.Series(words).gather(idx)


class CsvSink:
    """Appends chunks to ``<table>.csv`` files; the header is written once, with the first chunk."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.counts: dict[str, int] = {t.name: 0 for t in TABLES}
        self._files: dict[str, IO[bytes]] = {}
        out_dir.mkdir(parents=True, exist_ok=True)
        for t in TABLES:
            f = (out_dir / f"{t.name}.csv").open("wb")
            f.write((",".join(t.column_names) + "\n").encode("utf-8"))
            self._files[t.name] = f

    def write(self, name: str, df: pl.DataFrame) -> None:
        """Append rows; the frame must hold exactly the canonical columns (any order)."""
        cols = table(name).column_names
        if set(df.columns) != set(cols):
            raise ValueError(f"{name}: columns {sorted(df.columns)} != canonical {list(cols)}")
        df.select(cols).write_csv(
            self._files[name],
            include_header=False,
            datetime_format=TS_FORMAT,
            date_format="%Y-%m-%d",
        )
        self.counts[name] += df.height

    def close(self) -> None:
        for f in self._files.values():
            f.close()
