"""What a diagnosis produces: findings, shaped exactly as the JSON contract in docs/cli-json.md."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Literal

from eigyo.base.currency import DEFAULT_CURRENCY, currency

STEPS = (
    "measure",
    "process",
    "specialization",
    "alignment",
    "enablement",
    "data",
    "organization",
    "monitor",
)
Severity = Literal["ok", "info", "warn", "error"]
SEVERITY_RANK: dict[str, int] = {"error": 3, "warn": 2, "info": 1, "ok": 0}


@dataclass
class Finding:
    """One check's verdict on one scope (the whole organization, a team, a rep, a stage …).

    ``cause`` and ``actions`` are kept in both languages; :meth:`to_json` renders one of them.
    """

    step: str
    check: str
    severity: Severity
    metric: str | None
    scope: dict[str, str]
    evidence: dict[str, Any]
    cause: dict[str, str]
    actions: list[dict[str, str]]
    impact_jpy: float | None = None
    title: dict[str, str] = field(default_factory=dict)
    unit: str | None = None  # unit of ``value``/``baseline`` in the evidence (ratio, days …)
    impact_formula: dict[str, str] = field(default_factory=dict)
    chart: str | None = None  # id of the report chart that shows it
    #: Currency of ``impact_jpy`` and of amounts in the evidence (the workspace's; the key's
    #: name is a contract, its amounts are not converted to yen).
    currency: str = DEFAULT_CURRENCY
    #: Ids of the other findings whose populations (deals, leads, reps) share records with this
    #: one's: their impacts are not additive (eigyo.diagnose.overlap).
    overlaps: list[str] = field(default_factory=list)
    #: What else tells this finding from another of the same check and scope, as part of its
    #: id: the import check states one finding per warning code of one column (a blank and an
    #: outlier amount), and both had one id — the records page and the overlaps could not tell
    #: them apart. Empty for the checks whose scope is their identity.
    distinct: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        """A stable, URL-safe id: the check and a digest of the scope (and of ``distinct``). The
        same check on the same scope has the same id in every run, so a link to a finding's
        records keeps working after a re-import (``eigyo diagnose --records ID``, the
        dashboard's evidence page)."""
        key = json.dumps(self.scope, sort_keys=True, ensure_ascii=False)
        if self.distinct:
            key += json.dumps(self.distinct, sort_keys=True, ensure_ascii=False)
        return f"{self.check}-{hashlib.sha1(key.encode(), usedforsecurity=False).hexdigest()[:8]}"

    @property
    def is_alarm(self) -> bool:
        return self.severity in ("warn", "error")

    def sort_key(self) -> tuple[int, float, int, str]:
        """Alarms first, ranked by impact (in the workspace currency) and then severity; then
        info, then ok. Ties are broken by the id, so two runs on the same data list the findings
        in the same order (the engine returns groups in no fixed order)."""
        tier = 0 if self.is_alarm else (1 if self.severity == "info" else 2)
        return (tier, -(self.impact_jpy or 0.0), -SEVERITY_RANK[self.severity], self.id)

    def _impact_rounded(self) -> float | int | None:
        """The impact to the currency's smallest unit people write (whole yen, cents)."""
        if self.impact_jpy is None:
            return None
        digits = currency(self.currency).decimals
        return round(self.impact_jpy) if digits == 0 else round(self.impact_jpy, digits)

    def to_json(self, lang: str = "ja") -> dict[str, Any]:
        return {
            "id": self.id,
            "step": self.step,
            "check": self.check,
            "severity": self.severity,
            "metric": self.metric,
            "scope": self.scope,
            "evidence": self.evidence,
            "cause": self.cause.get(lang, ""),
            "actions": [a.get(lang, "") for a in self.actions],
            "impact_jpy": self._impact_rounded(),
            "currency": self.currency,
            "title": self.title.get(lang, ""),
            "impact_formula": self.impact_formula.get(lang, ""),
            "chart": self.chart,
            "unit": self.unit,
            "overlaps": list(self.overlaps),
        }
