"""Stage entries and stage exits: the ordered stage history every process analysis starts from.

:func:`stage_entries` puts each opportunity's stage entries in one order — by ``entered_at``, ties
broken by the configured stage order (stages ``eigyo.toml`` does not list come after), then by
stage name, so the same data always gives the same sequence — and attaches to every entry its
position, the previous and the next entry. The process map, the funnel, time in stage, rework and
the diagnosis's :func:`stage_exits` all read that one table, so "the next stage" means the same
thing everywhere.

Stage exits: what happened after an opportunity entered each stage. The next entry tells whether
the deal ``advanced`` (to any non-lost stage) or ``dropped`` (to a lost stage, or the opportunity
was lost with no further entry). Entries still waiting — open deals — are right-censored: they
count for neither, so young cohorts do not look like leaks.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import ibis
import ibis.expr.operations as ops
import ibis.expr.types as ir

from eigyo.analysis.common import days_between, in_period, with_rep
from eigyo.base.periods import Period
from eigyo.workspace import Workspace

#: Sort key of stages that ``eigyo.toml`` does not list: after every configured stage.
UNLISTED_ORDER = 10_000
TERMINAL_KINDS = ("won", "lost")
#: Up to this many stage names, :meth:`StageCatalog.ranked` names the rank with a CASE
#: expression; above, it joins the catalogue table (a CASE compares each row once per name).
CASE_RANKS = 64


def funnel_stages(ws: Workspace) -> list[str]:
    """The configured stages a deal advances through, in order: every stage but the lost ones
    (a loss is not a step). A stage's funnel position is its index here; the funnel's steps and
    rework's backward / skip classes both read it, so they can never number stages differently.
    (The configured order of any stage, lost included, is ``ws.settings.stage_order``.)"""
    return [s.name for s in ws.settings.stages if s.kind != "lost"]


def funnel_positions(ws: Workspace, name: str = "_pstage", pos: str = "_pos") -> ir.Table:
    """:func:`funnel_stages` as a table to join on: stage name ``name`` → position ``pos``."""
    names = funnel_stages(ws)
    return ibis.memtable({name: names, pos: list(range(len(names)))})


@dataclass(frozen=True)
class StageInfo:
    """One stage name as the analyses rank it."""

    name: str
    kind: str | None
    order: int | None
    rank: int


class StageCatalog:
    """Every stage name in the settings or the history, as Python rows and as one engine table.

    Kinds of unlisted names come from the known synonyms (``Closed Won`` → won); their order is
    null. ``rank`` numbers the names by (configured order, unlisted last; then name): the
    tie-break of :func:`stage_entries` as one integer, so the engine sorts and groups on a small
    number instead of comparing strings (a third of the window's time on a 262k-event log), and
    summaries grouped by rank get their names back from :attr:`by_rank` without another query.
    """

    def __init__(self, infos: list[StageInfo]) -> None:
        self.by_rank = {i.rank: i for i in infos}

    @cached_property
    def table(self) -> ir.Table:
        """Columns _stage, _kind, _order, _rank: joined to stage history by name.

        Made on first use: an in-memory table goes through pandas, whose import alone costs a
        command such as ``eigyo process`` (which ranks by :meth:`ranked`) a third of a second.
        """
        infos = list(self.by_rank.values())
        return ibis.memtable(
            {
                "_stage": [i.name for i in infos],
                "_kind": [i.kind for i in infos],
                "_order": [i.order for i in infos],
                "_rank": [i.rank for i in infos],
            },
            schema={"_stage": "string", "_kind": "string", "_order": "int64", "_rank": "int64"},
        )

    def name(self, rank: int) -> str:
        """The stage name of ``rank`` (summaries grouped on ranks name their rows with it)."""
        return self.by_rank[rank].name

    def ranked(self, t: ir.Table) -> ir.Table:
        """``t`` (with a ``stage`` column) plus ``_rank``, the stage's rank.

        A CASE on the stage name when the catalogue is small (every real sales process): no
        in-memory table to register or join, on any engine. A large catalogue (an event log of
        hundreds of activities) is joined instead.
        """
        if len(self.by_rank) > CASE_RANKS:
            attrs = self.table.select("_stage", "_rank")
            return t.left_join(attrs, t.stage == attrs._stage).drop("_stage")
        branches = [(i.name, i.rank) for i in self.by_rank.values()]
        rank = t.stage.cases(*branches, else_=None) if branches else ibis.null("int64")
        return t.mutate(_rank=rank.cast("int64"))


def rows(expr: ir.Table) -> list[dict[str, Any]]:
    """A small result as Python rows (dicts by column name).

    On DuckDB the compiled query runs on the expression's own connection and its Arrow result
    is read directly: Ibis's ``to_pyarrow`` loads its pandas converter for the same rows, a
    third of a second of ``eigyo process``'s start. An expression over an in-memory table
    (which Ibis registers before it runs) and other engines go through Ibis.
    """
    backend = ibis.get_backend(expr)
    if backend.name != "duckdb" or expr.op().find(ops.InMemoryTable):
        return expr.to_pyarrow().to_pylist()  # type: ignore[no-any-return]
    con = backend.con  # type: ignore[attr-defined]
    # DuckDB draws a progress bar on standard output for a query over two seconds, which would
    # break ``--format json`` (the setting is on in the command line's process)
    con.execute("SET enable_progress_bar = false")
    got = con.sql(backend.compile(expr)).to_arrow_table()
    # the types Ibis declares (a sum is int64, not DuckDB's 128-bit integer), as to_pyarrow gives
    return got.cast(expr.schema().to_pyarrow()).to_pylist()  # type: ignore[no-any-return]


def stage_catalog(ws: Workspace) -> StageCatalog:
    """The :class:`StageCatalog` of the workspace: one query for the distinct names in history.

    One Python call per *distinct* stage name, never per row.
    """
    sh = ws.table("stage_history")
    seen = [r["stage"] for r in rows(sh.select("stage").distinct()) if r["stage"]]
    names = [s.name for s in ws.settings.stages]
    names += sorted(set(seen) - set(names))
    orders = {n: ws.settings.stage_order(n) for n in names}
    ranked = sorted(names, key=lambda n: (sort_key(orders[n]), n))
    return StageCatalog(
        [StageInfo(n, ws.settings.stage_kind(n), orders[n], r) for r, n in enumerate(ranked)]
    )


def sort_key(order: int | None) -> int:
    """A configured order as a sort key: stages without one come after every configured one."""
    return UNLISTED_ORDER if order is None else order


def stage_attrs(ws: Workspace) -> ir.Table:
    """Stage name → kind, configured order and rank (:attr:`StageCatalog.table`)."""
    return stage_catalog(ws).table


def _in_scope(ws: Workspace, period: Period | None, until: ibis.Value | None) -> ir.Table:
    """The stage-history rows of opportunities created in ``period``, entered before ``until``."""
    sh = ws.table("stage_history")
    if until is not None:
        sh = sh.filter(sh.entered_at < until)
    if period is not None:
        o = ws.table("opportunities")
        ids = o.filter(in_period(o.created_at, period)).select(_opp=o.opportunity_id)
        sh = sh.semi_join(ids, sh.opportunity_id == ids._opp)
    return sh


def _window(sh: ir.Table) -> Any:
    """The one definition of "the order of an opportunity's entries" that every function here
    shares: by ``entered_at``, then ``_rank`` (configured order, then name)."""
    return ibis.window(group_by=sh.opportunity_id, order_by=[sh.entered_at, sh._rank])


def _ordered(
    ws: Workspace,
    period: Period | None,
    until: ibis.Value | None,
    attrs: ir.Table | None,
) -> tuple[ir.Table, Any]:
    """The history rows in scope with their stage attributes, and the window that orders them."""
    sh = _in_scope(ws, period, until)
    attrs = stage_attrs(ws) if attrs is None else attrs
    sh = sh.left_join(attrs, sh.stage == attrs._stage).drop("_stage")
    return sh, _window(sh)


def stage_entries(
    ws: Workspace,
    period: Period | None = None,
    *,
    until: ibis.Value | None = None,
    attrs: ir.Table | None = None,
) -> ir.Table:
    """One row per stage entry of opportunities created in ``period`` (all rows when None).

    Columns: opportunity_id, stage, kind, stage_order (null when unlisted), stage_rank (see
    :func:`stage_attrs`), entered_at, rep_id, seq (0-based position in the opportunity),
    prev_stage, next_stage, next_kind, next_order, next_rank, next_at, dwell_days (to the next
    entry; null for the last) and is_last. With ``until`` (a timestamp), only entries before it
    count, as the history stood then. ``attrs`` reuses a :func:`stage_attrs` table already made
    (one query fewer when a caller also needs it).
    """
    sh, w = _ordered(ws, period, until, attrs)
    sh = sh.mutate(
        seq=ibis.row_number().over(w),
        prev_stage=sh.stage.lag().over(w),
        next_stage=sh.stage.lead().over(w),
        next_kind=sh._kind.lead().over(w),
        next_order=sh._order.lead().over(w),
        next_rank=sh._rank.lead().over(w),
        next_at=sh.entered_at.lead().over(w),
    )
    return sh.select(
        "opportunity_id",
        "stage",
        kind=sh._kind,
        stage_order=sh._order,
        stage_rank=sh._rank,
        entered_at=sh.entered_at,
        rep_id=sh.rep_id,
        seq=sh.seq,
        prev_stage=sh.prev_stage,
        next_stage=sh.next_stage,
        next_kind=sh.next_kind,
        next_order=sh.next_order,
        next_rank=sh.next_rank,
        next_at=sh.next_at,
        dwell_days=days_between(sh.entered_at, sh.next_at),
        is_last=sh.next_at.isnull(),
    )


def stage_walk(ws: Workspace, period: Period | None, catalog: StageCatalog) -> ir.Table:
    """The process map's lean :func:`stage_entries`: opportunity_id, stage_rank, next_rank, seq,
    entered_at and dwell_days only, the rank from :meth:`StageCatalog.ranked` (no join)."""
    sh = catalog.ranked(_in_scope(ws, period, None))
    w = _window(sh)
    return sh.select(
        "opportunity_id",
        stage_rank=sh._rank,
        next_rank=sh._rank.lead().over(w),
        seq=ibis.row_number().over(w),
        entered_at=sh.entered_at,
        dwell_days=days_between(sh.entered_at, sh.entered_at.lead().over(w)),
    )


def stage_pairs(
    ws: Workspace, period: Period | None = None, *, catalog: StageCatalog | None = None
) -> ir.Table:
    """Consecutive entry pairs only, as ranks: stage_rank, next_rank, dwell_days.

    The same pairs as :func:`stage_entries` rows with a next entry, but the window carries two
    integers and a timestamp instead of names and attributes: the directly-follows graph needs
    nothing else, and on an event log it runs in about two thirds of the time.
    """
    catalog = stage_catalog(ws) if catalog is None else catalog
    sh = catalog.ranked(_in_scope(ws, period, None))
    w = _window(sh)
    p = sh.select(
        stage_rank=sh._rank,
        next_rank=sh._rank.lead().over(w),
        dwell_days=days_between(sh.entered_at, sh.entered_at.lead().over(w)),
    )
    return p.filter(p.next_rank.notnull())


def stage_exits(ws: Workspace, period: Period) -> ir.Table:
    """Per stage entry: team, stage, advanced (0/1, null while waiting), dwell_days, won.

    Also carries rep_id, amount, status and lost_reason for the funnel's leakage in yen.
    """
    o = ws.table("opportunities")
    o = o.filter(in_period(o.created_at, period))
    e = stage_entries(ws, period)
    opp = o.select(
        _opp=o.opportunity_id,
        owner_rep_id=o.owner_rep_id,
        status=o.status,
        amount=o.amount,
        lost_reason=o.lost_reason,
    )
    j = e.join(opp, e.opportunity_id == opp._opp)
    j = j.filter(~j.kind.isin(TERMINAL_KINDS) | j.kind.isnull())
    advanced = ibis.cases(
        (j.next_at.notnull() & (j.next_kind.isnull() | (j.next_kind != "lost")), 1),
        (j.next_at.notnull() | (j.status == "lost"), 0),
        else_=ibis.null("int64"),
    )
    j = j.mutate(_advanced=advanced.cast("int64"))
    j = with_rep(ws, j)
    return j.select(
        "opportunity_id",
        "stage",
        team=j.team,
        rep_id=j.owner_rep_id,
        advanced=j._advanced,
        dwell_days=j.dwell_days,
        won=(j.status == "won").cast("int64"),
        stage_order=j.stage_order,
        amount=j.amount,
        status=j.status,
        lost_reason=j.lost_reason,
        next_stage=j.next_stage,
    )
