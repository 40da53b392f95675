"""Cells of a CSV file that a spreadsheet must not run: formula injection, neutralized.

Excel, LibreOffice and Google Sheets treat a cell that starts with ``=``, ``+``, ``-`` or ``@``
as a formula (a tab or carriage return in front is skipped by some), so a name typed into a CRM
as ``=HYPERLINK("http://…")`` or ``+cmd|' /C calc'!A0`` runs when a CSV eigyo wrote is opened.
As OWASP recommends, such a text cell is written with a single quote in front: the spreadsheet
shows the text, and the quote tells a reader that eigyo changed it. Numbers are written as
numbers, and so is text that is a plain number (``-500000``, ``+1.5e3``): a spreadsheet reads it
as that number, never as a formula, and a rejected amount must stay what the file held. Every
CSV eigyo writes goes through here: the dashboard's export, ``eigyo import rejects``,
``eigyo metrics --format csv``.
"""

from __future__ import annotations

import re

import polars as pl

#: A spreadsheet opens a cell starting with one of these as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_RE = r"^[=+\-@\t\r]"
#: A plain number with a sign: starts like a formula, is not one.
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def safe_cell(value: object) -> str:
    """``value`` as CSV text; text that a spreadsheet would run gets a ``'`` in front."""
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    text = str(value)
    risky = text.startswith(FORMULA_START) and not _NUMBER.match(text)
    return "'" + text if risky else text


def safe_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with :func:`safe_cell` applied to every text column (numbers stay numbers)."""
    text = [c for c, dtype in frame.schema.items() if dtype == pl.String]
    return frame.with_columns(
        pl.when(pl.col(c).str.contains(_FORMULA_RE) & ~pl.col(c).str.contains(_NUMBER.pattern))
        .then(pl.lit("'") + pl.col(c))
        .otherwise(pl.col(c))
        .alias(c)
        for c in text
    )
