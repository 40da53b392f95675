"""The forecast page in a real headless Chromium, as the admin, the manager of team A and rep r1,
at desktop and phone (390 px) widths: reached from the navigation with the period kept, the
period changed in the select and kept in the URL, a manager's adjustment saved through the form
and shown in the trail and the adjusted column, nothing of another team shown, and no sideways
scroll. The served app and the two-team company are test_app_workflows' fixtures."""

from __future__ import annotations

from typing import Any

import pytest

from tests.test_app_workflows import (  # noqa: F401 - fixtures used by name
    DESKTOP,
    PHONE,
    browser,
    page_as,
    root,
    scroll_width,
    server,
)

pytestmark = pytest.mark.slow
FY = "FY2025"
#: What each user sees in the forecast table (test_app_scope's company: r3 is team B's).
SEES = {"admin": {"r1", "r2", "r3"}, "boss": {"r1", "r2"}, "sato": {"r1"}}


def rows(page: Any, level: str) -> dict[str, dict[str, float]]:
    """``data-key`` → column → value of the forecast table's rows of one level."""
    out: dict[str, dict[str, float]] = {}
    trs = page.locator(f'#forecast-table tr[data-level="{level}"]')
    for i in range(trs.count()):
        tr = trs.nth(i)
        tds = tr.locator("td[data-col]")
        out[str(tr.get_attribute("data-key"))] = {
            str(tds.nth(j).get_attribute("data-col")): float(
                tds.nth(j).get_attribute("data-value") or "nan"
            )
            for j in range(tds.count())
        }
    return out


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("user", list(SEES))
def test_forecast_walk(server: str, browser: Any, user: str, viewport: dict[str, int]) -> None:  # noqa: F811
    page = page_as(browser, server, user, viewport)
    page.goto(f"{server}/?period={FY}-Q1")
    page.click('nav.main-nav a[href^="/forecast"]')
    page.wait_for_url("**/forecast?*")
    assert f"period={FY}-Q1" in page.url
    assert page.locator("#forecast-table").count() == 1
    assert set(rows(page, "rep")) == SEES[user]
    r1 = rows(page, "rep")["r1"]
    assert r1["won"] == 1_000_000 and r1["call"] == 1_000_000  # o1, won 2025-05-01
    assert scroll_width(page) <= viewport["width"]
    if user == "admin":
        assert rows(page, "rep")["r3"]["pipeline"] == 700_000  # o5: open, no stage
    # the period from the select, kept in the URL (with the rep, where there is a choice)
    page.select_option("#f-period", FY)
    if user == "boss":
        page.select_option("#f-rep", "r1")
    page.click("#view-apply")
    page.wait_for_url(f"**/forecast?period={FY}*")
    assert user != "boss" or ("rep=r1" in page.url and set(rows(page, "rep")) == {"r1"})
    assert page.locator("#accuracy-table").count() == 1
    if user == "sato":
        assert page.locator("#adjust-form").count() == 0
    elif user == "boss":
        amount = 1_200_000 if viewport is DESKTOP else 1_300_000
        page.select_option("#adjust-target", "rep:r1")
        page.fill("#adjust-amount", f"{amount:,}")
        page.fill("#adjust-comment", "来週の決裁で確定")
        page.click("#adjust-submit")
        page.wait_for_url(f"**/forecast?period={FY}&rep=r1*")  # back to the same view
        assert rows(page, "rep")["r1"]["adjusted"] == amount
        newest = page.locator("#trail-table tbody tr").first
        assert newest.get_attribute("data-target") == "r1"
        assert "boss" in newest.inner_text() and "来週の決裁で確定" in newest.inner_text()
        options = page.locator("#adjust-target option")
        values = {options.nth(i).get_attribute("value") for i in range(options.count())}
        assert "team:B" not in values and "rep:r3" not in values
    assert scroll_width(page) <= viewport["width"]
    page.close()
