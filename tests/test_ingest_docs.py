"""``docs/import-format.md`` is generated from the schema and must be current."""

from __future__ import annotations

from pathlib import Path

from eigyo.ingest.docs import import_format_markdown
from eigyo.schema import TABLES

DOC = Path(__file__).resolve().parents[1] / "docs" / "import-format.md"


def test_import_format_doc_is_current() -> None:
    assert DOC.read_text(encoding="utf-8") == import_format_markdown(), (
        "docs/import-format.md is stale: python -m eigyo.ingest.docs > docs/import-format.md"
    )


def test_doc_covers_every_table_and_required_column() -> None:
    text = import_format_markdown()
    for t in TABLES:
        assert f"## `{t.name}`" in text
        for c in t.columns:
            assert (f"| **{c.name}** |" if c.required else f"| {c.name} |") in text
