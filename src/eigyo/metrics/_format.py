"""How a metric's value reads to a person: money in the workspace currency, percentages, days.

Kept beside the registry (not in the CLI) so the reports and the web app show the same text.
The unit ``yen`` is the JSON contract's name for "an amount in the workspace currency"; the
amount is written with that currency's symbol and decimals by :func:`eigyo.base.currency.money`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from eigyo.base.currency import DEFAULT_CURRENCY, money

if TYPE_CHECKING:
    from eigyo.metrics._model import MetricValue

#: Display name of each unit, (ja, en), for catalogues and documentation.
UNIT_NAMES: dict[str, tuple[str, str]] = {
    "ratio": ("割合", "ratio"),
    "yen": ("金額（通貨）", "amount (currency)"),
    "yen/day": ("金額/日", "amount per day"),
    "days": ("日", "days"),
    "minutes": ("分", "minutes"),
    "count": ("件", "count"),
    "hours": ("時間", "hours"),
    "per_day": ("件/日", "per day"),
}
#: Suffix after the number, (ja, en).
_SUFFIX: dict[str, tuple[str, str]] = {
    "yen/day": ("/日", "/day"),
    "days": ("日", " days"),
    "minutes": ("分", " min"),
    "hours": ("時間", " h"),
    "per_day": ("/日", "/day"),
}
MISSING = "—"


def unit_name(unit: str, lang: str = "ja") -> str:
    ja, en = UNIT_NAMES[unit]
    return en if lang == "en" else ja


def format_value(
    value: float | None, unit: str, lang: str = "ja", currency: str = DEFAULT_CURRENCY
) -> str:
    """``6000000, "yen"`` → ``¥6,000,000`` (``$6,000,000.00`` with ``currency="USD"``);
    ``0.6, "ratio"`` → ``60.0%``; None → ``—`` (callers that know *why* a value is missing
    show the reason instead: see :class:`eigyo.metrics.Reason`)."""
    if value is None:
        return MISSING
    if unit == "ratio":
        return f"{value * 100:,.1f}%"
    if unit in ("yen", "yen/day"):
        text = money(value, currency)
    elif unit == "count":
        text = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
    elif unit == "per_day":
        text = f"{value:,.2f}"
    else:
        text = f"{value:,.1f}"
    ja, en = _SUFFIX.get(unit, ("", ""))
    return text + (en if lang == "en" else ja)


def format_metric(v: MetricValue, lang: str = "ja", currency: str = DEFAULT_CURRENCY) -> str:
    """A computed metric as a person reads it; when it has no value, 「データなし（理由）」 /
    "not available (reason)" — never a bare dash that could be taken for zero."""
    if v.value is None and v.reason is not None:
        return v.reason.label(lang)
    return format_value(v.value, v.unit, lang, currency)
