"""A loopback HTTP server for the sync tests: one handler function per vendor, plus the faults
every vendor shares (429 with Retry-After, 5xx, slow pages), and a log of the requests made.

Never reaches the internet: it binds 127.0.0.1 on a free port, in a thread of the test process.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def arg(self, name: str, default: str = "") -> str:
        return self.query.get(name, [default])[0]


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    text: str | None = None  # a non-JSON body (Salesforce Bulk API results are CSV)


Handler = Callable[[Request], Reply]


@dataclass
class Faults:
    """Faults to inject: the next ``throttle`` requests answer 429 (Retry-After ``retry_after``),
    the next ``errors`` answer 503; every answer waits ``delay_s``."""

    throttle: int = 0
    retry_after: str = "1"
    errors: int = 0
    delay_s: float = 0.0
    only: str = ""  # apply throttle/errors only to paths containing this


class Server:
    """``with Server(handler) as s: s.url`` — a vendor API on the loopback interface."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.faults = Faults()
        self.log: list[Request] = []
        self._lock = threading.Lock()
        outer = self

        class _H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # quiet
                pass

            def _any(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                parts = urlsplit(self.path)
                req = Request(
                    self.command,
                    parts.path,
                    parse_qs(parts.query),
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(n) if n else b"",
                )
                reply = outer._answer(req)
                data = (
                    reply.text.encode()
                    if reply.text is not None
                    else b""
                    if reply.body is None
                    else json.dumps(reply.body, ensure_ascii=False).encode()
                )
                self.send_response(reply.status)
                ctype = "text/csv" if reply.text is not None else "application/json"
                self.send_header("Content-Type", ctype + "; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(data)  # a killed client has gone

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _any

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _H)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def _answer(self, req: Request) -> Reply:
        f = self.faults
        with self._lock:
            self.log.append(req)
            hit = f.only in req.path
            if hit and f.throttle > 0:
                f.throttle -= 1
                return Reply(429, {"message": "rate limited"}, {"Retry-After": f.retry_after})
            if hit and f.errors > 0:
                f.errors -= 1
                return Reply(503, {"message": "unavailable"})
        if f.delay_s:
            time.sleep(f.delay_s)
        return self.handler(req)

    def __enter__(self) -> Server:
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
