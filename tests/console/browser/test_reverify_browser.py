"""A change alert acted on in a real browser, by keyboard only: the township's clerk
signs in, goes from My work to 预警工作台, opens the first alert, types what was checked
and confirms it; the page says it is confirmed and the worklist no longer lists it."""

from __future__ import annotations

import re

import pytest

pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")

from browsing import Browsing, has_focus, tab_to, unlabelled_fields
from reverify_site import import_roster, wait_finished

from hedui.gateway import sandbox
from hedui.v1 import reverification_pb2 as rv

pytestmark = pytest.mark.slow  # a real browser against a real site

ALERT_URL = re.compile(r"/alerts/(al-[0-9a-f]+)$")


def finished_run(browsing: Browsing) -> rv.RunStatus:
    """A run over a few households of the clerk's township, worked to its end."""
    site = browsing.site
    import_roster(site, min(12, len(site.samples)), prefix="browser")
    with site.person(sandbox.VERIFIER) as c:
        started = c.call(c.reverify.StartRun, rv.StartRunRequest(programme="dibao"))
    run = wait_finished(site, started.run_id)
    assert run.state == "FINISHED", run
    assert run.alerts_red + run.alerts_orange + run.alerts_yellow > 0
    return run


def test_a_clerk_confirms_an_alert_by_keyboard(browsing: Browsing, shot) -> None:
    finished_run(browsing)
    page = browsing.signed_in(sandbox.CLERK, shot)
    page.goto("/")
    link = page.get_by_role("link", name="进入预警工作台")
    link.wait_for()
    shot(page, "my-work")
    tab_to(page, link)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/alerts"), page.url
    assert unlabelled_fields(page) == []
    shot(page, "worklist")

    first = page.get_by_role("link", name="查看并处理").first
    tab_to(page, first)
    with page.expect_navigation(url=ALERT_URL):
        page.keyboard.press("Enter")
    alert_id = ALERT_URL.search(page.url)[1]
    assert unlabelled_fields(page) == []
    assert page.locator("#alert-state").inner_text().strip() == "待处理"
    assert page.get_by_role("heading", name="发现的变化").is_visible()
    shot(page, "alert")

    note = page.get_by_label("核实情况说明（必填）")
    tab_to(page, note)
    page.keyboard.type("入户核实：情况属实")
    page.keyboard.press("Tab")
    assert has_focus(page.get_by_role("button", name="确认", exact=True)), "Tab: the button"
    shot(page, "note-typed")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.get_by_role("status").filter(has_text="已确认该预警。").wait_for()
    assert page.locator("#alert-state").inner_text().strip() == "已确认"
    assert page.get_by_label("核实情况说明（必填）").count() == 0, "no forms once acted on"
    shot(page, "confirmed")

    page.goto("/alerts")
    assert f"/alerts/{alert_id}" not in page.content()
    page.context.close()
