"""Sessions, CSRF tokens and response headers of the dashboard.

Why server-side sessions: the cookie holds only a random token, so logging out (or restarting the
server) really ends a session, and nothing about the user's role can be forged in the cookie.
The cookie is ``HttpOnly`` and ``SameSite=Strict`` (a cross-site page cannot make the browser send
it), and every state-changing request must also carry the session's CSRF token — a form field or
the ``X-CSRF-Token`` header HTMX sends — checked in constant time. Before login, a short-lived
double-submit cookie protects the login form itself against login CSRF.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from eigyo.app._users import User

SESSION_COOKIE = "eigyo_session"
LOGIN_CSRF_COOKIE = "eigyo_login_csrf"
LANG_COOKIE = "eigyo_lang"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
#: Idle sessions end after this many seconds.
SESSION_TTL = 8 * 3600

#: Scripts only from this origin (Plotly and HTMX are served locally); no eval (HTMX is told so),
#: no frames, no plugins. Plotly writes inline styles, hence ``style-src 'unsafe-inline'``.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
#: Sent only over TLS (``serve --certfile``, or a proxy that says ``X-Forwarded-Proto: https``):
#: browsers then refuse plain HTTP to this host for a year.
HSTS = "max-age=31536000"
SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@dataclass
class Session:
    """One signed-in browser: the user and the CSRF token its forms must echo."""

    user: User
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    seen: float = field(default_factory=time.monotonic)


class SessionStore:
    """In-memory sessions keyed by a random token; thread-safe, idle ones expire."""

    def __init__(self, ttl: float = SESSION_TTL) -> None:
        self._ttl = ttl
        self._lock = threading.Lock()
        self._by_token: dict[str, Session] = {}

    def create(self, user: User) -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._by_token[token] = Session(user)
        return token

    def get(self, token: str | None) -> Session | None:
        if not token:
            return None
        now = time.monotonic()
        with self._lock:
            s = self._by_token.get(token)
            if s is None:
                return None
            if now - s.seen > self._ttl:
                del self._by_token[token]
                return None
            s.seen = now
            return s

    def drop(self, token: str | None) -> None:
        with self._lock:
            self._by_token.pop(token or "", None)


def same_token(a: str | None, b: str | None) -> bool:
    """Both present and equal, compared in constant time."""
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


def new_token() -> str:
    return secrets.token_urlsafe(32)


def safe_next(target: str | None, default: str = "/") -> str:
    """A redirect target that stays on this site (a path, never ``//host`` or a scheme)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target:
        return default
    return target
