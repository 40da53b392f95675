"""Where a diagnosis's engine time goes: Ibis → SQL compile against execution, by eigyo caller.

Run: ``.venv/bin/python bench/diagnose_trace.py diagnose --workspace WS --period FY2025
--format json`` (any ``eigyo`` command line). Wraps the DuckDB backend's entry points
(``to_pyarrow``, ``execute``, ``raw_sql``, the ``cache`` table) and its compiler, without a
profiler's overhead, and prints per call site (the innermost three eigyo frames) the number of
calls, the seconds spent compiling expressions to SQL and the seconds spent running them. What
is neither is Python: imports, building expressions, the tests' arithmetic, texts.
"""

from __future__ import annotations

import collections
import contextlib
import io
import sys
import time
import traceback
from typing import Any

from ibis.backends.duckdb import Backend
from ibis.backends.sql.compilers.duckdb import DuckDBCompiler

RECORDS: list[tuple[str, float, float]] = []  # (call site, compile s, execute s)
_OPEN: list[list[float]] = []  # compile seconds of the engine calls in progress
_compile = DuckDBCompiler.to_sqlglot


def _site() -> str:
    frames = [f for f in traceback.extract_stack() if "/src/eigyo/" in f.filename]
    return " < ".join(
        f"{f.filename.split('/src/eigyo/')[1]}:{f.lineno}:{f.name}" for f in frames[::-1][:3]
    )


def _timed_compile(self: Any, *a: Any, **k: Any) -> Any:
    t0 = time.perf_counter()
    out = _compile(self, *a, **k)
    took = time.perf_counter() - t0
    if _OPEN:
        _OPEN[-1][0] += took
    else:
        RECORDS.append((_site(), took, 0.0))
    return out


def _wrap(name: str) -> None:
    inner = getattr(Backend, name)

    def timed(self: Any, *a: Any, **k: Any) -> Any:
        _OPEN.append([0.0])
        t0 = time.perf_counter()
        try:
            return inner(self, *a, **k)
        finally:
            took = time.perf_counter() - t0
            comp = _OPEN.pop()[0]
            if _OPEN:  # nested (a cache's create_table runs SQL): counted once, outermost
                _OPEN[-1][0] += comp
            else:
                RECORDS.append((_site(), comp, took - comp))

    setattr(Backend, name, timed)


def main() -> None:
    DuckDBCompiler.to_sqlglot = _timed_compile  # type: ignore[method-assign]
    for name in ("to_pyarrow", "_create_cached_table", "execute", "raw_sql"):
        _wrap(name)
    from eigyo.cli import main as cli

    out, sys.stdout = sys.stdout, io.StringIO()
    t0 = time.perf_counter()
    with contextlib.suppress(SystemExit):  # the command line ends by exiting
        cli(sys.argv[1:])
    total = time.perf_counter() - t0
    sys.stdout = out
    by: dict[str, list[float]] = collections.defaultdict(lambda: [0, 0.0, 0.0])
    for site, comp, ex in RECORDS:
        by[site][0] += 1
        by[site][1] += comp
        by[site][2] += ex
    comp_s, ex_s = sum(r[1] for r in RECORDS), sum(r[2] for r in RECORDS)
    print(f"total {total:.2f} s: compile {comp_s:.2f} s, execute {ex_s:.2f} s, "
          f"{len(RECORDS)} engine calls")  # fmt: skip
    for site, (n, comp, ex) in sorted(by.items(), key=lambda kv: -(kv[1][1] + kv[1][2]))[:30]:
        print(f"{int(n):4d} calls  compile {comp:6.2f}  execute {ex:6.2f}  {site}")


if __name__ == "__main__":
    main()
