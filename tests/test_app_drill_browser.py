"""Drill-down in a real headless Chromium: a KPI tile and a chart bar clicked through to records.

The served app, the browser and the login are test_app_workflows' (the hand-written two-team
company of test_app_scope, uvicorn on a loopback port, /usr/bin/chromium). At desktop width and
at 390 px: the "won deals" tile opens its records (as many as the company's won deals of FY2025,
counted here from the rows), a real mouse click on team A's win-rate bar opens team A's closed
deals (the Plotly click handler of static/app.js), and the link list under the chart — the way
in without JavaScript — opens team B's; no records page scrolls sideways. On the process page a
real click on the "qualification" bar of days in stage opens the stage's entries with a next
entry, and a click on team A's "qualification" cell of the stage-conversion heatmap opens the
cell's decided entries, and a click on a link of the process map (a Sankey) the entries it
joins (the point the click reports matched to the link listing it).
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


def _entries_with_next(stage: str, team: str | None = None) -> list[str]:
    """Deals (created in FY2025, every one here) whose entry into ``stage`` has a later entry:
    the entries behind a stage's days and, per team, behind a conversion cell — from ROWS."""
    out = []
    for o in ROWS["opportunities"]:
        seq = sorted((h["entered_at"], h["stage"]) for h in ROWS["stage_history"]
                     if h["opportunity_id"] == o["opportunity_id"])  # fmt: skip
        hit = any(s == stage and i + 1 < len(seq) for i, (_, s) in enumerate(seq))
        if hit and (team is None or TEAM[o["owner_rep_id"]] == team):
            out.append(o["opportunity_id"])
    return sorted(out)


#: Where a category of a Plotly chart sits on the screen (the axes' own data-to-pixel maps).
_AT = """([el, x, y]) => { const l = el._fullLayout, r = el.getBoundingClientRect();
  return [r.left + l.xaxis._offset + l.xaxis.d2p(x), r.top + l.yaxis._offset + l.yaxis.d2p(y)]; }"""


#: A point inside a Sankey link's band that nothing covers (a node's label may lie over the
#: middle of its box): halfway between its upper edge at a fraction f and its lower edge at 1 - f.
_INSIDE = """(path) => { const n = path.getTotalLength(), m = path.getScreenCTM();
  for (const f of [0.25, 0.15, 0.35, 0.1, 0.4, 0.05, 0.45]) {
    const a = path.getPointAtLength(n * f), b = path.getPointAtLength(n * (1 - f));
    const x = (a.x + b.x) / 2, y = (a.y + b.y) / 2;
    const sx = m.a * x + m.c * y + m.e, sy = m.b * x + m.d * y + m.f;
    if (document.elementFromPoint(sx, sy) === path) { return [sx, sy]; }
  }
  throw new Error("no uncovered point on the link"); }"""


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_stage_marks_click_through_to_their_entries(
    server: str,  # noqa: F811
    browser: Any,  # noqa: F811
    viewport: dict[str, int],
) -> None:
    page = page_as(browser, server, "admin", viewport)
    page.goto(f"{server}/steps/process?period={FY}")
    page.wait_for_selector("html[data-charts-ready]")
    plot = page.locator("#plot-stage-days")
    plot.scroll_into_view_if_needed()
    x, y = page.evaluate(_AT, [plot.element_handle(), "qualification", 1.0])
    page.mouse.click(x, y)  # inside the bar, 1 day above the axis (the bar is 8 days tall)
    page.wait_for_url("**/charts/stage-days/records?*")
    expected = _entries_with_next("qualification")
    assert _total(page) == len(expected) == 3 and _ids(page) == expected
    assert scroll_width(page) <= viewport["width"]

    page.goto(f"{server}/steps/process?period={FY}")
    page.wait_for_selector("html[data-charts-ready]")
    plot = page.locator("#plot-stage-conversion")
    plot.scroll_into_view_if_needed()
    x, y = page.evaluate(_AT, [plot.element_handle(), "qualification", "A"])
    page.mouse.click(x, y)
    page.wait_for_url("**/charts/stage-conversion/records?*")
    expected = _entries_with_next("qualification", "A")
    assert _total(page) == len(expected) == 2 and _ids(page) == expected
    assert scroll_width(page) <= viewport["width"]

    page.goto(f"{server}/steps/process?period={FY}")
    page.wait_for_selector("html[data-charts-ready]")
    link = page.locator("#plot-process-map path.sankey-link").first
    link.scroll_into_view_if_needed()
    page.mouse.click(*page.evaluate(_INSIDE, link.element_handle()))
    page.wait_for_url("**/charts/process-map/records?*")
    # both links of the map (qualification → proposal → won) are the three won deals' entries
    assert _total(page) == 3 and _ids(page) == _entries_with_next("proposal")
    page.close()
