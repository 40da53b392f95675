"""Backtest figures of the step-6 models on the demo company (and the CDNOW known answer).

Run: ``.venv/bin/python bench/data_models.py [--scale small] [--seed 0]``. Prints one markdown
section for ``bench/RESULTS.md``: time-split AUC/Brier of win probability against the stage-only
baseline, monthly forecast accuracy and MAPE against the naive three-month mean, ICP validation on
the later window, the BG/NBD and Gamma-Gamma fits, and the RFM clusters. Fixed seeds throughout.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from eigyo import workspace
from eigyo.analysis.data import clv, customers, forecast, icp, segments, winprob
from eigyo.base.periods import parse_period
from eigyo.demo import generate
from eigyo.ingest import import_path

CDNOW = Path("/work/shared/data/cdnow-clv/cdnow_customers_summary_with_transactions.csv")


def f(v: float | None, d: int = 3) -> str:
    return "—" if v is None else f"{v:.{d}f}"


def timed(fn: Any) -> tuple[Any, float]:
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def winprob_section(ws: workspace.Workspace, snaps: winprob.Snapshots) -> list[str]:
    bt, s = timed(lambda: winprob.backtest(ws, snaps=snaps))
    out = ["### Win probability (time-split backtest, quarterly cutoffs)", "",
           "| cutoff | train | test | AUC | Brier | AUC stage-only | Brier stage-only |",
           "|---|---|---|---|---|---|---|"]  # fmt: skip
    for r in bt["cutoffs"]:
        out.append(
            f"| {r['cutoff']} | {r['train']:,} | {r['test']:,} | {f(r['auc'])} | "
            f"{f(r['brier'])} | {f(r['baseline_auc'])} | {f(r['baseline_brier'])} |"
        )
    p = bt["pooled"]
    out += ["", f"Pooled over {p['n']:,} deals: AUC **{f(p['auc'])}**, Brier **{f(p['brier'])}** "
            f"(stage only: AUC {f(p['baseline_auc'])}, Brier {f(p['baseline_brier'])}); {s:.1f} s.",
            "", "Calibration: " + ", ".join(
                f"{c['low']:.1f}–{c['high']:.1f}: {c['predicted']:.2f}→{c['observed']:.2f} "
                f"(n={c['n']})" for c in bt["calibration"]), ""]  # fmt: skip
    return out


def forecast_section(ws: workspace.Workspace, snaps: winprob.Snapshots) -> list[str]:
    bt, s = timed(lambda: forecast.backtest(ws, snaps))
    out = ["### Forecast (monthly backtest, made the day before each month)", "",
           "| month | actual ¥ | forecast ¥ | naive ¥ | error | coverage |",
           "|---|---|---|---|---|---|"]  # fmt: skip
    for r in bt["months"]:
        err = (r["forecast"] - r["actual"]) / r["actual"] if r["actual"] else None
        out.append(
            f"| {r['month']} | {r['actual']:,.0f} | {r['forecast']:,.0f} | "
            f"{r['naive'] or 0:,.0f} | {f(err, 3)} | {f(r['coverage'], 2)} |"
        )
    m = bt["summary"]
    out += ["", f"{m['months']} months: accuracy **{f(m['accuracy'])}**, MAPE **{f(m['mape'])}**, "
            f"bias {f(m['bias'])}; naive 3-month mean: accuracy {f(m['naive_accuracy'])}, "
            f"MAPE {f(m['naive_mape'])}; {s:.1f} s.", ""]  # fmt: skip
    return out


def other_sections(ws: workspace.Workspace) -> list[str]:
    seg, s1 = timed(lambda: segments.segments(ws, parse_period("FY2025")))
    flagged = [f"{x['dimension']}={x['value']} {x['verdict']} ({x['win_rate']:.0%}, "
               f"q={x['q_value']:.1e})" for x in seg["segments"] if x["verdict"] in
               ("better", "worse")]  # fmt: skip
    ic, s2 = timed(lambda: icp.icp_report(ws))
    v = ic["validation"]
    lt, s3 = timed(lambda: clv.ltv_report(ws, date(2026, 3, 31), "week"))
    cu, s4 = timed(lambda: customers.segment_customers(ws, date(2026, 3, 31), "en"))
    bg, gg = lt["bg_nbd"], lt["gamma_gamma"]
    return [
        "### Segments (FY2025, BH q < 0.05)", "",
        f"{seg['closed']:,} closed deals, {s1:.1f} s. Flagged: " + "; ".join(flagged) + ".", "",
        "### ICP fit score (validated on the later 30% of decided accounts)", "",
        f"{v['train']:,} train / {v['test']:,} test accounts (split {v['split_day']}): AUC "
        f"**{f(v['auc'])}**, Brier {f(v['brier'])} vs base rate {f(v['baseline_brier'])}; "
        f"permutation importance: " + ", ".join(
            f"{p['feature']} {p['auc_drop']:.3f}" for p in v["permutation_importance"]) +
        "; ROAD: " + ", ".join(f"{r['class']} {r['accounts']:,}" for r in ic["road"]) +
        f"; {s2:.1f} s.", "",
        "### Customer value (orders up to 2026-03-31, weekly units)", "",
        f"BG/NBD r={bg['r']:.3f} α={bg['alpha']:.2f} a={bg['a']:.3f} b={bg['b']:.3f}; "
        f"Gamma-Gamma p={gg['p']:.2f} q={gg['q']:.2f} v={gg['v']:,.0f}; "
        f"{lt['fit']['customers']:,} customers ({lt['fit']['repeat_customers']:,} repeat), "
        f"12-month discounted CLV ¥{lt['totals']['clv']:,.0f}; {s3:.1f} s.", "",
        f"RFM: k={cu['k']} (silhouette " + ", ".join(
            f"{k}: {x:.2f}" for k, x in cu["silhouette"].items()) + "); " + "; ".join(
            f"{x['label']} {x['customers']:,}" for x in cu["segments"]) + f"; {s4:.1f} s.", "",
    ]  # fmt: skip


def cdnow_section() -> list[str]:
    if not CDNOW.exists():
        return []
    import pyarrow.csv as pacsv

    d = pacsv.read_csv(CDNOW)
    x, tx, T, z = (d[c].to_numpy().astype(float) for c in ("x", "t_x", "T", "zbar"))
    bg, gg = clv.fit_bg_nbd(x, tx, T), clv.fit_gamma_gamma(x, z)
    return [
        "### CDNOW known answer (2,357 customers, 39-week calibration)", "",
        "| parameter | fitted | published |", "|---|---|---|",
        *(f"| BG/NBD {k} | {getattr(bg, k):.4f} | {v} |" for k, v in
          {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}.items()),
        *(f"| Gamma-Gamma {k} | {getattr(gg, k):.4f} | {v} |" for k, v in
          {"p": 6.25, "q": 3.74, "v": 15.44}.items()), "",
    ]  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", default="small")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="eigyo-bench-data-"))
    try:
        gen = generate(root / "data", scale=args.scale, seed=args.seed)
        ws = workspace.init(root / "ws")
        import_path(ws, gen.out_dir)
        snaps = winprob.Snapshots(ws)
        lines = [f"## Step 6 models on the demo company (scale {args.scale}, seed {args.seed})", ""]
        lines += winprob_section(ws, snaps) + forecast_section(ws, snaps)
        lines += other_sections(ws) + cdnow_section()
        ws.close()
        sys.stdout.write("\n".join(lines) + "\n")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
