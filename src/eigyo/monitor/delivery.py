"""Scheduled delivery of the report (``eigyo report --send``): the file by email, and a summary an
executive reads in ten seconds by email and to a Slack or Microsoft Teams webhook.

It goes through the sinks the monitor's alerts use (``[monitor.email]``, ``[monitor.webhook]``
of eigyo.toml, the SMTP password from the environment), so one configuration serves both and a
cron job or systemd timer needs nothing else (docs/monitoring.md, "Scheduled report"). The
summary is the diagnosis's headline: what is at stake counted once over findings whose records
overlap (:func:`eigyo.diagnose.overlap.non_overlapping_total`), how many problems, and the three
costliest with their amounts — the statistics stay in the attached report.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from eigyo.base.formatting import money
from eigyo.base.periods import Period
from eigyo.diagnose.model import Finding
from eigyo.diagnose.overlap import non_overlapping_total
from eigyo.i18n import t
from eigyo.monitor.config import MonitorConfig
from eigyo.monitor.sinks import SEVERITY_MARK, SinkError, post_json, send_message

#: Largest report attached to an email: most mail servers refuse messages over 10–25 MB; a
#: larger file is named in the message instead (it stays where ``eigyo report`` wrote it).
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
#: Findings the summary names.
TOP = 3


def summary(
    company: str, period: Period, findings: Sequence[Finding], lang: str, currency: str
) -> str:
    """The report's headline as plain text: period with its dates, the ¥ at stake counted once,
    the number of problems and the three costliest."""

    span = f"{period.start.isoformat()}〜{period.end.isoformat()}"
    lines = [t("monitor.report.header", lang, company=company, period=period.label, span=span)]
    alarms = sorted((f for f in findings if f.is_alarm), key=Finding.sort_key)
    if not alarms:
        lines.append(t("monitor.report.none", lang))
        return "\n".join(lines)
    total, counted, skipped = non_overlapping_total(alarms)
    errors = sum(f.severity == "error" for f in alarms)
    lines.append(
        t("monitor.report.count", lang, n=len(alarms), errors=errors, warnings=len(alarms) - errors)
    )
    if counted:
        lines.append(
            t(
                "monitor.report.at_stake",
                lang,
                amount=money(total, currency, compact=True, lang=lang),
                n=len(counted),
                skipped=len(skipped),
            )
        )
    lines.append(t("monitor.report.top", lang, n=min(TOP, len(alarms))))
    for i, f in enumerate(alarms[:TOP], 1):
        impact = (
            ""
            if f.impact_jpy is None
            else f" — {money(f.impact_jpy, currency, compact=True, lang=lang)}"
        )
        lines.append(
            f"{i}. {SEVERITY_MARK.get(f.severity, '')} {f.title.get(lang, f.check)}{impact}"
        )
    return "\n".join(lines)


def deliver_report(
    cfg: MonitorConfig,
    report: Path,
    text: str,
    subject: str,
    lang: str,
) -> dict[str, str]:
    """Send the report to every enabled sink: email with the file attached (or named, when it
    is over :data:`MAX_ATTACHMENT_BYTES`), the webhook with the summary. Returns what each did;
    every sink is tried, and the first failure is raised afterwards (the others still sent)."""
    done: dict[str, str] = {}
    failures: list[SinkError] = []
    if cfg.email.enabled:
        attach = report.stat().st_size <= MAX_ATTACHMENT_BYTES
        body = (
            text if attach else f"{text}\n\n{t('monitor.report.not_attached', lang, path=report)}"
        )
        try:
            send_message(cfg.email, subject, body, (report,) if attach else ())
            done["email"] = "attached" if attach else "named"
        except SinkError as e:
            failures.append(e)
    if cfg.webhook.enabled:
        try:
            post_json(
                cfg.webhook,
                {"text": f"{text}\n\n{t('monitor.report.file', lang, path=report.name)}"},
            )
            done["webhook"] = "summary"
        except SinkError as e:
            failures.append(e)
    if failures:
        raise failures[0]
    return done
