"""Generate the demo company: chunk by chunk, each chunk a few sections of the template company.

Each chunk draws from its own random stream (spawned from the seed and the chunk number), builds
its teams, leads, deals and people with vectorized numpy, and is appended to the CSV files before
the next one starts, so memory stays bounded at any scale and the same seed gives the same bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from eigyo.demo import _people, _tables, _truth
from eigyo.demo._accounts import build_accounts
from eigyo.demo._activities import Acts, deal_activities, lead_activities
from eigyo.demo._config import CLEAN, COMPANY, END, PLANTED, SCALES, START, Plant
from eigyo.demo._deals import build_deals
from eigyo.demo._history import changes, expected_dates, stage_rows
from eigyo.demo._leads import build_leads
from eigyo.demo._orders import build_orders
from eigyo.demo._org import build_org
from eigyo.demo._stages import build_flow
from eigyo.demo._tables import Offsets
from eigyo.demo._writer import CsvSink
from eigyo.errors import InputError

TRUTH_FILE = "truth.json"


@dataclass(frozen=True)
class DemoResult:
    """Where the demo company was written and how many rows each table got."""

    out_dir: Path
    truth_path: Path
    counts: dict[str, int]
    company: str


def _concat(a: Acts, b: Acts) -> Acts:
    parts = [
        np.concatenate([x, y]) for x, y in zip(vars(a).values(), vars(b).values(), strict=True)
    ]
    return Acts(*parts)


def _chunk(
    rng: np.random.Generator, span: tuple[int, int, int], plant: Plant, off: Offsets, sink: CsvSink
) -> None:
    """Generate sections ``first .. first+count-1`` of ``total`` and append their rows."""
    first, count, total = span
    org = build_org(rng, first, count, total, plant)
    leads = build_leads(rng, org, plant)
    acc = build_accounts(rng, org, leads)
    deals = build_deals(rng, org, leads, acc, plant)
    flow = build_flow(rng, org, deals, plant)
    dts = expected_dates(rng, org, deals, flow, plant)
    stages = stage_rows(deals, flow)
    chg, amount = changes(rng, deals, flow, dts, stages)
    acts = _concat(deal_activities(rng, deals, flow), lead_activities(rng, leads))
    orders = build_orders(rng, deals, flow, amount)
    keep = _tables.keep_rows(leads, deals, flow)
    deal_of_lead = np.full(leads.n, -1, dtype=np.int64)
    has = deals.lead >= 0
    deal_of_lead[deals.lead[has]] = np.flatnonzero(has)
    frames = {
        "reps": _tables.reps(org, off),
        "quotas": _tables.people("quotas", _people.quotas(org, plant), off),
        "accounts": _tables.accounts(rng, acc, off),
        "leads": _tables.leads(leads, keep, deal_of_lead, off),
        "opportunities": _tables.opportunities(deals, flow, dts, amount, keep, off),
        "stage_history": _tables.stage_history(stages, keep, off),
        "opportunity_changes": _tables.opportunity_changes(chg, keep, off),
        "activities": _tables.activities(acts, keep, off),
        "time_entries": _tables.people("time_entries", _people.time_entries(rng, org, plant), off),
        "trainings": _tables.people("trainings", _people.trainings(rng, org), off),
        "assessments": _tables.people("assessments", _people.assessments(rng, org), off),
        "orders": _tables.orders(orders, keep, off),
    }
    for name, df in frames.items():
        sink.write(name, df)
    for kind, name in (
        ("rep", "reps"),
        ("account", "accounts"),
        ("lead", "leads"),
        ("opportunity", "opportunities"),
        ("activity", "activities"),
        ("order", "orders"),
    ):
        off.n[kind] += frames[name].height


def generate(
    out_dir: Path, *, scale: str = "small", seed: int = 0, clean: bool = False
) -> DemoResult:
    """Write the demo company's thirteen canonical CSV files and ``truth.json`` into ``out_dir``.

    The same ``scale``, ``seed`` and ``clean`` always give byte-identical files. ``clean=True``
    plants no problem: every team follows the same parameters and no intervention is recorded.
    """
    if scale not in SCALES:
        raise InputError(f"Unknown scale {scale!r}. Use one of: {', '.join(SCALES)}.")
    if not isinstance(seed, int) or seed < 0:
        raise InputError(f"seed must be a non-negative integer; got {seed!r}")
    sc = SCALES[scale]
    plant = CLEAN if clean else PLANTED
    out_dir = Path(out_dir)
    sink = CsvSink(out_dir)
    off = Offsets()
    try:
        streams = np.random.SeedSequence(seed).spawn((sc.replicas + sc.chunk - 1) // sc.chunk)
        for i, stream in enumerate(streams):
            first = i * sc.chunk
            count = min(sc.chunk, sc.replicas - first)
            _chunk(np.random.default_rng(stream), (first, count, sc.replicas), plant, off, sink)
        sink.write(
            "interventions",
            pl.DataFrame(
                _truth.interventions(plant, sc.replicas),
                schema=["intervention_id", "name", "started_at", "scope", "description"],
            ),
        )
    finally:
        sink.close()
    doc = _truth.document(COMPANY, seed, scale, clean, plant, sc.replicas, START, END)
    truth_path = out_dir / TRUTH_FILE
    truth_path.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return DemoResult(out_dir, truth_path, dict(sink.counts), COMPANY)
