"""动态监测 and 预警工作台 against a real gateway and its agents: a verifier starts a run
from the form and sees it worked; its alerts are on the worklist, soonest due first; an
alert confirmed without a note is refused in Chinese and stays open, with a note it is
confirmed; a POST without the CSRF token is refused; a reviewer reads but may not start.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from markupsafe import escape
from starlette.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parent))

from console_site import ConsoleSite
from reverify_site import import_roster, wait_finished

from hedui import china_time
from hedui.gateway import sandbox
from hedui.v1 import reverification_pb2 as rv

pytestmark = pytest.mark.slow
HOUSEHOLDS = 16
ALERT_LINK = re.compile(r'href="/alerts/(al-[0-9a-f]+)"')


def csrf(page: str) -> str:
    return page.split('name="csrf" value="')[1].split('"')[0]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleSite]:
    s = ConsoleSite(tmp_path_factory.mktemp("reverify"), seed=43)
    try:
        s.start(agents=True)
        import_roster(s, min(HOUSEHOLDS, len(s.samples)))
        yield s
    finally:
        s.stop()


@pytest.fixture(scope="module")
def verifier(site: ConsoleSite) -> Iterator[TestClient]:
    with site.app_client() as client:
        site.sign_in(client, sandbox.VERIFIER)
        yield client


@pytest.fixture(scope="module")
def run(site: ConsoleSite, verifier: TestClient) -> rv.RunStatus:
    """A run started from the form, worked to its end."""
    page = verifier.get("/reverify")
    assert page.status_code == 200 and 'action="/reverify/runs"' in page.text
    assert 'for="run-programme"' in page.text and 'for="run-as-of"' in page.text
    r = verifier.post("/reverify/runs", data={
        "csrf": csrf(page.text), "programme": "dibao",
        "as_of": china_time.today().isoformat()})
    assert r.status_code == 200 and "done=started" in str(r.url), r.text[:800]
    assert "已开始动态监测" in r.text
    (run_id,) = re.findall(r"<code>(run-[0-9a-f]+)</code>", r.text)[:1]
    finished = wait_finished(site, run_id)
    assert finished.state == "FINISHED", finished
    return finished


def test_a_run_started_from_the_form_is_listed_with_its_progress(
        verifier: TestClient, run: rv.RunStatus) -> None:
    page = verifier.get("/reverify")
    assert page.status_code == 200
    assert run.run_id in page.text and "已完成" in page.text and "最低生活保障" in page.text
    assert run.decided == run.households == min(HOUSEHOLDS, run.households)
    assert "Traceback" not in page.text
    english = verifier.post("/lang", data={"csrf": csrf(page.text), "lang": "en",
                                           "next": "/reverify"})
    assert "Re-verification runs" in english.text and "Recent runs" in english.text
    verifier.post("/lang", data={"csrf": csrf(english.text), "lang": "zh", "next": "/"})


def test_the_alerts_are_on_the_worklist_soonest_due_first(
        verifier: TestClient, run: rv.RunStatus) -> None:
    raised = run.alerts_red + run.alerts_orange + run.alerts_yellow
    assert raised > 0, "the sandbox's ineligible households raise alerts on a first run"
    page = verifier.get("/alerts")
    assert page.status_code == 200, page.text[:500]
    ids = ALERT_LINK.findall(page.text)
    assert len(ids) == raised
    dues = re.findall(r"<td(?: class=\"late\")?>(\d{4}-\d{2}-\d{2})", page.text)
    assert dues == sorted(dues)
    assert any(w in page.text for w in ("红色", "橙色", "黄色"))
    assert re.search(r"<td>\S\*+</td>", page.text), "the applicant is masked"
    if run.alerts_red:
        red = verifier.get("/alerts?grade=red")
        assert len(ALERT_LINK.findall(red.text)) == run.alerts_red
        assert "不再符合条件" in red.text
    work = verifier.get("/")
    assert "动态监测预警（待处理）" in work.text and 'href="/alerts"' in work.text


def test_confirming_needs_a_note_and_then_confirms(
        site: ConsoleSite, verifier: TestClient, run: rv.RunStatus) -> None:
    listing = verifier.get(f"/alerts?state=OPEN&grade={'red' if run.alerts_red else ''}")
    alert_id = ALERT_LINK.findall(listing.text)[0]
    page = verifier.get(f"/alerts/{alert_id}")
    assert page.status_code == 200 and "发现的变化" in page.text
    assert 'for="confirm-note"' in page.text and 'for="review-case"' in page.text
    assert 'for="dismiss-reason"' in page.text

    empty = verifier.post(f"/alerts/{alert_id}/confirm", data={"csrf": csrf(page.text),
                                                               "note": "  "})
    assert empty.status_code == 400 and "请填写核实情况说明。" in empty.text
    assert "NOTE_REQUIRED" in empty.text and "Traceback" not in empty.text
    no_case = verifier.post(f"/alerts/{alert_id}/review", data={"csrf": csrf(page.text)})
    assert no_case.status_code == 400 and "入户核查案件编号" in no_case.text
    with site.person(sandbox.VERIFIER) as c:
        still = c.call(c.reverify.GetAlert, rv.GetAlertRequest(alert_id=alert_id))
    assert still.state == "OPEN"

    done = verifier.post(f"/alerts/{alert_id}/confirm", data={
        "csrf": csrf(page.text), "note": "入户核实：情况属实"})
    assert done.status_code == 200 and "已确认该预警。" in done.text, done.text[:800]
    assert 'id="confirm-note"' not in done.text, "no forms once acted on"
    with site.person(sandbox.VERIFIER) as c:
        acted = c.call(c.reverify.GetAlert, rv.GetAlertRequest(alert_id=alert_id))
    assert acted.state == "CONFIRMED" and acted.acted_by == sandbox.VERIFIER
    again = verifier.post(f"/alerts/{alert_id}/dismiss", data={"csrf": csrf(page.text),
                                                               "note": "重复"})
    assert again.status_code == 400 and "该预警已被处理" in again.text
    assert alert_id not in verifier.get("/alerts").text
    assert alert_id in verifier.get("/alerts?state=CONFIRMED").text


def test_a_post_without_the_csrf_token_is_refused(
        site: ConsoleSite, verifier: TestClient, run: rv.RunStatus) -> None:
    ids = ALERT_LINK.findall(verifier.get("/alerts").text)
    r = verifier.post(f"/alerts/{ids[0]}/confirm", data={"note": "没有令牌"})
    assert r.status_code == 403 and "CSRF" in r.text
    r = verifier.post("/reverify/runs", data={"programme": "dibao"})
    assert r.status_code == 403
    with site.person(sandbox.VERIFIER) as c:
        still = c.call(c.reverify.GetAlert, rv.GetAlertRequest(alert_id=ids[0]))
    assert still.state == "OPEN"


def test_a_reviewer_reads_but_may_not_start_or_act(
        site: ConsoleSite, run: rv.RunStatus) -> None:
    with site.app_client() as reviewer:
        site.sign_in(reviewer, sandbox.REVIEWER)
        page = reviewer.get("/reverify")
        assert page.status_code == 200 and run.run_id in page.text
        assert 'action="/reverify/runs"' not in page.text
        r = reviewer.post("/reverify/runs", data={"csrf": csrf(page.text),
                                                  "programme": "dibao"})
        assert r.status_code == 403 and "您的岗位无权进行此操作。" in r.text
        assert "Traceback" not in r.text
        listing = reviewer.get("/alerts")
        assert listing.status_code == 200
        alert_id = ALERT_LINK.findall(listing.text)[0]
        alert = reviewer.get(f"/alerts/{alert_id}")
        assert alert.status_code == 200 and 'id="confirm-note"' not in alert.text
        refused = reviewer.post(f"/alerts/{alert_id}/confirm", data={
            "csrf": csrf(page.text), "note": "审核员不能处理"})
        assert refused.status_code == 403 and "您的岗位无权进行此操作。" in refused.text
        with site.person(sandbox.REVIEWER) as c:
            full = c.call(c.reverify.GetAlert, rv.GetAlertRequest(alert_id=alert_id))
        english = reviewer.post("/lang", data={"csrf": csrf(alert.text), "lang": "en",
                                               "next": f"/alerts/{alert_id}"})
        assert "What changed" in english.text
        assert all(str(escape(ch.text_en)) in english.text for ch in full.changes)


def test_an_unknown_alert_is_a_chinese_not_found(verifier: TestClient) -> None:
    r = verifier.get("/alerts/al-00000000000000000000")
    assert r.status_code == 404 and "找不到该预警。" in r.text
    assert verifier.get("/alerts/not%20an%20id").status_code == 404


def test_statistics_count_open_alerts_by_township_and_grade(
        verifier: TestClient, run: rv.RunStatus) -> None:
    import io

    from openpyxl import load_workbook

    page = verifier.get("/statistics")
    assert page.status_code == 200
    assert "动态监测预警（待处理）" in page.text
    book = load_workbook(io.BytesIO(verifier.get("/statistics.xlsx").content))
    sheet = book["动态监测预警（待处理）"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("乡镇（街道）", "红色", "橙色", "黄色", "已超期")
    open_now = run.alerts_red + run.alerts_orange + run.alerts_yellow
    assert 0 < sum(r[1] + r[2] + r[3] for r in rows[1:]) <= open_now
