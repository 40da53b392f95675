"""Credentials of a sync: environment variables first, then the OS keyring; never ``eigyo.toml``.

Why not the settings file: ``eigyo.toml`` is copied, committed and shown to colleagues, and a
token there would outlive the person who made it. A secret read here is handed to the HTTP
client (which redacts it from every message) and to nothing else.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from eigyo.sync.http import SyncError

#: Keys a ``[sync.<crm>]`` table may not hold: a secret there is refused, not read.
_SECRET_KEY = re.compile(r"token|secret|password|passwd|private_key|api_key|refresh", re.I)
#: The keyring service eigyo's secrets are stored under (``keyring set eigyo NAME``).
KEYRING_SERVICE = "eigyo"


def secret(name: str, crm: str, *, required: bool = True) -> str | None:
    """The value of environment variable ``name``, else the keyring's ``eigyo``/``name`` entry."""
    value = os.environ.get(name)
    if value:
        return value.strip()
    try:
        import keyring  # optional: only when installed (pip install keyring)

        value = str(keyring.get_password(KEYRING_SERVICE, name) or "")
    except Exception:
        value = None
    if value:
        return value.strip()
    if required:
        raise SyncError(key="sync.error.no_secret", crm=crm, name=name)
    return None


def settings(workspace: Path, crm: str) -> dict[str, object]:
    """``[sync.<crm>]`` of the workspace's ``eigyo.toml``; a key that looks like a secret is an
    error naming the environment variable to use instead."""
    import tomllib

    raw = tomllib.loads((workspace / "eigyo.toml").read_text(encoding="utf-8"))
    section = raw.get("sync", {}).get(crm, {})
    if not isinstance(section, dict):
        raise SyncError(key="sync.error.settings", crm=crm, detail=f"[sync.{crm}] is not a table")
    for key in section:
        if _SECRET_KEY.search(key):
            raise SyncError(key="sync.error.secret_in_settings", crm=crm, field=key)
    return section


def mapping_file(workspace: Path, section: dict[str, object], crm: str) -> Path | None:
    """``mapping = "FILE"`` of ``[sync.<crm>]`` (relative to the workspace): the mapping file the
    synced records are imported with instead of the CRM's preset, as ``eigyo import --mapping``."""
    name = section.get("mapping")
    if not name:
        return None
    path = workspace / str(name)
    if not path.is_file():
        raise SyncError(key="sync.error.settings", crm=crm, detail=f"mapping = {name!r}: not found")
    return path
