"""``docs/import-format.md``, generated from :mod:`eigyo.schema` so the docs cannot drift.

Regenerate with ``python -m eigyo.ingest.docs > docs/import-format.md``; a test fails when the
file in the repository differs from what this function writes.
"""

from __future__ import annotations

from eigyo.ingest.mapping import presets
from eigyo.ingest.xes import DOC as EVENT_LOG_DOC
from eigyo.schema import EXTRA_COLUMN, TABLES, Column

_INTRO = """# Import format (generated — do not edit)

This page is generated from `eigyo.schema` by `eigyo.ingest.docs`
(`python -m eigyo.ingest.docs > docs/import-format.md`).

`eigyo import DIR --workspace W` reads one file per table from `DIR`, named after the table
(`reps.csv`, `opportunities.csv`, …) as `.csv`, `.tsv`, `.txt`, `.xlsx` (first sheet or `--sheet`)
or `.parquet`. `reps` and `opportunities` are required; every other file is optional.

- **Encodings**: UTF-8 (with or without BOM), CP932/Shift_JIS, detected in that order, then
  guessed; `--encoding` overrides. **Delimiters**: comma, semicolon or tab (sniffed).
  **Line endings**: LF, CRLF or bare CR; quoted values may span lines.
- **Numbers**: `￥1,234,000`, `$1,234`, `1,234円`, full-width digits, `(500)` = -500, lone `-` = 0.
- **Dates**: `2025-04-01`, `2025/4/1`, `2025年4月1日`, `令和7年4月1日`, `R7.4.1`, `H31.4.30`,
  Excel serial days (`45748`). Other layouts (`4/1/25`) need `formats` in a mapping file.
- **Timestamps**: ISO 8601 (`2025-04-01 09:30`, `2025-04-01T09:30:00+09:00`, `…Z`). Without an
  offset they are in the workspace time zone; with one they are converted to it (stored local).
- **Allowed values** are matched case-insensitively (`Won` = `won`).
- **Columns not listed** are kept, as a JSON object, in the `{extra}` column.

## Rows that are not loaded

A row is either loaded or rejected — never dropped silently. Rejected rows are written to the
workspace table `_rejects` (import id, file, table, row, column, value, reason, code, all problems,
and the whole original record as JSON) and counted per reason in the import report. **Row numbers
count the header as row 1**, so the first data row is row 2, as a spreadsheet shows it; a quoted
value spanning several lines is one row. Reasons: missing required value, value not of the column's
type, value not allowed, below the minimum or above the maximum, a key already seen in this import
(the first row stays), a row with more fields than the header, an empty row. `--strict` refuses the
whole import when any row would be rejected. One import is one transaction: all of it or nothing.
A later import replaces rows with the same key. `eigyo import rejects --workspace W [--import-id N]
[--out FILE]` writes the rejected rows (file, row, column, value, reason, then the original
record's own columns) to a CSV in UTF-8 with BOM, which Excel opens with Japanese intact. Each
import's report is saved with it:
`eigyo import report --workspace W [--import-id N] [--format json]` reprints it.

## Rows loaded with a warning

Values that are possible but suspicious are **loaded** and recorded in the workspace table
`_warnings` (import id, file, table, row, column, value, code, message), counted per file in the
import report, and summarized for the diagnosis by `eigyo.ingest.quality.warnings_summary`:

- `unknown_reference`: an id that no row of the referenced table holds (`opportunities.owner_rep_id`
  not in `reps`, `account_id` not in `accounts`, `stage_history.opportunity_id` not in
  `opportunities`, …), checked only when the referenced table has rows;
- `closed_before_created`, `ended_before_hired`, `sql_before_created`, `responded_before_mql`:
  two dates of one row in an impossible order;
- `blank`: `opportunities.amount` left blank — the deal is kept (it counts in win rate and cycle,
  adds nothing to amounts; DESIGN.md's contract marked amount required, issue 15 relaxed it);
- `outlier`: an amount over 1e12, or more than 10 median absolute deviations from the median of the
  same file's amounts (when the file has at least 20 amounts and the deviation is not zero).

Big CSV files (over 64 MB) are read, validated and staged in blocks of about 32 MB inside the
import's transaction, so memory stays flat whatever the file's size.

Presets for known exports (`--preset`): {presets} (below). Other exports: `--mapping FILE` (see
`examples/*.toml`; the keys are documented in `eigyo.ingest.mapping`).
"""

_PRESETS_INTRO = """## Presets: the files people download

`eigyo import FILE_OR_FOLDER --preset NAME --workspace W`. A folder's files are each matched to the
preset's table by their header. What every preset does the same way:

- **Closed deals are closed**: a deal in a won or lost stage is closed at the export's close date
  unless the export has its own closed timestamp; won/closed flags (IsWon, IsClosed, Is Closed Won)
  win over stage names.
- **Values** (stages, types, statuses) match ignoring case and full/half width; a value the preset
  does not list is read as the preset says (`open` for stages) **and reported** with its count;
  `--strict` refuses the import instead.
- **No ID column**: a stable id is made from the row's identifying fields (reported), so importing
  the same report again updates its rows.
- **Owners by display name** become reps keyed by that name (role `generalist`, hire date assumed
  to be their first record — both stated in the rep's `extra`), unless exactly one rep of that
  name is already in the workspace, whose id is then used.
- **Blank amounts** keep the deal (win rate and cycle count it, amounts do not; a warning counts
  it).
- **Refused imports** exit 1: nothing loadable, or more than `--max-reject-rate` (default 0.5) of
  the rows rejected.
"""


def _presets_markdown() -> str:
    from eigyo.ingest.mapping import load_preset

    out = [_PRESETS_INTRO]
    for name in presets():
        spec = load_preset(name)
        tables = ", ".join(dict.fromkeys(f.table for f in spec.files))
        out.append(f"### `{name}` → {tables}\n\n{spec.description}\n")
    return "\n".join(out)


def _column_line(c: Column, key: tuple[str, ...]) -> str:
    name = f"**{c.name}**" if c.required else c.name
    rules = []
    if c.name in key:
        rules.append("key")
    if c.allowed:
        rules.append("one of " + ", ".join(f"`{a}`" for a in c.allowed))
    if c.min_value is not None:
        rules.append(f"≥ {c.min_value:g}")
    if c.max_value is not None:
        rules.append(f"≤ {c.max_value:g}")
    req = "yes" if c.required else ""
    return f"| {name} | {c.type} | {req} | {'; '.join(rules)} | {c.description} |"


def import_format_markdown() -> str:
    """The whole page, from the schema declaration."""
    out = [_INTRO.replace("{extra}", EXTRA_COLUMN).replace("{presets}", ", ".join(presets()))]
    for t in TABLES:
        req = " (required file)" if t.required_file else ""
        out.append(f"## `{t.name}`{req}\n\n{t.description}. Key: {', '.join(t.key)}.\n")
        out.append("| column | type | required | rules | description |\n|---|---|---|---|---|")
        out += [_column_line(c, t.key) for c in t.columns]
        out.append("")
    out.append(_presets_markdown())
    out.append(EVENT_LOG_DOC)
    return "\n".join(out)


if __name__ == "__main__":  # pragma: no cover
    print(import_format_markdown(), end="")
