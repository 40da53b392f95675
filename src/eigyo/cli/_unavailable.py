"""How an analysis command says it cannot answer: one line, or one JSON document; exit 0.

Absent data is not an error of the user's (exit 1) and not a healthy result (an empty table):
the command states what it needs (:class:`~eigyo.analysis.availability.NotAvailable`). JSON
keeps the command's context keys (period, as_of …) and adds ``"not_available": {"code",
"needs", "text"}``, the same shape in every command.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.markup import escape

from eigyo.cli._app import console, emit_json
from eigyo.i18n import t

if TYPE_CHECKING:
    from eigyo.analysis.availability import NotAvailable

__all__ = ["say_not_available", "say_section", "sections_json"]


def sections_json(missing: dict[str, NotAvailable], lang: str) -> dict[str, Any]:
    """:func:`eigyo.analysis.document.sections_json`, imported when a command needs it (the
    analysis package loads Polars and the workspace: ``eigyo --help`` must not)."""
    from eigyo.analysis.document import sections_json as of_document

    return of_document(missing, lang)


def say_not_available(na: NotAvailable, fmt: str, lang: str, **context: Any) -> None:
    """Print the whole command's "not available: needs X" line, or its JSON document."""
    if fmt == "json":
        emit_json({**context, "not_available": na.to_json(lang)})
        return
    console.print(escape(na.line(lang)), highlight=False, soft_wrap=True)


def say_section(na: NotAvailable, section: str, lang: str) -> None:
    """One section's "… — not available: needs X" line in a text report."""
    name = t(f"analysis_na.section_name.{section}", lang)
    console.print(escape(na.section_line(name, lang)), highlight=False, soft_wrap=True)
