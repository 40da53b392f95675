"""The records behind findings, as people open them: lists, CSV, Excel, and the total at stake.

:mod:`eigyo.diagnose.behind` says *which* records stand behind a finding (an engine table); this
module turns them into what the report, the CLI and the dashboard hand a person:

* :func:`record_list` — one page of a finding's records (the only rows read into Python), with
  the total count, or the reason it has none;
* :func:`csv_text` — the records as CSV for Excel (UTF-8 with BOM, the header in the reader's
  language, numbers as numbers, every text cell through :mod:`eigyo.base.csv_safe`);
* the Excel forms (a workbook of one finding's records, the report workbook's evidence sheets:
  one per alarm, capped at :data:`EVIDENCE_ROWS` rows, with a line saying so) are written by
  :mod:`eigyo.report.xlsx` (``records_xlsx``, ``write_records``) from these lists;
* :func:`stake_view` — page one's total at stake over non-overlapping populations
  (:func:`eigyo.diagnose.overlap.non_overlapping_total`) and the sentence that says overlapping
  findings are not counted twice; :func:`overlap_links` — the findings one overlaps with.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from eigyo.base.csv_safe import safe_cell
from eigyo.base.currency import DEFAULT_CURRENCY
from eigyo.base.formatting import format_value
from eigyo.base.periods import Period
from eigyo.diagnose import behind
from eigyo.diagnose.context import SAMPLES
from eigyo.diagnose.model import Finding
from eigyo.diagnose.overlap import non_overlapping_total
from eigyo.i18n import t

if TYPE_CHECKING:
    from eigyo.workspace import Workspace

#: Most records of one finding the report's workbook holds (the CLI and the dashboard export
#: every record): a workbook of a dozen findings stays small enough to mail.
EVIDENCE_ROWS = 1_000


@dataclass(frozen=True)
class RecordList:
    """One page of a finding's records: ``columns`` in reading order, ``rows`` as dicts,
    ``total`` records in all; ``reason`` (a catalogue key) when the finding has none."""

    finding: Finding
    columns: list[str] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0
    reason: str | None = None
    offset: int = 0

    @property
    def capped(self) -> bool:
        """Whether the list holds fewer records than the finding has."""
        return self.offset + len(self.rows) < self.total or self.offset > 0


def record_list(
    ws: Workspace,
    period: Period,
    finding: Finding,
    limit: int,
    offset: int = 0,
    samples: behind.Samples | None = None,
) -> RecordList:
    """``limit`` records of ``finding`` from ``offset`` with their total (one query), or the
    empty list with the reason it has none."""
    try:
        table, order = behind.unordered(ws, period, finding, samples)
    except behind.NoRecords as e:
        return RecordList(finding, reason=e.key)
    if limit > 0:
        rows, total = behind.page_counted(table, order, limit, offset)
    else:
        rows, total = [], behind.count(table)
    return RecordList(finding, list(table.columns), rows, total, offset=offset)


def evidence_lists(
    ws: Workspace, period: Period, findings: Sequence[Finding], limit: int = EVIDENCE_ROWS
) -> list[RecordList]:
    """The records of every alarm (warn, error), most important first, ``limit`` each; the
    samples are built once and shared between the findings of one check."""
    cache: dict[str, Any] = {}

    def sample(name: str) -> Any:
        if name not in cache:
            cache[name] = SAMPLES[name](ws, period)
        return cache[name]

    alarms = sorted((f for f in findings if f.is_alarm), key=Finding.sort_key)
    return [record_list(ws, period, f, limit, 0, sample) for f in alarms]


def reason_text(rl: RecordList, lang: str) -> str:
    """Why a finding has no records, in the reader's language."""
    return t(rl.reason or "records.none.not_judged", lang, check=rl.finding.check)


def headers(columns: Sequence[str], lang: str) -> list[str]:
    """The columns' names as a person reads them."""
    return [behind.label(c, lang) for c in columns]


#: What a terminal shows of a record (the files hold every column): who, what, where it
#: stands, how much, and the figure the check measured.
SCREEN: frozenset[str] = frozenset(
    {"opportunity_id", "lead_id", "account_name", "title", "rep_name", "team", "source",
     "stage", "current_stage", "status", "amount", "idle_days", "dwell_days", "days_to_meeting",
     "response_minutes", "hours", "admin_share", "hours_per_win", "gap_points", "row", "value",
     "code"}
)  # fmt: skip


def screen_columns(rl: RecordList) -> list[str]:
    """The columns a terminal shows: :data:`SCREEN` and the value the check tested."""
    value = behind.check_of(rl.finding).value
    leads = "lead_id" in rl.columns  # a lead's deal id is a detail for the files
    return [
        c
        for c in rl.columns
        if (c in SCREEN or c == value) and not (leads and c == "opportunity_id")
    ]


def shown_rows(
    rl: RecordList,
    lang: str,
    currency: str = DEFAULT_CURRENCY,
    columns: Sequence[str] | None = None,
) -> list[list[str]]:
    """The rows formatted for a screen: names, amounts with the currency, days with 日 …"""
    cols = rl.columns if columns is None else columns
    return [[behind.cell(c, r.get(c), lang, currency) for c in cols] for r in rl.rows]


def _csv_value(column: str, value: object) -> object:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):  # a spreadsheet's number: whole amounts without ".0"
        if behind.UNITS.get(column) in ("days", "hours", "minutes"):
            return round(value, 1)
        return int(value) if value.is_integer() else value
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return value


def csv_text(rl: RecordList, lang: str) -> str:
    """The records as CSV text for Excel: a BOM, the header in ``lang``, numbers as numbers,
    timestamps as ISO text, and every text cell formula-safe (a name typed into a CRM as
    ``=HYPERLINK(…)`` stays text)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([safe_cell(h) for h in headers(rl.columns, lang)])
    for r in rl.rows:
        w.writerow([safe_cell(_csv_value(c, r.get(c))) for c in rl.columns])
    return "\ufeff" + buf.getvalue()


# ------------------------------------------------------------------------- the total at stake


@dataclass(frozen=True)
class StakeView:
    """Page one's total at stake: the amount over non-overlapping populations and the sentence
    saying so (or that no problem has an estimated impact); ``skipped`` are the ids left out."""

    total: str | None
    note: str
    counted: list[str]
    skipped: list[str]


def stake_view(
    findings: Sequence[Finding], lang: str, currency: str = DEFAULT_CURRENCY
) -> StakeView:
    """The executive summary's ¥: the impacts of the alarms whose records do not overlap,
    largest first (eigyo.diagnose.overlap), and a sentence that says overlapping findings are
    not counted twice — a summary that added them would promise more than is at stake."""
    total, counted, skipped = non_overlapping_total(findings)
    if not counted:
        return StakeView(None, t("records.stake.none", lang), [], [])
    amount = format_value(total, "yen", lang, currency)
    note = t("records.stake.note", lang, counted=len(counted), skipped=len(skipped))
    return StakeView(t("records.stake.total", lang, amount=amount), note, counted, skipped)


def overlap_links(f: Finding, findings: Sequence[Finding], lang: str) -> list[tuple[str, str]]:
    """``(id, title)`` of the findings ``f`` overlaps with, in the diagnosis's order."""
    by_id = {x.id: x for x in findings}
    out = []
    for i in f.overlaps:
        other = by_id.get(i)
        if other is None:  # not in the reader's findings (outside a manager's scope): unnamed
            continue
        out.append((i, other.title.get(lang) or other.title.get("ja") or other.check))
    return out
