"""End to end in a real headless Chromium (Playwright driving Debian's /usr/bin/chromium).

The dashboard runs under uvicorn on a free loopback port in a thread; the browser logs in through
the form (no test-only door), opens every page, switches language and takes screenshots (into
``$EIGYO_SCREENSHOTS`` when set, else a temporary folder). A hostile account name must render as
text: no dialog may open, and the page's CSP must not report a blocked inline script of ours.
Skipped with the reason when Chromium or Playwright is missing locally; failed under ``CI=true``.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from eigyo.diagnose.model import STEPS
from tests.conftest import unavailable
from tests.test_app_scope import FY, HOSTILE, company

CHROMIUM = os.environ.get("EIGYO_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "browser-pass"
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    try:
        import uvicorn

        from eigyo.app import add_user, create_app
    except ImportError as e:
        unavailable(f"web packages missing: {e.name}")
    root = tmp_path_factory.mktemp("browser")
    with company(root) as ws:
        add_user(ws, "admin", PASSWORD, "admin")
        add_user(ws, "sato", PASSWORD, "rep", rep_id="r1")
    port = _free_port()
    config = uvicorn.Config(create_app(root / "w"), host="127.0.0.1", port=port, log_level="error")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(100):
        if srv.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if not shutil.which(CHROMIUM):
        unavailable(f"{CHROMIUM} is missing (apt-get install chromium fonts-ipafont-gothic)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is missing (pip install playwright; no browser download needed)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = os.environ.get("EIGYO_SCREENSHOTS")
    path = Path(out) if out else tmp_path_factory.mktemp("shots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _login(page: Any, base: str, user: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", user)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(f"{base}/")


def test_admin_clicks_through_every_page(server: str, browser: Any, shots: Path) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="ja-JP")
    dialogs: list[str] = []
    errors: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{server}/login")
    page.screenshot(path=str(shots / "login.png"))
    _login(page, server, "admin")
    page.wait_for_selector("#kpis .kpi")
    page.screenshot(path=str(shots / "overview.png"), full_page=True)
    for step in STEPS:
        page.goto(f"{server}/steps/{step}?period={FY}")
        page.wait_for_selector("html[data-charts-ready]")
        assert page.locator("#step-title").count() == 1
    page.goto(f"{server}/steps/process?period={FY}")
    page.wait_for_selector("html[data-charts-ready]")
    page.screenshot(path=str(shots / "step-process.png"), full_page=True)
    page.goto(f"{server}/metrics?period={FY}&by=product&metric=bookings&metric=win_rate")
    assert HOSTILE in page.inner_text("#explorer-result")  # shown as text …
    page.screenshot(path=str(shots / "metrics.png"), full_page=True)
    page.click("#explorer-result tbody tr a.drill >> nth=0")  # a row opens its records' page
    page.wait_for_selector("#metric-records")
    page.wait_for_selector("#records-table tbody tr")
    assert HOSTILE in page.inner_text("h1")  # the group named as text on its records page
    page.screenshot(path=str(shots / "metric-records.png"), full_page=True)
    for url in ("/process", "/simulate", "/import"):
        page.goto(f"{server}{url}")
        page.screenshot(path=str(shots / f"{url.strip('/')}.png"), full_page=True)
    page.click("#lang-toggle")
    page.wait_for_selector("html[lang=en]")
    assert "Import data" in page.inner_text("h1")
    page.goto(f"{server}/?period={FY}")
    page.screenshot(path=str(shots / "overview-en.png"), full_page=True)
    assert dialogs == []  # … and never run
    assert not [e for e in errors if "Content Security Policy" in e], errors


def test_rep_sees_only_their_rows_and_logs_out(server: str, browser: Any, shots: Path) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    _login(page, server, "sato")
    page.goto(f"{server}/metrics?period={FY}&by=rep_id&metric=bookings")
    text = page.inner_text("#explorer-result")
    assert "r1" in text and "r3" not in text and "r2" not in text
    page.screenshot(path=str(shots / "rep-metrics.png"), full_page=True)
    assert page.locator("a[href='/import']").count() == 0
    page.click("#logout")
    page.wait_for_url(f"{server}/login")
    page.goto(f"{server}/metrics")
    assert "/login" in page.url
