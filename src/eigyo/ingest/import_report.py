"""What an import did, per file: rows read, loaded, rejected, replaced, and why rows were rejected.

Row numbers follow the spreadsheet convention everywhere (messages, ``_rejects.row``, reports):
the header is row 1, so the first data row is row 2 — the number a person sees when the file is
opened in Excel. A quoted value spanning several lines still counts as one row.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from eigyo.i18n import t

#: Reason codes, in the order validation checks them.
REASONS = (
    "missing",
    "type",
    "allowed",
    "below_min",
    "above_max",
    "hidden_chars",
    "duplicate",
    "duplicate_file",
    "malformed",
    "empty_row",
)


@dataclass(frozen=True)
class Problem:
    """One rejected row's first problem: enough to write a message a person can act on."""

    file: str
    row: int
    column: str
    value: str | None
    code: str
    detail: str = ""

    def message(self, lang: str = "en") -> str:
        """``opportunities.csv row 1,204, column amount: '-500000' must be zero or more``."""
        key = "ingest.reject.where" if self.column else "ingest.reject.where_row"
        where = t(key, lang, file=self.file, row=f"{self.row:,}", col=self.column)
        return f"{where}: {reason_text(self.code, self.value, self.detail, lang)}"


def reason_key(column: str, code: str) -> str:
    """How reasons are counted: ``amount: below_min``, or the code alone for whole-row problems."""
    return f"{column}: {code}" if column else code


def reason_text(code: str, value: str | None, detail: str, lang: str = "en") -> str:
    """The reason alone (without file and row), in ``lang``; ``detail`` fills its placeholder."""
    key = f"ingest.reason.{code}"
    if code == "below_min" and detail in ("0", "0.0"):
        key = "ingest.reason.below_zero"
    if code == "type" and detail:
        detail = t(f"ingest.type.{detail}", lang)
    return t(key, lang, value="" if value is None else value, detail=detail)


@dataclass
class FileReport:
    """One input file loaded into one canonical table."""

    file: str
    table: str
    rows: int = 0
    loaded: int = 0
    rejected: int = 0
    replaced: int = 0
    encoding: str | None = None
    reasons: dict[str, int] = field(default_factory=dict)
    examples: list[Problem] = field(default_factory=list)
    #: Rows loaded but flagged as suspicious (see :mod:`eigyo.ingest.quality`).
    warnings: int = 0
    #: Warning counts by ``column: code``.
    warning_reasons: dict[str, int] = field(default_factory=dict)
    #: What the import did that is neither a rejected row nor a warning on a row, each a dict
    #: with ``code`` and its details: lines skipped (title rows, footers, totals), ids made from
    #: fields, values read through a value map's ``*``, blanks filled from another column, reps
    #: made from owner names. Rendered by :func:`notice_text`.
    notices: list[dict[str, Any]] = field(default_factory=list)

    def top_reasons(self, n: int = 5) -> list[tuple[str, int]]:
        """The ``n`` most frequent reasons, most frequent first (``column: code`` → count)."""
        return sorted(self.reasons.items(), key=lambda kv: (-kv[1], kv[0]))[:n]

    def top_warnings(self, n: int = 5) -> list[tuple[str, int]]:
        """The ``n`` most frequent warnings, most frequent first (``column: code`` → count)."""
        return sorted(self.warning_reasons.items(), key=lambda kv: (-kv[1], kv[0]))[:n]

    def example_for(self, reason: str) -> Problem | None:
        for p in self.examples:
            if reason_key(p.column, p.code) == reason:
                return p
        return None

    def to_json(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["examples"] = [{**asdict(p), "message": p.message("en")} for p in self.examples]
        return doc


def notice_text(notice: dict[str, Any], lang: str = "ja") -> str:
    """One notice of a file report in words (``ingest.notice.<code>``)."""
    values = {k: (f"{v:,}" if isinstance(v, int) else v) for k, v in notice.items() if k != "code"}
    code = str(notice["code"])  # a code with a dot is a full catalogue key (event-log notes)
    return t(code if "." in code else f"ingest.notice.{code}", lang, **values)


@dataclass
class ImportReport:
    """The whole import: one id, one transaction, a report per file."""

    import_id: int
    source: str
    files: list[FileReport] = field(default_factory=list)
    strict: bool = False
    #: Files of the imported folder that fit no entry of the mapping (not read).
    skipped_files: list[str] = field(default_factory=list)

    @property
    def loaded(self) -> int:
        return sum(f.loaded for f in self.files)

    @property
    def rejected(self) -> int:
        return sum(f.rejected for f in self.files)

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files)

    @property
    def warnings(self) -> int:
        return sum(f.warnings for f in self.files)

    def to_json(self) -> dict[str, Any]:
        return {
            "import_id": self.import_id,
            "source": self.source,
            "rows": self.rows,
            "loaded": self.loaded,
            "rejected": self.rejected,
            "warnings": self.warnings,
            "strict": self.strict,
            "skipped_files": self.skipped_files,
            "files": [f.to_json() for f in self.files],
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> ImportReport:
        """The report as :meth:`to_json` wrote it (saved with the import, reprinted later)."""
        names = {f.name for f in fields(FileReport)} - {"examples"}
        pnames = {f.name for f in fields(Problem)}
        files = [
            FileReport(
                **{k: v for k, v in f.items() if k in names},
                examples=[
                    Problem(**{k: v for k, v in p.items() if k in pnames})
                    for p in f.get("examples", [])
                ],
            )
            for f in doc.get("files", [])
        ]
        return cls(
            doc["import_id"],
            doc["source"],
            files,
            bool(doc.get("strict", False)),
            list(doc.get("skipped_files", [])),
        )
