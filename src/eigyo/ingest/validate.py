"""Schema rules → typed rows and rejected rows with reasons, all as polars expressions.

For every canonical column the rules come from :mod:`eigyo.schema` (type, required, allowed values,
min/max); nothing here names a table. A row is rejected for its first problem in column order
(every problem of the row is kept too, in ``problems``), so each input row is either loaded or
rejected — never both, never neither: ``loaded + rejected == rows``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import polars as pl

from eigyo.ingest import normalize as nz
from eigyo.schema import EXTRA_COLUMN, Column, Table

ROW = "_row"
_SEP = "\x1f"
_T = "__t_"

#: Columns of the rejects frame (the ``_rejects`` table adds import id, file and table).
REJECT_COLUMNS = ("row", "column", "value", "code", "detail", "problems", "record")


@dataclass(frozen=True)
class Rules:
    """How to read one file's values: date formats and value maps from a preset or mapping."""

    tz: str = "Asia/Tokyo"
    formats: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    source_names: Mapping[str, str] = field(default_factory=dict)
    #: Columns filled by the mapping, not read from the file (ignored when judging empty rows).
    constants: frozenset[str] = frozenset()


@dataclass
class Checked:
    """The outcome for one file: rows to load (typed, schema order + ``extra``) and rejects."""

    good: pl.DataFrame
    rejects: pl.DataFrame
    rows: int


def _prepare(df: pl.DataFrame, table: Table, rules: Rules) -> pl.DataFrame:
    """Add absent optional columns; NFKC, 和暦 and value maps where the type calls for them."""
    missing = [pl.lit(None, pl.String).alias(c) for c in table.column_names if c not in df.columns]
    df = df.with_columns(missing)
    typed = [c.name for c in table.columns if c.type != "string" or c.allowed]
    df = df.with_columns([nz.nfkc_column(df, n) for n in typed])
    dated = [c.name for c in table.columns if c.type in ("date", "timestamp")]
    df = df.with_columns([nz.wareki_column(df, n) for n in dated])
    return df.with_columns([_value_map(n, m) for n, m in rules.values.items() if n in df.columns])


def _value_map(name: str, mapping: Mapping[str, str]) -> pl.Expr:
    """Exact (stripped) value → canonical value; ``"*"`` maps every other non-blank value."""
    s = pl.col(name).str.strip_chars()
    exact = {k: v for k, v in mapping.items() if k != "*"}
    mapped = s.replace(exact)
    if "*" in mapping:
        known = s.is_in(list(exact)) | nz.blank(s)
        mapped = pl.when(known).then(mapped).otherwise(pl.lit(mapping["*"]))
    return mapped.alias(name)


def _typed(c: Column, rules: Rules) -> pl.Expr:
    """The typed value of one column (null where absent or unreadable)."""
    raw = pl.col(c.name)
    fmts = rules.formats.get(c.name, ())
    if c.type == "number":
        return nz.parse_number(raw)
    if c.type == "integer":
        return nz.parse_integer(raw)
    if c.type == "date":
        return nz.parse_date(raw, fmts)
    if c.type == "timestamp":
        return nz.parse_timestamp(raw, rules.tz, fmts)
    s = nz.clean_string(raw)
    return s.str.to_lowercase() if c.allowed else s


#: The ISO layout most exports write timestamps in, parsed directly (no offset, no 和暦).
_ISO_TS = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$"


def _typed_column(df: pl.DataFrame, c: Column, rules: Rules) -> pl.Expr | pl.Series:
    """``_typed`` as a column of ``df``; timestamps in plain ISO form skip the general parser.

    The general timestamp parser runs a dozen regexes per value; values of the exact form
    ``YYYY-MM-DDTHH:MM:SS`` mean the same to it as to one ``strptime``, so only the rest (other
    layouts, offsets, unreadable text) go through it.
    """
    slow = _typed(c, rules)
    if c.type != "timestamp" or rules.formats.get(c.name):
        return slow.alias(_T + c.name)
    raw = pl.col(c.name)
    iso = raw.str.contains(_ISO_TS)
    parsed = raw.str.to_datetime("%Y-%m-%dT%H:%M:%S", strict=False, time_unit="us")
    fast = df.select(pl.when(iso).then(parsed).alias(_T + c.name)).to_series()
    rest = df.select(fast.is_null() & ~nz.blank(raw)).to_series()
    if rest.any():
        idx = rest.arg_true()
        values = df.filter(rest).select(slow).to_series()
        fast = fast.scatter(idx, values.cast(fast.dtype))
    return fast


def _problem(c: Column) -> pl.Expr:
    """``column<SEP>code<SEP>detail`` for the first rule this column breaks, else null."""
    raw, typed = pl.col(c.name), pl.col(_T + c.name)

    def tag(code: str, detail: str = "") -> pl.Expr:
        return pl.lit(_SEP.join((c.name, code, detail)))

    rules: list[tuple[pl.Expr, pl.Expr]] = [
        (nz.blank(raw) & pl.lit(c.required), tag("missing")),
        (~nz.blank(raw) & typed.is_null(), tag("type", c.type)),
    ]
    if c.allowed:
        rules.append((~typed.is_in(list(c.allowed)), tag("allowed", ", ".join(c.allowed))))
    if c.min_value is not None:
        rules.append((typed < c.min_value, tag("below_min", f"{c.min_value:g}")))
    if c.max_value is not None:
        rules.append((typed > c.max_value, tag("above_max", f"{c.max_value:g}")))
    # First broken rule wins: later rules only apply where the earlier ones held.
    out: pl.Expr = pl.lit(None, pl.String)
    for cond, value in reversed(rules):
        out = pl.when(cond).then(value).otherwise(out)
    return out


def _record(df: pl.DataFrame, rules: Rules) -> pl.Expr:
    """The whole input row as JSON, under the file's own column names."""
    cols = [c for c in df.columns if not c.startswith("_") and c not in rules.constants]
    named: dict[str, pl.Expr] = {}
    for c in cols:  # one source column may feed two canonical ones: keep it once
        named.setdefault(
            rules.source_names.get(c, c), pl.col(c).alias(rules.source_names.get(c, c))
        )
    return pl.struct(list(named.values())).struct.json_encode() if named else pl.lit("{}")


def _rejects_of(bad: pl.DataFrame, table: Table, rules: Rules) -> pl.DataFrame:
    """Rows with at least one problem → one reject row each, its first problem in front."""
    first = pl.col("__problems").list.first().str.split(_SEP)
    col = first.list.get(0)
    value = pl.coalesce([pl.when(col == c).then(pl.col(c)) for c in table.column_names])
    return bad.select(
        pl.col(ROW).alias("row"),
        col.alias("column"),
        value.alias("value"),
        first.list.get(1).alias("code"),
        first.list.get(2).alias("detail"),
        pl.col("__problems")
        .list.eval(pl.element().str.replace_all(_SEP, ":"))
        .list.join("; ")
        .alias("problems"),
    )


def _duplicates(ok: pl.DataFrame, table: Table, rules: Rules) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split valid rows into first occurrences of each key and later repeats (rejected)."""
    if not table.key:
        return ok, ok.clear().select(pl.lit(None).alias(c) for c in REJECT_COLUMNS[:-1])
    keys = [_T + k for k in table.key]
    ok = ok.with_columns(
        pl.struct(keys).is_first_distinct().alias("__first"),
        pl.col(ROW).min().over(keys).alias("__first_row"),
    )
    dup = ok.filter(~pl.col("__first"))
    rejects = dup.select(
        pl.col(ROW).alias("row"),
        pl.lit(",".join(table.key)).alias("column"),
        pl.concat_str([pl.col(k) for k in table.key], separator=", ").alias("value"),
        pl.lit("duplicate").alias("code"),
        pl.col("__first_row").cast(pl.String).alias("detail"),
        pl.format("{}:duplicate:{}", pl.lit(",".join(table.key)), pl.col("__first_row")).alias(
            "problems"
        ),
    )
    return ok.filter(pl.col("__first")), rejects


def _good(ok: pl.DataFrame, table: Table) -> pl.DataFrame:
    """Typed canonical columns in schema order, plus unlisted input columns as JSON ``extra``."""
    known = set(table.column_names)
    extra = [c for c in ok.columns if not c.startswith("_") and c not in known]
    extra_expr = (
        pl.struct(extra).struct.json_encode() if extra else pl.lit(None, pl.String)
    ).alias(EXTRA_COLUMN)
    typed = [pl.col(_T + c).alias(c) for c in table.column_names]
    return ok.select([*typed, extra_expr, pl.col(ROW)])


def check(df: pl.DataFrame, table: Table, rules: Rules | None = None) -> Checked:
    """Validate every row of ``df`` (all-string columns plus ``_row``) against ``table``."""
    rules = rules or Rules()
    original = df
    df = _prepare(df, table, rules)
    df = df.with_columns([_typed_column(df, c, rules) for c in table.columns])
    problems = pl.concat_list([_problem(c) for c in table.columns]).list.drop_nulls()
    read = [c for c in original.columns if not c.startswith("_") and c not in rules.constants]
    empty = pl.all_horizontal([nz.blank(pl.col(c)) for c in read]) if read else pl.lit(True)
    problems = (
        pl.when(empty).then(pl.concat_list(pl.lit(_SEP + "empty_row" + _SEP))).otherwise(problems)
    )
    df = df.with_columns(problems.alias("__problems"))
    has_problem = pl.col("__problems").list.len() > 0
    bad = _rejects_of(df.filter(has_problem), table, rules)
    ok, dups = _duplicates(df.filter(~has_problem), table, rules)
    rejects = pl.concat([bad, dups.cast(bad.schema)])
    records = original.filter(pl.col(ROW).is_in(rejects.get_column("row").implode()))
    records = records.select(pl.col(ROW).alias("row"), _record(original, rules).alias("record"))
    rejects = rejects.join(records, on="row", how="left").sort("row")
    return Checked(good=_good(ok, table), rejects=rejects, rows=df.height)
