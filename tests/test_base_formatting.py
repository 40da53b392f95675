"""The one formatter set (:mod:`eigyo.base.formatting`) and the one vocabulary
(:mod:`eigyo.base.vocabulary`).

Every expected string is written out by hand: a number must read the same in the CLI, the
metrics, the diagnosis texts, the reports and the dashboard, so these strings are the contract.
The last tests keep it that way: no module outside ``eigyo.base`` writes its own missing label
or defines its own number formatter again.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from eigyo.base.formatting import (
    count,
    format_metric,
    format_value,
    money,
    number,
    p_value,
    percent,
    points,
)
from eigyo.base.periods import months_between, months_until
from eigyo.base.vocabulary import ALL, DASH, NONE, SIZE_BANDS, UNKNOWN

SRC = Path(__file__).resolve().parents[1] / "src" / "eigyo"
NAN = math.nan


@pytest.mark.parametrize(
    ("value", "code", "text"),
    [
        (-5000, "JPY", "-¥5,000"),  # the sign before the symbol, never ¥-5,000
        (5000, "JPY", "¥5,000"),
        (1234.5, "USD", "$1,234.50"),
        (-1234.5, "USD", "-$1,234.50"),
        (-0.004, "USD", "$0.00"),  # rounds to zero: no "-$0.00"
        (0, "JPY", "¥0"),
        (1234.5, "EUR", "€1,234.50"),
        (1000, "XYZ", "XYZ 1,000.00"),  # an unknown code: the code and two decimals
        (None, "JPY", "—"),
        (NAN, "USD", "—"),
    ],
)
def test_money(value: float | None, code: str, text: str) -> None:
    assert money(value, code) == text


@pytest.mark.parametrize(
    ("value", "code", "lang", "text"),
    [
        # Japanese: 万 and 億 (and 兆), from a million; one decimal below 10 units, none above
        (999_999, "JPY", "ja", "¥999,999"),  # below a million: in full
        (1_000_000, "JPY", "ja", "¥100万"),
        (32_000_000, "JPY", "ja", "¥3,200万"),
        (32_004_512, "JPY", "ja", "¥3,200万"),
        (99_999_999, "JPY", "ja", "¥1億"),  # 9,999.9999万 would round to 10,000万
        (100_000_000, "JPY", "ja", "¥1億"),
        (150_000_000, "JPY", "ja", "¥1.5億"),
        (-150_000_000, "JPY", "ja", "-¥1.5億"),
        (1_234_000_000, "JPY", "ja", "¥12億"),
        (2_500_000_000_000, "JPY", "ja", "¥2.5兆"),
        (1_500_000, "USD", "ja", "$150万"),
        (999_999, "USD", "ja", "$999,999.00"),
        # English: M, B, T
        (150_000_000, "JPY", "en", "¥150M"),
        (32_000_000, "JPY", "en", "¥32M"),
        (1_500_000, "USD", "en", "$1.5M"),
        (-1_500_000, "USD", "en", "-$1.5M"),
        (999_960_000, "JPY", "en", "¥1B"),  # 999.96M would round to 1,000M
        (1_500_000_000, "JPY", "en", "¥1.5B"),
        (999_999, "USD", "en", "$999,999.00"),
        (None, "JPY", "en", "—"),
    ],
)
def test_compact_money(value: float | None, code: str, lang: str, text: str) -> None:
    assert money(value, code, compact=True, lang=lang) == text


@pytest.mark.parametrize(
    ("value", "unit", "lang", "currency", "text"),
    [
        (1_234_567, "yen", "ja", "JPY", "¥1,234,567"),
        (-5_000, "yen", "en", "JPY", "-¥5,000"),
        (-5_000, "yen", "en", "USD", "-$5,000.00"),
        (52_000, "yen/day", "en", "JPY", "¥52,000/day"),
        (52_000, "yen/day", "ja", "USD", "$52,000.00/日"),
        (0.256, "ratio", "ja", "JPY", "25.6%"),
        (0.6, "ratio", "en", "JPY", "60.0%"),
        (12.34, "days", "ja", "JPY", "12.3日"),
        (12.34, "days", "en", "JPY", "12.3 days"),
        (145, "minutes", "ja", "JPY", "145分"),  # whole units from 100 up
        (145, "minutes", "en", "JPY", "145 min"),
        (45, "minutes", "ja", "JPY", "45.0分"),
        (11, "hours", "en", "JPY", "11.0 h"),
        (3.25, "per_day", "ja", "JPY", "3.25/日"),
        (0.095238, "per_day", "en", "JPY", "0.1/day"),  # as many decimals as it needs
        (1_500, "count", "en", "JPY", "1,500"),
        (2.5, "count", "ja", "JPY", "2.5"),
        (123.44, "count", "ja", "JPY", "123.4"),  # one decimal from 100 up
        (None, "ratio", "ja", "JPY", "—"),
        (NAN, "days", "en", "JPY", "—"),
        ("n/a", "count", "en", "JPY", "—"),  # a text in a numeric slot is not a number
    ],
)
def test_format_value(value: object, unit: str, lang: str, currency: str, text: str) -> None:
    assert format_value(value, unit, lang, currency) == text  # type: ignore[arg-type]


def test_format_value_compact_only_changes_amounts() -> None:
    assert format_value(32_004_512, "yen", "ja", compact=True) == "¥3,200万"
    assert format_value(32_004_512, "yen", "en", compact=True) == "¥32M"
    assert format_value(32_004_512, "yen", "ja") == "¥32,004,512"  # tables keep exact amounts
    assert format_value(0.256, "ratio", "ja", compact=True) == "25.6%"
    assert format_value(1_500_000, "count", "en", compact=True) == "1,500,000"


def test_small_formatters() -> None:
    assert percent(0.5, 0) == "50%" and percent(None) == "—" and percent(0.1234) == "12.3%"
    assert points(0.052) == "+5.2pt" and points(-0.1) == "-10.0pt" and points(None) == "—"
    assert count(1234) == "1,234" and count(None) == "—"
    assert p_value(0.01234) == "0.0123" and p_value(0.0004) == "<0.001" and p_value(None) == "—"
    assert p_value(0.01234, 2) == "0.012"
    assert number(1234.5678, 2) == "1,234.57" and number(0.1 + 0.2) == "0.3"
    assert number(None, 1) == "—" and number(NAN) == "—"
    # what engines return: NumPy scalars and decimals are numbers too
    assert format_value(np.int64(1500), "count") == "1,500" and number(np.float64(3.25)) == "3.25"
    assert money(Decimal("1234.5"), "USD") == "$1,234.50" and money(np.int64(-5000)) == "-¥5,000"


@dataclass(frozen=True)
class _Reason:
    def label(self, lang: str) -> str:
        return "データなし（理由）" if lang == "ja" else "not available (reason)"


@dataclass(frozen=True)
class _Value:
    value: float | None
    unit: str
    reason: _Reason | None = None


def test_format_metric_says_why_instead_of_a_dash() -> None:
    assert format_metric(_Value(None, "ratio", _Reason()), "ja") == "データなし（理由）"
    assert format_metric(_Value(None, "ratio", _Reason()), "en") == "not available (reason)"
    assert format_metric(_Value(None, "ratio"), "en") == DASH
    assert format_metric(_Value(6_000_000, "yen"), "en", "USD") == "$6,000,000.00"
    assert format_metric(_Value(6_000_000, "yen"), "ja", compact=True) == "¥600万"


def test_months() -> None:
    feb = months_between(date(2025, 1, 15), date(2025, 3, 2))
    assert [(m.label, m.start, m.end) for m in feb] == [
        ("2025-01", date(2025, 1, 15), date(2025, 1, 31)),
        ("2025-02", date(2025, 2, 1), date(2025, 2, 28)),
        ("2025-03", date(2025, 3, 1), date(2025, 3, 2)),
    ]
    assert months_between(date(2025, 3, 2), date(2025, 3, 1)) == []
    # complete months only: June 29 leaves June out, June 30 takes it in
    assert [m.label for m in months_until(date(2025, 6, 29), 2)] == ["2025-04", "2025-05"]
    assert [m.label for m in months_until(date(2025, 6, 30), 2)] == ["2025-05", "2025-06"]
    assert [m.label for m in months_until(date(2025, 1, 31), 2)] == ["2024-12", "2025-01"]
    assert months_until(date(2025, 1, 31), 0) == []


def test_size_bands_are_ascending_from_zero() -> None:
    lows = [low for low, _ in SIZE_BANDS]
    assert lows[0] == 0 and lows == sorted(lows)
    assert [label for _, label in SIZE_BANDS] == ["<50", "50-299", "300-999", "1000+"]


# --- one definition: no copies outside eigyo.base ------------------------------------------

#: Labels only :mod:`eigyo.base.vocabulary` may spell out.
_LABELS = frozenset({NONE, UNKNOWN, ALL})
#: Names of number formatters that once lived in the CLI, metrics and report modules.
_FORMATTERS = frozenset(
    {"pct", "_pct", "yen", "_yen", "num", "days", "fmt_value", "format_value", "money", "_money"}
)


def _modules() -> list[tuple[Path, ast.Module]]:
    base = SRC / "base"
    return [
        (p, ast.parse(p.read_text(encoding="utf-8")))
        for p in sorted(SRC.rglob("*.py"))
        if base not in p.parents
    ]


def _docstrings(tree: ast.Module) -> set[int]:
    """ids of the docstring constants (a docstring may mention ``(unknown)``)."""
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                out.add(id(body[0].value))
    return out


def test_no_missing_label_is_spelled_outside_the_vocabulary() -> None:
    found = []
    for path, tree in _modules():
        docs = _docstrings(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and node.value in _LABELS and id(node) not in docs:
                found.append(f"{path.relative_to(SRC)}:{node.lineno} {node.value!r}")
    assert not found, "import the label from eigyo.base.vocabulary:\n" + "\n".join(found)


def test_no_number_formatter_is_defined_outside_base() -> None:
    found = [
        f"{path.relative_to(SRC)}:{node.lineno} {node.name}"
        for path, tree in _modules()
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and node.name in _FORMATTERS
    ]
    assert not found, "format with eigyo.base.formatting:\n" + "\n".join(found)


def test_base_imports_only_errors_and_i18n() -> None:
    allowed = {"eigyo.errors", "eigyo.i18n"}
    for path in sorted((SRC / "base").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                mod = node.module
                if mod.startswith("eigyo") and not mod.startswith("eigyo.base"):
                    assert mod in allowed, f"{path.name} imports {mod}"
