"""Step 5's document: ``eigyo enablement`` (ramp, onboarding, training effect, capability gaps,
coaching list), computed once for the command line and the dashboard."""

from __future__ import annotations

from typing import Any

from eigyo.analysis.availability import unavailable
from eigyo.analysis.document import StepDocument, unavailable_document
from eigyo.analysis.enablement import ramp as en
from eigyo.analysis.enablement import training as es
from eigyo.base.periods import Period
from eigyo.workspace import Workspace


def enablement_document(ws: Workspace, p: Period, label: str) -> StepDocument:
    """New-rep ramp and hires of ``p``; onboarding and training effect when trainings are
    recorded, capability gaps and coaching priorities when assessments are."""
    missing = unavailable(ws, ["enablement", "enablement.training", "enablement.capability"])
    if na := missing.pop("enablement", None):
        return unavailable_document(na, period=label)
    trained = "enablement.training" not in missing
    assessed = "enablement.capability" not in missing
    out: dict[str, Any] = {
        "ramp": en.ramp_curves(ws, p),
        "new_hires": en.new_hires(ws, p),
        "onboarding": en.onboarding_comparison(ws, p) if trained else None,
        "training_effect": es.training_effect(ws, p) if trained else None,
        "capability_gaps": es.capability_gaps(ws, p) if assessed else None,
        "coaching": es.coaching_priorities(ws, p) if assessed else None,
    }
    return StepDocument(
        head={"period": label, "currency": ws.settings.currency}, sections=out, missing=missing
    )
