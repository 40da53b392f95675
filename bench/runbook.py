"""Time the whole runbook on one scale of the demo company: generate → import → metrics →
diagnose → report, each phase's seconds, and the process's peak memory.

Run: ``.venv/bin/python bench/runbook.py [small|medium|large]`` (medium by default).
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
from pathlib import Path


def main(scale: str) -> None:
    from eigyo import workspace
    from eigyo.base.periods import parse_period
    from eigyo.demo import generate
    from eigyo.diagnose import diagnose
    from eigyo.ingest import import_path
    from eigyo.metrics import compute
    from eigyo.runbook import build_report

    times: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        t0 = time.perf_counter()
        gen = generate(out / "data", scale=scale, seed=0)
        times["generate"] = time.perf_counter() - t0
        ws = workspace.init(out / "ws")
        t0 = time.perf_counter()
        rep = import_path(ws, gen.out_dir)
        times["import"] = time.perf_counter() - t0
        period = parse_period("FY2025")
        t0 = time.perf_counter()
        compute(ws, period)
        times["metrics_all"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        compute(ws, period, by="team")
        times["metrics_by_team"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        findings = diagnose(ws, period)
        times["diagnose"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        build_report(ws, period, out / "report.html")
        times["report_incl_metrics_diagnose"] = time.perf_counter() - t0
    print(json.dumps({
        "scale": scale, "rows_loaded": rep.loaded, "rows_rejected": rep.rejected,
        "opportunities": gen.counts["opportunities"], "activities": gen.counts["activities"],
        "seconds": {k: round(v, 2) for k, v in times.items()},
        "alarms": sum(f.severity in ("warn", "error") for f in findings),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }, ensure_ascii=False))  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "medium")
