"""Every number a person reads, formatted once: amounts, %, durations, counts, missing values.

Before this module the metrics, the report and four CLI commands each had a formatter, and the
same value read differently depending on where it was shown (``145.0分`` in the CLI, ``145分`` in
the report; ``0.10/日`` and ``0.1/日``). Now the CLI, the metrics, the diagnosis texts, the
reports and the dashboard call these functions and a number reads the same everywhere.

- Amounts are in the workspace currency (``eigyo.toml`` ``[workspace] currency``) with that
  currency's symbol and decimals; the sign stands before the symbol (``-¥5,000``, ``-$5.00``).
- ``compact=True`` shortens an amount of a million or more for a headline (KPI tiles):
  ``¥1.5億``, ``¥3,200万`` in Japanese, ``¥150M``, ``$32M`` in English. Tables, Excel, the
  CLI and JSON keep exact numbers.
- A missing value (None, NaN) reads as a dash, never ``0`` or ``nan``; callers that know *why*
  a value is missing show the reason instead (:func:`format_metric`).

JSON never goes through this module: its numbers stay numbers.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from eigyo.base.currency import DEFAULT_CURRENCY, currency
from eigyo.base.vocabulary import DASH
from eigyo.i18n import catalogue, t

#: Display name of each unit, (ja, en), for catalogues and documentation. ``yen`` is the JSON
#: contract's name for "an amount in the workspace currency", whatever the currency.
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

#: Compact steps per language: (size of one unit, suffix), ascending; the next step is reached
#: when the shortened number would read 10,000 (ja) or 1,000 (en) of the smaller one.
_COMPACT: dict[str, tuple[tuple[float, str], ...]] = {
    "ja": ((1e4, "万"), (1e8, "億"), (1e12, "兆")),
    "en": ((1e6, "M"), (1e9, "B"), (1e12, "T")),
}
#: Amounts below a million read in full even in a headline: ``¥280,070`` and ``$4,001.00`` are
#: short enough, and ``$4K`` would hide three of four digits.
COMPACT_FROM = 1e6


def is_missing(value: object) -> bool:
    """Not a number (None, NaN, a text in a numeric slot): a value that must read as a dash (or
    its reason), never ``0`` or ``nan``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real | Decimal):
        return True
    return math.isnan(float(value))


def unit_name(unit: str, lang: str = "ja") -> str:
    """The unit's display name (``割合`` / ``ratio``)."""
    ja, en = UNIT_NAMES[unit]
    return en if lang == "en" else ja


def _num(x: float, digits: int) -> str:
    return f"{x:,.{digits}f}"


def number(value: float | None, digits: int | None = None) -> str:
    """A plain number with separators: ``digits`` decimals when given, else as many as it needs
    (none for whole numbers, one from 100 up, at most two below): ``1,500``, ``3.25``, ``0.1``."""
    if is_missing(value):
        return DASH
    x = float(value)  # type: ignore[arg-type]
    if digits is not None:
        return _num(x, digits)
    if x.is_integer():
        return _num(x, 0)
    return _num(x, 1) if abs(x) >= 100 else _num(x, 2).rstrip("0").rstrip(".")


def count(value: int | float | None) -> str:
    """A count with separators: ``1,234``; a dash when unknown."""
    return DASH if is_missing(value) else _num(float(value), 0)  # type: ignore[arg-type]


def percent(value: float | None, digits: int = 1) -> str:
    """A ratio as a percentage: ``0.256`` → ``25.6%`` (``digits`` decimals)."""
    if is_missing(value):
        return DASH
    return f"{float(value) * 100:,.{digits}f}%"  # type: ignore[arg-type]


def points(value: float | None, digits: int = 1) -> str:
    """A difference of two ratios in signed percentage points: ``0.052`` → ``+5.2pt``."""
    if is_missing(value):
        return DASH
    return f"{float(value) * 100:+.{digits}f}pt"  # type: ignore[arg-type]


def p_value(value: float | None, digits: int = 3) -> str:
    """A p- or q-value: ``0.0123``; below 0.001 a bound (``<0.001``), never ``1.2e-05`` or a
    ``0`` that reads as certainty."""
    if is_missing(value):
        return DASH
    v = float(value)  # type: ignore[arg-type]
    return "<0.001" if v < 0.001 else f"{v:.{digits}g}"


def _compact(amount: float, lang: str) -> tuple[str, str] | None:
    """``abs(amount)`` shortened (number text, suffix), or None when it is too small to."""
    if amount < COMPACT_FROM:
        return None
    steps = _COMPACT["en" if lang == "en" else "ja"]
    i = max(k for k, (size, _) in enumerate(steps) if amount >= size)
    while True:
        size, suffix = steps[i]
        n = amount / size
        text = _num(n, 1 if n < 10 else 0).removesuffix(".0")
        ratio = steps[i + 1][0] / size if i + 1 < len(steps) else math.inf
        if float(text.replace(",", "")) < ratio:
            return text, suffix
        i += 1  # 9,999.7万 rounds to 10,000万: that is 1億


def money(
    value: float | None,
    code: str | None = DEFAULT_CURRENCY,
    decimals: int | None = None,
    *,
    compact: bool = False,
    lang: str = "ja",
) -> str:
    """An amount in the currency ``code``: ``-5000, "JPY"`` → ``-¥5,000``; ``1234.5, "USD"`` →
    ``$1,234.50``; None → ``—``.

    The sign stands before the symbol, as accountants and spreadsheets write it; an amount that
    rounds to zero has no sign. ``decimals`` overrides the currency's own (charts that round to
    whole units). ``compact`` shortens amounts from a million for headlines (ja: ``¥3,200万``,
    ``¥1.5億``; en: ``¥32M``, ``$1.5B``): one decimal below 10 of the unit, none above.
    """
    if is_missing(value):
        return DASH
    v = float(value)  # type: ignore[arg-type]
    c = currency(code)
    short = _compact(abs(v), lang) if compact else None
    if short is not None:
        text = short[0] + short[1]
        negative = True
    else:
        digits = c.decimals if decimals is None else decimals
        text = _num(abs(v), digits)
        negative = text.strip("0.,") != ""
    return ("-" if v < 0 and negative else "") + c.symbol + text


def duration(value: float | None, unit: str, lang: str = "ja") -> str:
    """Days, minutes or hours with the unit word of the language: ``12.3日``, ``145 min``
    (whole units from 100 up, one decimal below)."""
    if is_missing(value):
        return DASH
    v = float(value)  # type: ignore[arg-type]
    return t(f"report.unit.{unit}", lang, n=_num(v, 0 if abs(v) >= 100 else 1))


def format_value(
    value: float | None,
    unit: str,
    lang: str = "ja",
    currency: str = DEFAULT_CURRENCY,
    *,
    compact: bool = False,
) -> str:
    """A value in its unit as a person reads it: ``ratio`` as %, ``yen`` as an amount in
    ``currency`` (``yen/day`` with ``/日``), durations with the unit word, counts and rates with
    separators; None and NaN as a dash. ``compact`` shortens amounts (headlines only)."""
    if is_missing(value):
        return DASH
    v = float(value)  # type: ignore[arg-type]
    if unit == "ratio":
        return percent(v)
    if unit in ("yen", "yen/day"):
        text = money(v, currency, compact=compact, lang=lang)
        return text + (t("report.unit.per_day", lang) if unit == "yen/day" else "")
    if unit in ("days", "minutes", "hours"):
        return duration(v, unit, lang)
    if unit == "per_day":
        return number(v) + t("report.unit.per_day", lang)
    return number(v)


class _Reason(Protocol):
    def label(self, lang: str) -> str: ...


class _Value(Protocol):
    """What :func:`format_metric` reads of a computed metric (``eigyo.metrics.MetricValue``)."""

    @property
    def value(self) -> float | None: ...
    @property
    def unit(self) -> str: ...
    @property
    def reason(self) -> _Reason | None: ...


def format_metric(
    v: _Value, lang: str = "ja", currency: str = DEFAULT_CURRENCY, *, compact: bool = False
) -> str:
    """A computed metric as a person reads it; when it has no value, 「データなし（理由）」 /
    "not available (reason)" — never a bare dash that could be taken for zero."""
    if v.value is None and v.reason is not None:
        return v.reason.label(lang)
    return format_value(v.value, v.unit, lang, currency, compact=compact)


# --- changes, targets and the evidence of findings -------------------------------------------


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
        text = points(diff)
    elif base != 0:
        text = f"{diff / abs(float(base)) * 100:+.1f}%"
    else:
        text = format_value(diff, unit, "en", currency)
        text = "+" + text if diff >= 0 else text
    good = (diff > 0) == (better == "higher")
    tone = "flat" if abs(diff) < 1e-12 else "good" if good else "bad"
    return Delta(label, text, tone)


def target_met(value: float | None, target: float | None, better: str) -> bool | None:
    """Whether the value reaches the target in the good direction (None when unknown)."""
    if value is None or target is None:
        return None
    return value >= target if better == "higher" else value <= target


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
#: Evidence keys a reader does not need (the q-value already carries the test).
HIDDEN_EVIDENCE = frozenset({"p_value", "successes", "status"})


def unit_of_key(key: str, metric_unit: str | None) -> str | None:
    """Unit of an evidence key from its name; generic keys take the metric's unit.

    Findings carry free-form ``evidence`` dicts; their units are guessed from the key names
    (``*_rate`` → %, ``*_minutes`` → minutes …) and, for the generic keys ``value``/``target``,
    from the finding's metric."""
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


def value_label(key: str, value: str, lang: str) -> str:
    """A code value (deal type new/expansion …) in the reader's language."""
    full = f"report.values.{key}.{value}"
    return t(full, lang) if full in catalogue() else value


def fmt_evidence_value(
    value: Any, unit: str | None, lang: str, currency: str = DEFAULT_CURRENCY
) -> str:
    """One evidence value: numbers by unit (counts get separators), lists joined, rest as text."""
    if isinstance(value, bool):
        return t("report.common.yes" if value else "report.common.no", lang)
    if isinstance(value, int | float):
        if unit:
            return format_value(float(value), unit, lang, currency)
        return number(float(value))
    if isinstance(value, list | tuple):
        return ", ".join(fmt_evidence_value(v, unit, lang, currency) for v in value)
    if isinstance(value, dict):
        return ", ".join(
            f"{k}: {fmt_evidence_value(v, unit, lang, currency)}" for k, v in value.items()
        )
    return DASH if value is None else str(value)


def _fmt_evidence(key: str, value: Any, unit: str | None, lang: str, currency: str) -> str:
    if key in ("members", "parts") and isinstance(value, list):
        return members_text(value, unit, lang, currency)
    if key in ("q_value", "p_value") and isinstance(value, int | float):
        return p_value(value)
    if key == "effect" and unit == "ratio" and isinstance(value, int | float):
        return points(value)
    if isinstance(value, str):
        return value_label(key, value, lang)
    return fmt_evidence_value(value, unit_of_key(key, unit), lang, currency)


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


#: Scope key → the evidence key holding its name: people and customers are named, the id second.
SCOPE_NAMES = {"rep_id": "rep_name", "account_id": "account"}


def named(key: str, value: str, evidence: dict[str, Any] | None, lang: str) -> str:
    """A scope value as a person reads it: ``佐藤 健（R00012）`` / ``Ken Sato (R00012)`` for an id
    whose name the evidence carries, the value itself otherwise."""
    name = (evidence or {}).get(SCOPE_NAMES.get(key, ""))
    if not name or str(name) == value:
        return value
    return f"{name}（{value}）" if lang == "ja" else f"{name} ({value})"


def scope_text(scope: dict[str, str], lang: str, evidence: dict[str, Any] | None = None) -> str:
    """``{"team": "東日本"}`` → ``チーム: 東日本``; the whole organization when empty; a rep by
    name with the id second when ``evidence`` names them."""
    if not scope:
        return t("report.scope.all", lang)
    return " / ".join(
        f"{label_of('scope', k, lang)}: {named(k, v, evidence, lang)}" for k, v in scope.items()
    )


def members_text(
    members: list[dict[str, Any]], unit: str | None, lang: str, currency: str = DEFAULT_CURRENCY
) -> str:
    """The members of a rolled-up finding, one per entry: name (or team), value and records —
    ``佐藤 健（R02） 70.0%・40件``; a team of an organization roll-up lists its reps' names."""
    out = []
    for m in members:
        who = str(m.get("rep_name") or m.get("rep_id") or m.get("team") or "")
        if isinstance(m.get("part"), dict):  # a part of one finding: its stratum (deal type …)
            who = " / ".join(value_label(k, str(v), lang) for k, v in m["part"].items())
        elif "rep_id" in m and m.get("rep_name"):
            who = named("rep_id", str(m["rep_id"]), m, lang)
        figures = []
        if isinstance(m.get("value"), int | float):
            figures.append(fmt_evidence_value(m["value"], unit, lang, currency))
        if isinstance(m.get("n"), int | float):
            figures.append(t("report.evidence.records_n", lang, n=number(float(m["n"]))))
        inner = m.get("members")
        if isinstance(inner, list) and inner:
            names = ", ".join(str(r.get("rep_name") or r.get("rep_id")) for r in inner)
            figures.append(names)
        sep = "・" if lang == "ja" else ", "
        out.append(f"{who} {sep.join(figures)}".strip())
    return " / ".join(out)
