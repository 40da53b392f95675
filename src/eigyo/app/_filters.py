"""A manager's view filters — team, rep, product, segment — kept in the URL and applied to rows.

Why a workspace and not SQL in each page: every number a page shows comes from the library
(metrics registry, analyses, report builders), which all read through ``ws.table``. A
:class:`FilteredWorkspace` narrows those tables *after* the person's scope
(:class:`~eigyo.app._scope.ScopedWorkspace`), so a filter can only ever narrow what the person
may see — a manager choosing another team's name gets nothing, not that team — and the same
definitions keep giving the same numbers, now for the chosen slice.

The filters live in the query string (``?period=FY2025&team=A&product=P1``) so a view can be
shared as a link; :func:`view_query` rebuilds that string for the navigation links. The choices
offered (:func:`filter_options`) are read from the scoped workspace, so a select never lists a
team, rep or product outside the person's scope. Segment is the account's industry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime
from urllib.parse import urlencode

import ibis
import ibis.expr.types as ir

from eigyo.app._scope import REP_COLUMN, VIA_OPPORTUNITY, ScopedWorkspace
from eigyo.base.periods import fiscal_year_of, parse_period

#: The query parameters that make up a view (the period first), in the order links carry them.
VIEW_PARAMS: tuple[str, ...] = ("period", "team", "rep", "product", "segment")
#: Longest filter value accepted from a URL (longer ones are ignored, never an error page).
MAX_VALUE = 200


@dataclass(frozen=True)
class ViewFilter:
    """The chosen team, rep (id), product and segment (industry); None where not chosen."""

    team: str | None = None
    rep: str | None = None
    product: str | None = None
    segment: str | None = None

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> ViewFilter:
        """The filters of a query string; empty or overlong values count as not chosen."""

        def one(name: str) -> str | None:
            v = (query.get(name) or "").strip()
            return v if v and len(v) <= MAX_VALUE else None

        return cls(**{f.name: one(f.name) for f in fields(cls)})

    @property
    def active(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))

    @property
    def key(self) -> tuple[str | None, ...]:
        """What a cache entry of a filtered view is keyed by (beside the scope and period)."""
        return tuple(getattr(self, f.name) for f in fields(self))


class FilteredWorkspace(ScopedWorkspace):
    """``scoped``'s tables narrowed to the filters: rows outside the scope never come back,
    because every table starts from the scoped one."""

    def __init__(self, scoped: ScopedWorkspace, f: ViewFilter) -> None:
        super().__init__(scoped.base, scoped.who)
        self.scoped = scoped
        self.filter = f

    def table(self, name: str) -> ibis.Table:
        t = self.scoped.table(name)
        f = self.filter
        if not f.active:
            return t
        if name == "reps":
            return self._reps(t)
        if name == "opportunities":
            return self._opportunities(t)
        if name in REP_COLUMN and (f.team or f.rep):
            return t.filter(t[REP_COLUMN[name]].isin(self._reps(self.scoped.table("reps")).rep_id))
        if name in (*VIA_OPPORTUNITY, "orders"):
            return t.filter(t.opportunity_id.isin(self.table("opportunities").opportunity_id))
        if name == "accounts" and f.segment:
            return t.filter(t.industry == f.segment)
        if name == "leads" and f.segment:
            return t.filter(t.account_id.isin(self._segment_accounts()).fill_null(False))
        return t

    def _reps(self, t: ir.Table) -> ir.Table:
        if self.filter.team:
            t = t.filter(t.team == self.filter.team)
        if self.filter.rep:
            t = t.filter(t.rep_id == self.filter.rep)
        return t

    def _segment_accounts(self) -> ir.Column:
        a = self.scoped.table("accounts")
        return a.filter(a.industry == self.filter.segment).account_id

    def _opportunities(self, t: ir.Table) -> ir.Table:
        f = self.filter
        if f.team or f.rep:
            t = t.filter(t.owner_rep_id.isin(self._reps(self.scoped.table("reps")).rep_id))
        if f.product:
            t = t.filter(t["product"] == f.product)
        if f.segment:
            t = t.filter(t.account_id.isin(self._segment_accounts()).fill_null(False))
        return t


def filtered(ws: ScopedWorkspace, f: ViewFilter) -> ScopedWorkspace:
    """``ws`` itself without filters (caches and findings stay the scope's), else narrowed."""
    return FilteredWorkspace(ws, f) if f.active else ws


@dataclass(frozen=True)
class FilterOptions:
    """What each select offers: ``(value, text)`` pairs from the person's own rows."""

    periods: list[tuple[str, str]]
    teams: list[tuple[str, str]]
    reps: list[tuple[str, str]]
    products: list[tuple[str, str]]
    segments: list[tuple[str, str]]


def _distinct(t: ir.Table, col: str) -> list[str]:
    rows = t.select(col).distinct().to_pyarrow().column(0).to_pylist()
    return sorted(str(v) for v in rows if v not in (None, ""))


def data_periods(ws: ScopedWorkspace, lang: str) -> list[tuple[str, str]]:
    """The fiscal years with deals in them (newest first), each followed by its quarters:
    ``(label, label with its dates)``."""
    o = ws.table("opportunities")
    row = o.aggregate(lo=o.created_at.min(), hi=o.created_at.max(), hc=o.closed_at.max())
    lo, hi, hc = row.to_pyarrow().to_pylist()[0].values()
    days = [d.date() if isinstance(d, datetime) else d for d in (lo, hi, hc) if d is not None]
    if not days:
        return []
    start = ws.settings.fiscal_year_start_month
    first, last = (fiscal_year_of(min(days), start), fiscal_year_of(max(days), start))
    out: list[tuple[str, str]] = []
    for fy in range(last, first - 1, -1):
        for label in (f"FY{fy}", *(f"FY{fy}-Q{q}" for q in range(1, 5))):
            p = parse_period(label, start, today=date.today())
            out.append((p.label, p.describe(lang)))
    return out


def filter_options(ws: ScopedWorkspace, lang: str) -> FilterOptions:
    """The choices of every select, read through the person's scope (never wider)."""
    reps = ws.table("reps")
    rep_rows = reps.select("rep_id", "name").order_by("rep_id").to_pyarrow().to_pylist()
    return FilterOptions(
        periods=data_periods(ws, lang),
        teams=[(x, x) for x in _distinct(reps, "team")],
        reps=[(str(r["rep_id"]), str(r["name"] or r["rep_id"])) for r in rep_rows],
        products=[(x, x) for x in _distinct(ws.table("opportunities"), "product")],
        segments=[(x, x) for x in _distinct(ws.table("accounts"), "industry")],
    )


def view_query(query: Mapping[str, str]) -> str:
    """The view's part of a query string (period and filters), for links that keep the view."""
    kept = [(k, query[k]) for k in VIEW_PARAMS if query.get(k)]
    return urlencode(kept)
