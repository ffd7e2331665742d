"""An overdue department shown and retried, in a real browser.

The tax agent is stopped while a case is verified (tax FAILED, the others answered);
the case is then moved a month into the past — its ``created_at`` rewritten in the
gateway's case database, as tests/integration/test_overdue.py does, since a deadline
counts from the opening and a test runs today. My work lists tax as overdue, in red,
with the liaison to call; the case page says the same; tax comes back, the verifier
presses 重新核对未答复的部门, and every department has answered.
"""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest

pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")

from browsing import Browsing, wait_for_state

from hedui.gateway import sandbox
from hedui.v1 import case_pb2

pytestmark = pytest.mark.slow  # a real browser against a real site

DOWN = "tax"
#: more working days than any deadline here, whatever today's holidays
BACK = dt.timedelta(days=30)


def move_back(browsing: Browsing, case_id: str, by: dt.timedelta) -> None:
    """Open the case ``by`` earlier (SQLAlchemy keeps SQLite timestamps as UTC text)."""
    with browsing.cases_db() as db:
        (value,) = db.execute("SELECT created_at FROM cases WHERE case_id = ?",
                              (case_id,)).fetchone()
        moved = dt.datetime.fromisoformat(value) - by
        db.execute("UPDATE cases SET created_at = ? WHERE case_id = ?",
                   (moved.strftime("%Y-%m-%d %H:%M:%S.%f"), case_id))


def failed_case(browsing: Browsing) -> case_pb2.Case:
    """A case verified while tax was down, then opened a month ago (tax still down)."""
    site = browsing.site
    sandbox.stop_process(site.processes.pop(DOWN))
    try:
        case = site.open_as(sandbox.VERIFIER, site.household(label="eligible"))
        with site.person(sandbox.VERIFIER) as c:
            case = c.call(c.cases.VerifyCase, case_pb2.VerifyCaseRequest(
                case_id=case.case_id), timeout=90)
        assert case.state == case_pb2.CASE_STATE_INCOMPLETE, case.state
        states = {d.department: d.state for d in case.departments}
        assert states[DOWN] == case_pb2.DepartmentStatus.STATE_FAILED
    except BaseException:
        restart(browsing)
        raise
    move_back(browsing, case.case_id, BACK)
    return case


def restart(browsing: Browsing) -> None:
    site = browsing.site
    if DOWN not in site.processes:
        p = site.processes[DOWN] = sandbox.start_agent(site.sb, DOWN)
        sandbox.wait_healthy(site.sb.endpoints[DOWN], site.sb.agents[DOWN].id,
                             site.material, process=p,
                             log_file=site.sb.logs / f"agent-{DOWN}-2.log")


def retry_until_answered(page, *, within: float = 60) -> None:
    """Press 重新核对未答复的部门 as a person would, again while the gateway still holds
    the department as down (its breaker waits a few seconds after a failure)."""
    deadline = time.monotonic() + within
    while True:
        page.get_by_role("button", name="重新核对未答复的部门").click()
        try:
            wait_for_state(page, "待审核", timeout=10)
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            page.wait_for_timeout(2000)
            page.reload()


def test_an_overdue_department_is_shown_and_retried(browsing: Browsing, shot) -> None:
    case = failed_case(browsing)
    case_id = case.case_id
    liaison = next(d.liaison for d in case.departments if d.department == DOWN)
    try:
        page = browsing.signed_in(sandbox.VERIFIER, shot)
        page.goto("/")
        shot(page, "my-work")
        overdue = page.locator("table.overdue-list tr.is-overdue").filter(has_text=case_id)
        assert overdue.count() == 1, "the case is not listed as overdue on My work"
        row = overdue.first.inner_text()
        assert "税务" in row and "已超时" in row, row
        assert liaison.name and liaison.name in row, f"whom to call is not named: {row}"
        red = overdue.first.locator(".badge.red").first.evaluate(
            "e => getComputedStyle(e).backgroundColor")
        r, g, b = (int(x) for x in re.findall(r"\d+", red)[:3])
        assert r > 150 and g < 100 and b < 100, f"the overdue badge is not red: {red}"

        overdue.first.get_by_role("link", name=case_id).click()
        page.wait_for_url(f"**/cases/{case_id}")
        tax = page.locator(f"table.departments tr[data-department='{DOWN}']")
        assert "is-overdue" in (tax.get_attribute("class") or "")
        assert "已超时" in tax.inner_text()
        shot(page, "case-overdue")

        restart(browsing)
        retry_until_answered(page)
        shot(page, "retried")
        tax = page.locator(f"table.departments tr[data-department='{DOWN}']")
        assert "已答复" in tax.inner_text()
        assert "is-overdue" not in (tax.get_attribute("class") or "")
        page.goto("/")
        shot(page, "my-work-after")
        assert page.locator("table.overdue-list tr").filter(has_text=case_id).count() == 0
        page.context.close()
    finally:
        restart(browsing)
