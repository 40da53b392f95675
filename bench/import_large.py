"""Import of the large demo's activities CSV (~20M rows): eigyo's importer vs DuckDB's read_csv.

Each contender runs in its own process (peak RSS is the child's ``ru_maxrss``); both load the same
file into a table of a fresh DuckDB database. Prints a markdown section for
``bench/RESULTS-import.md``.

    python bench/import_large.py [--csv /tmp/eigyo-bench-large/activities.csv]

Without the file, it is generated first with ``eigyo.demo.generate(out, scale="large")``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

DEFAULT = Path("/tmp/eigyo-bench-large/activities.csv")

_EIGYO = """
import sys, time, shutil
from pathlib import Path
from eigyo import workspace
from eigyo.ingest import import_path
csv, tmp = Path(sys.argv[1]), Path(sys.argv[2])
ws = workspace.init(tmp / "ws")
# the activities of the demo refer to its reps: load them first, outside the timing
import_path(ws, csv.parent / "reps.csv")
t = time.perf_counter()
rep = import_path(ws, csv)
import resource
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(time.perf_counter() - t, rep.rows, rep.loaded, rep.rejected, rep.warnings, rss)
"""

_DUCKDB = """
import sys, time, duckdb
from pathlib import Path
csv, tmp = Path(sys.argv[1]), Path(sys.argv[2])
con = duckdb.connect(str(tmp / "plain.duckdb"))
t = time.perf_counter()
con.execute(f"CREATE TABLE activities AS SELECT * FROM read_csv('{csv}')")
n = con.execute("SELECT count(*) FROM activities").fetchall()[0][0]
import resource
print(time.perf_counter() - t, n, n, 0, 0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def _run(code: str, csv: Path) -> dict[str, float]:
    """Run ``code`` in a child process; its timing line and the child's peak RSS."""
    with tempfile.TemporaryDirectory(prefix="eigyo-bench-") as tmp:
        out = subprocess.run(
            [sys.executable, "-c", code, str(csv), tmp], capture_output=True, text=True, check=True
        ).stdout.split()
    secs, rows, loaded, rejected, warnings, rss_kb = (float(x) for x in out[-6:])
    # the child's own ru_maxrss (kB on Linux): its peak resident memory over the whole run
    return {"s": secs, "rows": rows, "loaded": loaded, "rejected": rejected,
            "warnings": warnings, "rss_gb": rss_kb / 2**20}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--csv", type=Path, default=DEFAULT)
    args = ap.parse_args()
    if not args.csv.exists():
        from eigyo.demo import generate

        generate(args.csv.parent, scale="large")
    size = args.csv.stat().st_size
    duck = _run(_DUCKDB, args.csv)
    eigyo = _run(_EIGYO, args.csv)
    ratio = eigyo["s"] / duck["s"]
    print(
        f"## Import of the large activities CSV ({size / 1e9:.2f} GB, {duck['rows']:,.0f} rows)\n"
    )
    print(f"`python bench/import_large.py --csv {args.csv}` — each in its own process.\n")
    print("| loader | seconds | rows/s | peak RSS (GB) | loaded | rejected | warnings |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, r in (("DuckDB read_csv → table", duck), ("eigyo import (validated)", eigyo)):
        print(
            f"| {name} | {r['s']:.1f} | {r['rows'] / r['s']:,.0f} | {r['rss_gb']:.2f} | "
            f"{r['loaded']:,.0f} | {r['rejected']:,.0f} | {r['warnings']:,.0f} |"
        )
    print(f"\neigyo / DuckDB time: {ratio:.1f}× (target ≤ 3×); eigyo peak RSS "
          f"{eigyo['rss_gb']:.2f} GB (target < 2 GB).")  # fmt: skip
    print(json.dumps({"ratio": ratio, "duckdb": duck, "eigyo": eigyo}), file=sys.stderr)


if __name__ == "__main__":
    main()
