"""Files → frames of strings: CSV (any of the encodings Japanese exports use), .xlsx, .parquet.

Every value is read as text (``infer_schema=False``): typing is validation's job, so that a value
that does not parse becomes a rejected row with its reason instead of a reader error or a silent
null. CSV bytes are decoded in Python because DuckDB reads CP932 only through an extension it
cannot download here, and polars reads UTF-8 only.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from eigyo.errors import InputError
from eigyo.ingest.validate import ROW

#: File suffixes the importer reads.
SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".parquet")
_DELIMITERS = (",", ";", "\t")
#: Aliases that would select Python's ``shift_jis`` codec, which fails on 髙 ① ～: use cp932.
_SJIS_ALIASES = {"shift_jis", "shift-jis", "sjis", "s_jis", "shiftjis", "ms932", "windows-31j"}


@dataclass
class RawTable:
    """One file read as text: columns of strings plus ``_row`` (spreadsheet row number)."""

    frame: pl.DataFrame
    encoding: str | None = None
    #: Rows that could not be split into the header's columns: row, value (the line), detail.
    malformed: list[tuple[int, str, str]] = field(default_factory=list)


def decode(data: bytes, name: str, encoding: str | None = None) -> tuple[str, str]:
    """Bytes → text and the encoding used: strict UTF-8 (BOM or not), strict CP932, then a guess.

    ``encoding`` overrides detection; Shift_JIS aliases are read as CP932, its superset.
    """
    if encoding:
        enc = "cp932" if encoding.strip().lower() in _SJIS_ALIASES else encoding
        try:
            return data.decode(enc), enc
        except LookupError:
            raise InputError(f"{name}: unknown encoding {encoding!r} (e.g. utf-8, cp932)") from None
        except UnicodeDecodeError as e:
            raise InputError(
                f"{name}: not {enc} at byte {e.start:,} ({data[e.start : e.start + 4]!r}); "
                "omit --encoding to detect it"
            ) from None
    for enc in ("utf-8-sig", "cp932"):
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError:
            continue
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise InputError(f"{name}: cannot tell its text encoding; give one with --encoding")
    return str(best), str(best.encoding)


def sniff_delimiter(text: str) -> str:
    """The delimiter among comma, semicolon and tab that splits the header line most often."""
    end = text.find("\n")  # the first line only, without copying the rest of the text
    header = next(
        csv.reader(io.StringIO(text[: end if end >= 0 else None] + "\n"), delimiter="\x00"), [""]
    )
    line = header[0] if header else ""
    counts = {d: line.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _clean_header(frame: pl.DataFrame) -> pl.DataFrame:
    """Padded headers (`` Amount ``) are trimmed; a blank header gets its column number."""
    names = [c.strip() or f"column_{i + 1}" for i, c in enumerate(frame.columns)]
    seen: dict[str, int] = {}
    unique = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        unique.append(n if seen[n] == 1 else f"{n}_{seen[n]}")
    return frame.rename(dict(zip(frame.columns, unique, strict=True)))


def _with_rows(frame: pl.DataFrame) -> pl.DataFrame:
    frame = _clean_header(frame.select(pl.all().cast(pl.String)))
    return frame.with_columns(pl.int_range(2, frame.height + 2, dtype=pl.Int64).alias(ROW))


def _csv_fallback(text: str, sep: str) -> tuple[pl.DataFrame, list[tuple[int, str, str]]]:
    """Python's csv module for files polars refuses (rows with more fields than the header).

    Only malformed files take this path; each over-long row becomes a rejected row.
    """
    rows = list(csv.reader(io.StringIO(text), delimiter=sep))
    header, body = (rows[0], rows[1:]) if rows else ([], [])
    width = len(header)
    good: list[list[str | None]] = []
    numbers: list[int] = []
    bad: list[tuple[int, str, str]] = []
    for i, r in enumerate(body, start=2):
        if len(r) > width:
            bad.append((i, sep.join(r), f"{len(r)}/{width}"))
            continue
        good.append([*(v if v != "" else None for v in r), *([None] * (width - len(r)))])
        numbers.append(i)
    frame = pl.DataFrame(good, schema=[(h, pl.String) for h in header], orient="row")
    frame = _clean_header(frame)
    return frame.with_columns(pl.Series(ROW, numbers, dtype=pl.Int64)), bad


def read_csv_text(text: str, name: str, utf8: bytes | None = None) -> RawTable:
    """CSV text → strings. Line endings LF, CRLF and bare CR are all accepted.

    ``utf8``: ``text`` encoded as UTF-8 when the caller has it (a UTF-8 file's own bytes, BOM
    removed), so that tens of MB are not encoded again.
    """
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        utf8 = None
    if not text or text.isspace():  # as ``not text.strip()``, without copying the text
        raise InputError(f"{name}: the file is empty (no header row)")
    sep = sniff_delimiter(text)
    try:
        frame = pl.read_csv(
            utf8 if utf8 is not None else text.encode("utf-8"),
            infer_schema=False,
            separator=sep,
        )
    except pl.exceptions.PolarsError:
        frame, bad = _csv_fallback(text, sep)
        return RawTable(frame, malformed=bad)
    return RawTable(_with_rows(frame))


def read_file(path: Path, *, encoding: str | None = None, sheet: str | None = None) -> RawTable:
    """Read one input file by its suffix."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return RawTable(_with_rows(pl.read_parquet(path)))
    if suffix == ".xlsx":
        return RawTable(_with_rows(_read_xlsx(path, sheet)))
    if suffix not in SUFFIXES:
        raise InputError(
            f"{path.name}: cannot read {suffix or 'files without a suffix'} files. "
            f"Use one of {', '.join(SUFFIXES)}."
        )
    data = path.read_bytes()
    text, enc = decode(data, path.name, encoding)
    utf8 = utf8_bytes(data, enc)
    del data  # from here on the text (and, for UTF-8, these same bytes) is what is read
    raw = read_csv_text(text, path.name, utf8)
    raw.encoding = enc
    return raw


def utf8_bytes(data: bytes, enc: str) -> bytes | None:
    """``data`` as the UTF-8 of its decoded text, when it already is that (else None)."""
    name = enc.lower().replace("_", "-")
    if name == "utf-8-sig":
        return data.removeprefix(b"\xef\xbb\xbf")
    return data if name in ("utf-8", "utf8") else None


def _read_xlsx(path: Path, sheet: str | None) -> pl.DataFrame:
    """First sheet (or ``sheet``), every cell as text."""
    try:
        import fastexcel  # noqa: F401
    except ImportError:  # pragma: no cover - depends on the installation
        raise InputError("Reading .xlsx needs fastexcel: pip install fastexcel") from None
    try:
        if sheet:
            return pl.read_excel(path, sheet_name=sheet, infer_schema_length=0)
        return pl.read_excel(path, sheet_id=1, infer_schema_length=0)
    except (ValueError, pl.exceptions.PolarsError) as e:
        raise InputError(f"{path.name}: cannot read the workbook ({e})") from None
