"""Drill-down in a real headless Chromium: a KPI tile and a chart bar clicked through to records.

The served app, the browser and the login are test_app_workflows' (the hand-written two-team
company of test_app_scope, uvicorn on a loopback port, /usr/bin/chromium). At desktop width and
at 390 px: the "won deals" tile opens its records (as many as the company's won deals of FY2025,
counted here from the rows), a real mouse click on team A's win-rate bar opens team A's closed
deals (the Plotly click handler of static/app.js), and the link list under the chart — the way
in without JavaScript — opens team B's; no records page scrolls sideways.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.test_app_scope import FY, ROWS, company
from tests.test_app_workflows import (  # noqa: F401  (fixtures used by name)
    DESKTOP,
    PASSWORD,
    PHONE,
    USERS,
    browser,
    page_as,
    scroll_width,
    server,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The company and its three users (the ``server`` fixture serves ``root / "w"``)."""
    root = tmp_path_factory.mktemp("drill-browser")
    add_user = pytest.importorskip("eigyo.app").add_user
    with company(root) as ws:
        for name, (role, rep, team) in USERS.items():
            add_user(ws, name, PASSWORD, role, rep_id=rep, team=team)
    return root


def _in_fy(o: dict[str, Any]) -> bool:
    return o["closed_at"] is not None and "2025-04-01" <= o["closed_at"] < "2026-04-01"


TEAM = {r["rep_id"]: r["team"] for r in ROWS["reps"]}
WON = [o for o in ROWS["opportunities"] if o["status"] == "won" and _in_fy(o)]
CLOSED = {
    t: sorted(o["opportunity_id"] for o in ROWS["opportunities"]
                 if o["status"] in ("won", "lost") and _in_fy(o) and TEAM[o["owner_rep_id"]] == t)
    for t in ("A", "B")
}  # fmt: skip


def _total(page: Any) -> int:
    return int(page.locator("#records-count").get_attribute("data-total"))


def _ids(page: Any) -> list[str]:
    return sorted(page.locator("#records-table tbody tr td:first-child").all_inner_texts())


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_tile_and_bar_click_through_to_records(
    server: str,  # noqa: F811
    browser: Any,  # noqa: F811
    viewport: dict[str, int],
) -> None:
    page = page_as(browser, server, "admin", viewport)
    page.goto(f"{server}/?period={FY}")
    page.click("#kpi-records-won_deals")
    page.wait_for_url("**/metrics/won_deals/records?*")
    assert _total(page) == len(WON) == 3
    assert _ids(page) == sorted(o["opportunity_id"] for o in WON)
    assert scroll_width(page) <= viewport["width"]

    page.goto(f"{server}/steps/measure?period={FY}")
    page.wait_for_selector("html[data-charts-ready]")
    bar = page.locator("#plot-win-rate-by-team g.trace.bars g.point path").first
    bar.scroll_into_view_if_needed()
    box = bar.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.7)
    page.wait_for_url("**/metrics/win_rate/records?*")
    assert page.locator("#metric-records").get_attribute("data-group") == "A"
    assert _total(page) == len(CLOSED["A"]) and _ids(page) == CLOSED["A"]
    assert scroll_width(page) <= viewport["width"]

    page.goto(f"{server}/steps/measure?period={FY}")
    page.click('#bars-win-rate-by-team a[data-x="B"]')  # the way in without JavaScript
    page.wait_for_url("**/metrics/win_rate/records?*")
    assert _total(page) == len(CLOSED["B"]) and _ids(page) == CLOSED["B"]
    page.close()
