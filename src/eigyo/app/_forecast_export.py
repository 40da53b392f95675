"""The forecast page's downloads as record lists: the roll-up's lines and the deals behind the call.

The rows are the page's own (:class:`eigyo.app._forecast.CallView`: one computation for the
person's scope, filters and as-of day), shaped as :class:`eigyo.app._metric_records.MetricRecords`
so that the one download of every records view (:func:`eigyo.app._drill.records_download`: CSV
with a BOM and formula-safe cells, Excel with typed cells) writes them — no second writer.

What a person reads in a spreadsheet: headers and categories in their language, amounts as
numbers (in the currency's Excel format: :data:`MONEY_COLUMNS`), and a blank cell with the reason
in ``forecast_note`` where a value is not available (open deals, none with an expected close
date; or a sum whose deals all lack an amount), never 0. The CRM link column (``crm_url``) is
there only when ``[crm] opportunity_url`` is configured, as in the pipeline review's exports.
"""

from __future__ import annotations

from typing import Any

from eigyo.analysis.data.forecast_calls import AMOUNTS, Line
from eigyo.app._metric_records import MetricRecords
from eigyo.base.periods import Period
from eigyo.i18n import t

#: The roll-up export's columns: who the line is, yen per category, the landings, the counts.
ROLLUP_COLUMNS: tuple[str, ...] = (
    "forecast_level", "forecast_name", "rep_id", "team",
    *(f"forecast_{k}" for k in AMOUNTS),
    "forecast_call", "forecast_upside", "forecast_adjusted_call",
    "forecast_open_deals", "forecast_undated_deals", "forecast_no_amount_deals", "forecast_note",
)  # fmt: skip
#: The roll-up's columns in yen: an Excel export formats them as money (:mod:`eigyo.app._drill`).
MONEY_COLUMNS: tuple[str, ...] = (
    *(f"forecast_{k}" for k in AMOUNTS),
    "forecast_call", "forecast_upside", "forecast_adjusted_call",
)  # fmt: skip
#: The deals export's columns (``crm_url`` appended when configured).
DEAL_COLUMNS: tuple[str, ...] = (
    "opportunity_id", "rep_name", "team", "stage", "amount", "expected_close_date",
    "forecast_category", "forecast_source",
)  # fmt: skip


def rollup_rows(table: list[tuple[str, Line, float | None]], lang: str) -> list[dict[str, Any]]:
    """The page's table, line for line: teams each followed by their reps, then the total."""
    out = []
    for level, ln, adjusted in table:
        out.append({
            "forecast_level": t(f"forecast.level.{level}", lang) if level != "total" else
            t("forecast.total", lang),
            "forecast_name": ln.name if level != "total" else "",
            "rep_id": ln.key if level == "rep" else None,
            "team": ln.team if level != "total" else None,
            **{f"forecast_{k}": ln.value(k) for k in AMOUNTS},
            "forecast_call": ln.call, "forecast_upside": ln.upside,
            "forecast_adjusted_call": adjusted,
            "forecast_open_deals": ln.open_deals, "forecast_undated_deals": ln.undated,
            "forecast_no_amount_deals": sum(ln.without.values()),
            "forecast_note": _note(ln, lang),
        })  # fmt: skip
    return out


def _note(ln: Line, lang: str) -> str | None:
    """Why a line's values are blank: no close dates, or a sum whose deals all lack amounts."""
    if not ln.available:
        return t("forecast.na.short", lang)
    if any(ln.reason(k) for k in (*AMOUNTS, "call", "upside")):
        return t("forecast.na.no_amounts_short", lang)
    return None


def deal_rows(deals: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    """The deals behind the call with their category and its source named in ``lang``."""
    return [
        {**d, "rep_name": d.get("rep_name") or d.get("rep_id"),
         "forecast_category": t(f"forecast.cat.{d['category']}", lang),
         "forecast_source": t(f"forecast.source.{d['source']}", lang)}
        for d in deals
    ]  # fmt: skip


def forecast_records(
    what: str, period: Period, rows: list[dict[str, Any]], lang: str, linked: bool
) -> MetricRecords:
    """``rows`` of the roll-up (``what == "rollup"``) or of the deals as a record list, the
    deals with the CRM link column when ``linked``."""
    if what == "rollup":
        columns = list(ROLLUP_COLUMNS)
    else:
        columns = [*DEAL_COLUMNS, *(["crm_url"] if linked else [])]
    sheet = t("forecast.export.sheet_" + what, lang)
    return MetricRecords(sheet, "opportunities", period, None, None, columns, rows, len(rows))
