"""Time the demo generator at medium and large scale: seconds, rows per second, peak memory.

Run: ``.venv/bin/python bench/gen_demo.py [medium] [large]`` (both by default). Each scale runs in
a fresh child process so that its peak resident memory (ru_maxrss) is its own.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _one(scale: str) -> None:
    from eigyo.demo import generate

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        res = generate(Path(tmp), scale=scale, seed=0)
        secs = time.perf_counter() - t0
        size = sum(f.stat().st_size for f in Path(tmp).glob("*.csv"))
    rows = sum(res.counts.values())
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({
        "scale": scale, "seconds": round(secs, 1), "rows": rows,
        "rows_per_second": round(rows / secs), "csv_mb": round(size / 2**20),
        "peak_rss_mb": round(peak_mb), "counts": res.counts,
    }, ensure_ascii=False))  # fmt: skip


def main(argv: list[str]) -> None:
    if argv[:1] == ["--child"]:
        _one(argv[1])
        return
    for scale in argv or ["medium", "large"]:
        subprocess.run([sys.executable, __file__, "--child", scale], check=True)


if __name__ == "__main__":
    main(sys.argv[1:])
