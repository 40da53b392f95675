"""The records behind a finding: the deals, leads or reps whose numbers it states.

A finding says "大阪営業部 wins 31% of new business against 45%"; a sales director's next
question is *which deals*. :func:`population` answers it with the rows the check tested — the
check's sample (:data:`eigyo.diagnose.context.SAMPLES`) filtered by the check's ``subject`` and
the finding's scope — and :func:`records` adds what a person reads (the account's and the rep's
names, the product, the current stage, amounts, dates, days idle), never raw ids alone.

The rules, by the kind of finding:

* a compared group (a team, a rep, a source, a team's stage …): every row of that group in the
  sample — the won *and* the lost deals of a rep's win rate — the rows that make the gap first;
  the group's other keys (the deal type compared within, the current period of a history check)
  come from the finding's evidence;
* a rolled-up finding (``evidence["members"]``, eigyo.diagnose.rollup): the union of its members'
  rows (``column IN (…)``) within its own scope — the members are the drill-down;
* an organization-wide finding against a target (``stale_pipeline``, ``close_date_coverage``):
  only the rows that miss it — the idle deals, not every open deal;
* ``process_constraint``: the entries into the constraint stage; ``revenue_concentration``: the
  top customer's won deals; ``import_quality``: the warning rows of the latest import;
* a check that judged nothing (ok, not enough data, not available), an intervention effect, a
  monitored regression or the coverage list: no records, and :class:`NoRecords` says why.

The same reading serves a chart bar drawn from a sample (:func:`sample_records`: the sample's
rows of the bar's group). Everything runs in the engine: :func:`records` returns an Ibis table,
and Python receives only the page a caller asks for (:func:`page`) or the rows it exports.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import ibis
import ibis.expr.types as ir

from eigyo.analysis.common import in_period
from eigyo.base.currency import DEFAULT_CURRENCY
from eigyo.base.formatting import format_value
from eigyo.base.periods import Period
from eigyo.base.vocabulary import DASH, UNKNOWN
from eigyo.diagnose.checks import Check, load_checks
from eigyo.diagnose.context import SAMPLES
from eigyo.diagnose.model import Finding
from eigyo.diagnose.selection import KEYS, Selection, accept
from eigyo.errors import EigyoError
from eigyo.i18n import catalogue, t
from eigyo.workspace import Workspace

#: Kinds whose population is of its own kind (:func:`population`), not a compared group.
_SPECIAL = frozenset({"quality", "concentration", "constraint"})
#: ``evidence.status`` of findings that judged nothing: they have no population to show.
NOT_JUDGED = frozenset(
    {"not_available", "insufficient", "no_snapshot", "partial_baseline", "not_checked",
     "all_checked", "ok", "ok_target"}
)  # fmt: skip
#: Kinds whose findings are about something other than records (why, in ``records.none``).
NO_RECORD_KINDS = frozenset({"did", "regression", "coverage"})
#: Sample columns that are machinery, not facts a person reads.
_HIDDEN = frozenset({"stage_order", "current"})

Samples = Callable[[str], ir.Table]


class NoRecords(EigyoError):
    """A finding with no records to show; the message (a catalogue key) says why."""


@dataclass(frozen=True)
class Population:
    """The rows a finding rests on: ``table`` holds one row per sample record (a deal, a stage
    entry, a lead, a rep or an import warning) and ``key`` the column naming the record."""

    table: ir.Table
    key: str
    #: The sample's 0/1 or numeric column the check tested (ordering: worst first), if any.
    value: str | None = None
    #: Whether a higher ``value`` is the bad direction (stale = 1, idle days) or the good one.
    bad_high: bool = True


def check_of(finding: Finding) -> Check:
    """The declaration the finding came from (a finding always names a declared check)."""
    for c in load_checks():
        if c.id == finding.check:
            return c
    raise NoRecords(key="records.none.unknown_check", check=finding.check)


def _default_samples(ws: Workspace, period: Period) -> Samples:
    cache: dict[str, ir.Table] = {}

    def sample(name: str) -> ir.Table:
        if name not in cache:
            cache[name] = SAMPLES[name](ws, period)
        return cache[name]

    return sample


def _eq(t: ir.Table, column: str, value: object) -> ir.BooleanValue:
    return t[column].cast("string") == str(value)


def _members(finding: Finding, columns: list[str], check: Check) -> dict[str, list[str]]:
    """A rolled-up finding's member keys, column → values (only the columns the sample has)."""
    members = finding.evidence.get("members")
    out: dict[str, list[str]] = {}
    if not isinstance(members, list):
        return out
    for m in members:
        if not isinstance(m, dict):
            continue
        for k, v in m.items():
            if k in columns and (k in check.group or k in KEYS) and v is not None:
                out.setdefault(k, []).append(str(v))
    return out


def _selection(check: Check, finding: Finding, columns: Sequence[str]) -> Selection:
    """A comparing check's group as data: subject filter, scope, then the group's other keys
    from the evidence — or, rolled up, its members; an organization-wide target finding keeps
    the rows that miss the target only (:mod:`eigyo.diagnose.selection`)."""
    cols = set(columns)
    conditions: list[tuple[str, Sequence[Any]]] = []
    if check.subject is not None:
        conditions.append((check.subject.column, [check.subject.equals]))
    conditions += [(k, [v]) for k, v in finding.scope.items() if k in cols]
    members = _members(finding, list(columns), check)
    if members:
        conditions += list(members.items())
    else:
        for k in check.group:
            if k not in finding.scope and k in finding.evidence and k in cols:
                conditions.append((k, [finding.evidence[k]]))
    # what the check counted (not null): a deal still waiting is not tested
    value = check.value if check.value in cols else None
    bad_high = check.better == "lower"
    target = None
    if check.kind == "proportion" and not finding.scope and not members and check.value:
        # The whole organization against a target: the records are the ones that miss it.
        target = (check.value, 1 if bad_high else 0)
    key = next(k for k in KEYS if k in cols)
    return Selection(check.sample, key, accept(conditions), value, target, value, bad_high)


def _compared_kind(check: Check, finding: Finding) -> bool:
    """Whether ``finding``'s population is a comparing check's group (:func:`_selection`)."""
    special = check.kind in NO_RECORD_KINDS or check.kind in _SPECIAL
    return not special and finding.evidence.get("status") not in NOT_JUDGED and finding.is_alarm


def selection(finding: Finding, samples: Samples) -> Selection | None:
    """``finding``'s population as data when it is a comparing check's group, else None (no
    records, or a population of its own kind: :func:`population` reads those)."""
    check = check_of(finding)
    if not _compared_kind(check, finding):
        return None
    return _selection(check, finding, samples(check.sample).columns)


def population(
    ws: Workspace, period: Period, finding: Finding, samples: Samples | None = None
) -> Population:
    """The rows behind ``finding`` (an Ibis table), or :class:`NoRecords` saying why there are
    none. ``samples`` reuses samples already built (a diagnosis's :class:`Context`)."""
    check = check_of(finding)
    sample = samples or _default_samples(ws, period)
    status = finding.evidence.get("status")
    if check.kind in NO_RECORD_KINDS:
        raise NoRecords(key=f"records.none.{check.kind}")
    if check.kind == "quality":
        return _warnings(ws, finding)
    if check.kind == "concentration":
        if not finding.is_alarm:
            raise NoRecords(key="records.none.not_judged")
        return _account_deals(ws, period, str(finding.evidence.get("account_id", "")))
    if check.kind == "constraint":
        stage = finding.scope.get("stage") or finding.evidence.get("constraint_stage")
        if stage is None:
            raise NoRecords(key="records.none.not_judged")
        t = sample(check.sample)
        t = t.filter(_eq(t, "stage", stage) & t.advanced.notnull())
        return Population(t, "opportunity_id", "advanced", bad_high=False)
    if status in NOT_JUDGED or not finding.is_alarm:
        raise NoRecords(key="records.none.not_judged")
    t = sample(check.sample)
    sel = _selection(check, finding, t.columns)
    return Population(sel.apply(t), sel.key, sel.value, sel.bad_high)


def _account_deals(ws: Workspace, period: Period, account_id: str) -> Population:
    """The won deals of the period of one customer (as ``bookings_by_account`` counts them: a
    won deal without an account is its own customer)."""
    o = ws.table("opportunities")
    o = o.filter((o.status == "won") & o.closed_at.notnull() & in_period(o.closed_at, period))
    o = o.filter(o.amount.notnull())
    acct = o.account_id.fill_null(ibis.literal(UNKNOWN + ":") + o.opportunity_id)
    o = o.filter(acct == account_id)
    t = o.select("opportunity_id", "amount", rep_id=o.owner_rep_id)
    return Population(t, "opportunity_id", "amount", bad_high=True)


def _warnings(ws: Workspace, finding: Finding) -> Population:
    """The import warnings of one table, column and code, from the latest import of the table
    (what ``import_quality`` counted); a view without the import records has none to show."""
    try:
        w = ws.table("_warnings")
        imports = ws.table("_imports")
    except Exception as e:  # a scoped view refuses the bookkeeping; a workspace may lack it
        raise NoRecords(key="records.none.quality") from e
    ev = finding.evidence
    latest = imports.group_by(_tab=imports["table"]).agg(_imp=imports.import_id.max())
    w = w.join(latest, (w["table"] == latest._tab) & (w.import_id == latest._imp))
    w = w.filter((w["table"] == str(ev.get("table"))) & (w["column"] == str(ev.get("column"))))
    if ev.get("code") is not None:
        w = w.filter(w.code == str(ev["code"]))
    t = w.select("row", "table", "column", "value", "code", "message", "file", "import_id")
    return Population(t, "row", None)


# --------------------------------------------------------------------- what a person reads


def _current_stage(ws: Workspace, period: Period) -> ir.Table:
    """Each opportunity's stage as of the period's end (its latest stage entry before it)."""
    sh = ws.table("stage_history")
    sh = sh.filter(sh.entered_at < ibis.timestamp(period.end_ts))
    return sh.group_by(_sopp=sh.opportunity_id).agg(current_stage=sh.stage.argmax(sh.entered_at))


def _names(ws: Workspace, t: ir.Table) -> ir.Table:
    """The rep's name beside ``rep_id`` (a left join: an unknown rep keeps their id)."""
    reps = ws.table("reps").select(_rid=ibis._.rep_id, rep_name=ibis._.name)
    if "rep_id" not in t.columns:
        return t
    j = t.left_join(reps, t.rep_id == reps._rid)
    return j.drop("_rid")


def _account_names(ws: Workspace, t: ir.Table, col: str) -> ir.Table:
    acc = ws.table("accounts").select(_aid=ibis._.account_id, account_name=ibis._.name)
    j = t.left_join(acc, t[col] == acc._aid)
    return j.drop("_aid")


def _deals(ws: Workspace, period: Period, pop: Population) -> ir.Table:
    t = pop.table
    o = ws.table("opportunities")
    keep = {
        "account_id": o.account_id,
        "product": o.product,
        "status": o.status,
        "type": o.type,
        "amount": o.amount,
        "created_at": o.created_at,
        "expected_close_date": o.expected_close_date,
        "closed_at": o.closed_at,
        "lost_reason": o.lost_reason,
        "owner_rep_id": o.owner_rep_id,
    }
    extra = {f"_o_{k}": v for k, v in keep.items() if k not in t.columns or k == "account_id"}
    o = o.select(_oid=o.opportunity_id, **extra)
    j = t.left_join(o, t.opportunity_id == o._oid).drop("_oid")
    j = j.rename(
        {k.removeprefix("_o_"): k for k in extra if k.removeprefix("_o_") not in j.columns}
    )
    if "rep_id" not in j.columns and "owner_rep_id" in j.columns:
        j = j.rename(rep_id="owner_rep_id")
    j = _account_names(ws, j, "account_id")
    if "stage" not in j.columns:
        cs = _current_stage(ws, period)
        j = j.left_join(cs, j.opportunity_id == cs._sopp).drop("_sopp")
    return _names(ws, j)


def _leads(ws: Workspace, pop: Population) -> ir.Table:
    t = pop.table
    lead = ws.table("leads")
    keep = ("created_at", "source", "campaign", "title", "status", "account_id", "mql_at",
            "first_response_at", "opportunity_id")  # fmt: skip
    extra = {f"_l_{k}": lead[k] for k in keep if k not in t.columns or k == "account_id"}
    lead = lead.select(_lid=lead.lead_id, **extra)
    j = t.left_join(lead, t.lead_id == lead._lid).drop("_lid")
    j = j.rename(
        {k.removeprefix("_l_"): k for k in extra if k.removeprefix("_l_") not in j.columns}
    )
    return _names(ws, _account_names(ws, j, "account_id"))


def _reps(ws: Workspace, pop: Population) -> ir.Table:
    t = pop.table
    reps = ws.table("reps")
    extra = {f"_r_{k}": reps[k] for k in ("team", "role") if k not in t.columns}
    reps = reps.select(_rrid=reps.rep_id, **extra)
    j = t.left_join(reps, t.rep_id == reps._rrid).drop("_rrid")
    j = j.rename({k.removeprefix("_r_"): k for k in extra})
    return _names(ws, j)


#: The order a person reads a record's columns in: who and what first, then money and dates,
#: then what the check measured. Columns not listed follow in the sample's order.
ORDER: tuple[str, ...] = (
    "opportunity_id", "lead_id", "account_name", "product", "title", "rep_name", "rep_id",
    "team", "role", "source", "campaign", "type", "stage", "current_stage", "status", "amount",
    "created_at", "mql_at", "first_response_at", "expected_close_date", "closed_at",
    "idle_days", "dwell_days", "cycle_days", "days_to_meeting", "response_minutes",
    "row", "table", "column", "value", "code", "message", "file",
)  # fmt: skip
#: Columns the lists leave out: joins' keys shown by name, and machinery.
_DROP = frozenset({"account_id", "owner_rep_id", "import_id"}) | _HIDDEN


def records(
    ws: Workspace, period: Period, finding: Finding, samples: Samples | None = None
) -> ir.Table:
    """The finding's records with the columns a person reads (names, amount, stage, dates,
    days idle and the value the check tested), worst first: the deals that make the gap head
    the list. Raises :class:`NoRecords` (with the reason) when the finding has none."""
    t, order = unordered(ws, period, finding, samples)
    return t.order_by(order)


def unordered(
    ws: Workspace, period: Period, finding: Finding, samples: Samples | None = None
) -> tuple[ir.Table, list[Any]]:
    """:func:`records` before its ordering, and the ordering (worst first, then the largest
    amount, then the record id): :func:`page_counted` adds the total count before ordering."""
    return readable(ws, period, population(ws, period, finding, samples))


def sample_records(
    ws: Workspace, period: Period, sample: str, where: dict[str, object]
) -> tuple[ir.Table, list[Any]]:
    """The rows of one diagnosis sample whose columns equal ``where`` — a chart bar's group,
    e.g. one closer's hand-offs (``handoffs``, ``rep_id``) — made readable as a finding's records
    are, with their ordering. The charts draw these samples (``chart_data``), so a bar's records
    are the rows it was computed from."""
    t = SAMPLES[sample](ws, period)
    for column, value in where.items():
        t = t.filter(_eq(t, column, value))
    key = next(k for k in KEYS if k in t.columns)
    return readable(ws, period, Population(t, key))


def readable(ws: Workspace, period: Period, pop: Population) -> tuple[ir.Table, list[Any]]:
    """A population with the columns a person reads (names, stage, amounts, dates) in
    :data:`ORDER`, and its ordering: worst first, then the largest amount, then the id."""
    if pop.key == "opportunity_id":
        t = _deals(ws, period, pop)
    elif pop.key == "lead_id":
        t = _leads(ws, pop)
    elif pop.key == "rep_id":
        t = _reps(ws, pop)
    else:
        t = pop.table
    cols = [pop.key, *(c for c in ORDER if c in t.columns and c != pop.key)]
    cols += [c for c in t.columns if c not in cols and c not in _DROP]
    t = t.select(*cols)
    order: list[Any] = []
    if pop.value is not None and pop.value in t.columns:
        order.append(ibis.desc(pop.value) if pop.bad_high else ibis.asc(pop.value))
    if "amount" in t.columns and pop.value != "amount":
        order.append(ibis.desc("amount"))
    order.append(pop.key)
    return t, order


#: Columns holding 0/1 facts, read as yes / no.
FLAGS = frozenset({"won", "closed", "stale", "missing_close_date", "slipped", "advanced",
                   "trained", "within_sla", "untouched", "opportunity"})  # fmt: skip
#: The unit each numeric column is read in (eigyo.base.formatting.format_value).
UNITS: dict[str, str] = {
    "amount": "yen", "idle_days": "days", "dwell_days": "days", "cycle_days": "days",
    "days_to_meeting": "days", "response_minutes": "minutes", "hours": "hours", "admin": "hours",
    "selling": "hours", "hours_per_win": "hours", "admin_share": "ratio",
}  # fmt: skip


#: Columns holding codes, and the catalogue section naming each code in the reader's language.
CODE_LABELS: dict[str, str] = {
    "type": "report.values.type",
    "role": "report.role",
    "status": "records.value.status",
}


def label(column: str, lang: str) -> str:
    """A column's name as a person reads it (the column's own name when it has no label)."""
    key = f"records.col.{column}"
    return t(key, lang) if key in catalogue() else column.replace("_", " ")


def cell(column: str, value: object, lang: str, currency: str = DEFAULT_CURRENCY) -> str:
    """One value as a person reads it: amounts with the currency, days and hours with their
    unit, 0/1 facts as yes / no, timestamps to the minute, a dash for nothing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return DASH
    if column in FLAGS and isinstance(value, int | float):
        return t("report.common.yes" if value else "report.common.no", lang)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return format_value(float(value), UNITS.get(column, "count"), lang, currency)
    code = CODE_LABELS.get(column)  # a code the catalogue names: 新規, 失注, クローザー …
    if code is not None and f"{code}.{value}" in catalogue():
        return t(f"{code}.{value}", lang)
    return str(value)


def count(t: ir.Table) -> int:
    """How many records a records table holds (one query)."""
    return int(t.count().to_pyarrow().as_py())


def page(t: ir.Table, limit: int, offset: int = 0) -> list[dict[str, Any]]:
    """One page of records as dicts: the only rows Python receives."""
    return list(t.limit(limit, offset=offset).to_pyarrow().to_pylist())


def page_counted(
    t: ir.Table, order: list[Any], limit: int, offset: int = 0
) -> tuple[list[dict[str, Any]], int]:
    """One page of an unordered records table and the number of records, in one query (the
    count is a window over every record, taken before the page is cut); a page past the end
    asks the count alone."""
    key = str(t.columns[0])
    counted = t.mutate(__total=t[key].count().over(ibis.window()))
    rows = page(counted.order_by(order), limit, offset)
    if not rows:
        return [], count(t)
    total = int(rows[0]["__total"])
    return [{k: v for k, v in r.items() if k != "__total"} for r in rows], total
