"""The fast paths of validation give exactly what the general parsers give, row for row.

``validate.FAST = False`` runs the general parsers on every value and builds the problem list of
every row (the behaviour before the fast paths); generated frames of odd and ordinary values, for
every canonical table, must come out the same both ways: the same typed rows, the same rejects
with the same reasons and records.
"""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from eigyo.ingest import validate
from eigyo.ingest.validate import ROW, Rules, check
from eigyo.schema import TABLES

VALUES = [
    None,
    "",
    " ",
    "\t",
    "\u3000",
    "a1",
    " a1 ",
    "A1",
    "r1",
    "call",
    "Call",
    " call",
    "CALL",
    "ｃａｌｌ",
    "won",
    "open",
    "connected",
    "closer",
    "new",
    "1",
    "0",
    "-5",
    "1.5",
    "1,000",
    "￥1,000",
    "(500)",
    "-",
    "$-",
    "1e3",
    "inf",
    "nan",
    "１２",
    " 12 ",
    "9999999999999999999999",
    "2025-04-01",
    "2025-4-1",
    "2025/04/01",
    "2025-02-30",
    "2025-04-01T09:00:00",
    "2025-04-01T09:00:00Z",
    "2025-04-01T09:00:00+09:00",
    "2025-04-01 09:00",
    "2025-04-01T25:00:00",
    "02025-4-01T01:39:00",
    " 2025-04-01T09:00:00",
    "R7.4.1",
    "令和7年4月1日",
    "H31.4.30 10:00",
    "45748",
    "45748.5",
    "２０２５－０４－０１",
    "2025-04-01T09:00:00.5",
]
KEYS = ["k1", "k2", "k3", " k1", None, ""]


@st.composite
def frames(draw: st.DrawFn) -> tuple[int, pl.DataFrame, Rules]:
    """A table index, a frame of text for it (some columns left out, one extra), and rules."""
    ti = draw(st.integers(0, len(TABLES) - 1))
    table = TABLES[ti]
    names = [c.name for c in table.columns if c.required or draw(st.booleans())]
    if draw(st.booleans()):
        names.append("memo")
    n = draw(st.integers(0, 25))
    data: dict[str, list[str | None]] = {}
    for name in names:
        pool = KEYS + VALUES[:8] if name in table.key else VALUES
        data[name] = draw(st.lists(st.sampled_from(pool), min_size=n, max_size=n))
    df = pl.DataFrame(data, schema={c: pl.String for c in names})
    df = df.with_columns(pl.int_range(2, n + 2, dtype=pl.Int64).alias(ROW))
    dated = [c.name for c in table.columns if c.type in ("date", "timestamp") and c.name in names]
    formats = {dated[0]: ("%d/%m/%Y",)} if dated and draw(st.booleans()) else {}
    strings = [c.name for c in table.columns if c.allowed and c.name in names]
    values = {strings[0]: {"Call": "call", "*": "other"}} if strings and draw(st.booleans()) else {}
    return ti, df, Rules(formats=formats, values=values)


def _both(df: pl.DataFrame, ti: int, rules: Rules) -> tuple[validate.Checked, validate.Checked]:
    fast = check(df, TABLES[ti], rules)
    validate.FAST = False
    try:
        general = check(df, TABLES[ti], rules)
    finally:
        validate.FAST = True
    return fast, general


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames())
def test_fast_paths_equal_general_parsers(case: tuple[int, pl.DataFrame, Rules]) -> None:
    ti, df, rules = case
    fast, general = _both(df, ti, rules)
    assert fast.rows == general.rows
    assert_frame_equal(fast.good, general.good)
    assert_frame_equal(fast.rejects, general.rejects)


@pytest.mark.parametrize("table", [t.name for t in TABLES])
def test_every_value_in_every_column(table: str) -> None:
    """Each value of the pool in each column of each table, one row per value."""
    ti = next(i for i, t in enumerate(TABLES) if t.name == table)
    names = [c.name for c in TABLES[ti].columns]
    data = {
        c: [VALUES[(i + j) % len(VALUES)] for i in range(len(VALUES))] for j, c in enumerate(names)
    }
    df = pl.DataFrame(data, schema={c: pl.String for c in names})
    df = df.with_columns(pl.int_range(2, df.height + 2, dtype=pl.Int64).alias(ROW))
    fast, general = _both(df, ti, Rules())
    assert_frame_equal(fast.good, general.good)
    assert_frame_equal(fast.rejects, general.rejects)
    assert fast.good.height + fast.rejects.height == df.height
