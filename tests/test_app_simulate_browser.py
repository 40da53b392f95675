"""The simulation page in a real headless Chromium, at desktop width and on a phone (390 px).

As test_app_workflows: the dashboard under uvicorn on a loopback port, Playwright driving
/usr/bin/chromium, signing in through the form as the manager of team A. The manager ticks two
candidates, runs, and sees today's card and theirs side by side (stacked on the phone, with no
sideways scroll), the bookings chart drawn by Plotly, the recommendation and its rule; in
English the same page reads in English. Skipped with the reason when Chromium or Playwright is
missing locally.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import unavailable
from tests.test_app_browser import CHROMIUM, FLAGS, _free_port
from tests.test_app_scope import company

PASSWORD = "simulate-pass"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    try:
        import uvicorn

        from eigyo.app import add_user, create_app
    except ImportError as e:
        unavailable(f"web packages missing: {e.name}")
    root = tmp_path_factory.mktemp("simbrowser")
    with company(root) as ws:
        add_user(ws, "boss", PASSWORD, "manager", rep_id="m1", team="A")
    port = _free_port()
    srv = uvicorn.Server(
        uvicorn.Config(create_app(root / "w"), host="127.0.0.1", port=port, log_level="error")
    )
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
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


def _signed_in(browser: Any, base: str, viewport: dict[str, int]) -> Any:
    """A page signed in as the manager, landed on /simulate (the login form's ``next``)."""
    page = browser.new_page(viewport=viewport, locale="ja-JP")
    page.set_default_timeout(120_000)
    page.goto(f"{base}/simulate")
    page.fill("#username", "boss")
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(f"{base}/simulate")
    return page


def _run(page: Any) -> None:
    """Tick generalist and hybrid only, three months, run; wait for the comparison."""
    for s in ("assembly_line", "pod"):
        page.uncheck(f"#sim-{s}")
    page.fill("input[name=horizon]", "3")
    page.click("#sim-run")
    page.wait_for_selector("#sim-compare")
    page.wait_for_selector("#plot-sim-bookings .main-svg")  # Plotly drew the chart


def _width(page: Any) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_manager_compares_structures_with_today(
    server: str, browser: Any, viewport: dict[str, int], tmp_path: Path
) -> None:
    page = _signed_in(browser, server, viewport)
    assert _width(page) <= viewport["width"]
    _run(page)
    cards = page.locator(".sim-card")
    assert [cards.nth(i).get_attribute("data-structure") for i in range(cards.count())] == [
        "current",
        "generalist",
        "hybrid",
    ]
    first, second = cards.nth(0).bounding_box(), cards.nth(1).bounding_box()
    if viewport is DESKTOP:  # side by side
        assert abs(first["y"] - second["y"]) < 1 and second["x"] > first["x"]
    else:  # stacked, each as wide as the screen allows
        assert second["y"] >= first["y"] + first["height"] and first["width"] <= viewport["width"]
    rec = page.locator("#sim-recommendation")
    reason = rec.get_attribute("data-reason")
    sentence = rec.inner_text()
    chosen = page.locator(".sim-card.recommended")
    if reason == "clearly_better":
        assert "上回ります" in sentence
        assert chosen.get_attribute("data-structure") == rec.get_attribute("data-structure")
    else:
        assert "現状より明確に良い体制はありません" in sentence and chosen.count() == 0
    assert "判定ルール" in page.locator("#sim-rule").inner_text()
    # every candidate outcome carries its difference against today
    diffs = page.locator('.sim-card[data-structure="hybrid"] dd[data-key="bookings"] .sim-diff')
    assert "現状との差" in diffs.inner_text()
    assert _width(page) <= viewport["width"], _width(page)
    page.screenshot(path=str(tmp_path / "simulate.png"), full_page=True)
    page.close()


def test_the_page_reads_in_english(server: str, browser: Any) -> None:
    page = _signed_in(browser, server, DESKTOP)
    page.click("#lang-toggle")
    page.wait_for_url("**/simulate")
    assert "Structures to compare" in page.locator("#sim-form").inner_text()
    _run(page)
    text = page.locator("#sim-compare").inner_text()
    assert "Today (baseline)" in text and "vs today" in text and "The rule:" in text
    assert not any(
        "\u3040" <= ch <= "\u30ff" for ch in page.locator("#sim-recommendation").inner_text()
    )
    page.close()


def test_a_refused_request_reads_as_one_sentence_in_the_box(server: str, browser: Any) -> None:
    page = _signed_in(browser, server, PHONE)
    page.fill("input[name=headcount]", "sdr=1,closer=2")  # with four candidates ticked
    page.click("#sim-run")
    alert = page.wait_for_selector("#sim-result #sim-error")
    assert "候補を 1 つだけ" in alert.inner_text()
    assert page.locator("#sim-form").count() == 1 and page.locator("main h1").count() == 1
    assert _width(page) <= PHONE["width"]
    page.close()


def test_progress_shows_while_the_comparison_waits_then_its_result(
    server: str, browser: Any
) -> None:
    """The server runs in this process: the one simulation slot is taken by a task that waits
    for the test, so the page shows the job waiting with its progress bar, polls, and shows the
    comparison once the slot frees."""
    from eigyo.app import _simulate

    page = _signed_in(browser, server, PHONE)
    gate = threading.Event()
    _simulate._RUNNER.submit(gate.wait, 120)
    try:
        page.uncheck("#sim-assembly_line")
        page.click("#sim-run")
        job = page.wait_for_selector('#sim-job[data-stage="queued"]')
        assert "他のシミュレーションの終了を待っています" in job.inner_text()
        assert page.locator("#sim-progress").get_attribute("max") == "40"  # 4 structures × 10
        time.sleep(1.2)  # two polls later it still waits, still on the page
        assert page.locator("#sim-job").count() == 1
    finally:
        gate.set()
    page.wait_for_selector("#sim-compare")
    assert page.locator(".sim-card").count() == 4 and page.locator("#sim-job").count() == 0
    assert _width(page) <= PHONE["width"]
    page.close()
