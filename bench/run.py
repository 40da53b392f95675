"""``make bench``: run every benchmark and write bench/RESULTS.md with the command that made it.

Each benchmark runs in its own process (peak memory is per process) and its standard output
becomes one section of RESULTS.md. ``--large`` adds the 1M-opportunity demo (minutes, GBs of disk).
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).parent

#: (title, script and arguments); the script prints its own figures (JSON lines or markdown).
BENCHES: tuple[tuple[str, list[str]], ...] = (
    ("CLI start-up: eigyo --help vs python -c 'import typer, rich'", ["cli_startup.py"]),
    ("Demo generator, medium scale", ["gen_demo.py", "medium"]),
    (
        "Whole runbook (import → metrics → diagnose → report), medium scale",
        ["runbook.py", "medium"],
    ),
    ("Organization simulation (eigyo simulate --compare) and backtest", ["simulate.py"]),
    ("Data-step models: win probability, forecast, segments, ICP, CLV", ["data_models.py"]),
    ("Monitoring: false alarms and detection delay", ["monitor_alarms.py", "--seeds", "2000"]),
    (
        "Diagnosis: recall and false alarms on generated companies (issue 17)",
        ["recall.py", "--companies", "24", "--clean", "10"],
    ),
    ("CRM sync from loopback APIs (issue 21)", ["sync.py", "--kintone", "200000"]),
)
#: Benchmarks that take many minutes or a large data set: run by hand, results kept in files.
RECORDED: tuple[tuple[str, str, str], ...] = (
    (
        "Metrics on three engines vs hand-written SQL and pandas (large demo)",
        "RESULTS-metrics.md",
        "metrics_engines.py",
    ),
    ("Import of 20M activities vs DuckDB read_csv", "RESULTS-import.md", "import_large.py"),
    ("Dashboard, 50 concurrent users (medium demo)", "RESULTS-dashboard.md", "dashboard_load.py"),
    ("Process map vs PM4Py (BPI 2012, 5M events)", "RESULTS-process.md", "process_map.py"),
)
LARGE: tuple[tuple[str, list[str]], ...] = (
    ("Demo generator, large scale", ["gen_demo.py", "large"]),
    ("Whole runbook, large scale", ["runbook.py", "large"]),
)


def _run(args: list[str]) -> tuple[str, float]:
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(HERE / args[0]), *args[1:]], capture_output=True, text=True, check=True
    )
    return proc.stdout.strip(), time.perf_counter() - t0


def main(argv: list[str]) -> None:
    benches = BENCHES + (LARGE if "--large" in argv else ())
    cmd = "make bench" + (" ARGS=--large" if "--large" in argv else "")
    out = [
        "# Benchmark results",
        "",
        f"Produced by `{cmd}` (`.venv/bin/python bench/run.py {' '.join(argv)}`) on "
        f"{datetime.now():%Y-%m-%d %H:%M}, {platform.machine()}, Python "
        f"{platform.python_version()}, {os.cpu_count()} cores. Seconds are wall-clock on a "
        "shared, noisy machine; memory is each benchmark process's peak RSS.",
    ]
    for title, args in benches:
        print(f"running: {title}", file=sys.stderr)
        text, secs = _run(args)
        fence = not text.lstrip().startswith(("#", "|", "-"))
        out += ["", f"## {title}", "", f"`bench/{' '.join(args)}` — {secs:.0f} s in all", ""]
        out += ["```", text, "```"] if fence else [text]
    out += ["", "## Recorded separately (long runs)", ""]
    out += [f"- {title}: [{name}]({name}) (`bench/{script}`)" for title, name, script in RECORDED]
    (HERE / "RESULTS.md").write_text("\n".join(out) + "\n", encoding="utf-8")
    print("\n".join(out))


if __name__ == "__main__":
    main(sys.argv[1:])
