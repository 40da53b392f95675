"""The Excel report: KPIs, findings, metrics by team and deal lists, one sheet each.

Japanese offices decide in Excel, so numbers stay numbers (typed cells with currency and % formats a
manager can sum and filter), each sheet has a frozen header, an autofilter and readable widths.

CRM data is hostile input here: a company name such as ``=HYPERLINK("http://…")`` or ``+cmd|…``
typed into a CRM would become a live formula if written with ``worksheet.write``. Every text
cell goes through ``write_string`` (and the workbook refuses to turn strings into formulas,
numbers or links even if one slipped through), so no cell of this file is ever a formula.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import xlsxwriter
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from eigyo.base.currency import DEFAULT_CURRENCY, currency
from eigyo.base.formatting import evidence_items, scope_text, target_met
from eigyo.diagnose.behind import FLAGS, UNITS
from eigyo.errors import InputError, check_lang
from eigyo.i18n import t
from eigyo.metrics import REGISTRY, MetricValue
from eigyo.report._deal_lists import COLUMNS, stale_deals
from eigyo.report._document import ReportModel, Tick, no_tick
from eigyo.report._files import atomic_write
from eigyo.report._model import KpiTile, ReportInput
from eigyo.report._sections import finding_view
from eigyo.report.evidence import RecordList, csv_text, headers, reason_text

#: Excel's limits: a cell holds at most 32,767 characters, a sheet 1,048,576 rows.
MAX_CELL = 32_767
MAX_ROWS = 1_048_575
#: Number formats by metric unit; amounts (``yen``) take the workspace currency's format.
NUMBER_FORMATS = {
    "yen": "¥#,##0",
    "yen/day": "¥#,##0",
    "ratio": "0.0%",
    "days": "#,##0.0",
    "minutes": "#,##0.0",
    "hours": "#,##0.0",
    "per_day": "#,##0.00",
    "count": "#,##0",
}
_WORKBOOK_OPTIONS = {
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
    "nan_inf_to_errors": True,
}


class _Sheets:
    """The workbook with its formats, and one way to write any value into a typed cell."""

    def __init__(self, wb: Workbook, lang: str, currency_code: str = DEFAULT_CURRENCY) -> None:
        self.wb, self.lang = wb, lang
        font = {"font_name": "Yu Gothic" if lang == "ja" else "Calibri", "font_size": 10}
        self.text = wb.add_format({**font, "valign": "top"})
        self.wrap = wb.add_format({**font, "valign": "top", "text_wrap": True})
        self.head = wb.add_format(
            {
                **font,
                "bold": True,
                "bg_color": "#E8EEF4",
                "border": 1,
                "text_wrap": True,
                "valign": "top",
            }
        )
        self.date = wb.add_format({**font, "num_format": "yyyy-mm-dd", "valign": "top"})
        self.time = wb.add_format({**font, "num_format": "yyyy-mm-dd hh:mm", "valign": "top"})
        money = currency(currency_code).excel_format()
        formats = {**NUMBER_FORMATS, "yen": money, "yen/day": money}
        self.units = {
            u: wb.add_format({**font, "num_format": f, "valign": "top"}) for u, f in formats.items()
        }

    def tr(self, key: str, /, **values: object) -> str:
        return t(key, self.lang, **values)

    def cell(
        self,
        ws: Worksheet,
        row: int,
        col: int,
        value: Any,
        unit: str | None = None,
        wrap: bool = False,
    ) -> None:
        """Write one value as the type it is; text only ever as a string, never a formula."""
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            ws.write_blank(row, col, None, self.text)
        elif isinstance(value, bool):
            ws.write_string(row, col, self.tr("report.common.yes" if value else "report.common.no"))
        elif isinstance(value, int | float):
            ws.write_number(row, col, float(value), self.units.get(unit or "count", self.text))
        elif isinstance(value, datetime):
            ws.write_datetime(row, col, value, self.time)
        elif isinstance(value, date):
            ws.write_datetime(row, col, datetime(value.year, value.month, value.day), self.date)
        else:
            ws.write_string(row, col, str(value)[:MAX_CELL], self.wrap if wrap else self.text)

    def sheet(self, name_key: str, headers: Sequence[str], widths: Sequence[float]) -> Worksheet:
        """A sheet with a frozen, bold header row and column widths (in characters)."""
        ws = self.wb.add_worksheet(self.tr(name_key)[:31])
        for col, (head, width) in enumerate(zip(headers, widths, strict=True)):
            ws.write_string(0, col, head, self.head)
            ws.set_column(col, col, width)
        ws.freeze_panes(1, 0)
        return ws

    @staticmethod
    def finish(ws: Worksheet, rows: int, cols: int) -> None:
        """Autofilter over the header and the rows written (a header alone still filters)."""
        ws.autofilter(0, 0, max(rows, 1), cols - 1)


def _kpis(s: _Sheets, tiles: list[KpiTile]) -> None:
    keys = (
        "metric",
        "label",
        "value",
        "target",
        "met",
        "previous",
        "last_year",
        "better",
        "definition",
    )
    ws = s.sheet(
        "report_files.sheet.kpis",
        [s.tr(f"report_files.kpi.{k}") for k in keys],
        [22, 24, 16, 16, 10, 16, 16, 14, 60],
    )
    for r, k in enumerate(tiles, start=1):
        metric = REGISTRY.get(k.metric_id)
        met = target_met(k.value, k.target, k.better)
        met_text = None if met is None else s.tr("report.kpi.met" if met else "report.kpi.missed")
        value: object = k.value
        if k.value is None and k.reason is not None:  # 「データなし（理由）」, never a blank or 0
            value = k.reason.label(s.lang)
        row = [
            k.metric_id,
            k.label.get(s.lang) or k.metric_id,
            value,
            k.target,
            met_text,
            k.previous,
            k.last_year,
            s.tr(f"report.kpi.better_{k.better}"),
            metric.definition(s.lang) if metric else None,
        ]
        for c, v in enumerate(row):
            s.cell(ws, r, c, v, k.unit if c in (2, 3, 5, 6) else None, wrap=c == 8)
    s.finish(ws, len(tiles), len(keys))


def _findings(s: _Sheets, inp: ReportInput) -> None:
    keys = (
        "rank",
        "step",
        "check",
        "severity",
        "title",
        "scope",
        "metric",
        "impact_jpy",
        "impact_formula",
        "evidence",
        "cause",
        "actions",
        "id",
        "overlaps",
    )
    ws = s.sheet(
        "report_files.sheet.findings",
        [s.tr(f"report_files.finding.{k}") for k in keys],
        [6, 14, 20, 9, 34, 22, 20, 16, 40, 44, 50, 60, 26, 40],
    )
    units = {k.metric_id: k.unit for k in inp.kpis}
    ordered = sorted(inp.findings, key=lambda f: f.sort_key())
    for r, f in enumerate(ordered, start=1):
        v = finding_view(f, s.lang, units)
        evidence = evidence_items(
            f.evidence, f.unit or units.get(f.metric or ""), s.lang, f.currency
        )
        row = [
            r,
            v.step_title,
            f.check,
            v.severity_label,
            v.title,
            scope_text(f.scope, s.lang, f.evidence),
            f.metric,
            f.impact_jpy,
            v.impact_formula,
            "\n".join(f"{a}: {b}" for a, b in evidence),
            v.cause,
            "\n".join(f"・{a}" for a in v.actions),
            f.id,
            "\n".join(f.overlaps),
        ]
        for c, value in enumerate(row):
            s.cell(ws, r, c, value, "yen" if c == 7 else None, wrap=8 <= c < 12 or c == 13)
    s.finish(ws, len(ordered), len(keys))


def _by_team(s: _Sheets, values: list[MetricValue]) -> None:
    """Every metric that can be grouped by team: teams down, metrics across."""
    ids = list(dict.fromkeys(v.id for v in values))
    teams = sorted({v.by["team"] for v in values})
    cell = {(v.by["team"], v.id): v for v in values}
    heads = [s.tr("report_files.sheet.team")] + [REGISTRY[i].label(s.lang) for i in ids]
    ws = s.sheet("report_files.sheet.by_team", heads, [18] + [14] * len(ids))
    for r, team in enumerate(teams, start=1):
        s.cell(ws, r, 0, team)
        for c, mid in enumerate(ids, start=1):
            mv = cell.get((team, mid))
            if mv is not None and mv.reason is not None and mv.reason.code == "missing_data":
                s.cell(ws, r, c, s.tr("report.kpi.not_available"))
                continue
            s.cell(ws, r, c, None if mv is None else mv.value, None if mv is None else mv.unit)
    s.finish(ws, len(teams), len(heads))


def _deals(s: _Sheets, name_key: str, df: pl.DataFrame) -> None:
    heads = [s.tr(f"report_files.deals.{c}") for c in COLUMNS]
    ws = s.sheet(name_key, heads, [14, 28, 14, 16, 12, 14, 16, 14, 10, 8])
    units = {"amount": "yen", "idle_days": "days"}
    rows = df.head(MAX_ROWS).rows()
    for r, row in enumerate(rows, start=1):
        for c, (col, value) in enumerate(zip(COLUMNS, row, strict=True)):
            s.cell(
                ws,
                r,
                c,
                bool(value) if col == "stale" and value is not None else value,
                units.get(col),
            )
    s.finish(ws, len(rows), len(COLUMNS))


def _about(s: _Sheets, inp: ReportInput) -> None:
    heads = [s.tr("report_files.about.item"), s.tr("report_files.about.value")]
    ws = s.sheet("report_files.sheet.about", heads, [28, 60])
    p = inp.period
    meta = [
        (s.tr("report_files.about.company"), inp.company),
        (s.tr("report.common.period"), f"{p.label} ({p.start} – {p.end})"),
        (s.tr("report_files.about.generated"), inp.generated_at),
    ]
    rows = meta + sorted(inp.data_summary.items())
    for r, (k, v) in enumerate(rows, start=1):
        s.cell(ws, r, 0, k)
        s.cell(ws, r, 1, v)
    s.finish(ws, len(rows), 2)


def write_xlsx(model: ReportModel, out: Path, *, progress: Tick = no_tick) -> Path:
    """Write the Excel report to ``out`` atomically; returns the path written.

    The model must hold the workbook's tables (built with ``formats`` including ``xlsx``)."""
    inp, lang = model.inp, check_lang(model.lang)
    deals = model.open_deals
    if deals is None:
        raise ValueError("the report model was built without the Excel tables (formats=xlsx)")

    def build(tmp: Path) -> None:
        wb = xlsxwriter.Workbook(str(tmp), _WORKBOOK_OPTIONS)
        s = _Sheets(wb, lang, inp.currency)
        steps: tuple[Callable[[], None], ...] = (
            lambda: _kpis(s, inp.kpis),
            lambda: _findings(s, inp),
            lambda: _by_team(s, model.team_metrics),
            lambda: _deals(s, "report_files.sheet.open_deals", deals),
            lambda: _deals(s, "report_files.sheet.stale_deals", stale_deals(deals)),
            lambda: _about(s, inp),
            lambda: _evidence(s, model.evidence),
        )
        for i, step in enumerate(steps):
            progress("xlsx", i, len(steps))
            step()
        wb.close()
        progress("xlsx", len(steps), len(steps))

    return atomic_write(Path(out), build)


# ------------------------------------------------------------------ the records behind findings

#: Excel's row limit, less the title, note and header rows an evidence sheet starts with.
EVIDENCE_SHEET_ROWS = MAX_ROWS - 3


def _sheet_name(i: int, rl: RecordList, used: set[str]) -> str:
    name = f"{i:02d} {rl.finding.check}"[:31]
    while name in used:  # never twice, whatever the check's name
        name = f"{len(used):02d} {rl.finding.check}"[:31]
    used.add(name)
    return name


def _evidence(s: _Sheets, lists: Sequence[RecordList]) -> None:
    """One sheet per finding (:mod:`eigyo.report.evidence`): its title and id, a line saying
    how many records there are, that the list is capped, or why it is empty; then the records
    as typed cells — amounts in the currency's format, 0/1 facts as yes / no, text never a
    formula."""
    used: set[str] = set()
    for i, rl in enumerate(lists, start=1):
        f = rl.finding
        ws = s.wb.add_worksheet(_sheet_name(i, rl, used))
        title = f.title.get(s.lang) or f.title.get("ja") or f.check
        s.cell(ws, 0, 0, s.tr("records.sheet_title", title=title, id=f.id))
        if rl.reason is not None:
            note = reason_text(rl, s.lang)
        elif rl.capped:
            note = s.tr("records.capped", shown=len(rl.rows), total=rl.total, id=f.id)
        else:
            note = s.tr("records.total", total=rl.total)
        s.cell(ws, 1, 0, note)
        if not rl.columns:
            continue
        for c, (col, head) in enumerate(zip(rl.columns, headers(rl.columns, s.lang), strict=True)):
            ws.write_string(2, c, head, s.head)
            ws.set_column(c, c, 28 if col in ("account_name", "message") else 14)
        for r, row in enumerate(rl.rows[:EVIDENCE_SHEET_ROWS], start=3):
            for c, col in enumerate(rl.columns):
                value = row.get(col)
                if col in FLAGS and isinstance(value, int | float):
                    value = bool(value)
                s.cell(ws, r, c, value, UNITS.get(col))
        ws.freeze_panes(3, 0)
        ws.autofilter(2, 0, max(2 + len(rl.rows), 3), len(rl.columns) - 1)


def records_xlsx(
    lists: Sequence[RecordList], lang: str, currency_code: str = DEFAULT_CURRENCY
) -> bytes:
    """An Excel workbook of the records of ``lists`` (one sheet each), as bytes (the
    dashboard's export, ``eigyo diagnose --records ID --out FILE.xlsx``)."""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {**_WORKBOOK_OPTIONS, "in_memory": True})
    _evidence(_Sheets(wb, check_lang(lang), currency_code), lists)
    wb.close()
    return buf.getvalue()


def write_records(
    rl: RecordList, out: Path, lang: str, currency_code: str = DEFAULT_CURRENCY
) -> Path:
    """Write one finding's records to ``out`` atomically: ``.csv`` (formula-safe, for Excel)
    or ``.xlsx``; any other extension is an :class:`~eigyo.errors.InputError`."""
    suffix = Path(out).suffix.lower()
    if suffix == ".csv":
        data = csv_text(rl, lang).encode("utf-8")
    elif suffix == ".xlsx":
        data = records_xlsx([rl], lang, currency_code)
    else:
        raise InputError(key="records.bad_out", path=str(out))
    return atomic_write(Path(out), lambda tmp: tmp.write_bytes(data))
