"""Salesforce sign-in: an access token from the environment, a refresh token, or a JWT bearer.

Why three: an administrator trying eigyo pastes a session token; a scheduled sync uses the
connected app's refresh token (``refresh_token`` scope) or — for a server with no person to
consent — the OAuth 2.0 JWT bearer flow with the app's certificate. The JWT is signed with
``openssl`` (RS256) so that no cryptography package is needed; the private key stays in its file.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import time
import urllib.parse
from typing import Any

from eigyo.sync.credentials import secret
from eigyo.sync.http import Http, SyncError

ACCESS_ENV = "EIGYO_SALESFORCE_ACCESS_TOKEN"
REFRESH_ENV = "EIGYO_SALESFORCE_REFRESH_TOKEN"
CLIENT_SECRET_ENV = "EIGYO_SALESFORCE_CLIENT_SECRET"
JWT_KEY_ENV = "EIGYO_SALESFORCE_JWT_KEY_FILE"
CRM = "salesforce"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt_assertion(client_id: str, username: str, audience: str, key_file: str) -> str:
    """A signed JWT for Salesforce's JWT bearer flow (RS256, valid three minutes)."""
    head = _b64(json.dumps({"alg": "RS256"}).encode())
    claims = {"iss": client_id, "sub": username, "aud": audience, "exp": int(time.time()) + 180}
    body = _b64(json.dumps(claims).encode())
    openssl = shutil.which("openssl")
    if openssl is None:
        raise SyncError(key="sync.error.settings", crm=CRM, detail="the JWT flow needs openssl")
    signed = subprocess.run(  # fixed arguments; the key stays in its file
        [openssl, "dgst", "-sha256", "-sign", key_file],
        input=f"{head}.{body}".encode(),
        capture_output=True,
        check=False,
    )
    if signed.returncode:
        detail = f"openssl could not sign with {JWT_KEY_ENV}"
        raise SyncError(key="sync.error.settings", crm=CRM, detail=detail)
    return f"{head}.{body}.{_b64(signed.stdout)}"


def sign_in(cfg: dict[str, Any], **http: Any) -> tuple[str, str]:
    """(access token, instance URL) by the first way the environment allows."""
    instance = str(cfg.get("instance_url", "")).rstrip("/")
    token = secret(ACCESS_ENV, CRM, required=False)
    if token:
        if not instance:
            raise SyncError(key="sync.error.settings", crm=CRM, detail="instance_url")
        return token, instance
    login = str(cfg.get("login_url", "https://login.salesforce.com")).rstrip("/")
    client_id = str(cfg.get("client_id", ""))
    form: dict[str, str]
    refresh = secret(REFRESH_ENV, CRM, required=False)
    key_file = secret(JWT_KEY_ENV, CRM, required=False)
    if refresh:
        form = {"grant_type": "refresh_token", "refresh_token": refresh, "client_id": client_id}
        client_secret = secret(CLIENT_SECRET_ENV, CRM, required=False)
        if client_secret:
            form["client_secret"] = client_secret
    elif key_file:
        username = str(cfg.get("username", ""))
        if not client_id or not username:
            raise SyncError(key="sync.error.settings", crm=CRM, detail="client_id and username")
        form = {
            "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "assertion": jwt_assertion(client_id, username, login, key_file),
        }
    else:
        raise SyncError(key="sync.error.no_secret", crm=CRM, name=f"{ACCESS_ENV} / {REFRESH_ENV}")
    secrets = tuple(v for v in form.values() if len(v) > 12)
    client = Http(CRM, login, {}, secrets=secrets, **http)
    answer = client.request(
        "POST",
        "/services/oauth2/token",
        raw=urllib.parse.urlencode(form).encode(),
        content_type="application/x-www-form-urlencoded",
        auth_failure={400},  # invalid_grant: a refresh token revoked or a JWT refused
    )
    return str(answer["access_token"]), str(answer.get("instance_url") or instance)
