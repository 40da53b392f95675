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
from eigyo.ingest.values import Notice, fill_from, unmatched_notice, value_map
from eigyo.schema import EXTRA_COLUMN, Column, Table

ROW = "_row"
_SEP = "\x1f"
_T = "__t_"

#: Columns of the rejects frame (the ``_rejects`` table adds import id, file and table).
REJECT_COLUMNS = ("row", "column", "value", "code", "detail", "problems", "record")

#: Characters a person cannot see: C0 and C1 controls, bidi embeddings, overrides and isolates
#: (U+202A–U+202E, U+2066–U+2069: "Trojan Source"), zero-width space, joiners and the byte order
#: mark inside a value. In an id they make two ids that look the same (rejected:
#: ``hidden_chars``); in other text they load, with a notice (``input.hidden.warned``).
_INVISIBLE = r"\x7f-\x9f\x{200B}-\x{200D}\x{202A}-\x{202E}\x{2066}-\x{2069}\x{FEFF}"
HIDDEN = rf"[\x00-\x1f{_INVISIBLE}]"
#: :data:`HIDDEN` less tab and line ends, which a note may hold (noticed in text, not in ids).
HIDDEN_IN_TEXT = rf"[\x00-\x08\x0b\x0c\x0e-\x1f{_INVISIBLE}]"
#: What the ``hidden_chars`` reason names.
HIDDEN_DETAIL = "U+0000–U+001F, U+007F–U+009F, U+200B–U+200D, U+202A–U+202E, U+2066–U+2069, U+FEFF"


def is_id(c: Column) -> bool:
    """A column that identifies a row or points to one (``rep_id``, ``owner_rep_id``)."""
    return c.type == "string" and not c.allowed and c.name.endswith("_id")


def hidden_notices(df: pl.DataFrame, table: Table) -> list[Notice]:
    """One notice per text column (not an id) whose values hold hidden characters: the
    schema's text columns and the file's own columns kept in ``extra``."""
    known = {c.name for c in table.columns}
    cols = [c.name for c in table.columns if c.type == "string" and not is_id(c)]
    cols += [c for c in df.columns if c not in known and not c.startswith("_")]
    out: list[Notice] = []
    for col in cols:
        if col not in df.columns or df.schema[col] != pl.String:
            continue
        hits = df.get_column(col).filter(df.get_column(col).str.contains(HIDDEN_IN_TEXT))
        if hits.len():
            examples = ", ".join(ascii(v) for v in hits.head(3).to_list())
            out.append(("input.hidden.warned", {"col": col, "n": hits.len(), "examples": examples}))
    return out


@dataclass(frozen=True)
class Rules:
    """How to read one file's values: date formats and value maps from a preset or mapping."""

    tz: str = "Asia/Tokyo"
    formats: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    source_names: Mapping[str, str] = field(default_factory=dict)
    #: Columns filled by the mapping, not read from the file (ignored when judging empty rows).
    constants: frozenset[str] = frozenset()
    #: column → (canonical source column, {column: values that must hold}) — see
    #: :attr:`eigyo.ingest.mapping.FileSpec.fallbacks`.
    fallbacks: Mapping[str, tuple[str, Mapping[str, tuple[str, ...]]]] = field(default_factory=dict)


@dataclass
class Checked:
    """The outcome for one file: rows to load (typed, schema order + ``extra``) and rejects."""

    good: pl.DataFrame
    rejects: pl.DataFrame
    rows: int
    #: What a person should know that is not a rejected row: (code, details) — values that fell
    #: to a value map's ``"*"``, blanks filled from another column.
    notices: list[Notice] = field(default_factory=list)


def _prepare(df: pl.DataFrame, table: Table, rules: Rules) -> tuple[pl.DataFrame, list[Notice]]:
    """Add absent optional columns; NFKC, 和暦 and value maps where the type calls for them.

    Also returns, per value-mapped column, the values that fell to the map's ``"*"``.
    """
    missing = [pl.lit(None, pl.String).alias(c) for c in table.column_names if c not in df.columns]
    df = df.with_columns(missing)
    typed = [
        c.name for c in table.columns if c.type != "string" or c.allowed or c.name in rules.values
    ]
    df = df.with_columns([nz.nfkc_column(df, n) for n in typed])
    dated = [c.name for c in table.columns if c.type in ("date", "timestamp")]
    df = df.with_columns([nz.wareki_column(df, n) for n in dated])
    notices: list[Notice] = []
    exprs = []
    for n, m in rules.values.items():
        if n not in df.columns:
            continue
        allowed = table.column(n).allowed if n in table.column_names else ()
        expr, unmatched = value_map(n, m, allowed)
        exprs.append(expr)
        if "*" in m:
            notices += unmatched_notice(df, n, unmatched, m["*"], rules.source_names)
    return df.with_columns(exprs), notices


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


#: The ISO layouts most exports write, parsed directly (no offset, no 和暦, no other layout).
_ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"
#: Leading or trailing whitespace: the values :func:`normalize.clean_string` changes.
_EDGE_SPACE = r"^\s|\s$"

#: Test-only switch: False runs the general parsers and the full problem list on every row, the
#: reference the fast paths are compared with (``tests/test_ingest_fastpath.py``).
FAST = True


def _quick(c: Column, rules: Rules) -> pl.Expr | None:
    """A cheap parser for the common form of ``c``'s values, or None when there is none.

    Where it yields a value, that value is exactly what :func:`_typed` yields, and the text is not
    blank; where it yields null, the general parser decides. So it must only accept text the
    general parser reads the same way:

    - numbers: a plain cast. A text the cast reads holds only digits, sign, point, exponent or
      ``inf``/``nan``, none of which :func:`normalize.parse_number` removes or rewrites.
    - dates and timestamps in exact ISO form (``YYYY-MM-DD``, ``YYYY-MM-DDTHH:MM:SS`` or with a
      space for the ``T``): one ``strptime``; not when the mapping gives its own formats (tried
      first, they may differ).
    - allowed values: a value already in the list (lowercase, no surrounding blanks) is itself.
    - other strings: a non-empty value without surrounding whitespace is itself (the regex's
      ``\\s`` is Unicode White_Space, the set ``strip_chars`` removes).
    """
    raw = pl.col(c.name)
    fmts = rules.formats.get(c.name)
    if c.type == "number":
        return nz.finite(raw.cast(pl.Float64, strict=False))
    if c.type == "integer":
        return nz.whole(nz.finite(raw.cast(pl.Float64, strict=False)))
    if c.type == "date" and not fmts:
        return pl.when(raw.str.contains(_ISO_DATE)).then(raw.str.to_date("%Y-%m-%d", strict=False))
    if c.type == "timestamp" and not fmts:
        return nz.iso_timestamp(raw)
    if c.type == "string" and c.allowed and all(_plain(v) for v in c.allowed):
        return pl.when(raw.is_in(list(c.allowed))).then(raw)
    if c.type == "string" and not c.allowed:
        return pl.when((raw.str.len_bytes() > 0) & ~raw.str.contains(_EDGE_SPACE)).then(raw)
    return None


def _plain(value: str) -> bool:
    return bool(value) and value.isascii() and value == value.strip().lower()


def _typed_column(
    df: pl.DataFrame, c: Column, rules: Rules
) -> tuple[pl.Series, pl.Series, pl.Series | None]:
    """``_typed`` of ``c`` as a series named ``__t_<name>``, where its text is blank, and which
    rows the general parser read (None: all of them).

    The general parsers run several regexes per value (a dozen for timestamps); the quick parser
    (:func:`_quick`) reads the common forms, and only the values it cannot read — other layouts,
    offsets, 和暦, unreadable or blank text — go through the general one. Blank is computed from
    what is known already: null text is blank, text the quick parser read is not.
    """
    name = _T + c.name
    slow = _typed(c, rules).alias(name)
    quick = _quick(c, rules) if FAST else None
    if quick is None:
        typed = df.select(slow).to_series()
        return typed, df.select(nz.blank(pl.col(c.name))).to_series(), None
    typed = df.select(quick.alias(name)).to_series()
    blank = df.get_column(c.name).is_null()
    rest = typed.is_null() & ~blank
    text = df.select(c.name)
    typed = nz.patch(typed, text, rest, slow)
    return typed, nz.patch(blank, text, rest, nz.blank(pl.col(c.name))), rest


def _breaks(c: Column, typed: pl.Series, blank: pl.Series, rest: pl.Series | None) -> pl.Series:
    """Rows where ``c`` breaks any rule of :func:`_problem` (which one is found later).

    A rule whose condition is null does not apply, as in ``when``. Values the quick parser read
    (outside ``rest``) are in the allowed list already: only the others are looked up.
    """
    out = ~blank & typed.is_null()
    if c.required:
        out = out | blank
    if c.allowed:
        if rest is None:
            out = out | (~typed.is_in(list(c.allowed))).fill_null(False)
        elif rest.any():
            outside = (~typed.filter(rest).is_in(list(c.allowed))).fill_null(False)
            out = out | pl.repeat(False, len(typed), eager=True).scatter(rest.arg_true(), outside)
    if c.min_value is not None:
        out = out | (typed < c.min_value).fill_null(False)
    if c.max_value is not None:
        out = out | (typed > c.max_value).fill_null(False)
    if is_id(c):
        out = out | typed.str.contains(HIDDEN).fill_null(False)
    return out


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
    if is_id(c):
        rules.append((typed.str.contains(HIDDEN), tag("hidden_chars", HIDDEN_DETAIL)))
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
    if FAST and ok.select(keys).n_unique() == ok.height:  # no key repeats: skip the window
        first, dup = ok, ok.clear().with_columns(pl.col(ROW).alias("__first_row"))
    else:
        ok = ok.with_columns(
            pl.struct(keys).is_first_distinct().alias("__first"),
            pl.col(ROW).min().over(keys).alias("__first_row"),
        )
        first, dup = ok.filter(pl.col("__first")), ok.filter(~pl.col("__first"))
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
    return first, rejects


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
    """Validate every row of ``df`` (all-string columns plus ``_row``) against ``table``.

    Whether a row breaks a rule is first told with cheap boolean columns; the list of its problems
    (strings, one list per row) is built only for the rows that break one, usually few.
    """
    rules = rules or Rules()
    original = df
    df, notices = _prepare(df, table, rules)
    notices += hidden_notices(df, table)
    typed: list[pl.Series] = []
    blank: dict[str, pl.Series] = {}
    breaks: list[pl.Series] = []
    for c in table.columns:
        t, b, rest = _typed_column(df, c, rules)
        typed.append(t)
        blank[c.name] = b
        breaks.append(_breaks(c, t, b, rest))
    df = df.with_columns(typed)
    if rules.fallbacks:
        df, filled = fill_from(df, table, rules.fallbacks, rules.source_names, _T)
        notices += filled
    read = [c for c in original.columns if not c.startswith("_") and c not in rules.constants]
    empty = pl.all_horizontal([nz.blank(pl.col(c)) for c in read]) if read else pl.lit(True)
    problems = pl.concat_list([_problem(c) for c in table.columns]).list.drop_nulls()
    problems = (
        pl.when(empty).then(pl.concat_list(pl.lit(_SEP + "empty_row" + _SEP))).otherwise(problems)
    )
    if FAST:
        bad = _empty_rows(df, read, blank)
        for b in breaks:
            bad = bad | b
        flagged = df.filter(bad).with_columns(problems.alias("__problems"))
        valid = df.filter(~bad)
    else:
        df = df.with_columns(problems.alias("__problems"))
        has_problem = pl.col("__problems").list.len() > 0
        flagged, valid = df.filter(has_problem), df.filter(~has_problem)
    bad_rows = _rejects_of(flagged, table, rules)
    ok, dups = _duplicates(valid, table, rules)
    rejects = pl.concat([bad_rows, dups.cast(bad_rows.schema)])
    records = original.filter(pl.col(ROW).is_in(rejects.get_column("row").implode()))
    records = records.select(pl.col(ROW).alias("row"), _record(original, rules).alias("record"))
    rejects = rejects.join(records, on="row", how="left").sort("row")
    return Checked(good=_good(ok, table), rejects=rejects, rows=df.height, notices=notices)


def _empty_rows(df: pl.DataFrame, read: list[str], blank: Mapping[str, pl.Series]) -> pl.Series:
    """Rows whose every column read from the file is blank (``read`` empty: every row)."""
    out = pl.repeat(True, df.height, dtype=pl.Boolean, eager=True)
    others = [c for c in read if c not in blank]
    for c in read:
        if c in blank:
            out = out & blank[c]
    if others and read and out.any():  # columns outside the table: only where the rest is blank
        idx = out.arg_true()
        rest = df.select(others).filter(out).select(pl.all_horizontal(nz.blank(pl.all())))
        out = out.scatter(idx, rest.to_series())
    return out
