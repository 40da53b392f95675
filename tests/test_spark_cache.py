"""``Table.cache()`` on eigyo's Spark connection behaves as on DuckDB (issue 20).

A diagnosis caches its samples. On Spark two things went wrong that only the large demo showed:
a cached expression that reads an in-memory table (the stage catalogue) failed unless an
earlier query had registered it, and a cached ``x / 86400.0`` came back as Spark's decimal, so
a median of it reached Python as ``Decimal`` (``TypeError`` in the stage profiles). And the
cached samples held ~570 MB of a 1 GB driver's heap (``MEMORY_AND_DISK``): they are kept on disk.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import ibis
import pytest

from eigyo.engines._spark import _register_before_caching


# PySpark's toPandas calls pandas' deprecated copy keyword; Py4J leaves a socket to the GC
@pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_cached_expression_keeps_its_types_and_its_in_memory_tables(spark_session: Any) -> None:
    from pyspark import StorageLevel  # the spark_session fixture skips without pyspark

    con = ibis.pyspark.connect(spark_session)
    _register_before_caching(con)
    seconds = ibis.memtable({"k": ["a", "a", "b"], "s": [86_400, 259_200, 43_200]})
    days = seconds.select("k", d=seconds.s / 86400.0)  # Spark: decimal; Ibis: float64
    # An expression over memtables alone caches in Ibis's default backend (DuckDB) unless told
    before = ibis.options.default_backend
    ibis.options.default_backend = con
    try:
        cached = days.cache()  # nothing has registered the memtable yet
    finally:
        ibis.options.default_backend = before
    assert ibis.get_backend(cached) is con
    try:
        assert cached.schema() == days.schema()
        rows = cached.group_by("k").agg(m=cached.d.median()).order_by("k").to_pyarrow()
        got = rows.to_pylist()
        stored = con._cached_dataframes[cached.op().name]
        assert stored.storageLevel == StorageLevel.DISK_ONLY  # none of it in the JVM's heap
    finally:
        cached.release()
    assert got == [{"k": "a", "m": 2.0}, {"k": "b", "m": 0.5}]  # (1 + 3) / 2 days; half a day
    assert not any(isinstance(r["m"], Decimal) for r in got)
