"""Text as exports write it → typed values, as vectorized polars expressions.

Every input value arrives as a string. Each parser here returns a polars expression that yields the
typed value, or null where the text cannot be read as that type; validation then compares that null
with the original text to tell "missing" from "wrong type". Work that polars cannot express (NFKC,
和暦 eras) runs in Python over the *distinct* values of a column only, then maps back with
``replace`` — never a Python loop over rows.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

import polars as pl

#: Day zero of Excel's serial dates (1900 date system, including its 1900-02-29 quirk).
EXCEL_EPOCH = date(1899, 12, 30)

#: Accepted date layouts after normalization (年月日 and / and . become -).
_DATE_FORMATS = ("%Y-%m-%d",)
#: Accepted timestamp layouts (local part, after "T" became a space).
_TS_FORMATS = ("%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M")

_ERAS = {
    "令和": 2018,
    "r": 2018,
    "平成": 1988,
    "h": 1988,
    "昭和": 1925,
    "s": 1925,
    "大正": 1911,
    "t": 1911,
}
_WAREKI = re.compile(
    r"^\s*(令和|平成|昭和|大正|[RHSTrhst])\s*(元|\d{1,2})\s*[年.\-/]\s*(\d{1,2})\s*[月.\-/]\s*"
    r"(\d{1,2})\s*日?(.*)$"
)


def _distinct_map(series: pl.Series, fn: object) -> dict[str, str]:
    """Apply ``fn`` to each distinct non-null value of ``series``; keep only the changed ones."""
    out: dict[str, str] = {}
    for v in series.drop_nulls().unique().to_list():
        new = fn(v)  # type: ignore[operator]
        if new != v:
            out[v] = new
    return out


def nfkc_column(df: pl.DataFrame, name: str) -> pl.Expr:
    """NFKC (full-width digits and letters → ASCII, ￥ → ¥) for the values that need it.

    Only values with a non-ASCII character can change, so only those distinct values are
    normalized in Python; everything else stays a polars operation.
    """
    col = df.get_column(name)
    # a value has a non-ASCII character exactly when it has fewer characters than UTF-8 bytes:
    # two length reads per value, several times cheaper than the regex scan of every value
    candidates = col.filter(col.str.len_chars() < col.str.len_bytes())
    mapping = _distinct_map(candidates, lambda v: unicodedata.normalize("NFKC", v))
    return pl.col(name).replace(mapping) if mapping else pl.col(name)


def wareki_to_iso(value: str) -> str:
    """``令和7年4月1日`` / ``R7.4.1`` / ``H31.4.30 10:00`` → ``2025-04-01`` (+ the rest).

    Values that are not a Japanese era date come back unchanged.
    """
    m = _WAREKI.match(value)
    if not m:
        return value
    era, year, month, day, rest = m.groups()
    base = _ERAS[era.lower()] if era.isascii() else _ERAS[era]
    y = base + (1 if year == "元" else int(year))
    return f"{y:04d}-{int(month):02d}-{int(day):02d}{rest}"


def wareki_column(df: pl.DataFrame, name: str) -> pl.Expr:
    """Rewrite era dates of one column to ISO, over its distinct candidate values only."""
    col = df.get_column(name)
    candidates = col.filter(col.str.contains(r"^\s*(令和|平成|昭和|大正|[RHSTrhst]\s*(元|\d))"))
    mapping = _distinct_map(candidates, wareki_to_iso)
    return pl.col(name).replace(mapping) if mapping else pl.col(name)


def blank(expr: pl.Expr) -> pl.Expr:
    """True where a value is absent: null or only whitespace."""
    return expr.is_null() | (expr.str.strip_chars() == "")


def clean_string(expr: pl.Expr) -> pl.Expr:
    """Strip surrounding whitespace; an empty value becomes null."""
    s = expr.str.strip_chars()
    return pl.when(s == "").then(None).otherwise(s)


def parse_number(expr: pl.Expr) -> pl.Expr:
    """``￥1,234,000``, ``\\1,234,000``, ``$1,234``, ``1,234円``, ``(500)``, ``-`` → Float64 (else
    null, also for ``nan``, ``inf`` and overflowing values).

    ``\\`` is the yen sign of Shift_JIS (byte 0x5C), which CP932 decodes as a backslash.

    Currency signs, thousands separators and spaces are removed; parentheses mean a negative
    amount and a lone ``-`` is the accounting format's zero. Run after NFKC so full-width digits
    and ``￥`` have become ASCII and ``¥``.
    """
    s = expr.str.strip_chars()
    negative = s.str.starts_with("(") & s.str.ends_with(")")
    s = s.str.replace_all(r"[\s,¥$€£()\\]|円|JPY|USD|EUR", "")
    s = pl.when(s == "-").then(pl.lit("0")).otherwise(s)
    value = finite(s.cast(pl.Float64, strict=False))
    return pl.when(negative).then(-value).otherwise(value)


def finite(value: pl.Expr) -> pl.Expr:
    """Null for NaN and ±infinity: the cast reads ``nan``, ``inf`` and ``1e999``, no amount is."""
    return pl.when(value.is_finite()).then(value)


def parse_integer(expr: pl.Expr) -> pl.Expr:
    """A number without a fractional part → Int64 (``1,200`` yes, ``1.5`` no)."""
    return whole(parse_number(expr))


def whole(value: pl.Expr) -> pl.Expr:
    """A Float64 without a fractional part → Int64 (else null)."""
    return pl.when(value == value.floor()).then(value).otherwise(None).cast(pl.Int64, strict=False)


def _date_text(expr: pl.Expr) -> pl.Expr:
    """``2025年4月1日`` / ``2025/4/1`` / ``2025.4.1`` → ``2025-4-1`` (time part kept)."""
    s = expr.str.strip_chars()
    s = s.str.replace_all(r"\s*[年月]\s*", "-").str.replace(r"(\d)\s*日", "$1")
    return s.str.replace(r"^(\d{4})[/.](\d{1,2})[/.](\d{1,2})", "$1-$2-$3")


def _excel_serial(s: pl.Expr) -> pl.Expr:
    """Excel serial day numbers (5 digits: 1927–2173), with an optional fraction of a day."""
    is_serial = s.str.contains(r"^\d{5}(\.\d+)?$")
    days = s.cast(pl.Float64, strict=False)
    micros = (days * 86_400_000_000).round(0).cast(pl.Int64)
    stamp = pl.lit(EXCEL_EPOCH).cast(pl.Datetime("us")) + pl.duration(microseconds=micros)
    return pl.when(is_serial).then(stamp).otherwise(None)


def parse_date(expr: pl.Expr, formats: tuple[str, ...] = ()) -> pl.Expr:
    """A date → Date. User formats (from a mapping or preset) are tried first on the raw text."""
    raw = expr.str.strip_chars()
    s = _date_text(expr)
    day = s.str.replace(r"[ T].*$", "")
    tries = [raw.str.to_date(f, strict=False) for f in formats]
    tries += [day.str.to_date(f, strict=False) for f in _DATE_FORMATS]
    tries.append(_excel_serial(s).dt.date())
    return pl.coalesce(tries)


def _local_datetime(s: pl.Expr, formats: tuple[str, ...], raw: pl.Expr) -> pl.Expr:
    tries = [raw.str.to_datetime(f, strict=False, time_unit="us") for f in formats]
    tries += [s.str.to_datetime(f, strict=False, time_unit="us") for f in _TS_FORMATS]
    date_only = s.str.to_date("%Y-%m-%d", strict=False).cast(pl.Datetime("us"))
    tries += [date_only, _excel_serial(s)]
    return pl.coalesce(tries)


def parse_timestamp(expr: pl.Expr, tz: str, formats: tuple[str, ...] = ()) -> pl.Expr:
    """An ISO 8601 timestamp → naive Datetime in the workspace time zone ``tz``.

    Naive values are taken as already in ``tz``. Values with an offset (``Z``, ``+09:00``,
    ``-0500``) are moved to UTC by their offset, then to ``tz``, and stored without a zone, so
    every timestamp in the workspace means local wall-clock time.
    """
    raw = expr.str.strip_chars()
    s = _date_text(expr).str.replace(r"^(\d{4}-\d{1,2}-\d{1,2})[T ]\s*", "$1 ")
    s = s.str.replace(r"\s*[Zz]$", "+00:00")
    parts = s.str.extract_groups(
        r"^(?P<local>.*\d:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*(?P<sign>[+-])(?P<oh>\d{2}):?(?P<om>\d{2})$"
    )
    has_offset = parts.struct.field("local").is_not_null()
    local = pl.when(has_offset).then(parts.struct.field("local")).otherwise(s)
    naive = _local_datetime(local, formats, raw)
    minutes = parts.struct.field("oh").cast(pl.Int64, strict=False) * 60 + parts.struct.field(
        "om"
    ).cast(pl.Int64, strict=False)
    signed = pl.when(parts.struct.field("sign") == "-").then(-minutes).otherwise(minutes)
    utc = naive - pl.duration(minutes=signed)
    moved = utc.dt.replace_time_zone("UTC").dt.convert_time_zone(tz).dt.replace_time_zone(None)
    return pl.when(has_offset).then(moved).otherwise(naive)


#: The exact ISO layouts most exports write (``T`` or a space between date and time; no
#: fraction, offset or 和暦), which one ``strptime`` reads the way :func:`parse_timestamp` does.
ISO_TIMESTAMP = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}$"


def iso_timestamp(raw: pl.Expr) -> pl.Expr:
    """``YYYY-MM-DDTHH:MM:SS`` or ``YYYY-MM-DD HH:MM:SS`` → naive Datetime; null for any other text.

    The quick path for timestamps: the general parser runs a dozen regexes per value, this one
    ``strptime`` (the separator is made a ``T`` first), so callers parse the rest only.
    """
    text = raw.str.replace(" ", "T", literal=True)
    parsed = text.str.to_datetime("%Y-%m-%dT%H:%M:%S", strict=False, time_unit="us")
    return pl.when(raw.str.contains(ISO_TIMESTAMP)).then(parsed)


def timestamp_series(values: pl.Series, tz: str) -> pl.Series:
    """:func:`parse_timestamp` of a whole column, the exact ISO values read by :func:`iso_timestamp`
    and only the others by the general parser (same result, a fraction of the time and memory)."""
    frame = values.to_frame("v")
    out = frame.select(iso_timestamp(pl.col("v"))).to_series()
    rest = out.is_null() & values.is_not_null()
    return patch(out, frame, rest, parse_timestamp(pl.col("v"), tz)).alias(values.name)


def patch(values: pl.Series, frame: pl.DataFrame, rows: pl.Series, expr: pl.Expr) -> pl.Series:
    """``values`` with the ``rows`` marked replaced by ``expr``, evaluated on those rows only.

    How a quick parser's misses go through the general one: the expensive expression runs on
    the few rows that need it, not on the whole column.
    """
    if not rows.any():
        return values
    more = frame.filter(rows).select(expr).to_series()
    return values.scatter(rows.arg_true(), more.cast(values.dtype))
