"""A step's document: what one analysis command shows, computed once, rendered by anyone.

The command line prints it as Rich tables or as one JSON document (``--format json``, the
contract in ``docs/cli-json.md``), and the dashboard shows the same document: so the analyses are
called in one place per step (``analysis/<step>/document.py``), never assembled again by a
renderer. A document keeps the analyses' own results (data frames, records) for the text
tables and turns them into JSON only in :meth:`StepDocument.to_json`, in the key order the
contract fixes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from eigyo.analysis.availability import NotAvailable


def sections_json(missing: dict[str, NotAvailable], lang: str) -> dict[str, Any]:
    """``{"sections_not_available": {section: {...}}}`` for the sections a document lacks."""
    if not missing:
        return {}
    return {
        "sections_not_available": {k.split(".", 1)[-1]: v.to_json(lang) for k, v in missing.items()}
    }


def rows(value: Any) -> Any:
    """A section as JSON-ready data: a data frame becomes its rows, anything else stays."""
    return value.to_dicts() if isinstance(value, pl.DataFrame) else value


@dataclass(frozen=True)
class StepDocument:
    """One command's result: the sections it shows, the sections it could not compute and why,
    or, when the command's own data is absent, only why (``not_available``).

    ``head`` and ``tail`` are the keys the JSON document has before and after the sections
    (``period``, ``currency`` …); ``context`` the keys a "not available" document keeps.
    ``source`` is the analysis result a text view lays out when it is richer than its JSON
    (the process map's objects)."""

    sections: dict[str, Any] = field(default_factory=dict)
    head: dict[str, Any] = field(default_factory=dict)
    tail: dict[str, Any] = field(default_factory=dict)
    missing: dict[str, NotAvailable] = field(default_factory=dict)
    not_available: NotAvailable | None = None
    context: dict[str, Any] = field(default_factory=dict)
    source: Any = None

    def __getitem__(self, key: str) -> Any:
        """A section by name (as the text views read it)."""
        return self.sections[key]

    def to_json(self, lang: str = "ja") -> dict[str, Any]:
        """The document the command prints with ``--format json``."""
        if self.not_available is not None:
            return {**self.context, "not_available": self.not_available.to_json(lang)}
        body = {k: rows(v) for k, v in self.sections.items()}
        return {**self.head, **body, **self.tail, **sections_json(self.missing, lang)}


def unavailable_document(na: NotAvailable, **context: Any) -> StepDocument:
    """The document of a command whose own data is absent: its context and why."""
    return StepDocument(not_available=na, context=context)
