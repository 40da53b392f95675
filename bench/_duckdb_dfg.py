"""The hand-written DuckDB peer of ``eigyo process`` (``bench/process_map.py --whole``).

What someone who knows SQL would write for a directly-follows graph with frequencies and median
durations, straight on the workspace's DuckDB file: one window (``lead``) over each case's events
in time order, ties by activity name, then a group-by on the pairs. It imports nothing of eigyo,
so a fresh process pays only Python's start-up, ``import duckdb`` and the query.

Usage: ``_duckdb_dfg.py WORKSPACE`` — prints ``{"edges": [[from, to, count, median_days], …]}``
sorted by (from, to), and the seconds the query took (``query_s``), on standard output.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import duckdb

DFG = """
WITH pairs AS (
    SELECT stage AS source,
           lead(stage) OVER w AS target,
           epoch(lead(entered_at) OVER w) - epoch(entered_at) AS secs
    FROM stage_history
    WINDOW w AS (PARTITION BY opportunity_id ORDER BY entered_at, stage)
)
SELECT source, target, count(*) AS n, median(secs) / 86400.0 AS median_days
FROM pairs
WHERE target IS NOT NULL
GROUP BY source, target
ORDER BY source, target
"""


def main(ws: Path) -> None:
    # the file the workspace's link points at: the current generation, opened read-only
    con = duckdb.connect(str((ws / "eigyo.duckdb").resolve()), read_only=True)
    t0 = time.perf_counter()
    rows = con.execute(DFG).fetchall()
    secs = time.perf_counter() - t0
    con.close()
    json.dump({"query_s": secs, "edges": [list(r) for r in rows]}, sys.stdout)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
