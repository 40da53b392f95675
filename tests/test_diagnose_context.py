"""A diagnosis's samples are computed once into temporary engine tables while its context is
open, hold exactly the rows of the analysis function that defines them, and are dropped when
the context closes (a long-running dashboard must not accumulate them)."""

from __future__ import annotations

import pyarrow as pa

from eigyo.base.periods import parse_period
from eigyo.diagnose.context import DERIVED, SAMPLES, Context
from eigyo.workspace import Workspace
from tests.conftest import Demo


def _temp_tables(ws: Workspace) -> set[str]:
    rows = ws.raw.sql("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()
    return {r[0] for r in rows if r[0].startswith("ibis_cache")}


def _digest(ws: Workspace, rows: pa.Table) -> list[tuple[int, ...]]:
    """Row count and an order-free hash of every value: equal digests, equal multisets of rows."""
    ws.raw.register("_digest_rows", rows)
    try:
        sql = "SELECT count(*), sum(hash(COLUMNS(*))) FROM _digest_rows"
        return ws.raw.sql(sql).fetchall()
    finally:
        ws.raw.unregister("_digest_rows")


def test_samples_live_in_the_engine_while_the_context_is_open(demo_company: Demo) -> None:
    with demo_company.open() as ws:
        period = parse_period("FY2025", ws.settings.fiscal_year_start_month)
        before = _temp_tables(ws)
        bare = Context(ws, period)  # used bare: expressions, nothing created
        assert bare.sample("closed_deals").op().__class__.__name__ != "DatabaseTable"
        assert _temp_tables(ws) == before
        with Context(ws, period) as ctx:
            closed = ctx.sample("closed_deals")
            assert ctx.sample("closed_deals") is closed  # computed once per diagnosis
            exits = ctx.sample("stage_exits")
            created = _temp_tables(ws) - before
            assert len(created) == 2
            for name, held in (("closed_deals", closed), ("stage_exits", exits)):
                # the same rows as the analysis function's expression, run on its own
                want = _digest(ws, SAMPLES[name](ws, period).to_pyarrow())
                got = _digest(ws, held.to_pyarrow())
                assert got == want and want[0][0] > 100
        assert _temp_tables(ws) == before  # dropped on the way out


def test_a_derived_sample_is_its_parents_rows_and_no_table_of_its_own(demo_company: Demo) -> None:
    """``leads_by_campaign`` and ``mql_leads`` are read from the held ``leads_by_source``
    (DERIVED): the same rows as their analysis functions, without computing the lead joins
    again."""
    with demo_company.open() as ws:
        period = parse_period("FY2025", ws.settings.fiscal_year_start_month)
        before = _temp_tables(ws)
        with Context(ws, period) as ctx:
            for name, (parent, _) in DERIVED.items():
                got = ctx.sample(name)
                assert len(_temp_tables(ws) - before) <= 1  # the parent's table at most
                assert got.op().__class__.__name__ != "DatabaseTable"  # a filter of it
                assert ctx.sample(parent).op().__class__.__name__ == "DatabaseTable"
                want = _digest(ws, SAMPLES[name](ws, period).to_pyarrow())
                assert _digest(ws, got.to_pyarrow()) == want and want[0][0] > 10
                before = _temp_tables(ws)
