"""The overlap of findings from the distinct sets of findings that hold a record (issue 20).

The pairs used to come from joining the key table with itself: a row per record and pair of
findings holding it, which ran a 1 GB Spark driver out of memory on the large demo. Now the
records are grouped by the findings holding them and the pairs derived from the distinct sets.
These tests pin the two halves on hand-made keys (expected values written out) and the whole on
the demo: exactly the pairs of the old self-join, run here as an independent DuckDB query.
"""

from __future__ import annotations

import ibis
import pyarrow as pa

from eigyo.base.periods import parse_period
from eigyo.diagnose import overlap
from eigyo.diagnose.context import Context
from eigyo.runbook import RunResult
from tests.conftest import Demo

#: (finding index, kind, key): deal d1 is held by findings 0, 1 and 2; d2 by 1 and 2 (the same
#: pair again); lead l1 by 3 only; rep r1 by 0 and 3; deal "r1" (another kind) by 2 alone, and
#: finding 4 holds deal d1 twice (a population may list a record twice).
KEYS = [
    (0, "opportunity_id", "d1"),
    (1, "opportunity_id", "d1"),
    (2, "opportunity_id", "d1"),
    (4, "opportunity_id", "d1"),
    (4, "opportunity_id", "d1"),
    (1, "opportunity_id", "d2"),
    (2, "opportunity_id", "d2"),
    (3, "lead_id", "l1"),
    (0, "rep_id", "r1"),
    (3, "rep_id", "r1"),
    (2, "opportunity_id", "r1"),
]


def test_records_group_into_the_distinct_sets_of_findings_holding_them() -> None:
    keys = ibis.memtable(
        {"i": [k[0] for k in KEYS], "kind": [k[1] for k in KEYS], "key": [k[2] for k in KEYS]}
    )
    con = ibis.duckdb.connect()
    held = con.to_pyarrow(overlap._holders(keys)).column("held").to_pylist()
    # d1 → {0,1,2,4}; d2 → {1,2}; r1 (rep) → {0,3}; l1 and the deal "r1" are held once: dropped
    assert sorted(held) == [[0, 1, 2, 4], [0, 3], [1, 2]]


def test_pairs_are_every_two_findings_of_a_set() -> None:
    sets = pa.chunked_array([[[0, 1, 2, 4], [0, 3]], [[1, 2]]])
    assert overlap._pairs_of(sets, 6) == {(0, 1), (0, 2), (0, 4), (1, 2), (1, 4), (2, 4), (0, 3)}
    sliced = pa.chunked_array([pa.array([[5, 0], [1, 2], [3, 4]]).slice(1)])  # offsets from 2
    assert overlap._pairs_of(sliced, 6) == {(1, 2), (3, 4)}
    assert overlap._pairs_of(pa.chunked_array([], pa.list_(pa.int64())), 3) == set()


def test_the_demo_pairs_are_those_of_the_self_join(
    demo_company: Demo, demo_runbook: RunResult
) -> None:
    """The demo's alarms: the pairs from the sets equal the pairs of the key table joined with
    itself on kind and key, written as plain SQL over the same key table."""
    weighed = overlap._weighed(demo_runbook.findings)
    with demo_company.open() as ws:
        ctx = Context(ws, parse_period("FY2025", ws.settings.fiscal_year_start_month))
        got = overlap.pairs(weighed, ctx)
        keys = overlap.key_table(weighed, ctx)
        assert keys is not None
        sql = ibis.to_sql(keys, dialect="duckdb")
        joined = ws.raw.execute(
            f"WITH k AS ({sql}) SELECT DISTINCT a.i, b.i FROM k a JOIN k b "
            "ON a.kind = b.kind AND a.key = b.key AND a.i < b.i"
        ).fetchall()
    assert got and got == {(int(a), int(b)) for a, b in joined}
