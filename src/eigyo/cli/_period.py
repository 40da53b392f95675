"""The ``--period`` of a command as a person reads it: parsed against the workspace's fiscal year
and today, its ambiguity noted, and an empty period said before anything prints ¥0.

One place for every command that measures a period (``metrics``, ``diagnose``, ``report``), so
the notes and the "no data in …" line read the same everywhere. Libraries stay lazy here: the
workspace and the analyses load only when a command runs (``eigyo --help`` loads neither).
"""

from __future__ import annotations

import sys
from datetime import date, datetime
from typing import TYPE_CHECKING

import typer

from eigyo.i18n import t

if TYPE_CHECKING:
    from eigyo.base.periods import Period
    from eigyo.workspace import Workspace


def workspace_today(ws: Workspace) -> date:
    """Today in the workspace's time zone: what 今期 or last-month count from. Taken here, at
    the command-line boundary, so that parsing a period never reads the clock itself."""
    return datetime.now(ws.settings.tz).date()


def command_period(
    ws: Workspace, text: str, lang: str, *, stop_when_empty: bool = True, today: date | None = None
) -> Period:
    """``text`` as a period of ``ws``, with the one-line notes a person needs on standard error.

    An ambiguous form (``2025-Q1`` with an April fiscal year) gets its note. A period that meets
    none of the data gets "no data in FY2030 (…); the data reaches from X to Y" and, when
    ``stop_when_empty``, the command ends there with status 0: a table of ¥0 would read as a
    quarter without sales. JSON callers pass ``stop_when_empty=False`` and still get their one
    document (the line goes to standard error, never into the JSON)."""
    from eigyo.analysis.common import record_span
    from eigyo.base.periods import format_day, parse_period

    p = parse_period(text, ws.settings.fiscal_year_start_month, today=today or workspace_today(ws))
    if note := p.note(lang):
        _say(note)
    span = record_span(ws)
    if span is None:
        _say(t("periods.empty_workspace", lang, period=p.describe(lang)))
    elif p.end < (first := span[0]) or p.start > (last := span[1]):
        first_s, last_s = format_day(first, lang), format_day(last, lang)
        _say(t("periods.empty", lang, period=p.describe(lang), first=first_s, last=last_s))
    else:
        return p
    if stop_when_empty:
        raise typer.Exit(0)
    return p


def noted_period(ws: Workspace, text: str, lang: str) -> Period:
    """``text`` as a period of ``ws`` with its ambiguity note on standard error (``2025-Q1``
    with an April fiscal year): every command that takes a period says it, not only the ones
    that also check the period against the data (:func:`command_period`)."""
    from eigyo.base.periods import parse_period

    p = parse_period(text, ws.settings.fiscal_year_start_month, today=workspace_today(ws))
    if note := p.note(lang):
        _say(note)
    return p


def _say(line: str) -> None:
    """One line on standard error, as written (no Rich markup: a label may hold brackets)."""
    sys.stderr.write(line + "\n")
    sys.stderr.flush()
