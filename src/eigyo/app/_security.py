"""Sessions, CSRF tokens and response headers of the dashboard.

Why server-side sessions: the cookie holds only a random token, so logging out really ends a
session, and nothing about the user's role can be forged in the cookie. Why in a small SQLite
file beside the data (``eigyo-sessions.sqlite``): sessions must survive a restart and be accepted
by every worker process serving the workspace, and SQLite lets several processes write one file
(the DuckDB data allows one writer only, and is rewritten by imports). The file keeps only a
SHA-256 of each token, so reading it gives no one a session; ``eigyo users remove`` and a password
reset end the user's sessions.
The cookie is ``HttpOnly`` and ``SameSite=Strict`` (a cross-site page cannot make the browser send
it), and every state-changing request must also carry the session's CSRF token — a form field or
the ``X-CSRF-Token`` header HTMX sends — checked in constant time. Before login, a short-lived
double-submit cookie protects the login form itself against login CSRF.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from eigyo.app._users import User

SESSION_COOKIE = "eigyo_session"
LOGIN_CSRF_COOKIE = "eigyo_login_csrf"
LANG_COOKIE = "eigyo_lang"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
#: Idle sessions end after this many seconds.
SESSION_TTL = 8 * 3600
#: The sessions of a workspace's dashboard, in its folder.
SESSIONS_FILE = "eigyo-sessions.sqlite"
#: A session's last use is written at most this often (a write per request would make every
#: page a write to the shared file).
TOUCH_S = 60.0
_SESSIONS_DDL = """CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY, username TEXT NOT NULL, role TEXT NOT NULL, rep_id TEXT,
    team TEXT, csrf TEXT NOT NULL, created REAL NOT NULL, seen REAL NOT NULL)"""

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
    seen: float = field(default_factory=time.time)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class SessionStore:
    """Sessions keyed by a random token, in SQLite: ``db`` (a file shared by every process
    serving the workspace), or memory when None. Thread-safe (a connection per thread); idle
    sessions expire after ``ttl`` seconds of wall-clock time, across restarts too."""

    def __init__(self, db: Path | None = None, ttl: float = SESSION_TTL) -> None:
        self._ttl = ttl
        self._local = threading.local()
        if db is None:
            self._target, self._uri = (
                f"file:eigyo-{secrets.token_hex(8)}?mode=memory&cache=shared",
                True,
            )
        else:
            if not db.exists():  # tokens are hashed; still, only the server's user reads it
                os.close(os.open(db, os.O_CREAT | os.O_WRONLY, 0o600))
            self._target, self._uri = str(db), False
        self._keeper = self._open()  # a memory database lives while one connection is open
        if db is not None:
            self._keeper.execute("PRAGMA journal_mode=WAL")
        with self._keeper:
            self._keeper.execute(_SESSIONS_DDL)

    def _open(self) -> sqlite3.Connection:
        con = sqlite3.connect(self._target, uri=self._uri, timeout=10, isolation_level=None)
        con.execute("PRAGMA busy_timeout=10000")
        return con

    def _con(self) -> sqlite3.Connection:
        con: sqlite3.Connection | None = getattr(self._local, "con", None)
        if con is None:
            con = self._local.con = self._open()
        return con

    def create(self, user: User) -> str:
        token = secrets.token_urlsafe(32)
        now = time.time()
        con = self._con()
        con.execute("DELETE FROM sessions WHERE seen < ?", [now - self._ttl])
        con.execute(
            "INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [_digest(token), user.username, user.role, user.rep_id, user.team,
             secrets.token_urlsafe(32), now, now],
        )  # fmt: skip
        return token

    def get(self, token: str | None) -> Session | None:
        if not token:
            return None
        now = time.time()
        con = self._con()
        key = _digest(token)
        rows = con.execute(
            "SELECT username, role, rep_id, team, csrf, seen FROM sessions WHERE token_hash = ?",
            [key],
        ).fetchall()
        if not rows:
            return None
        name, role, rep_id, team, csrf, seen = rows[0]
        if now - seen > self._ttl:
            con.execute("DELETE FROM sessions WHERE token_hash = ?", [key])
            return None
        if now - seen > TOUCH_S:
            con.execute("UPDATE sessions SET seen = ? WHERE token_hash = ?", [now, key])
            seen = now
        return Session(User(name, role, rep_id, team), csrf, seen)

    def drop(self, token: str | None) -> None:
        self._con().execute("DELETE FROM sessions WHERE token_hash = ?", [_digest(token or "")])

    def drop_user(self, username: str) -> int:
        """End every session of ``username`` (removed, or their password reset)."""
        return self._con().execute("DELETE FROM sessions WHERE username = ?", [username]).rowcount


def end_sessions(workspace: Path, username: str) -> int:
    """``username``'s sessions in the workspace's dashboard end (every worker, at once)."""
    db = workspace / SESSIONS_FILE
    return SessionStore(db).drop_user(username) if db.exists() else 0


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
