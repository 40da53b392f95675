"""Currencies as a person reads them: symbol and decimals, declared once for every output.

eigyo never converts amounts: they are numbers in the workspace currency (``eigyo.toml``
``[workspace] currency``). What changes with the currency is only how an amount reads, so the
CLI, the metrics, the diagnosis texts, the reports and the dashboard all call :func:`money` and
agree on ``-$5,000.00`` rather than each writing its own ``¥`` (which once gave ``¥-5,000`` in
one place and ``-¥5,000`` in another).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_CURRENCY = "JPY"


@dataclass(frozen=True)
class Currency:
    """How amounts of one ISO 4217 currency are written: symbol before the number, decimals
    as people of that currency write prices (the yen and the won have none)."""

    code: str
    symbol: str
    decimals: int

    def excel_format(self) -> str:
        """An Excel number format for amounts: ``¥#,##0``, ``$#,##0.00``; a symbol with letters
        (``CHF``, ``Rp``) is quoted so Excel never reads its letters as format codes."""
        frac = "." + "0" * self.decimals if self.decimals else ""
        plain = not any(ch.isascii() and (ch.isalpha() or ch == " ") for ch in self.symbol)
        symbol = self.symbol if plain else f'"{self.symbol}"'
        return f"{symbol}#,##0{frac}"


#: The currencies eigyo knows by symbol; any other three-letter code is written ``CODE 1,234.00``.
CURRENCIES: dict[str, Currency] = {
    c.code: c
    for c in (
        Currency("JPY", "¥", 0),
        Currency("USD", "$", 2),
        Currency("EUR", "€", 2),
        Currency("GBP", "£", 2),
        Currency("CNY", "CN¥", 2),
        Currency("KRW", "₩", 0),
        Currency("TWD", "NT$", 0),
        Currency("HKD", "HK$", 2),
        Currency("SGD", "S$", 2),
        Currency("AUD", "A$", 2),
        Currency("CAD", "CA$", 2),
        Currency("CHF", "CHF ", 2),
        Currency("INR", "₹", 2),
        Currency("THB", "฿", 2),
        Currency("VND", "₫", 0),
        Currency("IDR", "Rp", 0),
        Currency("PHP", "₱", 2),
        Currency("MYR", "RM", 2),
    )
}

_CODE = re.compile(r"[A-Z]{3}")


def is_code(code: str) -> bool:
    """Whether ``code`` has the shape of an ISO 4217 code (three capital letters)."""
    return bool(_CODE.fullmatch(code))


def currency(code: str | None) -> Currency:
    """The declared currency, or a plain one (``CODE `` prefix, 2 decimals) for other codes."""
    code = (code or DEFAULT_CURRENCY).upper()
    return CURRENCIES.get(code) or Currency(code, f"{code} ", 2)


def unit_label(code: str | None = DEFAULT_CURRENCY, lang: str = "ja") -> str:
    """The currency as a column header names it (``Won $``, ``速度（円/日）``): 円 for the yen in
    Japanese, as Japanese headers have always said, else the symbol without its spacing."""
    c = currency(code)
    return "円" if c.code == "JPY" and lang == "ja" else c.symbol.strip()
