"""Alert sinks against real local servers: a tiny SMTP server and an HTTP receiver, both on a
free loopback port started by the test (nothing leaves the machine)."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import socketserver
import threading
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from eigyo import workspace
from eigyo.monitor import deliver, list_alerts
from eigyo.monitor.alerts import Alert, record
from eigyo.monitor.config import EmailConfig, MonitorConfig, WebhookConfig
from eigyo.monitor.sinks import SinkError
from eigyo.workspace import Workspace


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib: EHLO, MAIL, RCPT, DATA, QUIT."""

    def handle(self) -> None:
        self.wfile.write(b"220 localhost test SMTP\r\n")
        while line := self.rfile.readline():
            cmd = line.decode("ascii", "replace").strip().upper()
            if cmd.startswith("EHLO"):
                self.wfile.write(b"250-localhost\r\n250 8BITMIME\r\n")
            elif cmd.startswith("DATA"):
                self.wfile.write(b"354 go ahead\r\n")
                chunks = []  # a list: a report attached is megabytes of short lines
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    chunks.append(chunk)
                self.server.messages.append(b"".join(chunks))  # type: ignore[attr-defined]
                self.wfile.write(b"250 queued\r\n")
            elif cmd.startswith("QUIT"):
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


@pytest.fixture
def smtp() -> Iterator[Any]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SMTPHandler)
    server.messages = []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def hook() -> Iterator[Any]:
    bodies: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            n = int(self.headers["Content-Length"])
            bodies.append(json.loads(self.rfile.read(n).decode("utf-8")))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    server.bodies = bodies  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def _ws_with_alerts(tmp_path: Path, n: int = 2) -> Workspace:
    ws = workspace.init(tmp_path / "w")
    alerts = [
        Alert(
            f"k{i}",
            "limit",
            "warn",
            "win_rate",
            {"team": "東京"},
            {"ja": f"受注率が下がりました {i}", "en": f"Win rate fell {i}"},
            {"value": 0.1},
        )
        for i in range(n)
    ]
    with ws.transaction() as con:
        record(con, 1, alerts)
    return ws


def test_email_is_sent_once_in_japanese(tmp_path: Path, smtp: Any) -> None:
    ws = _ws_with_alerts(tmp_path)
    port = smtp.server_address[1]
    cfg = MonitorConfig(email=EmailConfig(enabled=True, port=port, to=("boss@example.com",)))
    assert deliver(ws, cfg) == {"email": 2}
    assert len(smtp.messages) == 1
    msg = email.message_from_bytes(smtp.messages[0], policy=email.policy.default)
    assert "アラート 2 件" in str(msg["Subject"]) and msg["To"] == "boss@example.com"
    body = msg.get_body().get_content()  # type: ignore[union-attr]
    assert "受注率が下がりました 0" in body and "受注率が下がりました 1" in body
    assert deliver(ws, cfg) == {"email": 0}  # duplicates suppressed
    assert len(smtp.messages) == 1
    ws.close()


def test_webhook_posts_slack_compatible_json(tmp_path: Path, hook: Any) -> None:
    ws = _ws_with_alerts(tmp_path)
    url = f"http://127.0.0.1:{hook.server_address[1]}/hook"
    cfg = MonitorConfig(lang="en", webhook=WebhookConfig(enabled=True, url=url))
    assert deliver(ws, cfg) == {"webhook": 2}
    (body,) = hook.bodies
    assert "Win rate fell 0" in body["text"] and len(body["alerts"]) == 2
    assert body["alerts"][0]["scope"] == {"team": "東京"}
    with ws.transaction() as con:
        record(con, 2, [Alert("k9", "limit", "warn", None, {}, {"ja": "新", "en": "new"})])
    assert deliver(ws, cfg) == {"webhook": 1}  # only the alert not yet delivered
    ws.close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_failed_sink_keeps_alerts_for_the_next_run(tmp_path: Path, hook: Any) -> None:
    ws = _ws_with_alerts(tmp_path)
    dead = WebhookConfig(enabled=True, url=f"http://127.0.0.1:{_closed_port()}/", timeout_s=2)
    with pytest.raises(SinkError, match="webhook"):
        deliver(ws, MonitorConfig(webhook=dead))
    assert len(list_alerts(ws.raw, undelivered_to="webhook")) == 2
    alive = replace(dead, url=f"http://127.0.0.1:{hook.server_address[1]}/")
    assert deliver(ws, MonitorConfig(webhook=alive)) == {"webhook": 2}
    ws.close()


def test_unreachable_smtp_names_the_setting_to_check(tmp_path: Path) -> None:
    ws = _ws_with_alerts(tmp_path)
    cfg = MonitorConfig(email=EmailConfig(enabled=True, port=_closed_port(), to=("a@b",)))
    with pytest.raises(SinkError, match=r"\[monitor.email\]"):
        deliver(ws, cfg)
    ws.close()
