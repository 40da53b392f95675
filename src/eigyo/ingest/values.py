"""Values read through a mapping's rules: value maps, values no key matched, blanks filled from
another column — the part of validation that a preset or mapping file declares.

Value maps compare values as :func:`eigyo.ingest.mapping.value_key` does (case, width and
repeated blanks ignored); every value that falls to a map's ``"*"`` is reported with its count,
never read silently. Fallbacks fill a blank canonical column from another one of the same row
(a closed deal of a report is closed at its close date). All of it is polars expressions over
the whole column; Python sees only distinct unmatched values and counts.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from eigyo.ingest import normalize as nz
from eigyo.schema import Table

#: What a step of an import tells a person besides rejects and warnings: (code, details), shown
#: as ``ingest.notice.<code>`` in the import report.
Notice = tuple[str, dict[str, object]]

#: How many distinct unmatched values a notice lists (the count covers them all).
UNMATCHED_SHOWN = 10


def value_key_expr(expr: pl.Expr) -> pl.Expr:
    """The vectorized :func:`eigyo.ingest.mapping.value_key` (after NFKC): case-folded, trimmed,
    inner runs of blanks as one space."""
    return expr.str.strip_chars().str.to_lowercase().str.replace_all(r"\s+", " ")


def value_map(
    name: str, mapping: Mapping[str, str], allowed: tuple[str, ...] = ()
) -> tuple[pl.Expr, pl.Expr]:
    """Value → canonical value, matched ignoring case, width and repeated blanks; a canonical
    value itself (``won``) maps to itself; ``"*"`` maps every other non-blank value.

    Returns the mapped column and a flag of the non-blank values no key matched.
    """
    raw = pl.col(name).str.strip_chars()
    key = value_key_expr(pl.col(name))
    exact = {a: a for a in allowed} | {
        k: v for k, v in mapping.items() if k != "*" and not k.endswith("*")
    }
    exact_hit = key.is_in(list(exact))
    mapped: pl.Expr = pl.when(exact_hit).then(key.replace_strict(exact, default=None))
    # each condition is built once (a condition reusing the previous one would double the
    # expression tree with every prefix); the when-chain gives the first match priority
    prefixes = [(k[:-1], v) for k, v in mapping.items() if k != "*" and k.endswith("*")]
    starts = [key.str.starts_with(p).fill_null(False) for p, _ in prefixes]
    for cond, (_, value) in zip(starts, prefixes, strict=True):
        mapped = mapped.when(cond).then(pl.lit(value))  # type: ignore[attr-defined]
    hit = pl.any_horizontal(exact_hit, *starts) if starts else exact_hit
    unmatched = ~hit & ~nz.blank(raw)
    mapped = mapped.otherwise(raw)  # type: ignore[attr-defined]
    if "*" in mapping:
        mapped = pl.when(unmatched).then(pl.lit(mapping["*"])).otherwise(mapped)
    return mapped.alias(name), unmatched


def unmatched_notice(
    df: pl.DataFrame, name: str, flag: pl.Expr, to: str, source_names: Mapping[str, str]
) -> list[Notice]:
    """The values of ``name`` that fell to ``"*"`` (read as ``to``), most frequent first."""
    counts = (
        df.filter(flag)
        .group_by(pl.col(name).str.strip_chars().alias("v"))
        .len()
        .sort(["len", "v"], descending=[True, False])
    )
    if counts.is_empty():
        return []
    shown = ", ".join(f"'{v}' ({n:,})" for v, n in counts.head(UNMATCHED_SHOWN).iter_rows())
    more = counts.height - UNMATCHED_SHOWN
    detail = {
        "col": source_names.get(name, name),
        "n": int(counts.get_column("len").sum()),
        "k": counts.height,
        "to": to or "—",
        "values": shown + (f" … (+{more})" if more > 0 else ""),
        "value_list": counts.get_column("v").to_list(),
    }
    return [("unmatched_values", detail)]


def fill_from(
    df: pl.DataFrame,
    table: Table,
    fallbacks: Mapping[str, tuple[str, Mapping[str, tuple[str, ...]]]],
    source_names: Mapping[str, str],
    typed: str,
) -> tuple[pl.DataFrame, list[Notice]]:
    """Fill blank typed columns (named ``typed`` + column) from another column of the row, where
    the rule's ``when`` holds.

    A date standing in for a timestamp is that day's start — or the row's ``created_at`` when
    that falls on the same day, so a deal closed on the day it was created is not closed before
    it was created.
    """
    notices: list[Notice] = []
    for target, (source, when) in fallbacks.items():
        t, src = pl.col(typed + target), pl.col(typed + source)
        cond = pl.lit(True)
        for col, vals in when.items():
            cond = cond & pl.col(typed + col).is_in(list(vals)).fill_null(False)
        value: pl.Expr = src
        tcol, scol = table.column(target), table.column(source)
        if tcol.type == "timestamp" and scol.type == "date":
            value = src.cast(pl.Datetime("us"))
            if (
                "created_at" in table.column_names
                and table.column("created_at").type == "timestamp"
            ):
                created = pl.col(typed + "created_at")
                value = pl.when(created.dt.date() == src).then(created).otherwise(value)
        fill = t.is_null() & cond & src.is_not_null()
        lacking = t.is_null() & cond & src.is_null()
        counts = df.select(fill.sum().alias("f"), lacking.sum().alias("l")).row(0)
        df = df.with_columns(pl.when(fill).then(value).otherwise(t).alias(typed + target))
        name = source_names.get(source, source)
        if counts[0]:
            notices.append(("filled", {"col": target, "src": name, "n": int(counts[0])}))
        if counts[1]:
            notices.append(("fill_missing", {"col": target, "src": name, "n": int(counts[1])}))
    return df, notices
