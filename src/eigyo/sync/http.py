"""A small JSON-over-HTTPS client on the standard library, shared by the three connectors.

Why not ``requests`` / the vendors' SDKs: a sync needs four things from HTTP — retries with
backoff on 429 and 5xx that honour ``Retry-After``, a client-side request rate (HubSpot's search
API allows 4 requests/s), one-line errors that say *auth*, *permission*, *limit* or *network*,
and secrets that never reach a message. ``urllib.request`` gives all of them in one page, adds no
dependency and no transitive one (docs/connectors.md, "Why no SDK").
"""

from __future__ import annotations

import email.utils
import json
import random
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from eigyo.errors import EigyoError

#: Statuses worth another try: rate limited, or the server briefly unwell.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class SyncError(EigyoError):
    """A sync that cannot go on: auth, permission, API limit, network, or a bad answer."""


@dataclass
class Stats:
    """What the requests cost: shown on the progress bar and reported by the bench."""

    requests: int = 0
    retries: int = 0
    #: Seconds slept because of the rate: ``Retry-After``/backoff on 429 and the client's own pace.
    rate_wait_s: float = 0.0


def redact(text: str, secrets: tuple[str, ...]) -> str:
    """``text`` with every secret (and its URL-quoted form) replaced by ``***``."""
    for s in secrets:
        if s and len(s) >= 4:
            text = text.replace(s, "***").replace(urllib.parse.quote(s, safe=""), "***")
    return text


def retry_after(value: str | None, default: float) -> float:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return default
    with suppress(ValueError):  # not delta-seconds: an HTTP date
        return max(0.0, float(value))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return max(0.0, when.timestamp() - time.time())


class Http:
    """JSON requests to one API with retries, a pace and errors in one sentence.

    ``secrets`` are redacted from every error text; headers (where tokens travel) are never
    part of an error or a log line.
    """

    def __init__(
        self,
        crm: str,
        base_url: str,
        headers: Mapping[str, str],
        *,
        secrets: tuple[str, ...] = (),
        max_per_s: float | None = None,
        retries: int = 6,
        backoff_s: float = 0.5,
        max_wait_s: float = 120.0,
        timeout_s: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.crm = crm
        self.base_url = base_url.rstrip("/")
        self.headers = dict(headers)
        self.secrets = secrets
        self.min_gap = 1.0 / max_per_s if max_per_s else 0.0
        self.retries = retries
        self.backoff_s = backoff_s
        self.max_wait_s = max_wait_s
        self.timeout_s = timeout_s
        self.sleep = sleep
        self.stats = Stats()
        self._last = 0.0

    def url(self, path: str, params: Mapping[str, object] | None = None) -> str:
        """``path`` under the base URL (an absolute URL of the same API is kept as is)."""
        u = path if path.startswith(("http://", "https://")) else self.base_url + path
        if params:
            u += ("&" if "?" in u else "?") + urllib.parse.urlencode(
                {k: str(v) for k, v in params.items()}
            )
        return u

    def _pace(self) -> None:
        if self.min_gap:
            wait = self._last + self.min_gap - time.monotonic()
            if wait > 0:
                self.stats.rate_wait_s += wait
                self.sleep(wait)
        self._last = time.monotonic()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, object] | None = None,
        body: object = None,
        raw: bytes | None = None,
        content_type: str = "application/json",
        accept_text: bool = False,
        auth_failure: set[int] | None = None,
        headers_out: dict[str, str] | None = None,
    ) -> Any:
        """The decoded JSON answer (text when ``accept_text``); :class:`SyncError` when it fails
        after the retries. ``auth_failure``: more statuses that mean the sign-in was refused;
        ``headers_out`` receives the answer's headers (Bulk API 2.0 pages by ``Sforce-Locator``)."""
        url = self.url(path, params)
        data = raw if raw is not None else None if body is None else json.dumps(body).encode()
        headers = dict(self.headers)
        if data is not None:
            headers["Content-Type"] = content_type
        last: Exception | None = None
        for attempt in range(self.retries + 1):
            self._pace()
            self.stats.requests += 1
            req = urllib.request.Request(url, data=data, method=method, headers=headers)
            try:
                with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                    payload = resp.read()
                    if headers_out is not None:
                        headers_out.update(resp.headers.items())
                    if accept_text:
                        return payload.decode("utf-8")
                    return json.loads(payload) if payload.strip() else None
            except urllib.error.HTTPError as e:
                detail = self._detail(e)
                if e.code not in RETRY_STATUSES or attempt == self.retries:
                    status = 401 if e.code in (auth_failure or ()) else e.code
                    raise self._error(status, detail) from None
                wait = retry_after(e.headers.get("Retry-After"), self._backoff(attempt))
                if e.code == 429:
                    self.stats.rate_wait_s += min(wait, self.max_wait_s)
                last = e
            except (urllib.error.URLError, TimeoutError, ConnectionError) as e:
                if attempt == self.retries:
                    reason = getattr(e, "reason", e)
                    raise SyncError(
                        key="sync.error.network",
                        crm=self.crm,
                        detail=redact(str(reason), self.secrets),
                    ) from None
                wait, last = self._backoff(attempt), e
            self.stats.retries += 1
            self.sleep(min(wait, self.max_wait_s))
        raise SyncError(
            key="sync.error.network", crm=self.crm, detail=str(last)
        )  # pragma: no cover

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter, so parallel clients do not retry in step."""
        return float(self.backoff_s * (2**attempt) * (0.5 + random.random() / 2))

    def _detail(self, e: urllib.error.HTTPError) -> str:
        try:
            text = e.read().decode("utf-8", "replace")[:300]
        except OSError:
            text = ""
        return redact(" ".join(text.split()), self.secrets)

    def _error(self, status: int, detail: str) -> SyncError:
        key = {401: "auth", 403: "permission", 429: "limit"}.get(status, "http")
        if status == 403 and "LIMIT_EXCEEDED" in detail:  # Salesforce: REQUEST_LIMIT_EXCEEDED
            key = "limit"
        return SyncError(key=f"sync.error.{key}", crm=self.crm, status=status, detail=detail)
