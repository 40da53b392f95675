"""The forecast call: each open deal's category, the roll-up by rep and team, and its accuracy.

What the Monday forecast call needs, one definition for the page and its tests. For a period P
seen at the end of day D (the data's last day, never today):

* **won** — deals won with ``closed_at`` from P's first day through D;
* each deal **open at the end of D** whose expected close date *as it stood on D* falls in P
  (:func:`eigyo.analysis.process.pipeline.snapshot`: amount, close date and stage rebuilt from
  ``opportunity_changes`` and ``stage_history``) gets one **category**:

  1. the CRM's ``forecast_category`` where the import has one (``closed`` on a deal that is
     still open counts as ``commit``: the CRM already counts it as closed, eigyo not yet);
  2. otherwise it is derived from the deal's stage on D and that stage's historical win rate —
     the share won among the organization's deals closed by D that entered the stage: at least
     :data:`COMMIT_RATE` → ``commit``, at least :data:`BEST_CASE_RATE` → ``best_case``, else
     ``pipeline``. A stage with fewer than :data:`MIN_STAGE_DEALS` closed deals, or a deal
     without a stage, is ``pipeline`` (too little history to call it).

  Why the stage's rate and not the win-probability model (:mod:`.winprob`): the model needs
  training snapshots per month (seconds per call) and answers per deal with a number a manager
  cannot check in a meeting; a stage's rate is one sentence a rep can argue with. Why the
  organization's rates: a deal must have the same category in the rep's, the manager's and the
  admin's view, so the rates come from ``rates_ws`` (the whole organization: only per-stage
  aggregates, never a deal, leave a person's scope);
* the **landings**: won + commit (the call), won + commit + best case (the upside).

Accuracy by month (:func:`accuracy_by_month`): for each complete month M, the call as it stood at
the end of the day before M began — the same rule run on that day's snapshot with that day's
stage rates, so nothing after it leaks in — against what was won in M. What cannot be rebuilt:
the CRM's forecast category as it stood then (its history is not imported, so past calls always
use the stage rule), the owner then (deals count under today's owner and team), and deals deleted
from the CRM since. Deals created and won within M are in the actual but never in the call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir

from eigyo.analysis.common import in_period
from eigyo.analysis.process.pipeline import NO_AMOUNTS, end_of, known_sum, snapshot
from eigyo.base.periods import Period, months_until
from eigyo.base.vocabulary import NO_TEAM
from eigyo.workspace import Workspace

#: The categories a deal can have, in the order a call adds them up.
CATEGORIES: tuple[str, ...] = ("commit", "best_case", "pipeline", "omitted")
#: A stage whose deals are won at least this often makes its open deals ``commit``.
COMMIT_RATE = 0.70
#: ... at least this often: ``best_case``.
BEST_CASE_RATE = 0.50
#: Fewer closed deals through a stage than this and its rate says nothing: ``pipeline``.
MIN_STAGE_DEALS = 20
#: Complete months the accuracy table goes back.
ACCURACY_MONTHS = 12
#: The amounts of one roll-up line.
AMOUNTS: tuple[str, ...] = ("won", *CATEGORIES)


def stage_win_rates(ws: Workspace, day: date) -> ir.Table:
    """Per stage: ``closed`` deals (won or lost by the end of ``day``) that entered it by then,
    ``won`` of them and ``rate`` = won / closed."""
    until = ibis.timestamp(end_of(day))
    o = ws.table("opportunities")
    c = o.filter(o.status.isin(["won", "lost"]) & (o.closed_at < until))
    c = c.select(_opp=c.opportunity_id, _won=(c.status == "won").cast("int64"))
    sh = ws.table("stage_history")
    sh = sh.filter(sh.entered_at < until).select("opportunity_id", "stage").distinct()
    j = sh.inner_join(c, sh.opportunity_id == c._opp)
    g = j.group_by(_rstage=j.stage).agg(closed=j.count(), won=j._won.sum())
    return g.mutate(rate=g.won.cast("float64") / g.closed)


def _derived(rate: ir.FloatingValue, closed: ir.IntegerValue) -> ir.StringValue:
    enough = closed.fill_null(0) >= MIN_STAGE_DEALS
    return ibis.cases(
        (enough & (rate >= COMMIT_RATE), "commit"),
        (enough & (rate >= BEST_CASE_RATE), "best_case"),
        else_="pipeline",
    )


def _open_categorized(
    ws: Workspace, period: Period, day: date, rates_ws: Workspace | None, crm: bool
) -> ir.Table:
    """Every deal open at the end of ``day`` with its category, whether it is in ``period``'s
    call (``in_call``: its close date as of ``day`` falls in the period) and whether any close
    date was known then (``dated``): the counts that say whether a call can be stated at all."""
    s = snapshot(ws, day, window=period)
    s = s.filter(s.is_open)
    rates = stage_win_rates(rates_ws or ws, day)
    j = s.left_join(rates, s.stage == rates._rstage)
    derived = _derived(j.rate, j.closed)
    o = ws.table("opportunities")
    if crm and "forecast_category" in o.columns:
        cat = o.select(_copp=o.opportunity_id, _crm=o.forecast_category)
        j = j.left_join(cat, j.opportunity_id == cat._copp)
        imported = ibis.cases((j._crm == "closed", "commit"), else_=j._crm)
        category = ibis.cases((j._crm.notnull() & (j._crm != ""), imported), else_=derived)
        source = ibis.cases((j._crm.notnull() & (j._crm != ""), "crm"), else_="stage")
    else:
        category, source = derived, ibis.literal("stage")
    return j.select(
        "opportunity_id",
        "rep_id",
        team=j.team.fill_null(NO_TEAM),
        stage=j.stage,
        amount=j.amount,
        expected_close_date=j.expected_close_date,
        stage_rate=j.rate,
        category=category,
        source=source,
        in_call=j.in_pipeline,
        dated=j.expected_close_date.notnull(),
    )


def categorized(
    ws: Workspace, period: Period, day: date, rates_ws: Workspace | None = None, crm: bool = True
) -> ir.Table:
    """The open deals of ``period`` at the end of ``day`` with their ``category`` and where it
    came from (``source``: ``crm`` or ``stage``). ``crm=False`` ignores the imported category
    (the past: its history is unknown). Columns: opportunity_id, rep_id, team, stage, amount,
    expected_close_date, stage_rate, category, source."""
    c = _open_categorized(ws, period, day, rates_ws, crm)
    return c.filter(c.in_call).drop("in_call", "dated")


def open_deals(
    ws: Workspace, period: Period, day: date, rates_ws: Workspace | None = None, limit: int = 200
) -> tuple[int, list[dict[str, Any]]]:
    """The deals behind the categories — commit first, then best case, pipeline, omitted, each
    by amount — with the rep's name: ``(how many, the first limit)``. What the forecast call
    walks through deal by deal."""
    c = categorized(ws, period, day, rates_ws)
    reps = ws.table("reps").select(_rid=ibis._.rep_id, rep_name=ibis._.name)
    j = c.left_join(reps, c.rep_id == reps._rid).drop("_rid")
    order = ibis.cases(*((j.category == k, i) for i, k in enumerate(CATEGORIES)), else_=9)
    j = j.order_by([order, ibis.desc(j.amount), j.opportunity_id])
    total = int(c.count().to_pyarrow().as_py())
    return total, j.limit(limit).to_pyarrow().to_pylist()


def _won(ws: Workspace, period: Period, day: date) -> ir.Table:
    """Won from the period's first day through the end of ``day``, per owner."""
    o = ws.table("opportunities")
    upto = Period(period.start, min(period.end, day), period.label)
    o = o.filter((o.status == "won") & in_period(o.closed_at, upto))
    return o.group_by(rep_id=o.owner_rep_id).agg(
        won=o.amount.sum(), won_deals=o.count(), won_without=o.amount.isnull().cast("int64").sum()
    )


@dataclass
class Line:
    """One roll-up line (a rep, a team or the whole view): yen per category and deal counts.

    ``amounts`` are the engine's sums of the known amounts; read them through :meth:`value`,
    :attr:`call` and :attr:`upside`, which say "not available" (None) where the line has open
    deals and none of them has an expected close date — nothing can be put in any category then,
    and a ¥0 commit would read as a fact — and where every deal a sum adds up lacks an amount
    (:meth:`reason` says which). ``without`` counts each key's deals without an amount (in
    ``deals``, not in ``amounts``); ``open_deals`` the line's deals open at the end of the day,
    ``undated`` those of them without an expected close date (in no category)."""

    key: str
    name: str
    team: str
    amounts: dict[str, float] = field(default_factory=lambda: dict.fromkeys(AMOUNTS, 0.0))
    deals: dict[str, int] = field(default_factory=lambda: dict.fromkeys(AMOUNTS, 0))
    without: dict[str, int] = field(default_factory=lambda: dict.fromkeys(AMOUNTS, 0))
    open_deals: int = 0
    undated: int = 0

    @property
    def available(self) -> bool:
        """Whether the categories can be stated: no open deal, or one with a close date."""
        return self.open_deals == 0 or self.undated < self.open_deals

    def _keys(self, key: str) -> tuple[str, ...]:
        return {"call": ("won", "commit"), "upside": ("won", "commit", "best_case")}.get(
            key, (key,)
        )

    def without_amount(self, key: str) -> int:
        """Deals of ``key`` (a category, ``won``, ``call`` or ``upside``) without an amount."""
        return sum(self.without[k] for k in self._keys(key))

    def reason(self, key: str) -> str | None:
        """Why ``key``'s yen is not available: ``no_close_dates`` (a category of a line whose
        open deals all lack a close date), ``no_amounts`` (every deal it adds up lacks an
        amount), or None (it is)."""
        if key != "won" and not self.available:
            return "no_close_dates"
        keys = self._keys(key)
        n = sum(self.deals[k] for k in keys)
        return NO_AMOUNTS if known_sum(n, self.without_amount(key), 0.0) is None else None

    def value(self, key: str) -> float | None:
        """Won, or a category's yen (over the known amounts) — None (not available) where
        :meth:`reason` says why."""
        return None if self.reason(key) else self.amounts[key]

    @property
    def counted_call(self) -> float:
        """Won + the commit of the deals with a close date: what a line adds to the line above
        it (an undated deal adds nothing to any category), and what adjustments replace."""
        return self.amounts["won"] + self.amounts["commit"]

    @property
    def call(self) -> float | None:
        """Won + commit: what this line commits to land (None: not available)."""
        return None if self.reason("call") else self.counted_call

    @property
    def upside(self) -> float | None:
        """Won + commit + best case (None: not available)."""
        return None if self.reason("upside") else self.counted_call + self.amounts["best_case"]

    def add(self, other: Line) -> None:
        for k in AMOUNTS:
            self.amounts[k] += other.amounts[k]
            self.deals[k] += other.deals[k]
            self.without[k] += other.without[k]
        self.open_deals += other.open_deals
        self.undated += other.undated


@dataclass
class Rollup:
    """The forecast of one period as seen at the end of ``as_of``: reps, teams, total."""

    period: Period
    as_of: date
    reps: list[Line]
    teams: list[Line]
    total: Line
    crm_deals: int  # open deals whose category came from the CRM
    stage_deals: int  # ... derived from the stage
    stage_rates: list[dict[str, Any]]


def forecast_as_of(ws: Workspace, period: Period, data_day: date) -> date:
    """The day a period is seen from: the data's last day, or the period's end when earlier."""
    return min(data_day, period.end)


def rollup(
    ws: Workspace,
    period: Period,
    as_of: date,
    rates_ws: Workspace | None = None,
    include: tuple[str, ...] = (),
) -> Rollup:
    """Won and each category per rep, summed per team and for the whole view (engine queries
    back to Python, a few rows per rep: category, in the call or not, dated or not).
    ``include``: reps that get a line even with nothing in the period (a rep whose call a
    manager adjusted). A rep with open deals only elsewhere in time gets a line too: its open
    and undated counts say whether its categories can be stated."""
    c = _open_categorized(ws, period, as_of, rates_ws, crm=True)
    g = c.group_by("rep_id", "category", "source", "in_call", "dated")
    without = c.amount.isnull().cast("int64").sum()
    cats = g.agg(amount=c.amount.sum(), deals=c.count(), without=without).to_pyarrow().to_pylist()
    won = _won(ws, period, as_of).to_pyarrow().to_pylist()
    reps = ws.table("reps")
    names = {
        r["rep_id"]: (r["name"] or r["rep_id"], r["team"] or NO_TEAM)
        for r in reps.select("rep_id", "name", "team").to_pyarrow().to_pylist()
    }
    lines: dict[str, Line] = {}

    def line(rep: str | None) -> Line:
        key = rep or NO_TEAM
        if key not in lines:
            name, team = names.get(rep or "", (key, NO_TEAM))
            lines[key] = Line(key, str(name), str(team))
        return lines[key]

    crm = stage = 0
    for r in cats:
        ln, n = line(r["rep_id"]), int(r["deals"])
        ln.open_deals += n
        ln.undated += 0 if r["dated"] else n
        if not r["in_call"]:
            continue
        ln.amounts[r["category"]] += float(r["amount"] or 0.0)
        ln.deals[r["category"]] += n
        ln.without[r["category"]] += int(r["without"] or 0)
        crm += n if r["source"] == "crm" else 0
        stage += n if r["source"] == "stage" else 0
    for r in won:
        ln = line(r["rep_id"])
        ln.amounts["won"] += float(r["won"] or 0.0)
        ln.deals["won"] += int(r["won_deals"])
        ln.without["won"] += int(r["won_without"] or 0)
    for rep in include:
        if rep in names:  # a rep of this view only
            line(rep)
    rep_lines = sorted(lines.values(), key=lambda x: (x.team, -x.counted_call, x.key))
    teams: dict[str, Line] = {}
    total = Line("", "", "")
    for ln in rep_lines:
        teams.setdefault(ln.team, Line(ln.team, ln.team, ln.team)).add(ln)
        total.add(ln)
    rates = stage_win_rates(rates_ws or ws, as_of).order_by("_rstage").to_pyarrow().to_pylist()
    return Rollup(period, as_of, rep_lines, sorted(teams.values(), key=lambda x: x.key), total,
                  crm, stage, [{"stage": r["_rstage"], "closed": r["closed"], "rate": r["rate"],
                                "category": _category_of(r["rate"], r["closed"])}
                               for r in rates])  # fmt: skip


def _category_of(rate: float | None, closed: int) -> str:
    """The stage rule of :func:`_derived`, in Python, for the page's table of stage rates."""
    if rate is None or closed < MIN_STAGE_DEALS:
        return "pipeline"
    return (
        "commit" if rate >= COMMIT_RATE else "best_case" if rate >= BEST_CASE_RATE else "pipeline"
    )


def accuracy_by_month(
    ws: Workspace, data_day: date, rates_ws: Workspace | None = None, months: int = ACCURACY_MONTHS
) -> list[dict[str, Any]]:
    """The call at the start of each of the last ``months`` complete months against what was
    won in it: month, call (commit), upside (commit + best case), pipeline, actual, and the
    errors (call − actual) / actual — None where nothing was won (no error can be stated).

    ``open`` and ``dated``: the deals open at the end of the day before the month, and those of
    them with an expected close date as it stood then. Where deals were open and none had a
    close date the call cannot be rebuilt: call, upside, pipeline and the errors are None and
    ``reason`` is ``no_close_dates`` (a ¥0 call would read as a −100% miss). The sums are over
    the known amounts; ``deals_without_amount`` counts the call's deals (any category) without
    one, and where every commit deal lacks an amount the call and its error are None with
    ``reason`` ``no_amounts`` (so are the upside and pipeline where all of theirs do). One engine
    query per month's snapshot and one for what was won."""
    o = ws.table("opportunities")
    span = o.aggregate(lo=o.created_at.min()).to_pyarrow().to_pylist()[0]["lo"]
    if span is None:
        return []
    first = span.date() if hasattr(span, "date") else span
    # complete months only (one in progress would look like a miss), each with a day before it
    chosen = [m for m in months_until(data_day, months) if m.start > first]
    if not chosen:
        return []
    calls: dict[str, dict[str, float]] = {m.label: dict.fromkeys(CATEGORIES, 0.0) for m in chosen}
    counts: dict[str, dict[str, int]] = {m.label: {"open": 0, "dated": 0} for m in chosen}
    # per month and category: deals in the call, and of them without an amount
    held = {m.label: {k: [0, 0] for k in CATEGORIES} for m in chosen}
    for m in chosen:  # one query per month: 3 s for 12 months of the demo, 7 s as one UNION
        c = _open_categorized(ws, m, m.start - timedelta(days=1), rates_ws, crm=False)
        g = c.group_by("category", "in_call", "dated").agg(
            amount=c.amount.sum(), n=c.count(), without=c.amount.isnull().cast("int64").sum()
        )
        for r in g.to_pyarrow().to_pylist():
            counts[m.label]["open"] += int(r["n"])
            counts[m.label]["dated"] += int(r["n"]) if r["dated"] else 0
            if r["in_call"]:
                calls[m.label][r["category"]] += float(r["amount"] or 0.0)
                held[m.label][r["category"]][0] += int(r["n"])
                held[m.label][r["category"]][1] += int(r["without"] or 0)
    ow = o.filter(
        (o.status == "won") & in_period(o.closed_at, Period(chosen[0].start, chosen[-1].end, ""))
    )
    g = ow.group_by(month=ow.closed_at.truncate("M").date()).agg(amount=ow.amount.sum())
    actual = {r["month"]: float(r["amount"] or 0.0) for r in g.to_pyarrow().to_pylist()}
    rows = []
    for m in chosen:
        c, a, n = calls[m.label], actual.get(m.start, 0.0), counts[m.label]
        h = held[m.label]
        row = {"month": m.label, "start": m.start, "actual": a, **n, "reason": None,
               "deals_without_amount": sum(w for _, w in h.values())}  # fmt: skip
        if n["open"] and not n["dated"]:
            rows.append({**row, "call": None, "upside": None, "pipeline": None, "error": None,
                         "upside_error": None, "reason": "no_close_dates"})  # fmt: skip
            continue
        call = _known(h, ("commit",), c["commit"])
        upside = _known(h, ("commit", "best_case"), c["commit"] + c["best_case"])
        rows.append({
            **row, "call": call, "upside": upside,
            "pipeline": _known(h, ("pipeline",), c["pipeline"]),
            "error": (call - a) / a if a and call is not None else None,
            "upside_error": (upside - a) / a if a and upside is not None else None,
            "reason": NO_AMOUNTS if call is None else None,
        })  # fmt: skip
    return rows


def _known(held: dict[str, list[int]], keys: tuple[str, ...], total: float) -> float | None:
    """A month's sum over ``keys``: None where every deal in them lacks an amount."""
    return known_sum(sum(held[k][0] for k in keys), sum(held[k][1] for k in keys), total)
