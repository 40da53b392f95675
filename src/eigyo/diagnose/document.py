"""The diagnosis as a document: what ``eigyo diagnose --format json`` prints and
``/api/findings`` answers (docs/cli-json.md).

Its own module, not the runbook's: the runbook imports the report and its charts (and through
the forecast scikit-learn), ~0.7 s that a command printing findings does not need (issue 20)."""

from __future__ import annotations

from typing import Any

from eigyo.diagnose.model import Finding
from eigyo.diagnose.overlap import non_overlapping_total


def findings_document(
    label: str, currency: str, findings: list[Finding], lang: str = "ja"
) -> dict[str, Any]:
    """The diagnosis as ``eigyo diagnose --format json`` prints it and ``/api/findings``
    answers (docs/cli-json.md): the period as the caller named it (``label``), the currency of
    the impacts, and every finding in ``lang``."""
    total, counted, skipped = non_overlapping_total(findings)
    return {
        "period": label,
        "currency": currency,
        "findings": [f.to_json(lang) for f in findings],
        # the ¥ of the alarms whose records do not overlap (eigyo.diagnose.overlap)
        "at_stake": {"impact_jpy": round(total), "counted": counted, "overlapping": skipped},
    }
