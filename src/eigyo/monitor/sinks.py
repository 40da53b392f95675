"""Where alerts go besides the terminal: email over SMTP and Slack-compatible webhooks.

Standard library only (``smtplib``, ``urllib``): a monitoring job runs unattended on a server,
and every extra dependency is one more thing that can break at 3 a.m. A sink that fails raises
:class:`SinkError` naming the sink and the cause; the alerts it did not deliver stay undelivered
and go out on the next run.
"""

from __future__ import annotations

import json
import smtplib
import ssl
import urllib.error
import urllib.request
from collections.abc import Mapping
from email.message import EmailMessage
from pathlib import Path

from eigyo.errors import EigyoError
from eigyo.i18n import t
from eigyo.monitor.alerts import Alert, list_alerts, mark_delivered
from eigyo.monitor.config import EmailConfig, MonitorConfig, WebhookConfig
from eigyo.workspace import Workspace

SEVERITY_MARK = {"error": "🔴", "warn": "🟠", "info": "🔵", "ok": "🟢"}


class SinkError(EigyoError):
    """An alert sink could not deliver (SMTP or webhook unreachable, refused, misconfigured)."""


def render_text(alerts: list[Alert], lang: str) -> str:
    """The plain-text body shared by email and webhook: one line per alert."""
    lines = [t("monitor.sink.header", lang, n=len(alerts))]
    lines += [f"{SEVERITY_MARK.get(a.severity, '')} {a.message.get(lang, '')}" for a in alerts]
    return "\n".join(lines)


#: MIME type of each report format attached to an email.
MIME = {
    ".html": ("text", "html"),
    ".pdf": ("application", "pdf"),
    ".xlsx": ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ".pptx": ("application", "vnd.openxmlformats-officedocument.presentationml.presentation"),
}


def send_email(cfg: EmailConfig, alerts: list[Alert], lang: str, company: str) -> None:
    """One email listing the alerts (UTF-8, so Japanese subjects and bodies survive)."""
    subject = t("monitor.sink.subject", lang, company=company, n=len(alerts))
    send_message(cfg, subject, render_text(alerts, lang))


def send_message(
    cfg: EmailConfig, subject: str, body: str, attachments: tuple[Path, ...] = ()
) -> None:
    """One UTF-8 email to ``cfg.to`` with ``attachments`` (the report file); the alerts and the
    scheduled report share it."""
    msg = EmailMessage()
    msg["Subject"] = f"{cfg.subject_prefix} {subject}".strip()
    msg["From"] = cfg.sender
    msg["To"] = ", ".join(cfg.to)
    msg.set_content(body)
    for path in attachments:
        main, sub = MIME.get(path.suffix.lower(), ("application", "octet-stream"))
        msg.add_attachment(path.read_bytes(), maintype=main, subtype=sub, filename=path.name)
    try:
        client: smtplib.SMTP
        if cfg.ssl:
            client = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout_s)
        else:
            client = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout_s)
        with client:
            if cfg.starttls:
                client.starttls(context=ssl.create_default_context())
            if cfg.username:
                client.login(cfg.username, cfg.password or "")
            client.send_message(msg)
    except (OSError, smtplib.SMTPException) as e:
        raise SinkError(
            f"email: could not send through {cfg.host}:{cfg.port} ({e}). "
            "Check [monitor.email] in eigyo.toml."
        ) from None


def send_webhook(cfg: WebhookConfig, alerts: list[Alert], lang: str) -> None:
    """POST ``{"text": ..., "alerts": [...]}``: Slack shows ``text``; other receivers can read
    the structured alerts."""
    body = {"text": render_text(alerts, lang), "alerts": [a.to_json(lang) for a in alerts]}
    post_json(cfg, body)


def post_json(cfg: WebhookConfig, body: Mapping[str, object]) -> None:
    """POST one JSON document to the webhook: Slack and Microsoft Teams incoming webhooks show
    its ``text``."""
    req = urllib.request.Request(
        cfg.url,
        data=json.dumps(body, ensure_ascii=False, default=str).encode("utf-8"),
        headers={"Content-Type": "application/json; charset=utf-8"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=cfg.timeout_s) as resp:
            if resp.status >= 300:
                raise SinkError(f"webhook: {cfg.url} answered HTTP {resp.status}")
    except urllib.error.URLError as e:
        raise SinkError(f"webhook: could not POST to {cfg.url} ({e}).") from None


def deliver(ws: Workspace, cfg: MonitorConfig) -> dict[str, int]:
    """Send every alert not yet delivered to each enabled sink; returns how many each sent.

    All sinks are tried even when one fails; the first failure is raised afterwards so the
    command exits with an error while the others still got their alerts."""
    sent: dict[str, int] = {}
    failures: list[SinkError] = []
    con = ws.raw
    company = ws.settings.name
    for name, enabled in (("email", cfg.email.enabled), ("webhook", cfg.webhook.enabled)):
        if not enabled:
            continue
        pending = list_alerts(con, undelivered_to=name, limit=1000)[::-1]
        if not pending:
            sent[name] = 0
            continue
        try:
            if name == "email":
                send_email(cfg.email, pending, cfg.lang, company)
            else:
                send_webhook(cfg.webhook, pending, cfg.lang)
        except SinkError as e:
            failures.append(e)
            continue
        mark_delivered(con, name, pending)
        sent[name] = len(pending)
    if failures:
        raise failures[0]
    return sent
