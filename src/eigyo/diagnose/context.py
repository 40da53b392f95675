"""What every check of one diagnosis shares: the samples (built once) and the organization's
exchange rates that turn a gap into money (average won deal, revenue per selling hour …), in the
workspace currency."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from functools import cached_property

import ibis
import ibis.expr.types as ir

from eigyo.analysis import deals
from eigyo.analysis.alignment import leads, source_conversion
from eigyo.analysis.common import deal_data_start, history_period
from eigyo.analysis.data import concentration
from eigyo.analysis.enablement import onboarding as people
from eigyo.analysis.enablement import training
from eigyo.analysis.process import handoff, stages
from eigyo.base.periods import Period
from eigyo.metrics._needs import present
from eigyo.workspace import Workspace

SampleFn = Callable[[Workspace, Period], ir.Table]

#: Sample name (as used in checks.toml) → the analysis function that builds it.
SAMPLES: dict[str, SampleFn] = {
    "closed_deals": deals.closed_deals,
    "slippage": deals.slippage_sample,
    "open_deals": deals.open_deals_at_end,
    "stage_exits": stages.stage_exits,
    "handoffs": handoff.handoffs,
    "mql_leads": leads.mql_leads,
    "new_rep_deals": people.new_rep_deals,
    "admin_share": people.admin_share_by_rep,
    "closed_deals_vs_previous": deals.closed_deals_vs_previous,
    "sdr_sourced_deals": handoff.sdr_sourced_deals,
    "selling_hours_per_win": people.selling_hours_per_win,
    "capability_gaps": training.capability_gap_by_rep,
    "bookings_by_account": concentration.bookings_by_account,
    "leads_by_source": source_conversion.leads_by_source,
    "leads_by_campaign": source_conversion.leads_by_campaign,
}

#: Samples that are a filter of another sample: in a diagnosis read from that sample's table
#: (one filter over a flat table) instead of computing the same joins again.
DERIVED: dict[str, tuple[str, Callable[[ir.Table], ir.Table]]] = {
    "leads_by_campaign": ("leads_by_source", source_conversion.with_campaign),
    "mql_leads": ("leads_by_source", leads.mqls),
}


def materialized(t: ir.Table) -> tuple[ir.Table, ir.CachedTable]:
    """``t`` computed into a temporary table of its engine (Ibis ``cache``: DuckDB and
    PostgreSQL a temporary table, Spark a cached DataFrame): the table to read, with ``t``'s
    own column types, and the handle for the caller to ``release``. An engine may store a
    column in its own type (Spark a day count as a decimal, whose median then came back a
    ``Decimal``); read back, each column is cast to the type the expression declares."""
    backend = ibis.get_backend(t)
    if backend.name == "duckdb":
        # DuckDB draws a progress bar on standard output for a statement over two seconds — a
        # large demo's sample is one — which would break ``--format json``
        backend.con.execute("SET enable_progress_bar = false")  # type: ignore[attr-defined]
    held = t.cache()
    schema = t.schema()
    return (held if held.schema() == schema else held.cast(schema)), held


class Context:
    """One diagnosis run over one workspace and period.

    Entered as a context manager (``with Context(ws, p) as ctx``, as :func:`diagnose` does),
    it computes each sample once into a temporary engine table and drops them all on the way
    out; used bare, its samples stay expressions (nothing to release, nothing left behind when
    the caller closes the workspace first)."""

    def __init__(self, ws: Workspace, period: Period) -> None:
        self.ws = ws
        self.period = period
        self._samples: dict[str, ir.Table] = {}
        self._held: list[ir.CachedTable] = []
        self._materialize = False
        self._present: dict[str, bool] = {}

    def __enter__(self) -> Context:
        self._materialize = True
        return self

    def __exit__(self, *_: object) -> None:
        self._materialize = False
        self.release()

    @property
    def holds(self) -> bool:
        """Whether the samples are held in engine tables (an entered context)."""
        return self._materialize

    def release(self) -> None:
        """Drop the samples' temporary engine tables (the next :meth:`sample` builds anew)."""
        held, self._held, self._samples = self._held, [], {}
        for t in held:
            t.release()

    @property
    def currency(self) -> str:
        """The workspace currency: impacts are amounts in it (the JSON key says jpy, a contract)."""
        return self.ws.settings.currency

    def check_needs(self, needs: Iterable[str]) -> None:
        """Count every need of the checks about to run in one query, before any check asks."""
        todo = [n for n in needs if n not in self._present]
        if todo:
            self._present.update(present(self.ws, todo))

    def unmet(self, needs: Iterable[str]) -> list[str]:
        """The needs the workspace's data does not meet (counted once per diagnosis)."""
        needs = list(needs)
        self.check_needs(needs)
        return [n for n in needs if not self._present[n]]

    def sample(self, name: str) -> ir.Table:
        """The sample ``name``; in an entered context computed once into a temporary engine
        table.

        Every sample is read by two or more queries (checks sharing it, a check's subject and
        baseline, the ranking query's self-joins, the overlap of the alarms): as an expression,
        each of them recompiled and re-ran the sample's joins over the canonical tables — most
        of a diagnosis's time, and the Ibis → SQL compile of those deep graphs alone took
        seconds. A materialized sample is a flat table: each check compiles and scans only it.
        Samples hold one row per record of the period (at most a table's rows), as the queries
        over them would have read anyway."""
        if name not in self._samples:
            if name not in SAMPLES:
                raise ValueError(f"Unknown sample {name!r}. Known: {', '.join(SAMPLES)}")
            if self._materialize and name in DERIVED:
                parent, part = DERIVED[name]
                t = part(self.sample(parent))
            else:
                t = SAMPLES[name](self.ws, self.period)
            if self._materialize and name not in DERIVED:
                t, held = materialized(t)
                self._held.append(held)
            self._samples[name] = t
        return self._samples[name]

    @cached_property
    def _won(self) -> dict[str, float]:
        """Deals closed in the period, won, and the amount won — counted on the
        ``closed_deals`` sample the win-rate checks test, not on a second "closed in P"."""
        closed = self.sample("closed_deals")
        row = (
            closed.aggregate(
                n=closed.count(),
                won=closed.won.sum(),
                won_amount=(closed.amount * closed.won.cast("float64")).sum(),
            )
            .to_pyarrow()
            .to_pylist()[0]
        )
        return {k: float(v or 0) for k, v in row.items()}

    @property
    def avg_won_amount(self) -> float:
        """Mean amount of deals won in the period: the value of one more win."""
        return self._won["won_amount"] / self._won["won"] if self._won["won"] else 0.0

    @property
    def win_rate(self) -> float:
        return self._won["won"] / self._won["n"] if self._won["n"] else 0.0

    @cached_property
    def revenue_per_selling_hour(self) -> float:
        """Bookings in the period ÷ selling hours recorded in it."""
        s = self.sample("admin_share")
        selling = float(s.selling.sum().to_pyarrow().as_py() or 0.0)
        return self._won["won_amount"] / selling if selling else 0.0

    @cached_property
    def lead_value(self) -> dict[str, float]:
        return leads.lead_value(self.ws, self.period, self.sample("mql_leads"))

    @cached_property
    def rep_names(self) -> dict[str, str]:
        """Rep id → name: findings name people, the id second (one query per diagnosis)."""
        r = self.ws.table("reps").select("rep_id", "name")
        return {
            str(row["rep_id"]): str(row["name"])
            for row in r.to_pyarrow().to_pylist()
            if row["name"] is not None
        }

    @cached_property
    def rep_teams(self) -> dict[str, str]:
        """Rep id → team: a rep finding rolls up to the team it belongs to."""
        r = self.ws.table("reps").select("rep_id", "team")
        return {
            str(row["rep_id"]): str(row["team"])
            for row in r.to_pyarrow().to_pylist()
            if row["team"] is not None
        }

    @cached_property
    def data_start(self) -> date | None:
        """The first day any opportunity was created or closed: a history baseline that starts
        before it is only partly covered by data and is not compared with."""
        return deal_data_start(self.ws)

    @cached_property
    def history(self) -> Period:
        """The period history checks compare with (the same dates a year before when covered,
        else the previous calendar period): one choice for the sample and the finding."""
        return history_period(self.ws, self.period, self.data_start)
