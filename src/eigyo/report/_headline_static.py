"""The ten-second headline as plain lines, for the PDF's first page and the first slide.

Why: the HTML report and the dashboard draw :class:`~eigyo.report._headline.HeadlineView` with
a template (``_headline.html.j2``); the PDF and the slide deck lay out text themselves. Both take
their lines from here, so the three formats show the same cards in the same order with the same
words and the same formatted numbers — the view's, never recomputed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from eigyo.i18n import t
from eigyo.report._headline import HeadlineView


@dataclass(frozen=True)
class HeadlineCard:
    """One card: its label, its big value (None: the card says why in ``lines``), and smaller
    lines, each with a tone (``good``, ``bad``, ``muted`` or ``""``)."""

    label: str
    value: str | None
    lines: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class HeadlineAction:
    """One of the top actions: what to do, then who owns it and the finding it comes from."""

    text: str
    detail: str


def headline_cards(h: HeadlineView, lang: str) -> list[HeadlineCard]:
    """Bookings against plan (attainment, pace), the forecast landing, the ¥ at stake."""

    def tr(key: str, **values: object) -> str:
        return t(f"report.headline.{key}", lang, **values)

    label = tr("bookings") + (f" / {tr('plan')}" if h.plan else "")
    value = h.bookings + (f" / {h.plan}" if h.plan else "")
    lines = [
        (f"{tr('attainment')} {h.attainment}", "") if h.attainment else (tr("no_plan"), "muted")
    ]
    if h.pace:
        lines.append((f"{tr('pace_' + h.pace_tone)}: {h.pace}", h.pace_tone))
    cards = [HeadlineCard(label, value, lines)]
    landing = [(h.landing_vs_plan, "")] if h.landing and h.landing_vs_plan else []
    if not h.landing:
        landing = [(tr("no_landing"), "muted")]
    if h.as_of:
        landing.append((tr("as_of", day=h.as_of), "muted"))
    cards.append(HeadlineCard(tr("landing"), h.landing, landing))
    stake = [(h.stake_note, "muted")] if h.stake else [(tr("no_stake"), "")]
    cards.append(HeadlineCard(tr("stake"), h.stake, stake))
    return cards


def headline_actions(h: HeadlineView, lang: str) -> list[HeadlineAction]:
    """The top actions, numbered, each with its owner, finding and ¥ impact."""
    sep = "　" if lang == "ja" else " · "
    out = []
    for i, a in enumerate(h.actions, start=1):
        detail = f"{t('report.headline.owner', lang)}: {a.owner}{sep}{a.finding_title}"
        if a.impact:
            detail += f"{sep}{a.impact}"
        out.append(HeadlineAction(f"{i}. {a.text}", detail))
    return out
