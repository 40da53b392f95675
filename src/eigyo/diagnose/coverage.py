"""Data coverage: which checks of this diagnosis could not judge, and why.

"Not available" (the data a check needs is absent) and "not enough data" (too few records to
test) are not "ok": a director reading "no problem found" must know which parts of the
organization were never looked at. This finding gathers them in one place — "not checked" with
each reason — and is information, never an alarm and never "ok" while a check is missing.
"""

from __future__ import annotations

from typing import Any

from eigyo.diagnose.checks import Check
from eigyo.diagnose.model import Finding
from eigyo.diagnose.playbook import plain_finding, playbook
from eigyo.i18n import LANGS

#: The statuses that mean a check did not judge.
NOT_CHECKED = ("not_available", "insufficient", "partial_baseline", "no_snapshot")


def run_coverage(check: Check, findings: list[Finding]) -> Finding:
    """One finding listing the checks that did not judge (with their reasons)."""
    judged: dict[str, str] = {}
    for f in findings:
        status = str(f.evidence.get("status", "judged"))
        if f.check == check.id:
            continue
        if status in NOT_CHECKED:
            judged.setdefault(f.check, status)
        else:
            judged[f.check] = "judged"
    missing: list[dict[str, Any]] = []
    for f in findings:
        if judged.get(f.check) in NOT_CHECKED and f.evidence.get("status") in NOT_CHECKED:
            item = {"check": f.check, "status": f.evidence["status"]}
            if "needs" in f.evidence:
                item["needs"] = f.evidence["needs"]
            missing.append(item)
            judged[f.check] = "listed"
    ran = len(judged)
    ev: dict[str, Any] = {"checks": ran, "not_checked": missing, "checked": ran - len(missing)}
    if not missing:
        return plain_finding(check, "all_checked", ev)
    labels = {
        lang: "、".join(playbook()[m["check"]]["label"][lang] for m in missing)
        if lang == "ja"
        else ", ".join(playbook()[m["check"]]["label"][lang] for m in missing)
        for lang in LANGS
    }
    texts: dict[str, Any] = {
        lang: {"checks_text": labels[lang], "missing": len(missing)} for lang in LANGS
    }
    return plain_finding(check, "not_checked", ev, texts)
