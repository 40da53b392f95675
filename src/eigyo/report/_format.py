"""Numbers as a sales manager reads them: money in the workspace currency, %, days, minutes.

Findings carry free-form ``evidence`` dicts; their units are guessed from the key names
(``*_rate`` → %, ``*_minutes`` → minutes …) and, for the generic keys ``value``/``target``,
from the finding's metric, whose unit the KPI tiles declare.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from eigyo.base.currency import DEFAULT_CURRENCY, money
from eigyo.i18n import catalogue, t

#: Unit of a generic evidence key is the metric's unit (value, target, previous …).
_METRIC_KEYS = frozenset(
    {"value", "target", "previous", "baseline", "peer", "org", "median", "last_year", "gap"}
)
_KEY_UNITS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("_rate", "rate", "share", "conversion", "_pct", "ratio"), "ratio"),
    (("_minutes", "minutes"), "minutes"),
    (("_days", "days"), "days"),
    (("_hours", "hours"), "hours"),
    (("jpy", "amount", "bookings", "revenue", "yen", "cost", "impact"), "yen"),
)


def _num(x: float, digits: int) -> str:
    return f"{x:,.{digits}f}"


def _smart(x: float) -> str:
    """A plain number with as many decimals as it needs (at most 2) and separators."""
    if float(x).is_integer():
        return _num(x, 0)
    return _num(x, 1) if abs(x) >= 100 else _num(x, 2).rstrip("0").rstrip(".")


def fmt_value(value: float | None, unit: str, lang: str, currency: str = DEFAULT_CURRENCY) -> str:
    """Format a value by unit: ``ratio`` as %, ``yen`` as an amount in ``currency`` (the one
    money formatter, :func:`eigyo.base.currency.money`), durations in days, minutes or hours with
    the
    unit word of the language; None as a dash."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    v = float(value)
    if unit == "ratio":
        return f"{v * 100:,.1f}%"
    if unit in ("yen", "yen/day"):
        text = money(v, currency)
        return text + (t("report.unit.per_day", lang) if unit == "yen/day" else "")
    if unit in ("days", "minutes", "hours"):
        return t(f"report.unit.{unit}", lang, n=_num(v, 0 if abs(v) >= 100 else 1))
    if unit == "per_day":
        return _smart(v) + t("report.unit.per_day", lang)
    return _smart(v)


@dataclass(frozen=True)
class Delta:
    """A change shown on a tile: its text and whether it is good, bad or flat."""

    label: str
    text: str
    tone: str  # "good" | "bad" | "flat"


def fmt_delta(
    label: str,
    value: float | None,
    base: float | None,
    unit: str,
    better: str,
    currency: str = DEFAULT_CURRENCY,
) -> Delta | None:
    """Change from ``base`` to ``value``: percentage points for ratios, else percent change.

    The tone follows ``better`` so that a fall in response minutes reads as good news.
    """
    if value is None or base is None:
        return None
    diff = float(value) - float(base)
    if unit == "ratio":
        text = f"{diff * 100:+.1f}pt"
    elif base != 0:
        text = f"{diff / abs(float(base)) * 100:+.1f}%"
    else:
        text = fmt_value(diff, unit, "en", currency)
        text = "+" + text if diff >= 0 else text
    good = (diff > 0) == (better == "higher")
    tone = "flat" if abs(diff) < 1e-12 else "good" if good else "bad"
    return Delta(label, text, tone)


def target_met(value: float | None, target: float | None, better: str) -> bool | None:
    """Whether the value reaches the target in the good direction (None when unknown)."""
    if value is None or target is None:
        return None
    return value >= target if better == "higher" else value <= target


def unit_of_key(key: str, metric_unit: str | None) -> str | None:
    """Unit of an evidence key from its name; generic keys take the metric's unit."""
    k = key.lower()
    if k in _METRIC_KEYS:
        return metric_unit
    for suffixes, unit in _KEY_UNITS:
        if any(s in k for s in suffixes):
            return unit
    return None


def label_of(section: str, key: str, lang: str) -> str:
    """Translated label of a key (evidence, scope) or the key made readable."""
    full = f"report.{section}.{key}"
    if full in catalogue():
        return t(full, lang)
    return key.replace("_", " ")


def fmt_evidence_value(
    value: Any, unit: str | None, lang: str, currency: str = DEFAULT_CURRENCY
) -> str:
    """One evidence value: numbers by unit (counts get separators), lists joined, rest as text."""
    if isinstance(value, bool):
        return t("report.common.yes" if value else "report.common.no", lang)
    if isinstance(value, int | float):
        if unit:
            return fmt_value(float(value), unit, lang, currency)
        return _smart(float(value))
    if isinstance(value, list | tuple):
        return ", ".join(fmt_evidence_value(v, unit, lang, currency) for v in value)
    if isinstance(value, dict):
        return ", ".join(
            f"{k}: {fmt_evidence_value(v, unit, lang, currency)}" for k, v in value.items()
        )
    return "—" if value is None else str(value)


#: Evidence keys a reader does not need (the q-value already carries the test).
HIDDEN_EVIDENCE = frozenset({"p_value", "successes", "status"})


def _fmt_evidence(key: str, value: Any, unit: str | None, lang: str, currency: str) -> str:
    if key in ("q_value", "p_value") and isinstance(value, int | float):
        return "<0.001" if value < 0.001 else f"{value:.3g}"
    if key == "effect" and unit == "ratio" and isinstance(value, int | float):
        return f"{value * 100:+.1f}pt"
    if isinstance(value, str):
        return value_label(key, value, lang)
    return fmt_evidence_value(value, unit_of_key(key, unit), lang, currency)


def value_label(key: str, value: str, lang: str) -> str:
    """A code value (deal type new/expansion …) in the reader's language."""
    full = f"report.values.{key}.{value}"
    return t(full, lang) if full in catalogue() else value


def evidence_items(
    evidence: dict[str, Any],
    metric_unit: str | None,
    lang: str,
    currency: str = DEFAULT_CURRENCY,
) -> list[tuple[str, str]]:
    """Evidence as (label, formatted value) pairs in the finding's own order; a confidence
    interval (ci_low, ci_high) becomes one item."""
    items = []
    for k, v in evidence.items():
        if k in HIDDEN_EVIDENCE or k == "ci_high":
            continue
        if k == "ci_low" and "ci_high" in evidence:
            unit = unit_of_key("value", metric_unit) if "estimate" not in evidence else metric_unit
            low = _fmt_evidence("value", v, unit, lang, currency)
            high = _fmt_evidence("value", evidence["ci_high"], unit, lang, currency)
            items.append((label_of("evidence", "ci", lang), f"{low} ～ {high}"))
            continue
        items.append(
            (label_of("evidence", k, lang), _fmt_evidence(k, v, metric_unit, lang, currency))
        )
    return items


def scope_text(scope: dict[str, str], lang: str) -> str:
    """``{"team": "東日本"}`` → ``チーム: 東日本``; the whole organization when empty."""
    if not scope:
        return t("report.scope.all", lang)
    return " / ".join(f"{label_of('scope', k, lang)}: {v}" for k, v in scope.items())
