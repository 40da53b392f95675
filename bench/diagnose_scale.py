"""``eigyo diagnose`` on a large workspace against one DuckDB pass over its data (issue 20).

Each measurement runs in its own process, so peak memory (max RSS) is that command's alone:

* **one DuckDB pass** — every canonical table read once, every column (``SELECT count(*),
  sum(hash(COLUMNS(*))) FROM t`` per table): the floor a diagnosis that reads its data in the engine
  cannot go under;
* **eigyo diagnose** — ``eigyo diagnose --period P --format json``, with the eigyo of each
  source tree given (``--src PATH``, e.g. a ``git archive`` of an older commit next to the
  current ``src``), so before and after run on the same data in the same session.

Run: ``.venv/bin/python bench/diagnose_scale.py WORKSPACE --period FY2025 --src src
--src /tmp/eigyo-239eef7/src [--rounds 2] [--memory-limit-mib 2048] [--save DIR]``. Prints a
Markdown table: wall seconds (median of the rounds), each diagnosis's as a multiple of the DuckDB
pass, CPU seconds (user + system: on a machine shared with other jobs, a steadier reading of the
work done than wall time) and peak RSS. Each round runs every source tree once, in turn.

``--save DIR`` keeps each source tree's JSON document (``DIR/diagnose-N.json``, N its place in
``--src``) and says whether every tree found the same findings: the same ids, each with the same
fields and values as printed (``overlaps`` compared as sets) — a faster diagnosis that finds
something else is no improvement.

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


def _run(
    cmd: list[str], env: dict[str, str], limit_mib: int = 0, out: Path | None = None
) -> tuple[float, float, float]:
    """Wall seconds, peak RSS (MiB) and CPU seconds (user + system) of one command in its own
    process (in a cgroup when limited); its standard output written to ``out`` when given."""
    group = _limited(limit_mib) if limit_mib else None

    def enter() -> None:  # runs in the child before exec: the command starts inside the limit
        if group is not None:
            (group / "cgroup.procs").write_text(str(os.getpid()))

    with tempfile.TemporaryFile() as err:  # a file, not a pipe: a full pipe would block it
        sink = out.open("wb") if out is not None else subprocess.DEVNULL
        t0 = time.perf_counter()
        pid = subprocess.Popen(cmd, env=env, stdout=sink, stderr=err, preexec_fn=enter)
        _, status, usage = os.wait4(pid.pid, 0)
        seconds = time.perf_counter() - t0
        if not isinstance(sink, int):
            sink.close()
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
    return seconds, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def _findings(path: Path) -> dict[str, dict[str, object]] | str:
    """A JSON document's findings by id (each ``overlaps`` list sorted), or why the output is
    not one JSON document (``--format json`` must print nothing else: a progress bar on
    standard output breaks every caller that parses it)."""
    text = path.read_text()
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        return f"{path.name} is not one JSON document ({e.msg} at character {e.pos})"
    return {f["id"]: {**f, "overlaps": sorted(f.get("overlaps") or [])} for f in doc["findings"]}


def _same_findings(paths: list[Path]) -> str:
    """One line: whether every document holds the same findings, else the first differences.
    The findings' order is not compared: ties of impact and severity come in the order the
    engine's GROUP BY returns groups, which differs between two runs of the same code."""
    docs = [_findings(p) for p in paths]
    broken = [d for d in docs if isinstance(d, str)]
    if broken:
        return "findings NOT COMPARED: " + "; ".join(broken)
    first, notes = docs[0], []
    for other, found in zip(paths[1:], docs[1:], strict=True):
        assert not isinstance(first, str) and not isinstance(found, str)
        for fid in sorted(set(first) | set(found)):
            a, b = first.get(fid) or {}, found.get(fid) or {}
            if a != b:
                keys = sorted(k for k in {*a, *b} if a.get(k) != b.get(k))
                notes.append(f"{other.name} {fid}: {', '.join(keys) if a and b else 'missing'}")
    if not notes:
        return f"findings: the same {len(first)} in every tree (ids, fields, values as printed)"
    return f"findings DIFFER ({len(notes)}): " + "; ".join(notes[:10])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("workspace", type=Path)
    ap.add_argument("--period", default="FY2025")
    ap.add_argument("--src", action="append", default=[])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--memory-limit-mib", type=int, default=0)
    ap.add_argument("--save", type=Path, default=None)
    a = ap.parse_args()
    if a.memory_limit_mib and not os.access(CGROUP, os.W_OK):
        raise SystemExit(f"--memory-limit-mib needs a writable {CGROUP} (Linux, cgroup v1, root)")
    db = a.workspace / "eigyo.duckdb"
    env = dict(os.environ)
    rows: list[tuple[str, float, float, float]] = []
    runs = [_run([sys.executable, "-c", PASS, str(db)], env) for _ in range(a.rounds)]
    base, base_cpu = (statistics.median(r[k] for r in runs) for k in (0, 2))
    rows.append(("one DuckDB pass over every table", base, max(r[1] for r in runs), base_cpu))
    saved: list[Path] = []
    if a.save:
        a.save.mkdir(parents=True, exist_ok=True)
    srcs = a.src or ["src"]
    times: dict[str, list[tuple[float, float, float]]] = {src: [] for src in srcs}
    run_py = "import sys; from eigyo.cli import main; main(sys.argv[1:])"
    for _ in range(a.rounds):  # the trees take turns, so a change of load falls on each
        for i, src in enumerate(srcs):
            env_src = {**env, "PYTHONPATH": str(Path(src).resolve())}
            cmd = [sys.executable, "-c", run_py, "diagnose", "--workspace", str(a.workspace)]
            cmd += ["--period", a.period, "--format", "json"]
            out = a.save / f"diagnose-{i}.json" if a.save else None
            times[src].append(_run(cmd, env_src, a.memory_limit_mib, out))
            if out is not None and out not in saved:
                saved.append(out)
    for src, runs in times.items():
        rows.append((f"eigyo diagnose ({src})", statistics.median(r[0] for r in runs),
                     max(r[1] for r in runs), statistics.median(r[2] for r in runs)))  # fmt: skip
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
    print("| run | seconds (median) | × DuckDB pass | CPU seconds (median) | peak RSS MiB |")
    print("|---|---:|---:|---:|---:|")
    for name, s, m, c in rows:
        print(f"| {name} | {s:.2f} | {s / base:.1f}× | {c:.2f} | {m:,.0f} |")
    print(json.dumps({n: {"s": round(s, 2), "cpu_s": round(c, 2), "rss_mib": round(m)}
                      for n, s, m, c in rows}))  # fmt: skip
    if len(saved) > 1:
        print(_same_findings(saved))


if __name__ == "__main__":
    main()
