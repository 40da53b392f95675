"""``Table.cache()`` on eigyo's Spark connection behaves as on DuckDB (issue 20).

A diagnosis caches its samples. On Spark two things went wrong that only the large demo showed:
a cached expression that reads an in-memory table (the stage catalogue) failed unless an
earlier query had registered it, and a cached ``x / 86400.0`` came back as Spark's decimal, so
a median of it reached Python as ``Decimal`` (``TypeError`` in the stage profiles).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import ibis

from eigyo.engines._spark import _register_before_caching


def test_a_cached_expression_keeps_its_types_and_its_in_memory_tables(spark_session: Any) -> None:
    con = ibis.pyspark.connect(spark_session)
    _register_before_caching(con)
    seconds = ibis.memtable({"k": ["a", "a", "b"], "s": [86_400, 259_200, 43_200]})
    days = seconds.select("k", d=seconds.s / 86400.0)  # Spark: decimal; Ibis: float64
    cached = days.cache()  # nothing has registered the memtable yet
    try:
        assert cached.schema() == days.schema()
        rows = cached.group_by("k").agg(m=cached.d.median()).order_by("k").to_pyarrow()
        got = rows.to_pylist()
    finally:
        cached.release()
    assert got == [{"k": "a", "m": 2.0}, {"k": "b", "m": 0.5}]  # (1 + 3) / 2 days; half a day
    assert not any(isinstance(r["m"], Decimal) for r in got)
