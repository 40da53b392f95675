"""Step 2's documents: ``eigyo process``, ``eigyo funnel`` and ``eigyo pipeline``.

Each function calls the step's analyses once and returns a :class:`StepDocument`; the command
line prints it (tables or ``--format json``) and the dashboard shows the same one, so the JSON
contract (``docs/cli-json.md``) has one author.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

from eigyo.analysis.availability import check, unavailable
from eigyo.analysis.document import StepDocument, unavailable_document
from eigyo.analysis.process.bottleneck import bottlenecks
from eigyo.analysis.process.dwell import stuck_deals, time_in_stage
from eigyo.analysis.process.funnel import funnel, leakage
from eigyo.analysis.process.pipeline import end_of, pipeline_by_stage, waterfall
from eigyo.analysis.process.process_map import process_map
from eigyo.analysis.process.rework import move_summary, skipped_stages
from eigyo.analysis.process.slippage import pushes
from eigyo.base.periods import Period
from eigyo.workspace import Workspace

#: Variants the process map lists unless told otherwise.
TOP_VARIANTS = 10


def process_document(
    ws: Workspace, p: Period | None, label: str | None = None, top_variants: int = TOP_VARIANTS
) -> StepDocument:
    """The process map of the opportunities created in ``p`` (all when None): stages,
    transitions and variants. ``label`` is the period as the caller named it.

    The map comes first and the data need (stage history) is checked only when it is empty: a
    map with a stage proves the history has rows, and the check's count query (with the pandas
    converter Ibis loads to read it) is a tenth of a second that ``eigyo process`` need not pay.
    """
    pm = process_map(ws, p, top_variants=top_variants)
    if not pm.stages and (na := check(ws, "process")):
        return unavailable_document(na, period=label)
    return StepDocument(sections=pm.to_json(), source=pm)


def step2_report(ws: Workspace, p: Period, by: str | None) -> dict[str, Any]:
    """Everything ``eigyo funnel`` shows, as plain JSON-ready data."""
    f = funnel(ws, p, by)
    return {
        "by": by,
        "created": f.created,
        "funnel": [asdict(s) for s in f.steps],
        "leakage": [asdict(x) for x in leakage(ws, p, by)],
        "time_in_stage": [asdict(d) for d in time_in_stage(ws, p, by)],
        "bottlenecks": [asdict(b) for b in bottlenecks(ws, p)],
        "rework": {"moves": move_summary(ws, p), "skipped": skipped_stages(ws, p)},
    }


def funnel_document(ws: Workspace, p: Period, label: str, by: str | None) -> StepDocument:
    """The cohort funnel of opportunities created in ``p``: leakage, time in stage,
    bottlenecks and rework (``lost_jpy`` / ``impact_jpy`` are amounts in ``currency``)."""
    if na := check(ws, "funnel"):
        return unavailable_document(na, period=label, by=by)
    return StepDocument(
        head={"period": label, "currency": ws.settings.currency},
        sections=step2_report(ws, p, by),
    )


def pipeline_document(
    ws: Workspace,
    day: date,
    start: date | None = None,
    window: Period | None = None,
    p: Period | None = None,
) -> StepDocument:
    """The pipeline as of ``day`` by stage, its stuck deals, the waterfall from ``start`` and
    the close-date pushes in ``p``; every amount is in ``currency``."""
    wanted = ["pipeline", "pipeline.stuck"] + (["pipeline.slippage"] if p else [])
    missing = unavailable(ws, wanted)
    if na := missing.pop("pipeline", None):
        return unavailable_document(na, as_of=day.isoformat())
    doc: dict[str, Any] = {
        "as_of": day.isoformat(),
        "by_stage": pipeline_by_stage(ws, day, window),
        "stuck": None if "pipeline.stuck" in missing else stuck_deals(ws, end_of(day)),
    }
    if start is not None:
        doc["waterfall"] = waterfall(ws, start, day, window).to_json()
    if p is not None and "pipeline.slippage" not in missing:
        doc["slippage"] = {"rep_id": pushes(ws, p, "rep_id"), "team": pushes(ws, p, "team")}
    return StepDocument(sections=doc, tail={"currency": ws.settings.currency}, missing=missing)
