"""My work (我的待办) and the case screen (案件) against a real gateway and its agents:
a verifier finds a case on My work, the case page shows every department, verifying
sends it to review, a reviewer approves it and the report is viewed, saved and checked;
a return, a cancellation, a refusal in words (never a traceback) and a POST without its
CSRF token refused."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from console_site import ConsoleSite
from starlette.testclient import TestClient

from hedui.agents.departments import DEPARTMENTS
from hedui.gateway import sandbox
from hedui.v1 import case_pb2, envelope_pb2, office_pb2

OTHER_TOWNSHIP = "310112002"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleSite]:
    s = ConsoleSite(tmp_path_factory.mktemp("case-pages"))
    try:
        s.start(agents=True)
        yield s
    finally:
        s.stop()


@pytest.fixture(scope="module")
def clients(site: ConsoleSite) -> Iterator[dict[str, TestClient]]:
    """One signed-in browser per person (each its own cookies), kept for the module."""
    out: dict[str, TestClient] = {}
    for staff_id in (sandbox.VERIFIER, sandbox.REVIEWER, sandbox.CLERK, "op-1002"):
        client = site.app_client().__enter__()
        site.sign_in(client, staff_id)
        out[staff_id] = client
    yield out
    for client in out.values():
        client.__exit__(None, None, None)


def csrf(page: str) -> str:
    return page.split('name="csrf" value="')[1].split('"')[0]


def send(client: TestClient, url: str, token: str, **form: str):
    """A form as the browser posts it, its token in the form."""
    return client.post(url, data={"csrf": token, **form})


def main_text(page: str) -> str:
    """The page's <main> as text, tags dropped: what a person reads."""
    body = page.split('<main id="main"', 1)[1]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


def settled(client: TestClient, case_id: str, timeout: float = 90) -> str:
    """The case page once no verification is running for it (the page stops polling)."""
    deadline = time.monotonic() + timeout
    while True:
        page = client.get(f"/cases/{case_id}").text
        if "hx-trigger=" not in page or time.monotonic() > deadline:
            return page
        time.sleep(0.5)


def post(client: TestClient, url: str, **form: str):
    """Open the case page, then post one of its forms."""
    page = client.get(url.rsplit("/", 1)[0]).text
    return send(client, url, csrf(page), **form)


def test_a_case_from_my_work_to_an_approved_report(site: ConsoleSite,
                                                   clients: dict[str, TestClient],
                                                   tmp_path: Path) -> None:
    case = site.open_as(sandbox.CLERK, site.household())
    verifier, reviewer = clients[sandbox.VERIFIER], clients[sandbox.REVIEWER]

    work = verifier.get("/")
    assert work.status_code == 200 and case.case_id in work.text
    assert "部门反馈超时" in work.text and "待核对" in work.text

    page = verifier.get(f"/cases/{case.case_id}")
    assert page.status_code == 200
    text = main_text(page.text)
    for d in case.departments:
        assert DEPARTMENTS[d.department].title_zh in text, d.department
    assert "等待答复" in text and "开始核对" in text
    for m in case.members:  # masked, whatever the gateway returned
        assert m.id_number not in page.text and m.name not in text
    assert "办理记录" in text

    r = send(verifier, f"/cases/{case.case_id}/verify", csrf(page.text))
    assert r.status_code == 200, r.text[:500]
    page_text = settled(verifier, case.case_id)
    text = main_text(page_text)
    assert "待审核" in text, text[:800]
    assert "已答复" in text
    assert "审核通过" not in text, "a verifier is offered no review"

    work = reviewer.get("/")
    sections = re.findall(r'<h2 id="state-(\d+)"', work.text)
    assert sections[0] == str(case_pb2.CASE_STATE_AWAITING_REVIEW), "review first"
    assert case.case_id in work.text

    page = reviewer.get(f"/cases/{case.case_id}")
    assert 'value="approve"' in page.text and 'for="review-reason"' in page.text
    r = send(reviewer, f"/cases/{case.case_id}/review", csrf(page.text), verdict="approve")
    assert r.status_code == 200 and "已认定" in main_text(r.text), r.text[:800]
    assert f"/cases/{case.case_id}/report" in r.text

    report = reviewer.get(f"/cases/{case.case_id}/report")
    assert report.status_code == 200
    text = main_text(report.text)
    assert "书面认定报告" in text and "认定结论" in text and "data-print" in report.text
    assert "核对员丙" in text and "审核员戊" in text  # the steps, by name
    for m in case.members:
        assert m.id_number not in report.text

    signed = reviewer.get(f"/cases/{case.case_id}/report.dsse")
    assert signed.status_code == 200
    assert signed.headers["content-disposition"].endswith(f'{case.case_id}.report.dsse"')
    envelope = envelope_pb2.Envelope.FromString(signed.content)
    assert case_pb2.DeterminationReport.FromString(envelope.payload).case_id == case.case_id
    path = tmp_path / f"{case.case_id}.report.dsse"
    path.write_bytes(signed.content)
    checked = site.cli("report", "verify", str(path), "--bundle", str(site.sb.bundle),
                       "--root-pub", str(site.sb.root_public_key))
    assert checked.returncode == 0, checked.stdout + checked.stderr

    saved = reviewer.get(f"/cases/{case.case_id}/report.html")
    assert saved.status_code == 200 and "attachment" in saved.headers["content-disposition"]
    assert "<style>" in saved.text and "书面认定报告" in saved.text


def test_a_returned_case_is_an_alert_and_a_cancelled_one_is_closed(
        site: ConsoleSite, clients: dict[str, TestClient]) -> None:
    case = site.open_as(sandbox.VERIFIER, site.household())
    verifier, reviewer = clients["op-1002"], clients[sandbox.REVIEWER]
    r = post(verifier, f"/cases/{case.case_id}/verify")
    assert r.status_code == 200
    settled(verifier, case.case_id)

    r = post(reviewer, f"/cases/{case.case_id}/review", verdict="return")
    assert r.status_code == 400 and "请填写原因" in r.text  # in words, the page kept
    assert case.case_id in r.text
    r = post(reviewer, f"/cases/{case.case_id}/review", verdict="return",
             reason="spouse income to be checked again")
    assert r.status_code == 200 and "已退回" in main_text(r.text)

    work = verifier.get("/")
    assert "审核退回，需重新核对" in work.text and case.case_id in work.text
    page = verifier.get(f"/cases/{case.case_id}")
    assert "重新核对并提交审核" in page.text and "spouse income" in page.text

    r = post(verifier, f"/cases/{case.case_id}/cancel", reason="")
    assert r.status_code == 400 and "请填写原因" in r.text
    r = post(verifier, f"/cases/{case.case_id}/cancel", reason="household withdrew")
    assert r.status_code == 200 and "已撤销" in main_text(r.text)
    assert 'action="/cases/' + case.case_id + '/cancel"' not in r.text


def test_a_clerk_of_another_township_gets_a_refusal_in_words(
        site: ConsoleSite, clients: dict[str, TestClient]) -> None:
    theirs = site.open_as(sandbox.VERIFIER, site.household(), township=OTHER_TOWNSHIP)
    clerk = clients[sandbox.CLERK]
    for url in (f"/cases/{theirs.case_id}", f"/cases/{theirs.case_id}/report",
                f"/cases/{theirs.case_id}/report.dsse"):
        r = clerk.get(url)
        assert r.status_code == 403, (url, r.status_code)
        assert "该案件不属于您负责的乡镇或项目" in r.text
        assert "Traceback" not in r.text and OTHER_TOWNSHIP not in r.text
    assert theirs.case_id not in clerk.get("/").text
    own = site.open_as(sandbox.CLERK, site.household())
    work = clerk.get("/")
    assert own.case_id in work.text and "开始核对" not in clerk.get(
        f"/cases/{own.case_id}").text, "a clerk does not verify"


def test_refusals_and_missing_cases_are_pages_not_tracebacks(
        site: ConsoleSite, clients: dict[str, TestClient]) -> None:
    case = site.open_as(sandbox.VERIFIER, site.household())
    reviewer = clients[sandbox.REVIEWER]
    r = post(reviewer, f"/cases/{case.case_id}/verify")  # a reviewer may not verify
    assert r.status_code == 403 and "您的岗位无权进行此操作" in r.text
    r = reviewer.get("/cases/case-20990101-000000000000")
    assert r.status_code == 404 and "找不到该案件" in r.text
    r = reviewer.get("/cases/not-a-case")
    assert r.status_code == 404


def test_a_post_without_the_csrf_token_is_refused(
        site: ConsoleSite, clients: dict[str, TestClient]) -> None:
    case = site.open_as(sandbox.VERIFIER, site.household())
    verifier = clients[sandbox.VERIFIER]
    r = verifier.post(f"/cases/{case.case_id}/verify", data={})
    assert r.status_code == 403 and "CSRF" in r.text
    r = verifier.post(f"/cases/{case.case_id}/cancel", data={"csrf": "forged",
                                                              "reason": "x"})
    assert r.status_code == 403
    assert "待核对" in verifier.get(f"/cases/{case.case_id}").text, "nothing changed"


def test_the_status_fragment_polls_only_while_a_verification_runs(
        site: ConsoleSite, clients: dict[str, TestClient]) -> None:
    case = site.open_as(sandbox.VERIFIER, site.household())
    verifier = clients[sandbox.VERIFIER]
    r = verifier.get(f"/cases/{case.case_id}/status", headers={"HX-Request": "true"})
    assert r.status_code == 200 and 'id="case-status"' in r.text
    assert "hx-trigger" not in r.text and "<html" not in r.text
    r = verifier.get(f"/cases/{case.case_id}/status?polling=1",
                     headers={"HX-Request": "true"})
    assert r.headers.get("hx-refresh") == "true", "done: the page reloads itself"


def test_pages_carry_no_inline_script_or_style(site: ConsoleSite,
                                               clients: dict[str, TestClient]) -> None:
    case = site.open_as(sandbox.VERIFIER, site.household())
    verifier = clients[sandbox.VERIFIER]
    for url in ("/", f"/cases/{case.case_id}"):
        page = verifier.get(url).text
        assert not re.search(r"<script(?![^>]*\bsrc=)", page), url
        assert not re.search(r"\sstyle=|\son[a-z]+=", page), url
        for field in re.findall(r'<(?:textarea|input|select)[^>]*\bid="([^"]+)"', page):
            assert f'for="{field}"' in page, (url, field)


def test_the_pages_in_english(site: ConsoleSite) -> None:
    case = site.open_as(sandbox.VERIFIER, site.household())
    with site.app_client() as client:
        site.sign_in(client, "rv-4002")  # a reviewer and verifier: both kinds of work
        r = send(client, "/lang", csrf(client.get("/").text), lang="en", next="/")
        work = main_text(r.text)
        assert "Cases at a glance" in work and "Awaiting review" in work
        assert "Departments overdue" in work and "To verify" in work
        page = main_text(client.get(f"/cases/{case.case_id}").text)
        assert "Verification progress" in page and "Household members" in page
        assert "Tax" in page and "Waiting" in page and "Verify" in page
        assert "核对进度" not in page

def move_back(site: ConsoleSite, case_id: str, days: int) -> None:
    """Open the case ``days`` earlier (its created_at rewritten in the case database, as
    tests/integration/test_overdue.py does): the only way to a deadline already past."""
    conn = sqlite3.connect(site.sb.gateway_config.parent / "state" / "cases.sqlite")
    try:
        (value,) = conn.execute("SELECT created_at FROM cases WHERE case_id = ?",
                                (case_id,)).fetchone()
        moved = dt.datetime.fromisoformat(value) - dt.timedelta(days=days)
        conn.execute("UPDATE cases SET created_at = ? WHERE case_id = ?",
                     (moved.strftime("%Y-%m-%d %H:%M:%S.%f"), case_id))
        conn.commit()
    finally:
        conn.close()


def test_an_overdue_department_is_red_with_its_liaison_and_is_retried(
        site: ConsoleSite, clients: dict[str, TestClient]) -> None:
    """The last test of the site: it stops the tax agent (and starts it again)."""
    verifier = clients[sandbox.VERIFIER]
    case = site.open_as(sandbox.VERIFIER, site.household())
    sandbox.stop_process(site.processes.pop("tax"))
    try:
        r = post(verifier, f"/cases/{case.case_id}/verify")
        assert r.status_code == 200
        text = main_text(settled(verifier, case.case_id))
        assert "资料不全" in text and "失败" in text and "重新核对未答复的部门" in text
    finally:
        p = site.processes["tax"] = sandbox.start_agent(site.sb, "tax")
        sandbox.wait_healthy(site.sb.endpoints["tax"], site.sb.agents["tax"].id,
                             site.material, process=p,
                             log_file=site.sb.logs / "agent-tax.log")
    move_back(site, case.case_id, 30)

    work = verifier.get("/").text
    overdue = work.split('id="overdue"', 1)[1].split("</section>", 1)[0]
    assert case.case_id in overdue and "税务" in overdue and "is-overdue" in overdue
    assert "021-555" in overdue, "the liaison's telephone"
    assert "部门查询失败，可重新核对" in work
    page = verifier.get(f"/cases/{case.case_id}").text
    assert "已超时" in page

    deadline = time.monotonic() + 60  # the gateway's breaker lets tax be tried again
    while True:
        r = post(verifier, f"/cases/{case.case_id}/retry")
        assert r.status_code == 200
        text = main_text(settled(verifier, case.case_id))
        if "待审核" in text or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert "待审核" in text and "失败" not in text.split("办理记录")[0]


# ---------------------------------------------------------------- without a site


class _Request:
    """Just what the row builders read of a request."""

    def __init__(self, roles: tuple[str, ...] = ("verifier",), lang: str = "zh") -> None:
        from types import SimpleNamespace

        from hedui.console.web import Me

        self.state = SimpleNamespace(lang=lang, me=Me("op-9", "x", roles))
        self.app = SimpleNamespace(state=SimpleNamespace(case_directory=(time.monotonic(), {
            "tax": office_pb2.DepartmentInfo(department="tax", online=False,
                                             liaison={"name": "税务联络员", "phone": "021-1"}),
        }), case_runs={}))


def test_a_withheld_answer_and_an_offline_department_in_words() -> None:
    from hedui.console.pages import case as case_page

    Dept = case_pb2.DepartmentStatus
    case = case_pb2.Case(case_id="case-20261203-000000000001",
                         state=case_pb2.CASE_STATE_AWAITING_OFFLINE_ANSWER, departments=[
        Dept(department="banks", state=Dept.STATE_ANSWERED,
             reason="withheld: deposits.0.balance_fen"),
        Dept(department="tax", state=Dept.STATE_AWAITING_OFFLINE, overdue=True,
             deadline={"year": 2026, "month": 11, "day": 2}),
    ])
    request = _Request()
    banks, tax = case_page.department_rows(request, case)
    assert banks["word"] == "已答复，部分字段未提供" and "deposits" in banks["withheld"]
    assert not banks["reason"] and not banks["waiting"]
    assert tax["offline"] and tax["overdue"] and tax["deadline"] == "2026-11-02"
    assert tax["liaison"] == "税务联络员 021-1", "from the directory when the case names nobody"
    can = case_page.actions(request, case)
    assert can["retry"] and not can["verify"] and not can["review"] and can["cancel"]
    assert not case_page.actions(_Request(("reviewer",)), case)["cancel"]
    english = case_page.department_rows(_Request(lang="en"), case)
    assert english[1]["name"] == "Tax"


def test_a_refusal_for_scope_keeps_its_reason_and_loses_its_detail() -> None:
    import grpc

    from hedui.console.gateway import Refused
    from hedui.console.pages import case as case_page

    err = Refused(grpc.StatusCode.PERMISSION_DENIED, "OUTSIDE_SCOPE",
                  f"works for township 310112001, not township {OTHER_TOWNSHIP}")
    quiet = case_page._quiet(err)
    assert quiet.reason == "OUTSIDE_SCOPE" and quiet.detail == ""
    other = Refused(grpc.StatusCode.FAILED_PRECONDITION, "WRONG_STATE", "it is DECIDED")
    assert case_page._quiet(other) is other


def test_whose_work_comes_first_and_figures_in_their_units() -> None:
    from hedui.console.pages import case_report, work
    from hedui.console.web import Me

    both = work.states_for(Me("rv-4002", "x", ("reviewer", "verifier")))
    assert both[0] == case_pb2.CASE_STATE_AWAITING_REVIEW and len(both) == len(set(both))
    assert work.states_for(Me("op-1", "x", ("verifier",)))[0] == case_pb2.CASE_STATE_RETURNED
    assert work.states_for(Me("a", "x", ("administrator",))) == []
    assert case_report.figure("income", 133000) == "¥1,330.00"
    assert case_report.figure("vehicle", 2) == "2"
    assert case_report.figure("residential-area", 12345) == "123.45 m²"


def test_polling_a_running_verification_asks_the_gateway_nothing(
        site: ConsoleSite, clients: dict[str, TestClient]) -> None:
    """While this console runs the case's verification, a poll answers 204 from the
    console itself: no GetCase, so no CASE_VIEWED entry every few seconds."""
    from concurrent.futures import Future

    verifier = clients[sandbox.VERIFIER]
    case = site.open_as(sandbox.VERIFIER, site.household())
    running: Future = Future()
    verifier.app.state.case_runs = {case.case_id: running}
    before = len(site.entries())
    for _ in range(3):
        r = verifier.get(f"/cases/{case.case_id}/status?polling=1")
        assert r.status_code == 204
    assert len(site.entries()) == before
    running.set_result(None)
    done = verifier.get(f"/cases/{case.case_id}/status?polling=1")
    assert done.status_code == 200
