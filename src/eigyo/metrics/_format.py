"""How a metric's value reads to a person: yen with separators, percentages, days, minutes.

Kept beside the registry (not in the CLI) so the reports and the web app show the same text.
"""

from __future__ import annotations

#: Display name of each unit, (ja, en), for catalogues and documentation.
UNIT_NAMES: dict[str, tuple[str, str]] = {
    "ratio": ("割合", "ratio"),
    "yen": ("円", "yen"),
    "yen/day": ("円/日", "yen per day"),
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


def format_value(value: float | None, unit: str, lang: str = "ja") -> str:
    """``6000000, "yen"`` → ``¥6,000,000``; ``0.6, "ratio"`` → ``60.0%``; None → ``—``."""
    if value is None:
        return MISSING
    if unit == "ratio":
        return f"{value * 100:,.1f}%"
    if unit in ("yen", "yen/day"):
        text = f"¥{value:,.0f}"
    elif unit == "count":
        text = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
    elif unit == "per_day":
        text = f"{value:,.2f}"
    else:
        text = f"{value:,.1f}"
    ja, en = _SUFFIX.get(unit, ("", ""))
    return text + (en if lang == "en" else ja)
