"""The importer: files as CRMs and spreadsheets write them → the canonical tables, losing no row.

Flow (one module per step): :mod:`~eigyo.ingest.readers` (bytes → text → frames of strings),
:mod:`~eigyo.ingest.mapping` (presets and mapping files rename and map values),
:mod:`~eigyo.ingest.normalize` (Japanese numbers and dates → typed values),
:mod:`~eigyo.ingest.validate` (schema rules → rejects with reasons),
:mod:`~eigyo.ingest.load` (one transaction), orchestrated by :func:`import_path`.
"""

from eigyo.ingest.api import import_path
from eigyo.ingest.import_report import FileReport, ImportReport, Problem
from eigyo.ingest.mapping import presets

__all__ = ["FileReport", "ImportReport", "Problem", "import_path", "presets"]
