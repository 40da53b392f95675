"""The importer: files as CRMs and spreadsheets write them → the canonical tables, losing no row.

Flow (one module per step): :mod:`~eigyo.ingest.readers` (bytes → text → frames of strings),
:mod:`~eigyo.ingest.mapping` (presets and mapping files rename and map values),
:mod:`~eigyo.ingest.normalize` (Japanese numbers and dates → typed values),
:mod:`~eigyo.ingest.validate` (schema rules → rejects with reasons),
:mod:`~eigyo.ingest.load` (one transaction), orchestrated by :func:`import_path`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from eigyo.ingest.api import import_path
    from eigyo.ingest.import_report import FileReport, ImportReport, Problem
    from eigyo.ingest.mapping import presets

__all__ = ["FileReport", "ImportReport", "Problem", "import_path", "presets"]

#: Where each name of the package lives: imported on first use (PEP 562), so that reading one
#: light submodule (``eigyo.ingest.quality``, as the diagnosis does) does not load the importer
#: and polars with it.
_WHERE = {
    "import_path": "eigyo.ingest.api",
    "FileReport": "eigyo.ingest.import_report",
    "ImportReport": "eigyo.ingest.import_report",
    "Problem": "eigyo.ingest.import_report",
    "presets": "eigyo.ingest.mapping",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
