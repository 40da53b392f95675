"""A synthetic sales event log for the process-map benchmark (``bench/process_map.py``).

Cases walk a small Markov chain over ten sales activities, from ``Lead`` until ``Closed Won`` or
``Closed Lost`` (a case still open after :data:`MAX_LEN` events is closed lost). ``Call``,
``Email`` and ``Meeting`` repeat themselves (self-loops) and deals move backwards (``Negotiation``
→ ``Proposal``), so the directly-follows graph has loops and rework, as real logs do.

Timestamps strictly increase within a case (whole seconds, gaps of at least one second), so the
log has no ties in time and every tool must agree on the order of each case's events. Rows are
written sorted by timestamp across all cases, as an export would list them, not grouped by case.

Everything is vectorized with numpy: the only Python loop runs over the step number (at most
:data:`MAX_LEN` iterations), never over cases or events. The same ``(n_events, seed)`` always
gives the same log.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

ACTIVITIES: tuple[str, ...] = (
    "Lead",
    "Qualify",
    "Call",
    "Email",
    "Meeting",
    "Demo",
    "Proposal",
    "Negotiation",
    "Closed Won",
    "Closed Lost",
)
WON, LOST = 8, 9
MAX_LEN = 40
REPS = 300
START = np.datetime64("2023-04-01T00:00:00", "s")
SPAN_S = 2 * 365 * 86_400

#: Row = from-activity, column = to-activity; rows of the two closed states are never used.
TRANSITIONS = np.array(
    [
        # Lead Qual  Call  Email Meet  Demo  Prop  Nego  Won   Lost
        [0.00, 0.55, 0.20, 0.15, 0.00, 0.00, 0.00, 0.00, 0.00, 0.10],  # Lead
        [0.00, 0.00, 0.30, 0.20, 0.30, 0.00, 0.00, 0.00, 0.00, 0.20],  # Qualify
        [0.00, 0.05, 0.25, 0.20, 0.30, 0.05, 0.00, 0.00, 0.00, 0.15],  # Call
        [0.00, 0.05, 0.25, 0.15, 0.25, 0.05, 0.05, 0.00, 0.00, 0.20],  # Email
        [0.00, 0.00, 0.10, 0.10, 0.10, 0.35, 0.25, 0.00, 0.00, 0.10],  # Meeting
        [0.00, 0.00, 0.10, 0.10, 0.10, 0.00, 0.55, 0.00, 0.00, 0.15],  # Demo
        [0.00, 0.00, 0.10, 0.10, 0.05, 0.00, 0.05, 0.45, 0.10, 0.15],  # Proposal
        [0.00, 0.00, 0.05, 0.05, 0.05, 0.00, 0.20, 0.05, 0.40, 0.20],  # Negotiation
        [0.00, 0.00, 0.00, 0.00, 0.00, 0.00, 0.00, 0.00, 1.00, 0.00],  # Closed Won
        [0.00, 0.00, 0.00, 0.00, 0.00, 0.00, 0.00, 0.00, 0.00, 1.00],  # Closed Lost
    ]
)
#: Mean hours from the previous event to an event of this activity (exponential gaps).
MEAN_GAP_H = np.array([1.0, 30.0, 20.0, 12.0, 72.0, 96.0, 120.0, 96.0, 72.0, 150.0])


def walk(n_cases: int, rng: np.random.Generator) -> np.ndarray:
    """Activity codes per case and step, shape (n_cases, MAX_LEN); -1 after the case ended."""
    cum = TRANSITIONS.cumsum(axis=1)
    cum[:, -1] = 1.0
    acts = np.full((n_cases, MAX_LEN), -1, dtype=np.int8)
    acts[:, 0] = 0
    state = np.zeros(n_cases, dtype=np.int64)
    alive = np.ones(n_cases, dtype=bool)
    for step in range(1, MAX_LEN):
        idx = np.flatnonzero(alive)
        if idx.size == 0:
            break
        u = rng.random(idx.size)
        nxt = (u[:, None] >= cum[state[idx]]).sum(axis=1)
        if step == MAX_LEN - 1:
            nxt = np.where((nxt == WON) | (nxt == LOST), nxt, LOST)
        acts[idx, step] = nxt
        state[idx] = nxt
        alive[idx] = (nxt != WON) & (nxt != LOST)
    return acts


def generate(n_events: int, seed: int = 2012) -> pl.DataFrame:
    """Exactly ``n_events`` events: columns case_id, activity, timestamp (datetime), resource.

    Cases are simulated until there are enough events; the last case kept may be cut short
    (a prefix of its walk), which leaves it an open case, as in any extract.
    """
    rng = np.random.default_rng(seed)
    acts = np.empty((0, MAX_LEN), dtype=np.int8)
    while (acts >= 0).sum() < n_events:
        need = n_events - int((acts >= 0).sum())
        acts = np.vstack([acts, walk(max(1_000, int(need / 5.5 * 1.05)), rng)])
    case, step = np.nonzero(acts >= 0)  # row-major: by case, then step
    case, step = case[:n_events], step[:n_events]
    act = acts[case, step].astype(np.int64)
    n_cases = int(case[-1]) + 1
    start = rng.integers(0, SPAN_S, n_cases)
    gap = np.maximum(1, np.rint(rng.exponential(MEAN_GAP_H[act] * 3600.0))).astype(np.int64)
    gap[step == 0] = 0
    # cumulative gap within each case: global cumsum minus the cumsum before the case's first event
    total = np.cumsum(gap)
    first = np.flatnonzero(step == 0)
    offset = total - np.repeat(total[first] - gap[first], np.diff(np.append(first, n_events)))
    ts = START + (start[case] + offset).astype("timedelta64[s]")
    owner = rng.integers(0, REPS, n_cases)
    res = np.where(rng.random(n_events) < 0.8, owner[case], rng.integers(0, REPS, n_events))
    order = np.argsort(ts, kind="stable")  # an export lists events by time, not by case
    frame = pl.DataFrame(
        {
            "case": case[order],
            "act": act[order],
            "timestamp": ts[order].astype("datetime64[us]"),
            "res": res[order],
        }
    )
    names = dict(enumerate(ACTIVITIES))
    return frame.select(
        pl.format("C{}", pl.col("case").cast(pl.String).str.zfill(8)).alias("case_id"),
        pl.col("act").replace_strict(names, return_dtype=pl.String).alias("activity"),
        pl.col("timestamp"),
        pl.format("r{}", pl.col("res").cast(pl.String).str.zfill(3)).alias("resource"),
    )


def write_csv(path: Path, n_events: int, seed: int = 2012) -> pl.DataFrame:
    """Generate the log and write it as a UTF-8 event-log CSV (timestamps without offset)."""
    frame = generate(n_events, seed)
    frame.write_csv(path, datetime_format="%Y-%m-%d %H:%M:%S")
    return frame


def directly_follows(frame: pl.DataFrame) -> pl.DataFrame:
    """Reference DFG of a generated log (polars, independent of eigyo and PM4Py): from, to,
    count and median days between the two events; the log is tie-free, so the order is unique."""
    f = frame.sort(["case_id", "timestamp"]).with_columns(
        pl.col("activity").shift(-1).over("case_id").alias("next"),
        pl.col("timestamp").shift(-1).over("case_id").alias("next_ts"),
    )
    f = f.filter(pl.col("next").is_not_null())
    days = (pl.col("next_ts") - pl.col("timestamp")).dt.total_seconds() / 86_400
    return (
        f.group_by("activity", "next")
        .agg(pl.len().alias("count"), days.median().alias("median_days"))
        .rename({"activity": "from", "next": "to"})
        .sort("from", "to")
    )
