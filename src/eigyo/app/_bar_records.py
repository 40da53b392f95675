"""The records behind a chart mark drawn from a diagnosis sample rather than from a metric.

Most marks of the step pages are not a registry metric: a closer's median days from an SDR's
hand-off to the first meeting (``handoff-days``), a stage's median days in stage
(``stage-days``), a team's conversion at one stage (``stage-conversion``), a rep's dot of win
rate against deals closed (``rep-win-rate``). Each is computed by the step's ``chart_data`` from
the sample its check tests (:data:`eigyo.diagnose.context.SAMPLES`), or from the analysis table
the chart alone draws (:data:`SOURCES`: a Sankey link's stage entries, a funnel step's deals),
so a mark's records are that table's rows of the mark's group — read through the person's
scoped and filtered workspace: the rows the mark was computed from. Declared as data
(:data:`SAMPLE_BARS`): which columns the mark's keys name, the values every row of the chart
has (``fixed``) and the columns it needs filled (``present``: the entries still waiting have no
days in stage and are not in the median). The page, the CSV and
the Excel are the metric records' (:mod:`eigyo.app._drill`), CRM links included.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Annotated
from urllib.parse import urlencode

import ibis
import ibis.expr.types as ir
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from eigyo.analysis.enablement.training import capability_gap_table
from eigyo.analysis.process.stages import stage_entries
from eigyo.app import _metric_records as mr
from eigyo.app import _views as views
from eigyo.app._drill import PAGE_ROWS, cells, chosen_filters, records_download
from eigyo.app._filters import VIEW_PARAMS, ViewFilter, filtered
from eigyo.app._scope import ScopedWorkspace
from eigyo.app._web import PageUser, lang_of, render, scoped_ws
from eigyo.base.periods import Period
from eigyo.base.vocabulary import NONE, UNKNOWN
from eigyo.diagnose import behind
from eigyo.diagnose.context import SAMPLES
from eigyo.diagnose.selection import KEYS
from eigyo.errors import InputError
from eigyo.i18n import t
from eigyo.metrics import NONE_GROUP
from eigyo.workspace import Workspace

router = APIRouter(include_in_schema=False)
Text = Annotated[str | None, Query(max_length=200)]
#: A mark's values, one per key (at most a few; each checked against :data:`MAX_VALUE`).
Groups = Annotated[list[str] | None, Query(max_length=4)]
#: Longest value of a mark a link may carry (a label on a chart is far shorter).
MAX_VALUE = 200


def _stage_deals(ws: Workspace, period: Period) -> ir.Table:
    """The funnel's steps: each opportunity created in the period once per stage it entered."""
    return stage_entries(ws, period).select("opportunity_id", "stage").distinct()


def _capability_levels(ws: Workspace, period: Period) -> ir.Table:
    """The capability heatmap's cells: rep × capability, level, required level and gap (the
    rep's name comes with the records' names)."""
    return capability_gap_table(ws, period).drop("name")


#: The tables a mark's records come from: the diagnosis samples, and what a chart alone draws.
SOURCES: dict[str, Callable[[Workspace, Period], ir.Table]] = {
    **SAMPLES,
    "stage_deals": _stage_deals,
    "capability_levels": _capability_levels,
    "stage_entries": stage_entries,
}


@dataclass(frozen=True)
class SampleBar:
    """A chart drawn from a table of :data:`SOURCES`: the table, the columns its marks' keys
    name (a rep is named on the chart, so a rep's mark is found by name or id), the chart's
    title key, the values every mark has (``fixed``), the columns a row needs filled
    (``present``), a key's figure value → the column's value (``codes``), and the column
    the list is ordered by, largest first (``value``)."""

    sample: str
    columns: tuple[str, ...]
    title: str
    fixed: dict[str, object] = field(default_factory=dict)
    present: tuple[str, ...] = ()
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    value: str | None = None

    def codes_of(self, keys: Sequence[str], group: Sequence[str]) -> list[str]:
        """A mark's group as the URL carries it: each key's value in its column's terms."""
        return [self.codes.get(key, {}).get(v, v) for key, v in zip(keys, group, strict=True)]


#: Chart id → how its marks map to rows.
SAMPLE_BARS: dict[str, SampleBar] = {
    "funnel": SampleBar("stage_deals", ("stage",), "report.chart.funnel.title"),
    "stage-days": SampleBar(
        "stage_exits", ("stage",), "report.chart.stage_days.title",
        present=("dwell_days",), value="dwell_days",
    ),
    "stage-conversion": SampleBar(
        "stage_exits", ("team", "stage"), "report.chart.conversion.title",
        present=("advanced",), value="advanced",
    ),
    "rep-win-rate": SampleBar("closed_deals", ("rep_id",), "report.chart.rep_win.title"),
    "handoff-days": SampleBar(
        "handoffs", ("rep_id",), "report.chart.handoff.title", value="days_to_meeting"
    ),
    "lead-response": SampleBar(
        "mql_leads", ("team",), "report.chart.response.title", value="response_minutes"
    ),
    "new-rep-win-rate": SampleBar(
        "new_rep_deals", ("team", "trained"), "report.chart.new_rep_win.title",
        codes={"type": {"bar": "0", "scatter": "1"}},
    ),
    "capability-gaps": SampleBar(
        "capability_levels", ("rep_id", "capability"), "report.chart.capability_gaps.title",
        value="gap",
    ),
    "segment-matrix": SampleBar("closed_deals", ("industry",), "report.chart.segment.title"),
    "reclaimable-time": SampleBar(
        "admin_share", ("team",), "report.chart.reclaimable_time.title", value="admin"
    ),
    "process-map": SampleBar(
        "stage_entries", ("stage", "next_stage"), "report.chart.process_map.title",
        value="dwell_days",
    ),
}  # fmt: skip


def bar_url(chart: str, query: dict[str, str], group: str | Sequence[str], suffix: str = "") -> str:
    """The link to one mark's records (``suffix``: ``.csv``/``.xlsx``), keeping the view."""
    groups = [group] if isinstance(group, str) else list(group)
    params = [(k, query[k]) for k in VIEW_PARAMS if query.get(k)] + [("group", g) for g in groups]
    return f"/charts/{chart}/records{suffix}?{urlencode(params)}"


def rep_of(ws: ScopedWorkspace, label: str) -> str:
    """The rep a chart's label names: the id itself, a name, "team name" (the capability
    heatmap's rows) or either with the id in brackets (a repeated name); else the label."""
    inner = re.search(r"\(([^()]*)\)$", label)
    ids = [label, *([inner.group(1)] if inner else [])]
    reps = ws.table("reps")
    full = reps.team.fill_null("") + " " + reps.name.fill_null("")
    hit = reps.filter(
        reps.rep_id.isin(ids)
        | (reps.name == label)
        | (full == label)
        | ibis.literal(label).endswith(" " + reps.name.fill_null(""))
    ).select("rep_id", "name", full=full)
    rows = hit.order_by("rep_id").limit(50).to_pyarrow().to_pylist()
    for ok in (lambda r: r["rep_id"] in ids, lambda r: r["full"] == label,
               lambda r: r["name"] == label, lambda r: True):  # fmt: skip
        found = [r["rep_id"] for r in rows if ok(r)]
        if found:
            return str(found[0])
    return label


def _matches(tab: ir.Table, column: str, value: str) -> ir.BooleanValue:
    """A row of the group: equal as text; the missing group holds the rows without a value
    (null or a missing-value word of the analyses)."""
    if value == NONE_GROUP:
        return tab[column].isnull() | tab[column].cast("string").isin([NONE, UNKNOWN])
    return tab[column].cast("string") == value


def mark_rows(
    ws: ScopedWorkspace, period: Period, bar: SampleBar, groups: Sequence[str]
) -> tuple[ir.Table, list[object]]:
    """A mark's rows made readable as a finding's records, and their ordering."""
    for g in groups:
        if len(g) > MAX_VALUE:
            raise InputError(key="drill.value_too_long", n=len(g), max=MAX_VALUE)
    if len(groups) != len(bar.columns):
        raise InputError(key="drill.mark_values", n=len(bar.columns),
                         columns=", ".join(bar.columns), given=len(groups))  # fmt: skip
    tab = SOURCES[bar.sample](ws, period)
    for column, value in zip(bar.columns, groups, strict=True):
        tab = tab.filter(_matches(tab, column, rep_of(ws, value) if column == "rep_id" else value))
    for column, fixed in bar.fixed.items():
        tab = tab.filter(_matches(tab, column, str(fixed)))
    for column in bar.present:
        tab = tab.filter(tab[column].notnull())
    key = next(k for k in KEYS if k in tab.columns)
    return behind.readable(ws, period, behind.Population(tab, key, bar.value))


def bar_records(
    request: Request, s: PageUser, chart: str, period: str | None, groups: Sequence[str],
    limit: int, offset: int,
) -> tuple[mr.MetricRecords, str]:  # fmt: skip
    """One page of a mark's records and the workspace currency."""
    bar = SAMPLE_BARS.get(chart)
    if bar is None:
        raise InputError(key="drill.no_mark_records", chart=chart, known=", ".join(SAMPLE_BARS))
    ws = filtered(scoped_ws(request, s), ViewFilter.from_query(request.query_params))
    p = views.period_of(ws, period)
    table, order = mark_rows(ws, p, bar, groups)
    rows, total = behind.page_counted(table, order, limit, offset)
    crm = ws.settings.crm
    links = [
        name
        for name, (kind, col) in mr.CRM_COLUMNS.items()
        if crm.template(kind) and col in table.columns
    ]
    rows = mr.with_links(rows, links, crm)
    columns = [*table.columns, *links]
    group = " / ".join(groups)
    rec = mr.MetricRecords(chart, bar.sample, p, ",".join(bar.columns), group, columns, rows,
                           total, offset)  # fmt: skip
    return rec, ws.settings.currency


@router.get("/charts/{chart}/records", response_class=HTMLResponse)
def bar_records_page(
    request: Request, s: PageUser, chart: str, period: Text = None, group: Groups = None,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> HTMLResponse:  # fmt: skip
    """One mark's records, a page at a time, with the exports."""
    lang = lang_of(request)
    groups = group or [""]
    try:
        rec, money = bar_records(request, s, chart, period, groups, PAGE_ROWS, offset)
    except InputError as e:
        return render(request, "error.html.j2", s, 400, message=e.localized(lang))
    q = {**request.query_params, "period": rec.period.label}
    here = bar_url(chart, q, groups)
    title = t(SAMPLE_BARS[chart].title, lang)
    return render(
        request, "metric_records.html.j2", s,
        rec=rec, period=rec.period, definition=title,
        heading=t("drill.bar_heading", lang, chart=title, group=rec.group or ""),
        heads=[mr.label(c, lang) for c in rec.columns],
        cells=cells(rec, lang, money),
        numeric=[c in mr.UNITS for c in rec.columns],
        csv_url=bar_url(chart, q, groups, ".csv"),
        xlsx_url=bar_url(chart, q, groups, ".xlsx"),
        prev_url=f"{here}&offset={max(offset - PAGE_ROWS, 0)}" if offset > 0 else None,
        next_url=f"{here}&offset={offset + PAGE_ROWS}" if offset + PAGE_ROWS < rec.total else None,
        last=min(offset + PAGE_ROWS, rec.total),
        filters=chosen_filters(request, s, lang),
    )  # fmt: skip


def _export(request: Request, s: PageUser, chart: str, period: str | None,
            group: list[str] | None, ext: str) -> Response:  # fmt: skip
    lang = lang_of(request)
    try:
        rec, money = bar_records(request, s, chart, period, group or [""], views.EXPORT_ROWS, 0)
    except InputError as e:
        return render(request, "error.html.j2", s, 400, message=e.localized(lang))
    return records_download(rec, lang, money, chart, ext)


@router.get("/charts/{chart}/records.csv", response_class=Response)
def bar_records_csv(request: Request, s: PageUser, chart: str, period: Text = None,
                    group: Groups = None) -> Response:  # fmt: skip
    """Every record of the mark the person may see, as CSV for Excel (formula-safe)."""
    return _export(request, s, chart, period, group, "csv")


@router.get("/charts/{chart}/records.xlsx", response_class=Response)
def bar_records_xlsx(request: Request, s: PageUser, chart: str, period: Text = None,
                     group: Groups = None) -> Response:  # fmt: skip
    """Every record of the mark the person may see, as an Excel workbook (typed cells)."""
    return _export(request, s, chart, period, group, "xlsx")
