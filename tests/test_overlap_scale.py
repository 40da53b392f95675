"""The overlap query of a diagnosis with many alarms compiles: the medium demo raises 155 alarms
with an impact, and their key sets joined as a left-deep chain of ``UNION ALL`` made the SQL
compiler run out of recursion (``eigyo diagnose`` ended in a RecursionError traceback). A
balanced tree nests log₂ of the parts, and the parts are now one per shape of findings
(eigyo.diagnose.selection), however many findings share it."""

from __future__ import annotations

import ibis
import pytest

from eigyo.base.periods import parse_period
from eigyo.diagnose import overlap
from eigyo.diagnose.context import Context
from eigyo.runbook import RunResult
from tests.conftest import Demo


def test_the_key_table_of_two_hundred_findings_compiles(
    demo_company: Demo, demo_runbook: RunResult
) -> None:
    weighed = overlap._weighed(demo_runbook.findings)
    assert len(weighed) >= 10
    many = (weighed * (200 // len(weighed) + 1))[:200]
    with demo_company.open() as ws:
        ctx = Context(ws, parse_period("FY2025", ws.settings.fiscal_year_start_month))
        keys = overlap.key_table(many, ctx)
        assert keys is not None
        sql = ibis.to_sql(keys)
        few = overlap.key_table(weighed, ctx)
        assert few is not None
        assert few.count().execute() * (200 // len(weighed)) <= keys.count().execute()
    # the statement grows with the kinds of findings, not their number: 200 findings read by
    # as many parts as the demo's own alarms
    assert sql.count("UNION ALL") == ibis.to_sql(few).count("UNION ALL") < len(weighed)


def test_in_steps_the_overlaps_are_the_same(
    demo_company: Demo, demo_runbook: RunResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Built in steps of a few populations (each a temporary engine table), the key table gives
    exactly the pairs of the one-statement table: the steps change the plan, never the answer."""
    weighed = overlap._weighed(demo_runbook.findings)
    with demo_company.open() as ws:
        ctx = Context(ws, parse_period("FY2025", ws.settings.fiscal_year_start_month))
        whole = overlap.pairs(weighed, ctx)
        monkeypatch.setattr(overlap, "CHUNK", 3)
        stepped = overlap.pairs(weighed, ctx)
        hold: list[ibis.expr.types.Table] = []
        keys = overlap.key_table(weighed, ctx, hold=hold)
        assert keys is not None
        parts = len(overlap.key_parts(weighed, ctx, ctx.sample))
        assert parts > 3 and len(hold) == -(-parts // 3)  # a table per step of 3
        for t in hold:
            t.release()
    assert whole and stepped == whole
