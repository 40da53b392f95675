"""The ``[monitor]`` settings of ``eigyo.toml``: what to watch and where to send alerts.

Read from the raw TOML here (``eigyo.settings`` does not know these sections yet); like the rest
of the settings, every problem is reported in one error rather than one per run. A missing section
means the defaults below, so a workspace made before monitoring existed keeps working. Secrets
never live in the file: the SMTP password is read from the environment variable it names.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from typing import Any

from eigyo.errors import WorkspaceError
from eigyo.metrics import REGISTRY
from eigyo.monitor.control import ALL_RULES, DEFAULT_METHOD, DEFAULT_RULES, Method
from eigyo.settings import MONITOR_TEMPLATE, SETTINGS_FILE
from eigyo.workspace import Workspace

#: Key metrics charted by default: outcome, conversion and the lead hand-off.
DEFAULT_METRICS: tuple[str, ...] = (
    "bookings",
    "win_rate",
    "lead_response_minutes",
    "lead_response_sla_rate",
    "mql_to_sql_rate",
    "call_connect_rate",
)
GRAINS: tuple[str, ...] = ("week", "month")


@dataclass(frozen=True)
class EmailConfig:
    enabled: bool = False
    host: str = "localhost"
    port: int = 25
    starttls: bool = False
    ssl: bool = False
    username: str = ""
    password_env: str = "EIGYO_SMTP_PASSWORD"
    sender: str = "eigyo@localhost"
    to: tuple[str, ...] = ()
    subject_prefix: str = "[eigyo]"
    timeout_s: float = 10.0

    @property
    def password(self) -> str | None:
        return os.environ.get(self.password_env) if self.password_env else None


@dataclass(frozen=True)
class WebhookConfig:
    enabled: bool = False
    url: str = ""
    timeout_s: float = 10.0


@dataclass(frozen=True)
class MonitorConfig:
    """What ``eigyo monitor`` charts and how it judges a point unusual."""

    metrics: tuple[str, ...] = DEFAULT_METRICS
    grains: tuple[str, ...] = GRAINS
    by: tuple[str, ...] = ("team",)
    weeks: int = 26
    months: int = 24
    recent_weeks: int = 8
    recent_months: int = 3
    method: Method = DEFAULT_METHOD
    rules: tuple[str, ...] = DEFAULT_RULES
    lang: str = "ja"
    email: EmailConfig = field(default_factory=EmailConfig)
    webhook: WebhookConfig = field(default_factory=WebhookConfig)


def _typed(
    sec: dict[str, Any], key: str, default: Any, kind: type, where: str, bad: list[str]
) -> Any:
    v = sec.get(key, default)
    ok = isinstance(v, kind) and not (kind is int and isinstance(v, bool))
    if kind is float and isinstance(v, int) and not isinstance(v, bool):
        return float(v)
    if not ok:
        bad.append(f"{where}.{key}: {v!r} must be a {kind.__name__}")
        return default
    return v


def _strings(
    sec: dict[str, Any],
    key: str,
    default: tuple[str, ...],
    allowed: tuple[str, ...] | None,
    where: str,
    bad: list[str],
) -> tuple[str, ...]:
    v = sec.get(key, list(default))
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        bad.append(f"{where}.{key}: {v!r} must be a list of strings")
        return default
    unknown = [x for x in v if allowed is not None and x not in allowed]
    if unknown:
        names = ", ".join(map(repr, unknown))
        bad.append(f"{where}.{key}: unknown {names}; use {', '.join(allowed or ())}")
        return default
    return tuple(v)


def _email(sec: dict[str, Any], bad: list[str]) -> EmailConfig:
    w, d = "monitor.email", EmailConfig()
    return EmailConfig(
        enabled=_typed(sec, "enabled", d.enabled, bool, w, bad),
        host=_typed(sec, "host", d.host, str, w, bad),
        port=_typed(sec, "port", d.port, int, w, bad),
        starttls=_typed(sec, "starttls", d.starttls, bool, w, bad),
        ssl=_typed(sec, "ssl", d.ssl, bool, w, bad),
        username=_typed(sec, "username", d.username, str, w, bad),
        password_env=_typed(sec, "password_env", d.password_env, str, w, bad),
        sender=_typed(sec, "from", d.sender, str, w, bad),
        to=_strings(sec, "to", d.to, None, w, bad),
        subject_prefix=_typed(sec, "subject_prefix", d.subject_prefix, str, w, bad),
        timeout_s=_typed(sec, "timeout_s", d.timeout_s, float, w, bad),
    )


def parse(raw: dict[str, Any]) -> MonitorConfig:
    """The ``[monitor]`` table of a parsed ``eigyo.toml``, validated (all problems at once)."""
    sec = raw.get("monitor", {})
    bad: list[str] = []
    d = MonitorConfig()
    w = "monitor"
    method = _typed(sec, "method", d.method, str, w, bad)
    if method not in ("shewhart", "ewma"):
        bad.append(f"monitor.method: {method!r} must be shewhart or ewma")
        method = d.method
    hook = sec.get("webhook", {})
    cfg = MonitorConfig(
        metrics=_strings(sec, "metrics", d.metrics, tuple(REGISTRY), w, bad),
        grains=_strings(sec, "grains", d.grains, GRAINS, w, bad),
        by=_strings(sec, "by", d.by, ("team", "role"), w, bad),
        weeks=_typed(sec, "weeks", d.weeks, int, w, bad),
        months=_typed(sec, "months", d.months, int, w, bad),
        recent_weeks=_typed(sec, "recent_weeks", d.recent_weeks, int, w, bad),
        recent_months=_typed(sec, "recent_months", d.recent_months, int, w, bad),
        method=method,
        rules=_strings(sec, "rules", d.rules, ALL_RULES, w, bad),
        lang=_typed(sec, "lang", d.lang, str, w, bad),
        email=_email(sec.get("email", {}), bad),
        webhook=WebhookConfig(
            enabled=_typed(hook, "enabled", False, bool, "monitor.webhook", bad),
            url=_typed(hook, "url", "", str, "monitor.webhook", bad),
            timeout_s=_typed(hook, "timeout_s", 10.0, float, "monitor.webhook", bad),
        ),
    )
    if cfg.lang not in ("ja", "en"):
        bad.append(f"monitor.lang: {cfg.lang!r} must be ja or en")
    if cfg.email.enabled and not cfg.email.to:
        bad.append("monitor.email.to: give at least one address when email is enabled")
    if cfg.webhook.enabled and not cfg.webhook.url.startswith(("http://", "https://")):
        bad.append(f"monitor.webhook.url: {cfg.webhook.url!r} must be an http(s) URL")
    if bad:
        raise WorkspaceError(
            f"{SETTINGS_FILE} [monitor] has {len(bad)} problem(s):\n  " + "\n  ".join(bad)
        )
    return cfg


def load(ws: Workspace) -> MonitorConfig:
    """The workspace's monitoring settings (defaults when ``[monitor]`` is absent)."""
    path = ws.path / SETTINGS_FILE
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise WorkspaceError(f"{path}: cannot read monitoring settings: {e}") from None
    return parse(raw)


#: The ``[monitor]`` block ``eigyo init`` writes, with the defaults (declared in settings).
TEMPLATE = MONITOR_TEMPLATE
