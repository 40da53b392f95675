"""Groupings: which value of a dimension each record belongs to, added as the column ``g``.

A record belongs to its rep (``owner_rep_id`` for opportunities and leads, ``rep_id`` for
activities, time entries and quotas) and to that rep's team and role; to its account's industry,
region and size band; an opportunity also to the source and campaign of its lead. The links are
declared below as data, so adding a dimension is one line per table it reaches.
"""

from __future__ import annotations

from itertools import pairwise

import ibis
import ibis.expr.types as ir

from eigyo.base.vocabulary import DEAL_SIZE_BANDS, SIZE_BANDS
from eigyo.metrics._model import NONE_GROUP
from eigyo.metrics._vocab import Ctx

#: dimension → (table holding the value, column). ``self`` = a column of the record itself.
DIM_SOURCE: dict[str, tuple[str, str]] = {
    "team": ("reps", "team"),
    "role": ("reps", "role"),
    "rep_id": ("reps", "rep_id"),
    "source": ("leads", "source"),
    "campaign": ("leads", "campaign"),
    "industry": ("accounts", "industry"),
    "region": ("accounts", "region"),
    "size_band": ("accounts", "size_band"),
    "product": ("self", "product"),
    "type": ("self", "type"),
    "deal_size_band": ("self", "deal_size_band"),
}

#: (table holding the value, table of the record) → the record's column that points there.
#: ``rep`` and ``account`` are intermediate per-rep / per-account results of special kinds.
LINKS: dict[tuple[str, str], str] = {
    ("reps", "opportunities"): "owner_rep_id",
    ("reps", "leads"): "owner_rep_id",
    ("reps", "activities"): "rep_id",
    ("reps", "time_entries"): "rep_id",
    ("reps", "quotas"): "rep_id",
    ("reps", "rep"): "rep_id",
    ("leads", "opportunities"): "lead_id",
    ("leads", "leads"): "lead_id",
    ("accounts", "opportunities"): "account_id",
    ("accounts", "leads"): "account_id",
    ("accounts", "activities"): "account_id",
    ("accounts", "orders"): "account_id",
    ("accounts", "account"): "account_id",
}
#: Record tables whose own columns are dimensions.
SELF_DIMS: dict[str, tuple[str, ...]] = {
    "opportunities": ("product", "type", "deal_size_band"),
    "orders": ("product",),
}
_KEYS = {"reps": "rep_id", "leads": "lead_id", "accounts": "account_id"}


def reachable(dim: str, base: str) -> bool:
    """Whether records of ``base`` can be grouped by ``dim`` (``month`` always can)."""
    if dim == "month":
        return True
    via, _ = DIM_SOURCE[dim]
    if via == "self":
        return dim in SELF_DIMS.get(base, ())
    return (via, base) in LINKS


def _band(value: ir.NumericValue, bands: tuple[tuple[int, str], ...]) -> ir.StringValue:
    """Label of the band a number falls in; a missing number is its own group."""
    cases: list[tuple[ir.BooleanValue, str]] = [(value.isnull(), NONE_GROUP)]
    for (_, label), (upper, _) in pairwise(bands):
        cases.append((value < upper, label))
    return ibis.cases(*cases, else_=bands[-1][1])


def _column(t: ir.Table, name: str) -> ir.Value:
    if name == "size_band":
        return _band(t.employees, SIZE_BANDS)
    if name == "deal_size_band":
        return _band(t.amount, DEAL_SIZE_BANDS)
    return t[name]


def _as_group(value: ir.Value) -> ir.StringValue:
    return value.cast("string").fill_null(NONE_GROUP)


def with_group(t: ir.Table, base: str, c: Ctx) -> ir.Table:
    """``t`` (records of ``base``) with the column ``g``: its value of the context's dimension."""
    dim = c.dim
    if dim is None:
        return t
    if not reachable(dim, base):
        raise ValueError(f"{base} records cannot be grouped by {dim}")
    via, col = DIM_SOURCE[dim]
    if via == "self" or (via == "reps" and col == "rep_id"):
        key = col if via == "self" else LINKS[(via, base)]
        return t.mutate(g=_as_group(_column(t, key)))
    link = LINKS[(via, base)]
    if via == base:
        return t.mutate(g=_as_group(_column(t, col)))
    src = c.table(via)
    lookup = src.select(_k=src[_KEYS[via]], g=_as_group(_column(src, col)))
    joined = t.left_join(lookup, t[link] == lookup._k)
    return joined.select(*t.columns, g=joined.g.fill_null(NONE_GROUP))
