"""Dashboard users: kept in the workspace's own DuckDB (``_users``), passwords hashed with scrypt.

Why scrypt from the standard library: it is memory-hard (what a stolen hash table needs), needs no
compiled dependency, and its parameters travel inside each stored hash, so they can be raised
later without invalidating existing passwords. Why the workspace file: users belong to the data
they may see (their ``rep_id`` / ``team`` name rows of *this* workspace), and a copy of the folder
carries its access rules with it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb

from eigyo.app._scope import ROLES, Principal, Role
from eigyo.errors import InputError
from eigyo.workspace import Workspace

USERS_DDL = """CREATE TABLE IF NOT EXISTS _users (
    username VARCHAR PRIMARY KEY, password_hash VARCHAR NOT NULL, role VARCHAR NOT NULL,
    rep_id VARCHAR, team VARCHAR, created_at TIMESTAMP)"""
#: scrypt cost: 2**15 × 8 × 128 B = 32 MiB and ~0.1 s per check on one core (OWASP minimum).
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
MIN_PASSWORD = 8
_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
#: A hash checked when the user does not exist, so a wrong name costs as long as a wrong password.
_DUMMY = "scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA==$" + "A" * 43 + "="


@dataclass(frozen=True)
class User:
    """A dashboard account (never carries the password hash out of this module)."""

    username: str
    role: Role
    rep_id: str | None
    team: str | None

    def principal(self) -> Principal:
        return Principal(self.username, self.role, self.rep_id, self.team)

    def to_json(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "role": self.role,
            "rep_id": self.rep_id,
            "team": self.team,
        }


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode("ascii")


def hash_password(password: str) -> str:
    """``scrypt$N$r$p$salt$hash`` — parameters stored with the hash."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P,
        maxmem=2**26, dklen=32,
    )  # fmt: skip
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Constant-time comparison against a stored hash; a malformed hash never matches."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        want = base64.b64decode(digest)
        got = hashlib.scrypt(
            password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n), r=int(r),
            p=int(p), maxmem=2**26, dklen=len(want),
        )  # fmt: skip
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, want)


def ensure_table(ws: Workspace) -> None:
    """``_users`` in a writer's generation; a reader (the dashboard opens the data read-only, so
    imports and the CLI can write meanwhile) cannot create it and reads no users without it."""
    if not ws.read_only:
        ws.raw.execute(USERS_DDL)


def _has_table(ws: Workspace) -> bool:
    if not ws.read_only:
        return True
    rows = ws.raw.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = '_users'"
    ).fetchall()
    return bool(rows[0][0])


def _check(username: str, role: str, rep_id: str | None, team: str | None, password: str) -> None:
    if not _NAME.match(username):
        raise InputError(
            f"User name {username!r} must be 1–64 letters, digits or _ . @ - characters."
        )
    if role not in ROLES:
        raise InputError(f"--role must be one of {', '.join(ROLES)}; got {role!r}.")
    if role == "rep" and not rep_id:
        raise InputError("A rep user needs --rep-id (the reps.rep_id whose rows they see).")
    if role == "manager" and not (team or rep_id):
        raise InputError("A manager user needs --team (and may add --rep-id).")
    if len(password) < MIN_PASSWORD:
        raise InputError(f"The password must have at least {MIN_PASSWORD} characters.")


def add_user(
    ws: Workspace,
    username: str,
    password: str,
    role: str,
    *,
    rep_id: str | None = None,
    team: str | None = None,
    replace: bool = False,
) -> User:
    """Create (or, with ``replace``, reset) an account; the rules of :func:`_check` apply."""
    _check(username, role, rep_id, team, password)
    ensure_table(ws)
    if not replace and get_user(ws, username) is not None:
        raise InputError(f"User {username!r} exists already. Use --replace to reset it.")
    with ws.transaction() as raw:
        raw.execute("DELETE FROM _users WHERE username = ?", [username])
        raw.execute(
            "INSERT INTO _users VALUES (?, ?, ?, ?, ?, ?)",
            [username, hash_password(password), role, rep_id, team, datetime.now()],
        )
    return User(username, role, rep_id, team)  # type: ignore[arg-type]


def _row_user(row: tuple[Any, ...]) -> User:
    return User(str(row[0]), row[1], row[2], row[3])


def get_user(ws: Workspace, username: str) -> User | None:
    ensure_table(ws)
    if not _has_table(ws):
        return None
    rows = ws.raw.execute(
        "SELECT username, role, rep_id, team FROM _users WHERE username = ?", [username]
    ).fetchall()
    return _row_user(rows[0]) if rows else None


def list_users(ws: Workspace) -> list[User]:
    ensure_table(ws)
    if not _has_table(ws):
        return []
    rows = ws.raw.execute("SELECT username, role, rep_id, team FROM _users ORDER BY 1").fetchall()
    return [_row_user(r) for r in rows]


def remove_user(ws: Workspace, username: str) -> bool:
    ensure_table(ws)
    with ws.transaction() as raw:
        found = raw.execute("SELECT count(*) FROM _users WHERE username = ?", [username]).fetchall()
        raw.execute("DELETE FROM _users WHERE username = ?", [username])
    return bool(found[0][0])


def authenticate(
    ws: Workspace,
    username: str,
    password: str,
    gate: Callable[[Callable[[], bool]], bool] | None = None,
) -> User | None:
    """The user when the password matches; None otherwise, taking the same time either way.

    ``gate`` runs the password check (the server's :class:`~eigyo.app._limits.HashGate`, which
    bounds how many 32 MiB checks run at once); without it the check runs directly.
    """
    ensure_table(ws)
    rows = (
        ws.raw.execute(
            "SELECT username, role, rep_id, team, password_hash FROM _users WHERE username = ?",
            [username],
        ).fetchall()
        if _has_table(ws)
        else []
    )
    stored = str(rows[0][4]) if rows else _DUMMY

    def check() -> bool:
        return verify_password(password, stored)

    ok = gate(check) if gate is not None else check()
    return _row_user(rows[0]) if rows and ok else None


def check_scope_values(ws: Workspace, rep_id: str | None, team: str | None) -> None:
    """Refuse a ``--rep-id`` or ``--team`` that the workspace's ``reps`` table does not hold.

    Why: a mistyped scope gives a user an empty dashboard that looks like "no sales", and a
    scope meant for data not yet imported is better added after the import.
    """
    checks = (("rep_id", rep_id, "app.cli.unknown_rep"), ("team", team, "app.cli.unknown_team"))
    for column, value, key in checks:
        if value is None:
            continue
        try:
            found = ws.raw.execute(
                f"SELECT count(*) FROM reps WHERE {column} = ?", [value]
            ).fetchall()[0][0]
            known = [
                str(r[0])
                for r in ws.raw.execute(
                    f"SELECT DISTINCT {column} FROM reps WHERE {column} IS NOT NULL "
                    f"ORDER BY 1 LIMIT 5"
                ).fetchall()
            ]
        except duckdb.Error:  # no reps table yet: nothing can be in scope
            found, known = 0, []
        if not found:
            raise InputError(key=key, value=value, known=", ".join(known) or "-")


def data_version(ws: Workspace) -> int:
    """The latest import id: what caches of computed pages are keyed by."""
    rows = ws.raw.execute("SELECT coalesce(max(import_id), 0) FROM _imports").fetchall()
    return int(rows[0][0])
