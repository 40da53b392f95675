"""How often do eigyo's control charts cry wolf, and how fast do they see a real shift?

Simulates series of a metric (normal noise, or Poisson counts for a small team's weekly deals),
a baseline of ``BASELINE`` periods and ``RECENT`` monitored periods, over many seeds:

- false alarms: stable series (no shift); share of series with any alert in the monitored
  periods, and alerts per monitored period;
- detection delay: a step shift of k sigma starting at the first monitored period; the number
  of periods until the first alert (1 = the very first shifted period), median and 90th
  percentile, and the share detected within the monitored periods.

Prints one markdown section (paste it into bench/RESULTS.md). Run:
``.venv/bin/python bench/monitor_alarms.py [--seeds 2000]``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import numpy as np

from eigyo.monitor.control import ALL_RULES, DEFAULT_RULES, Method, chart, first_signal

BASELINE, RECENT = 26, 12
SHIFTS = (1.0, 2.0, 3.0)
Gen = Callable[[np.random.Generator, float], np.ndarray]


def _normal(rng: np.random.Generator, shift: float) -> np.ndarray:
    x = rng.normal(0.0, 1.0, BASELINE + RECENT)
    x[BASELINE:] += shift
    return x


def _poisson(rng: np.random.Generator, shift: float) -> np.ndarray:
    """Weekly counts with mean 6 (sigma ≈ 2.45); the shift is in those sigmas."""
    lam = np.full(BASELINE + RECENT, 6.0)
    lam[BASELINE:] = np.maximum(0.1, 6.0 + shift * np.sqrt(6.0))
    return rng.poisson(lam).astype(float)


VARIANTS: dict[str, tuple[Method, tuple[str, ...]]] = {
    "ewma λ=0.2 L=3 (default)": ("ewma", ()),
    "shewhart, Western Electric 1–4": ("shewhart", DEFAULT_RULES),
    "shewhart, WE 1–4 + trend of 6": ("shewhart", ALL_RULES),
    "shewhart, 3 sigma only": ("shewhart", ("beyond_3sigma",)),
}


def _first(x: np.ndarray, method: Method, rules: tuple[str, ...]) -> int | None:
    labels = [str(i) for i in range(len(x))]
    c = chart(labels, list(x), recent=RECENT, method=method, rules=rules)
    return first_signal(c, BASELINE)


def measure(gen: Gen, variant: tuple[Method, tuple[str, ...]], seeds: int) -> dict[str, float]:
    """False-alarm and detection figures for one generator and one chart variant."""
    method, rules = variant
    out: dict[str, float] = {}
    alarms = 0
    per_point = 0
    for s in range(seeds):
        x = gen(np.random.default_rng(s), 0.0)
        labels = [str(i) for i in range(len(x))]
        c = chart(labels, list(x), recent=RECENT, method=method, rules=rules)
        alarms += bool(c.signals)
        per_point += len({sig.index for sig in c.signals})
    out["fa_series"] = alarms / seeds
    out["fa_point"] = per_point / (seeds * RECENT)
    for k in SHIFTS:
        delays = []
        for s in range(seeds):
            f = _first(gen(np.random.default_rng(10_000 + s), k), method, rules)
            delays.append(np.inf if f is None else f - BASELINE + 1)
        d = np.asarray(delays)
        out[f"p50_{k}"] = float(np.median(d))
        out[f"p90_{k}"] = float(np.quantile(d, 0.9, method="higher"))
        out[f"hit_{k}"] = float(np.mean(np.isfinite(d)))
    return out


def _fmt(v: float) -> str:
    return "never" if not np.isfinite(v) else f"{v:g}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=2000)
    seeds = ap.parse_args().seeds
    print("## Monitor: false alarms and detection delay (bench/monitor_alarms.py)\n")
    print(
        f"{seeds} seeds per row; baseline {BASELINE} periods, {RECENT} monitored periods; "
        "shift of k sigma from the first monitored period; delay in periods (1 = the first "
        "shifted period), median / 90th percentile, and the share detected within "
        f"{RECENT} periods.\n"
    )
    head = "| series | chart | false alarm: series | per period |"
    for k in SHIFTS:
        head += f" {k:g}σ delay p50/p90 (found) |"
    print(head)
    print("|" + "---|" * (4 + len(SHIFTS)))
    for gname, gen in (("normal", _normal), ("poisson λ=6", _poisson)):
        for vname, variant in VARIANTS.items():
            r = measure(gen, variant, seeds)
            row = f"| {gname} | {vname} | {r['fa_series']:.1%} | {r['fa_point']:.2%} |"
            for k in SHIFTS:
                row += f" {_fmt(r[f'p50_{k}'])}/{_fmt(r[f'p90_{k}'])} ({r[f'hit_{k}']:.0%}) |"
            print(row)


if __name__ == "__main__":
    main()
