"""The overlap of findings from the distinct sets of findings that hold a record (issue 20).

The pairs used to come from joining the key table with itself: a row per record and pair of
findings holding it, which ran a 1 GB Spark driver out of memory on the large demo. Now the
records are grouped by the findings holding them and the pairs derived from the distinct sets.
These tests pin the two halves on hand-made keys (expected values written out) and the whole on
the demo: exactly the pairs of the old self-join, run here as an independent DuckDB query.
"""

from __future__ import annotations

from dataclasses import replace

import duckdb
import ibis
import pyarrow as pa

from eigyo.base.periods import parse_period
from eigyo.diagnose import overlap
from eigyo.diagnose.behind import NoRecords, population, selection
from eigyo.diagnose.context import Context
from eigyo.diagnose.model import Finding
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
        k = keys.to_pyarrow()  # noqa: F841 (read by name in the query below)
    joined = (
        duckdb.connect()
        .execute(
            "SELECT DISTINCT a.i, b.i FROM k a JOIN k b "
            "ON a.kind = b.kind AND a.key = b.key AND a.i < b.i"
        )
        .fetchall()
    )
    assert got and got == {(int(a), int(b)) for a, b in joined}


def test_each_finding_holds_the_records_of_its_population(
    demo_company: Demo, demo_runbook: RunResult
) -> None:
    """The key table reads the populations as data, many findings in one join: each finding's
    keys there are exactly the records of its population read one at a time by filtering its
    sample (:func:`eigyo.diagnose.behind.population`, the records page's reading) — for
    compared groups, roll-ups over members, the organization against a target and the
    populations of their own kind alike."""
    weighed = overlap._weighed(demo_runbook.findings) + _rolled_up(demo_runbook.findings)
    assert {"members" in f.evidence for f in weighed} == {True, False}
    with demo_company.open() as ws:
        ctx = Context(ws, parse_period("FY2025", ws.settings.fiscal_year_start_month))
        keys = overlap.key_table(weighed, ctx)
        assert keys is not None
        held: dict[int, set[tuple[str, str]]] = {}
        for row in keys.to_pyarrow().to_pylist():
            held.setdefault(row["i"], set()).add((row["kind"], row["key"]))
        compared = 0
        for i, f in enumerate(weighed):
            try:
                pop = population(ws, ctx.period, f, ctx.sample)
            except NoRecords:
                assert i not in held
                continue
            compared += selection(f, ctx.sample) is not None
            want = {(pop.key, str(v)) for v in pop.table[pop.key].to_pyarrow().to_pylist()}
            assert held.get(i, set()) == want, f.id
    assert compared > 10


def _rolled_up(findings: list[Finding]) -> list[Finding]:
    """Roll-ups as eigyo.diagnose.rollup writes them, over two members of one column (reps,
    teams): the group above them (no scope, ``members``), the same within a team's scope (a
    scope and members on different columns), and one whose scope names a member its members
    do not (the same column: a scope and members that do not meet select nothing)."""
    values: dict[str, list[str]] = {}
    for f in findings:
        for k, v in f.scope.items():
            values.setdefault(k, []).append(v)
    out: list[Finding] = []
    for column in ("rep_id", "team"):
        a = next(f for f in findings if f.is_alarm and set(f.scope) == {column})
        other = next(v for v in values[column] if v != a.scope[column])
        members = [{column: a.scope[column]}, {column: other}]
        out.append(replace(a, scope={}, evidence={**a.evidence, "members": members}))
        out.append(replace(a, evidence={**a.evidence, "members": members[1:]}))
    out.append(replace(out[0], scope={"team": values["team"][0]}))
    return out


def test_overlaps_are_listed_in_the_findings_order_whatever_the_arrival(
    demo_company: Demo, demo_runbook: RunResult
) -> None:
    """The same alarms marked in two arrival orders (an engine returns groups in any order)
    get the same ``overlaps`` lists, each in the findings' order: the largest impact first."""

    def marked(order: list[Finding]) -> dict[str, list[str]]:
        fresh = [replace(f, overlaps=[]) for f in order]
        with demo_company.open() as ws:
            ctx = Context(ws, parse_period("FY2025", ws.settings.fiscal_year_start_month))
            overlap.mark(fresh, ctx)
        return {f.id: f.overlaps for f in fresh}

    weighed = overlap._weighed(demo_runbook.findings)
    forward, backward = marked(weighed), marked(weighed[::-1])
    assert forward == backward and sum(len(v) for v in forward.values()) >= 2
    rank = {f.id: f.sort_key() for f in weighed}
    for ids in forward.values():
        assert ids == sorted(ids, key=rank.__getitem__)
