"""``make bench``: run the benchmarks and write bench/RESULTS.md with the command that made it.

Each benchmark runs in its own process (peak memory is per process). ``--large`` adds the
1M-opportunity scale, which takes minutes and several GB of disk.
"""

from __future__ import annotations

import platform
import subprocess
import sys
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).parent


def _run(args: list[str]) -> list[str]:
    proc = subprocess.run([sys.executable, *args], capture_output=True, text=True, check=True)
    return [line for line in proc.stdout.splitlines() if line.startswith("{")]


def main(argv: list[str]) -> None:
    scales = ["medium", "large"] if "--large" in argv else ["medium"]
    lines: list[str] = []
    for scale in scales:
        print(f"generator: {scale}", file=sys.stderr)
        lines += _run([str(HERE / "gen_demo.py"), scale])
        print(f"spine: {scale}", file=sys.stderr)
        lines += _run([str(HERE / "spine.py"), scale])
    cmd = "make bench" + (" ARGS=--large" if "--large" in argv else "")
    text = [
        "# Benchmark results",
        "",
        f"Produced by `{cmd}` (`.venv/bin/python bench/run.py {' '.join(argv)}`) on "
        f"{datetime.now():%Y-%m-%d %H:%M}, {platform.machine()}, Python "
        f"{platform.python_version()}, {_cores()} cores. One JSON line per benchmark; seconds "
        "are wall-clock, memory is the benchmark process's peak RSS.",
        "",
        "```json",
        *lines,
        "```",
        "",
    ]
    (HERE / "RESULTS.md").write_text("\n".join(text), encoding="utf-8")
    print("\n".join(lines))


def _cores() -> int:
    import os

    return os.cpu_count() or 1


if __name__ == "__main__":
    main(sys.argv[1:])
