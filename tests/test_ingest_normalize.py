"""Japanese and spreadsheet values → the numbers, dates and timestamps they mean."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest

from eigyo.ingest import normalize as nz


def _run(values: list[str | None], expr: pl.Expr, *, prepare: bool = True) -> list[object]:
    df = pl.DataFrame({"v": values}, schema={"v": pl.String})
    if prepare:
        df = df.with_columns(nz.nfkc_column(df, "v"))
        df = df.with_columns(nz.wareki_column(df, "v"))
    return df.select(expr.alias("out")).get_column("out").to_list()


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("￥1,234,000", 1_234_000.0),
        ("¥1,234,000", 1_234_000.0),
        ("$1,234", 1234.0),
        (" $431,370 ", 431_370.0),
        ("1,234円", 1234.0),
        ("１２３４", 1234.0),
        ("(500)", -500.0),
        ("-500000", -500_000.0),
        (" $-   ", 0.0),
        ("1.5", 1.5),
        ("abc", None),
        (None, None),
        # the float cast reads these; no amount or count is one
        ("nan", None),
        ("inf", None),
        ("-Infinity", None),
        ("1e999", None),
        ("1e3", 1000.0),
    ],
)
def test_numbers(text: str | None, value: float | None) -> None:
    assert _run([text], nz.parse_number(pl.col("v"))) == [value]


def test_integers_refuse_fractions() -> None:
    assert _run(["1,200", "1.5", "３"], nz.parse_integer(pl.col("v"))) == [1200, None, 3]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2025-04-01", date(2025, 4, 1)),
        ("2025/04/01", date(2025, 4, 1)),
        ("2025/4/1", date(2025, 4, 1)),
        ("2025年4月1日", date(2025, 4, 1)),
        ("２０２５年４月１日", date(2025, 4, 1)),
        ("令和7年4月1日", date(2025, 4, 1)),
        ("令和元年5月1日", date(2019, 5, 1)),
        ("R7.4.1", date(2025, 4, 1)),
        ("H31.4.30", date(2019, 4, 30)),
        ("平成31年4月30日", date(2019, 4, 30)),
        ("昭和64年1月7日", date(1989, 1, 7)),
        ("45748", date(2025, 4, 1)),  # Excel serial day
        ("2025-04-01 00:00:00", date(2025, 4, 1)),
        ("2025-02-30", None),
        ("4/1/2025", None),  # ambiguous without a declared format
        ("soon", None),
    ],
)
def test_dates(text: str, value: date | None) -> None:
    assert _run([text], nz.parse_date(pl.col("v"))) == [value]


def test_declared_date_format_for_us_dates() -> None:
    got = _run(["5/26/17", "12/9/16"], nz.parse_date(pl.col("v"), ("%m/%d/%y",)))
    assert got == [date(2017, 5, 26), date(2016, 12, 9)]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2025-04-01 09:30", datetime(2025, 4, 1, 9, 30)),
        ("2025-04-01T09:30:15", datetime(2025, 4, 1, 9, 30, 15)),
        ("2025-04-01T09:30:15.250", datetime(2025, 4, 1, 9, 30, 15, 250_000)),
        ("2025/4/1 9:05", datetime(2025, 4, 1, 9, 5)),
        ("2025-04-01", datetime(2025, 4, 1)),
        ("2025-04-01T00:00:00Z", datetime(2025, 4, 1, 9)),
        ("2025-04-01T09:00:00+09:00", datetime(2025, 4, 1, 9)),
        ("2025-03-31T20:00:00-0500", datetime(2025, 4, 1, 10)),
        ("令和7年4月1日 10:00", datetime(2025, 4, 1, 10)),
        ("45748.5", datetime(2025, 4, 1, 12)),
        ("2025-04-01 25:00", None),
    ],
)
def test_timestamps_in_tokyo(text: str, value: datetime | None) -> None:
    assert _run([text], nz.parse_timestamp(pl.col("v"), "Asia/Tokyo")) == [value]


def test_offsets_follow_workspace_zone() -> None:
    got = _run(
        ["2025-07-01T00:00:00Z", "2025-01-01T00:00:00Z"],
        nz.parse_timestamp(pl.col("v"), "Europe/Berlin"),
    )
    assert got == [datetime(2025, 7, 1, 2), datetime(2025, 1, 1, 1)]


def test_python_work_runs_over_distinct_values_only() -> None:
    df = pl.DataFrame({"v": ["１"] * 1000 + ["R7.4.1"] * 1000 + ["x"]})
    assert nz.nfkc_column(df, "v").meta.root_names() == ["v"]
    assert nz.wareki_to_iso("R7.4.1") == "2025-04-01"
    assert nz.wareki_to_iso("Rabbit") == "Rabbit"
