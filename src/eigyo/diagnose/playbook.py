"""Playbook texts (``playbook.toml``): each check's title, cause and actions in ja and en.

Placeholders are filled from the finding's scope and evidence; ``{value}`` and ``{baseline}`` are
pre-formatted in the check's unit so the texts stay free of formatting code.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from string import Formatter
from typing import Any

from eigyo.base.currency import DEFAULT_CURRENCY
from eigyo.base.formatting import format_value, p_value
from eigyo.base.vocabulary import STALE_DAYS
from eigyo.diagnose.checks import Check
from eigyo.diagnose.model import Finding, Severity
from eigyo.i18n import LANGS
from eigyo.metrics import Reason

Texts = tuple[dict[str, str], dict[str, str], list[dict[str, str]]]


@cache
def playbook() -> dict[str, dict[str, Any]]:
    text = resources.files(__package__).joinpath("playbook.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


#: Code values shown inside sentences, per language.
VALUE_LABELS: dict[str, dict[str, dict[str, str]]] = {
    "type": {
        "new": {"ja": "新規", "en": "new-business"},
        "expansion": {"ja": "アップセル", "en": "expansion"},
        "renewal": {"ja": "更新", "en": "renewal"},
    },
    # the history baseline a finding compares with (eigyo.analysis.common.history_period)
    "baseline_which": {
        "year_ago": {"ja": "前年同期", "en": "the same period a year before"},
        "previous": {"ja": "前期", "en": "the previous period"},
    },
}


def _labelled(values: dict[str, Any], lang: str) -> dict[str, Any]:
    out = dict(values)
    for key, labels in VALUE_LABELS.items():
        if isinstance(out.get(key), str) and out[key] in labels:
            out[key] = labels[out[key]][lang]
    return out


def _q_text(q: object) -> str:
    """``q=0.0012`` or ``q<0.001``: tiny q-values read as a bound, not as zero."""
    text = p_value(q if isinstance(q, int | float) else None, 2)
    return "q" + (text if text.startswith("<") else "=" + text)


class _Lenient(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _fill(template: str, values: dict[str, Any]) -> str:
    return Formatter().vformat(template, (), _Lenient(values))


def finding_texts(
    check: Check,
    scope: dict[str, str],
    evidence: dict[str, Any],
    variant: str | None = None,
    unit: str | None = None,
    currency: str = DEFAULT_CURRENCY,
) -> Texts:
    """Title, cause and actions of a finding in both languages (amounts in ``currency``)."""
    entry = playbook()[check.id]
    if variant is not None:
        entry = {**entry, **entry.get(variant, {})}
    out: dict[str, dict[str, str]] = {"title": {}, "cause": {}}
    actions: list[dict[str, str]] = [{} for _ in entry.get("actions", [])]
    for lang in LANGS:
        values = _labelled(
            {
                "stale_days": STALE_DAYS,  # the one threshold the stale_deals sample uses
                **evidence,
                **scope,
                "value": format_value(evidence.get("value"), unit or check.unit, lang, currency),
                "baseline": format_value(
                    evidence.get("baseline"), unit or check.unit, lang, currency
                ),
                "q": _q_text(evidence.get("q_value")),
            },
            lang,
        )
        for field in ("title", "cause"):
            out[field][lang] = _fill(entry[field][lang], values)
        for i, a in enumerate(entry.get("actions", [])):
            actions[i][lang] = _fill(a[lang], values)
    return out["title"], out["cause"], actions


def plain_finding(
    check: Check, kind: str, evidence: dict[str, Any], texts: dict[str, Any] | None = None
) -> Finding:
    """An "ok" (nothing found), "not enough data" or "not available" finding for a whole check
    (``texts``: placeholder values per language, beside the evidence)."""
    label = playbook()[check.id]["label"]
    generic = playbook()["_generic"][kind]
    title: dict[str, str] = {
        lang: _fill(
            generic[lang], {"label": label[lang], **evidence, **(texts or {}).get(lang, {})}
        )
        for lang in LANGS
    }
    return Finding(
        step=check.step,
        check=check.id,
        severity="ok" if kind == "ok" else "info",
        metric=check.metric,
        scope={},
        evidence={"status": kind, **evidence},
        cause=title,
        actions=[],
        title=title,
        impact_jpy=None,
        chart=check.chart,
    )


def check_finding(
    check: Check,
    severity: Severity,
    scope: dict[str, str],
    evidence: dict[str, Any],
    *,
    currency: str,
    texts: dict[str, Any] | None = None,
    text_scope: dict[str, str] | None = None,
    variant: str | None = None,
    impact_jpy: float | None = None,
    impact_inputs: dict[str, float] | None = None,
) -> Finding:
    """A finding of ``check`` with its playbook title, cause and actions: the one place a check's
    finding is assembled, so every kind of check (compared, constraint, concentration) fills the
    same fields the same way. ``texts`` fills the placeholders (default: the evidence);
    ``text_scope`` names the group in the texts when it is wider than the finding's scope."""
    title, cause, actions = finding_texts(
        check,
        scope if text_scope is None else text_scope,
        evidence if texts is None else texts,
        variant=variant,
        currency=currency,
    )
    formula = {} if impact_inputs is None else impact_formula(check.impact, impact_inputs, currency)
    return Finding(
        step=check.step,
        check=check.id,
        severity=severity,
        metric=check.metric,
        scope=scope,
        evidence=evidence,
        cause=cause,
        actions=actions,
        title=title,
        impact_jpy=impact_jpy,
        unit=check.unit,
        impact_formula=formula,
        chart=check.chart,
        currency=currency,
    )


def not_available(check: Check, unmet: list[str]) -> Finding:
    """The check cannot judge: the data it needs is absent. Severity info, neither "ok" nor an
    alarm, and its metric is not compared with any target."""
    reason = Reason("missing_data", needs=tuple(unmet))
    texts: dict[str, Any] = {lang: {"needs": reason.text(lang)} for lang in LANGS}
    return plain_finding(check, "not_available", {"needs": list(unmet)}, texts)


_INPUT_UNITS = {
    "gap": "ratio",
    "later_win_rate": "ratio",
    "uplift": "ratio",
    "won_rate_answered": "ratio",
    "win_rate": "ratio",
    "avg_won": "yen",
    "amount": "yen",
    "per_hour": "yen",
    "deal_value": "yen",
}


def impact_formula(
    name: str, inputs: dict[str, float], currency: str = DEFAULT_CURRENCY
) -> dict[str, str]:
    """The impact's formula in both languages with its figures filled in (amounts in the
    workspace currency)."""
    if not inputs:
        return {}
    template = playbook()["_impact"][name]
    out: dict[str, str] = {}
    for lang in LANGS:
        values = {
            k: format_value(v, _INPUT_UNITS.get(k, "count"), lang, currency)
            for k, v in inputs.items()
        }
        out[lang] = _fill(template[lang], values)
    return out
