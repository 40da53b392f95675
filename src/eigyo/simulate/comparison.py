"""Structures against today: the differences in each outcome, and the one recommendation rule.

Why one module: ``eigyo simulate --compare`` and the dashboard's simulation page both say which
structure to pick, and they must say the same thing from the same documents. Both read the
documents of :func:`eigyo.simulate.simulate` (one per structure, ``current`` among them, all with
the same seed, horizon and calibration) and call :func:`recommend`.

The rule, stated on the page and in the CLI: a structure is recommended only when the low end of
its 90% interval of bookings lies above the high end of today's — its weak years beat today's
strong ones. Among such structures, the one with the highest mean bookings is recommended;
when none clears today's interval, "no structure is clearly better than today", even if one has
a higher mean: a difference inside the spread between runs is what chance alone produces.
Why bookings: it is what every structure is meant to raise; the other outcomes (cycle, response
time, cost, hand-off losses) are shown beside it, each with its difference, for the manager to
weigh. Why non-overlapping intervals rather than a test on the means: the intervals are the
spread of what a year under each structure would produce, the uncertainty a manager lives with;
a gain inside it would not be noticed in the results.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any

from eigyo.base.currency import DEFAULT_CURRENCY
from eigyo.base.formatting import format_value, is_missing
from eigyo.i18n import t

#: The structure every other one is compared with: today's, simulated the same way.
BASELINE = "current"
#: The outcome the recommendation reads.
DECIDING = "bookings"
#: The rule's name in the JSON document (``comparison.rule``).
RULE = "low_above_baseline_high"
#: The outcomes compared, each with its unit (:func:`eigyo.base.formatting.format_value`) and the
#: direction that is better (the tone of a difference).
OUTCOMES: dict[str, tuple[str, str]] = {
    "bookings": ("yen", "higher"),
    "won_deals": ("count", "higher"),
    "cycle_days": ("days", "lower"),
    "lead_response_minutes": ("minutes", "lower"),
    "cost_per_won_deal": ("yen", "lower"),
    "handoff_losses": ("count", "lower"),
}
#: Why a comparison recommends a structure or not (``comparison.recommendation.reason``).
REASONS = ("clearly_better", "within_uncertainty", "not_better", "no_amounts")


@dataclass(frozen=True)
class Difference:
    """A candidate's outcome against today's: ``diff`` = its mean − today's mean, ``pct`` =
    ``diff`` ÷ today's mean (None where either mean is unknown, or today's is 0)."""

    diff: float | None
    pct: float | None


@dataclass(frozen=True)
class Recommendation:
    """What the rule concluded. ``structure`` is the recommended one (None: no structure is
    clearly better than today); ``best`` the candidate with the highest mean bookings, whether
    recommended or not; ``gain``/``gain_pct`` its difference against today; ``margin`` its
    interval's low end minus today's high end (> 0: beyond the simulation's uncertainty)."""

    structure: str | None
    reason: str
    best: str | None = None
    gain: float | None = None
    gain_pct: float | None = None
    margin: float | None = None


def outcome(doc: Mapping[str, Any], key: str) -> dict[str, float | None]:
    """One outcome's ``{"mean", "low", "high"}`` of a simulate document (hand-off losses sit
    beside the outcomes in the contract)."""
    if key == "handoff_losses":
        return dict(doc.get("handoff_losses") or {})
    return dict((doc.get("outcomes") or {}).get(key) or {})


def _num(x: object) -> float | None:
    return None if is_missing(x) else float(x)  # type: ignore[arg-type]


def difference(today: Mapping[str, Any], candidate: Mapping[str, Any]) -> Difference:
    """``candidate`` − ``today`` on the means of two ``{"mean", "low", "high"}`` intervals."""
    a, b = _num(today.get("mean")), _num(candidate.get("mean"))
    if a is None or b is None:
        return Difference(None, None)
    diff = b - a
    return Difference(diff, diff / a if a != 0 else None)


def baseline(docs: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
    """Today's document among ``docs`` (the structure :data:`BASELINE`)."""
    for d in docs:
        if d.get("structure") == BASELINE:
            return d
    raise ValueError(f"the comparison needs the {BASELINE!r} structure among the documents")


def differences(docs: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Difference]]:
    """Every candidate's difference against today, by structure and outcome."""
    today = baseline(docs)
    return {
        str(d["structure"]): {k: difference(outcome(today, k), outcome(d, k)) for k in OUTCOMES}
        for d in docs
        if d.get("structure") != BASELINE
    }


def recommend(docs: Sequence[Mapping[str, Any]]) -> Recommendation:
    """The rule of the module docstring over the simulate documents ``docs`` (today's among
    them): the recommended structure, or why none is."""
    today = outcome(baseline(docs), DECIDING)
    t_mean, t_high = _num(today.get("mean")), _num(today.get("high"))
    known = []
    for d in docs:
        if d.get("structure") == BASELINE:
            continue
        o = outcome(d, DECIDING)
        mean, low = _num(o.get("mean")), _num(o.get("low"))
        if mean is not None and low is not None:
            known.append((mean, low, str(d["structure"])))
    if t_mean is None or t_high is None or not known:
        return Recommendation(None, "no_amounts")
    clear = [k for k in known if k[1] > t_high]
    mean, low, best = max(clear or known, key=lambda k: k[0])
    gain = mean - t_mean
    pct = gain / t_mean if t_mean != 0 else None
    margin = low - t_high
    if clear:
        return Recommendation(best, "clearly_better", best, gain, pct, margin)
    reason = "within_uncertainty" if gain > 0 else "not_better"
    return Recommendation(None, reason, best, gain, pct, margin)


def _name(structure: str, lang: str) -> str:
    return t(f"simulate.structure.{structure}", lang)


def recommendation_text(
    rec: Recommendation, lang: str = "ja", currency: str = DEFAULT_CURRENCY
) -> str:
    """The recommendation in one sentence of ``lang``, amounts compact (¥1.2億 / ¥120M)."""

    money = partial(format_value, unit="yen", lang=lang, currency=currency, compact=True)

    values: dict[str, object] = {}
    if rec.best is not None:
        values = {
            "structure": _name(rec.best, lang),
            "gain": money(rec.gain),
            "pct": format_value(rec.gain_pct, "ratio", lang)
            if rec.gain_pct is not None
            else t("simulate.compare.pct_none", lang),  # today books 0: no share of it
            "margin": money(abs(rec.margin or 0.0)),
        }
    return t(f"simulate.compare.{rec.reason}", lang, **values)


def rule_text(lang: str = "ja") -> str:
    """The rule itself, as the page and the CLI state it."""
    return t("simulate.compare.rule", lang)


def comparison(
    docs: Sequence[Mapping[str, Any]], lang: str = "ja", currency: str = DEFAULT_CURRENCY
) -> dict[str, Any]:
    """The ``comparison`` key of ``eigyo simulate --compare --format json`` (docs/cli-json.md):
    the baseline, the rule, each candidate's differences and the recommendation with its
    sentence in ``lang``."""
    rec = recommend(docs)
    return {
        "baseline": BASELINE,
        "outcome": DECIDING,
        "rule": RULE,
        "rule_text": rule_text(lang),
        "differences": {
            s: {k: asdict(d) for k, d in by.items()} for s, by in differences(docs).items()
        },
        "recommendation": {**asdict(rec), "text": recommendation_text(rec, lang, currency)},
    }
