"""Benchmark: `eigyo simulate --compare` on the small demo (target: under 30 s), and the backtest.

Run: .venv/bin/python bench/simulate.py [--replications N]. Generates the small demo into a
temporary folder, imports it, then times the comparison of every structure and prints the
FY2025 backtest next to the actual figures.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from eigyo import workspace
from eigyo.base.periods import parse_period
from eigyo.demo import generate
from eigyo.ingest import import_path
from eigyo.simulate import Options, compare, simulate


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--replications", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        generate(root / "csv", scale="small", seed=0)
        ws = workspace.init(root / "ws")
        import_path(ws, root / "csv")
        t0 = time.perf_counter()
        doc = compare(ws, Options(replications=args.replications))
        took = time.perf_counter() - t0
        print(
            f"compare: {took:.1f} s for {len(doc['structures'])} structures "
            f"x {args.replications} replications (target < 30 s)"
        )
        for d in doc["structures"]:
            o = d["outcomes"]
            r = o["lead_response_minutes"]
            print(
                f"  {d['structure']:<14} bookings {o['bookings']['mean'] / 1e6:8.1f}M "
                f"[{o['bookings']['low'] / 1e6:.1f}, {o['bookings']['high'] / 1e6:.1f}]  "
                f"won {o['won_deals']['mean']:7.1f}  "
                f"response {r['mean']:5.1f} min [{r['low']:.1f}, {r['high']:.1f}]"
            )
        t0 = time.perf_counter()
        bt = simulate(
            ws, Options("current", replications=args.replications, backtest=parse_period("FY2025"))
        )
        print(f"backtest FY2025 ({time.perf_counter() - t0:.1f} s):")
        for k, a in bt["actual"].items():
            m = bt["outcomes"][k]["mean"]
            print(f"  {k:<22} simulated {m:,.1f}  actual {a:,.1f}  gap {m / a - 1:+.1%}")
        ws.close()


if __name__ == "__main__":
    main()
