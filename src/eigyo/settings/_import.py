"""``[import]`` of eigyo.toml: how much one input file may make the importer read."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ImportLimits:
    """``[import]``: how much one input file may make the importer read (docs/security.md).

    A file is hostile or damaged when it asks for far more work than its size suggests: a 7 MB
    workbook that unzips to 1.5 GB of sheet XML, a 200 KB Parquet file of twenty million rows, a
    "header" line of megabytes. Every limit is checked *before* the work (from a zip's directory,
    Parquet metadata, the first line), so a refused file costs nothing; the defaults are far above
    any real CRM export and can be raised here. Checked by :mod:`eigyo.ingest.limits`.
    """

    #: Uncompressed bytes of all members of one zip container (.xlsx) together.
    max_unzipped_bytes: int = 1 << 30
    #: Uncompressed / compressed size of one zip member (only checked for members above
    #: :data:`ZIP_RATIO_FLOOR`): real sheet XML compresses about 5-30 times, bombs 1,000 times.
    max_zip_ratio: float = 100.0
    #: Bytes of a Parquet file: uncompressed, as its metadata declares, and decoded, as its rows
    #: are read (a value repeated by dictionary encoding is small on disk, not in memory).
    max_parquet_bytes: int = 1 << 30
    #: Rows of a file read whole into memory (.xlsx sheets, Parquet).
    max_rows: int = 5_000_000
    #: Bytes of a CSV header line (the first line, or the header row of a report).
    max_header_bytes: int = 64 << 10
    #: Columns of one file.
    max_columns: int = 2_000
    #: Cells (rows × columns) of a file read whole: each becomes a string in memory.
    max_cells: int = 50_000_000
    #: Bytes of one field (a cell): Salesforce's longest text field holds 131,072 characters.
    max_field_bytes: int = 1 << 20


#: Zip members smaller than this are never refused for their compression ratio (a tiny sheet of
#: one repeated value compresses well and costs nothing).
ZIP_RATIO_FLOOR = 8 << 20

#: ``[import]`` in the template, with the defaults of :class:`ImportLimits`.
IMPORT_TEMPLATE = f"""
[import]
# Limits on what one input file may make the importer read (docs/security.md). A file over a
# limit is refused with a message naming the file and the limit; raise a limit here if a real
# export needs it.
max_unzipped_bytes = {ImportLimits.max_unzipped_bytes}     # .xlsx: all members, uncompressed
max_zip_ratio = {ImportLimits.max_zip_ratio}                # .xlsx: uncompressed / compressed size
max_parquet_bytes = {ImportLimits.max_parquet_bytes}      # Parquet: uncompressed and decoded
max_rows = {ImportLimits.max_rows}                  # rows of an .xlsx sheet or Parquet file
max_header_bytes = {ImportLimits.max_header_bytes}            # one header line
max_columns = {ImportLimits.max_columns}
max_cells = {ImportLimits.max_cells}                # rows × columns, .xlsx sheet or Parquet
max_field_bytes = {ImportLimits.max_field_bytes}           # one cell
"""


def import_limits(raw: object, lang: str = "en") -> tuple[ImportLimits, list[str]]:
    """``[import]`` validated: the limits (the default where a value is wrong) and each problem
    as text in ``lang`` (``i18n/input.toml``).

    Every limit must be a positive number (whole for byte and row counts): a limit of zero or a
    typo would refuse every file, or none.
    """
    from eigyo.i18n import t

    default = ImportLimits()
    if not isinstance(raw, dict):
        return default, [t("input.settings.not_table", lang, value=repr(raw))]
    problems: list[str] = []
    known = list(ImportLimits.__dataclass_fields__)
    for key in sorted(set(raw) - set(known)):
        problems.append(t("input.settings.unknown", lang, key=key, known=", ".join(known)))
    values: dict[str, float | int] = {}
    for key in known:
        value = raw.get(key, getattr(default, key))
        whole = key != "max_zip_ratio"
        ok = isinstance(value, int | float) and not isinstance(value, bool) and value > 0
        if not ok or (whole and not isinstance(value, int)):
            what = "input.settings.not_whole" if whole else "input.settings.not_positive"
            problems.append(t(what, lang, key=key, value=repr(value)))
            continue
        values[key] = float(value) if not whole else int(value)
    return ImportLimits(**values), problems  # type: ignore[arg-type]
