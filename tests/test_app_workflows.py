"""Issue 18 in a real headless Chromium: the phone (390 px), the language, the manager workflows.

As test_app_browser does: the dashboard under uvicorn on a loopback port, Playwright driving
/usr/bin/chromium, logging in through the form as the admin, the manager of team A and rep r1.
At 390 px no page may scroll sideways (``scrollWidth <= 390``): tables scroll inside their own
box, charts shrink. Skipped with the reason when Chromium or Playwright is missing locally.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from eigyo.base.periods import parse_period
from eigyo.diagnose.model import STEPS
from eigyo.report import ReportInput, render_html, report_model
from eigyo.runbook import kpi_tiles
from tests.conftest import unavailable
from tests.test_app_browser import CHROMIUM, FLAGS, _free_port
from tests.test_app_scope import FY, company

PASSWORD = "workflow-pass"
USERS = {"admin": ("admin", None, None), "boss": ("manager", "m1", "A"), "sato": ("rep", "r1", "A")}
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
PAGES = [f"/?period={FY}", *(f"/steps/{s}?period={FY}" for s in STEPS), "/metrics",
         "/metrics?by=team&metric=bookings&metric=win_rate", "/process", "/simulate",
         "/pipeline", f"/pipeline?since=2025-04-10&period={FY}"]  # fmt: skip
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("workflows")
    add_user = pytest.importorskip("eigyo.app").add_user
    with company(root) as ws:
        for name, (role, rep, team) in USERS.items():
            add_user(ws, name, PASSWORD, role, rep_id=rep, team=team)
        # the HTML report of the same company, written before the dashboard opens it
        p = parse_period(FY, ws.settings.fiscal_year_start_month)
        inp = ReportInput("Co", p, datetime(2026, 1, 1), kpis=kpi_tiles(ws, p))
        html = render_html(report_model(ws, inp, "ja", formats=("html",)))
    (root / "report.html").write_text(html, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def server(root: Path) -> Iterator[str]:
    try:
        import uvicorn

        from eigyo.app import create_app
        from eigyo.app._limits import ServerLimits
    except ImportError as e:
        unavailable(f"web packages missing: {e.name}")
    port = _free_port()
    # one person walks every cold page back to back: more heavy seconds than a person gets
    limits = ServerLimits(heavy_seconds_per_minute=3600.0, heavy_wait_s=300.0)
    config = uvicorn.Config(
        create_app(root / "w", limits), host="127.0.0.1", port=port, log_level="error"
    )
    srv = uvicorn.Server(config)
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


def page_as(browser: Any, base: str, user: str, viewport: dict[str, int]) -> Any:
    """A new page signed in as ``user`` through the login form."""
    page = browser.new_page(viewport=viewport, locale="ja-JP")
    page.set_default_timeout(120_000)  # a cold overview computes the diagnosis and forecast
    page.goto(f"{base}/login")
    page.fill("#username", user)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(f"{base}/")
    return page


def scroll_width(page: Any) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


def assert_fits(page: Any, url: str, width: int = PHONE["width"]) -> None:
    """The page rendered (not an error page) and scrolls no wider than the screen."""
    page.goto(url)
    assert page.locator("main h1").count() >= 1, url
    assert page.locator("main h1").first.inner_text() not in ("エラー", "Error"), url
    assert scroll_width(page) <= width, (url, scroll_width(page))


@pytest.mark.parametrize("user", list(USERS))
def test_every_page_fits_a_phone(server: str, browser: Any, user: str) -> None:
    page = page_as(browser, server, user, PHONE)
    for url in PAGES:
        assert_fits(page, server + url)
    page.close()


def test_report_fits_a_phone(browser: Any, root: Path) -> None:
    page = browser.new_page(viewport=PHONE)
    page.goto((root / "report.html").as_uri())
    page.wait_for_selector("#headline")
    assert scroll_width(page) <= PHONE["width"]
    page.close()


def test_language_switch_keeps_the_query_and_translates_errors(server: str, browser: Any) -> None:
    page = page_as(browser, server, "boss", DESKTOP)
    page.goto(f"{server}/metrics?by=team&metric=bookings&period={FY}")
    page.click("#lang-toggle")
    page.wait_for_load_state()
    assert "by=team" in page.url and "metric=bookings" in page.url and f"period={FY}" in page.url
    assert page.locator("html").get_attribute("lang") == "en"
    page.goto(f"{server}/?period=bogus")
    alert = page.locator("p.error[role=alert]").inner_text()
    assert "bogus" in alert and not any("\u3040" <= ch <= "\u30ff" for ch in alert), alert
    page.click("#lang-toggle")
    page.wait_for_load_state()
    assert "period=bogus" in page.url
    alert = page.locator("p.error[role=alert]").inner_text()
    assert any("\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" for ch in alert), alert
    page.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("user", list(USERS))
def test_manager_workflow_filters_then_pipeline(
    server: str, browser: Any, user: str, viewport: dict[str, int]
) -> None:
    """Choose a quarter (and, where there is a choice, a rep) in the selects, see the URL carry
    it, follow the navigation to the pipeline review with the view kept, export it."""
    page = page_as(browser, server, user, viewport)
    page.goto(f"{server}/?period={FY}")
    page.select_option("#f-period", f"{FY}-Q1")
    if page.locator("#f-rep").count():
        page.select_option("#f-rep", "r1")
    page.click("#view-apply")
    page.wait_for_url(f"**/?period={FY}-Q1*")
    assert page.locator("#headline").count() == 1
    if user != "sato":
        assert "rep=r1" in page.url
    assert scroll_width(page) <= viewport["width"]
    page.click('nav.main-nav a[href^="/pipeline"]')
    page.wait_for_url("**/pipeline?*")
    assert f"period={FY}-Q1" in page.url
    rows = page.locator("#deals-table tbody tr[data-id]")
    ids = {rows.nth(i).get_attribute("data-id") for i in range(rows.count())}
    assert ids <= {"o5"} and (user != "admin" or "rep=r1" in page.url or ids == {"o5"})
    with page.expect_download() as dl:
        page.click("a.export-csv")
    text = Path(dl.value.path()).read_text(encoding="utf-8-sig")
    if user != "admin":
        assert "o5" not in text  # r3's deal: outside the manager's and the rep's scope
    assert scroll_width(page) <= viewport["width"]
    page.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("user", list(USERS))
def test_rep_scorecard_for_the_1on1(
    server: str, browser: Any, user: str, viewport: dict[str, int]
) -> None:
    """From the overview choose rep r1 (the rep is r1 already), open the scorecard: the rep's
    KPIs beside the team and the target, the findings, the open deals; another team's rep is
    not found for a manager or a rep."""
    page = page_as(browser, server, user, viewport)
    if user == "sato":
        page.goto(f"{server}/reps/r1?period={FY}")
    else:
        page.goto(f"{server}/?period={FY}&rep=r1")
        page.click("#scorecard-link")
        page.wait_for_url("**/reps/r1?*")
    assert (
        page.locator("#scorecard-kpis tr[data-metric=bookings] td.rep").inner_text() == "¥1,000,000"
    )
    assert page.locator("#scorecard-findings").count() == 1
    assert scroll_width(page) <= viewport["width"]
    response = page.goto(f"{server}/reps/r3?period={FY}")
    assert response is not None and response.status == (200 if user == "admin" else 404)
    page.close()
