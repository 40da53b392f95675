"""Row-level scoping: the query layer that decides which rows a signed-in person may see.

Every page and API call reads data through a :class:`ScopedWorkspace`, never through the plain
:class:`~eigyo.workspace.Workspace`. Its :meth:`~ScopedWorkspace.table` returns each canonical
table already filtered to the person's rows, so the metrics registry, the analyses, the diagnosis
and the report charts — which all read through ``ws.table`` — respect the scope without knowing
it exists. Templates never filter anything: what they receive is all the person may see.

The rules, declared below as data:

* **admin** sees every row.
* **manager** sees the reps of their team (``reps.team``) plus their own rep row.
* **rep** sees only their own rep row.

A record belongs to the rep who owns it (docs/metrics.md): ``owner_rep_id`` for opportunities and
leads, ``rep_id`` for activities, time entries, quotas, trainings and assessments. Stage history
and opportunity changes follow their opportunity; an account is visible when a visible rep owns it
or has a visible opportunity or lead on it; an order when its opportunity is visible or its
account is owned by a visible rep; an intervention when it is organization-wide or names a visible
rep or team. Everything else — bookkeeping tables (``_imports``, ``_rejects``, ``_users``) and any
table not declared here — is refused to non-admins (fail closed), as are the raw connection and
writes, so code that bypasses :meth:`table` fails loudly instead of leaking rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal, NoReturn

import duckdb
import ibis
import ibis.expr.types as ir

from eigyo.errors import EigyoError
from eigyo.workspace import Workspace

Role = Literal["admin", "manager", "rep"]
ROLES: tuple[Role, ...] = ("admin", "manager", "rep")

#: Tables whose rows belong to the rep named in one column.
REP_COLUMN: dict[str, str] = {
    "reps": "rep_id",
    "quotas": "rep_id",
    "leads": "owner_rep_id",
    "opportunities": "owner_rep_id",
    "activities": "rep_id",
    "time_entries": "rep_id",
    "trainings": "rep_id",
    "assessments": "rep_id",
}
#: Tables whose rows follow the opportunity they describe.
VIA_OPPORTUNITY: tuple[str, ...] = ("stage_history", "opportunity_changes")
#: Every table a non-admin may read (each has a rule above or in :meth:`ScopedWorkspace.table`).
SCOPED_TABLES: tuple[str, ...] = (
    *REP_COLUMN,
    *VIA_OPPORTUNITY,
    "accounts",
    "orders",
    "interventions",
)


class ScopeError(EigyoError, PermissionError):
    """A signed-in person asked for data outside their scope (or for raw engine access)."""


@dataclass(frozen=True)
class Principal:
    """Who is asking: a user name, a role and the rep row / team that role is tied to."""

    username: str
    role: Role
    rep_id: str | None = None
    team: str | None = None

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}; got {self.role!r}")

    @property
    def key(self) -> str:
        """A stable key of what this person can see, for caches shared between users.

        JSON-encoded, so no rep id or team name can make two scopes' keys equal (a team named
        ``A|x`` once shared a manager's cache entry with another scope)."""
        if self.role == "admin":
            return "admin"
        return json.dumps([self.role, self.rep_id, self.team], ensure_ascii=False)


class ScopedWorkspace(Workspace):
    """A workspace whose tables hold only the rows ``who`` may see (see the module docstring).

    It shares the base workspace's settings and engine; it never opens a connection of its own.
    """

    def __init__(self, base: Workspace, who: Principal) -> None:
        # Deliberately not Workspace.__init__: nothing is reopened, settings are the base's.
        self.base = base
        self.who = who
        self.path = base.path
        self.read_only = True
        self.settings = base.settings
        self.engine_spec = base.engine_spec

    # -- the one entry point -------------------------------------------------------------
    def table(self, name: str) -> ibis.Table:
        """``name`` filtered to the principal's rows; admins get the base table unchanged."""
        if self.who.role == "admin":
            return self.base.table(name)
        if name not in SCOPED_TABLES:
            raise ScopeError(f"Table {name!r} is not available to role {self.who.role!r}.")
        raw = self.base.table(name)
        if name in REP_COLUMN:
            return raw.filter(self._owned(raw[REP_COLUMN[name]]))
        if name in VIA_OPPORTUNITY:
            return raw.filter(raw.opportunity_id.isin(self._opportunity_ids()))
        if name == "accounts":
            return raw.filter(self._account_visible(raw))
        if name == "orders":
            return raw.filter(self._order_visible(raw))
        if name == "interventions":
            return raw.filter(self._intervention_visible(raw))
        raise AssertionError(f"no rule for {name}")  # pragma: no cover - SCOPED_TABLES covers all

    # -- rules ---------------------------------------------------------------------------
    def visible_reps(self) -> ir.Table:
        """The reps rows the principal may see (the root every other rule starts from)."""
        reps = self.base.table("reps")
        return reps if self.who.role == "admin" else reps.filter(self._rep_rule(reps.rep_id, reps))

    def _rep_rule(self, rep_id: ir.StringValue, reps: ir.Table) -> ir.BooleanValue:
        who = self.who
        own = rep_id == who.rep_id if who.rep_id else ibis.literal(False)
        if who.role == "manager" and who.team:
            return (own | (reps.team == who.team)).fill_null(False)
        return own.fill_null(False)

    def _owned(self, column: ir.StringValue) -> ir.BooleanValue:
        """The record's rep is visible. A record without a rep is visible to admins only."""
        if self.who.role == "rep":
            return (column == self.who.rep_id).fill_null(False) if self.who.rep_id else _never()
        return column.isin(self.visible_reps().rep_id).fill_null(False)

    def _opportunity_ids(self) -> ir.Column:
        return self.table("opportunities").opportunity_id

    def _account_visible(self, t: ir.Table) -> ir.BooleanValue:
        opps, leads = self.table("opportunities"), self.table("leads")
        return (
            self._owned(t.owner_rep_id)
            | t.account_id.isin(opps.account_id).fill_null(False)
            | t.account_id.isin(leads.account_id).fill_null(False)
        )

    def _order_visible(self, t: ir.Table) -> ir.BooleanValue:
        acc = self.base.table("accounts")
        owned_accounts = acc.filter(self._owned(acc.owner_rep_id)).account_id
        return t.opportunity_id.isin(self._opportunity_ids()).fill_null(False) | t.account_id.isin(
            owned_accounts
        ).fill_null(False)

    def _intervention_visible(self, t: ir.Table) -> ir.BooleanValue:
        """Organization-wide (no scope) or naming a visible rep or team in its comma list."""
        names = [n for n in (self.who.rep_id, self.who.team) if n]
        if self.who.role == "manager":
            reps = self.visible_reps().select("rep_id").to_pyarrow().column(0).to_pylist()
            names += [r for r in reps if r]
        padded = "," + t.scope.re_replace(r"\s+", "") + ","
        cond: ir.BooleanValue = t.scope.isnull() | (t.scope.strip() == "")
        for name in dict.fromkeys(names):
            cond = cond | padded.contains(f",{name},")
        return cond.fill_null(False)

    # -- everything that would bypass the rules is refused ------------------------------
    def _refuse(self, what: str) -> NoReturn:
        raise ScopeError(f"{what} is not available through a scoped workspace; use table().")

    @property
    def con(self) -> Any:
        self._refuse("The engine connection")

    @property
    def engine(self) -> Any:
        self._refuse("The engine")

    @property
    def raw(self) -> duckdb.DuckDBPyConnection:
        self._refuse("The raw DuckDB connection")

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        self._refuse("Writing")
        yield  # pragma: no cover - unreachable

    def count(self, name: str) -> int:
        """Rows of ``name`` the principal can see."""
        return int(self.table(name).count().to_pyarrow().as_py())

    def close(self) -> None:
        """The base workspace belongs to the app; a scoped view has nothing of its own to close."""


def _never() -> ir.BooleanValue:
    return ibis.literal(False)


def scoped(ws: Workspace, who: Principal) -> ScopedWorkspace:
    """The view of ``ws`` that ``who`` may see."""
    return ScopedWorkspace(ws, who)
