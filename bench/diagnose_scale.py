"""``eigyo diagnose`` on a large workspace against one DuckDB pass over its data (issue 20).

Each measurement runs in its own process, so peak memory (max RSS) is that command's alone:

* **one DuckDB pass** — every canonical table read once, every column (``SELECT count(*),
  sum(hash(COLUMNS(*))) FROM t`` per table): the floor a diagnosis that reads its data in the engine
  cannot go under;
* **eigyo diagnose** — ``eigyo diagnose --period P --format json``, with the eigyo of each
  source tree given (``--src PATH``, e.g. a ``git archive`` of an older commit next to the
  current ``src``), so before and after run on the same data in the same session.

Run: ``.venv/bin/python bench/diagnose_scale.py WORKSPACE --period FY2025 --src src
--src /tmp/eigyo-239eef7/src [--rounds 2] [--memory-limit-mib 2048]``. Prints a Markdown table:
seconds (median of the rounds), peak RSS, and each diagnosis's time as a multiple of the DuckDB
pass.

``--memory-limit-mib`` runs each diagnosis inside its own Linux memory cgroup (v1, as root) with
that hard limit — the kernel kills the process past it, as a container's limit would — so "it
completes under 2 GB" is a fact the kernel enforced, not a reading of peak RSS. DuckDB sees the
cgroup's limit and sizes its buffer pool from it, as it would in a container.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PASS = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
tables = [r[0] for r in con.sql(
    "SELECT table_name FROM duckdb_tables() WHERE NOT starts_with(table_name, '_')"
).fetchall()]
for t in tables:
    con.sql(f'SELECT count(*), sum(hash(COLUMNS(*))) FROM "{t}"').fetchall()
"""


CGROUP = Path("/sys/fs/cgroup/memory")


def _limited(limit_mib: int) -> Path:
    """A fresh memory cgroup with a hard limit of ``limit_mib`` (swap included where counted)."""
    group = CGROUP / f"eigyo-bench-{os.getpid()}-{time.monotonic_ns()}"
    group.mkdir()
    (group / "memory.limit_in_bytes").write_text(str(limit_mib << 20))
    swap = group / "memory.memsw.limit_in_bytes"
    if swap.exists():
        swap.write_text(str(limit_mib << 20))
    return group


def _run(cmd: list[str], env: dict[str, str], limit_mib: int = 0) -> tuple[float, float]:
    """Seconds and peak RSS (MiB) of one command in its own process (in a cgroup when limited)."""
    group = _limited(limit_mib) if limit_mib else None

    def enter() -> None:  # runs in the child before exec: the command starts inside the limit
        if group is not None:
            (group / "cgroup.procs").write_text(str(os.getpid()))

    with tempfile.TemporaryFile() as err:  # a file, not a pipe: a full pipe would block it
        t0 = time.perf_counter()
        pid = subprocess.Popen(
            cmd, env=env, stdout=subprocess.DEVNULL, stderr=err, preexec_fn=enter
        )
        _, status, usage = os.wait4(pid.pid, 0)
        seconds = time.perf_counter() - t0
        if group is not None:
            peak = int((group / "memory.max_usage_in_bytes").read_text()) / 2**20
            failures = int((group / "memory.failcnt").read_text())
            group.rmdir()
            note = f"{failures} allocations refused, exit status {status}"
            print(
                f"  cgroup {limit_mib} MiB: peak charged {peak:,.0f} MiB, {note}", file=sys.stderr
            )
        if status != 0:
            err.seek(0)
            tail = err.read().decode(errors="replace")[-2000:]
            raise SystemExit(f"{' '.join(cmd)} failed: {tail}")
    return seconds, usage.ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("workspace", type=Path)
    ap.add_argument("--period", default="FY2025")
    ap.add_argument("--src", action="append", default=[])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--memory-limit-mib", type=int, default=0)
    a = ap.parse_args()
    if a.memory_limit_mib and not os.access(CGROUP, os.W_OK):
        raise SystemExit(f"--memory-limit-mib needs a writable {CGROUP} (Linux, cgroup v1, root)")
    db = a.workspace / "eigyo.duckdb"
    env = dict(os.environ)
    rows: list[tuple[str, float, float]] = []
    runs = [_run([sys.executable, "-c", PASS, str(db)], env) for _ in range(a.rounds)]
    base = statistics.median(s for s, _ in runs)
    rows.append(("one DuckDB pass over every table", base, max(m for _, m in runs)))
    for src in a.src or ["src"]:
        env_src = {**env, "PYTHONPATH": str(Path(src).resolve())}
        cmd = [sys.executable, "-c", "import sys; from eigyo.cli import main; main(sys.argv[1:])"]
        cmd += ["diagnose", "--workspace", str(a.workspace)]
        cmd += ["--period", a.period, "--format", "json"]
        runs = [_run(cmd, env_src, a.memory_limit_mib) for _ in range(a.rounds)]
        rows.append((f"eigyo diagnose ({src})", statistics.median(s for s, _ in runs),
                     max(m for _, m in runs)))  # fmt: skip
    size = (
        "import sys, duckdb; c = duckdb.connect(sys.argv[1], read_only=True);"
        " print(c.sql('SELECT sum(estimated_size) FROM duckdb_tables()').fetchall()[0][0])"
    )
    counts = subprocess.run(
        [sys.executable, "-c", size, str(db)], capture_output=True, text=True, check=True
    )
    limit = (
        f", each diagnosis in a {a.memory_limit_mib} MiB memory cgroup"
        if a.memory_limit_mib
        else ""
    )
    print(f"workspace: {a.workspace} ({int(counts.stdout.strip() or 0):,} rows), period {a.period},"
          f" {a.rounds} rounds, {os.cpu_count()} cores{limit}\n")  # fmt: skip
    print("| run | seconds (median) | peak RSS MiB | × DuckDB pass |")
    print("|---|---:|---:|---:|")
    for name, s, m in rows:
        print(f"| {name} | {s:.2f} | {m:,.0f} | {s / base:.1f}× |")
    print(json.dumps({n: {"s": round(s, 2), "rss_mib": round(m)} for n, s, m in rows}))


if __name__ == "__main__":
    main()
