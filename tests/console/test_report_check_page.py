"""核验报告 against a real gateway: a decided case's report file is genuine; the same file
with one byte changed, or a file that is not a report, is not — said in Chinese, with
the kind of problem, and the file is never kept."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from console_site import ConsoleSite
from starlette.testclient import TestClient

from hedui.gateway import sandbox
from hedui.v1 import case_pb2


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleSite]:
    s = ConsoleSite(tmp_path_factory.mktemp("report-check"))
    try:
        s.start(agents=True)
        yield s
    finally:
        s.stop()


@pytest.fixture(scope="module")
def report_file(site: ConsoleSite) -> bytes:
    case = site.open_as(sandbox.VERIFIER, site.household(label="eligible"))
    with site.person(sandbox.VERIFIER) as c:
        case = c.call(c.cases.VerifyCase, case_pb2.VerifyCaseRequest(case_id=case.case_id),
                      timeout=90)
    assert case.state == case_pb2.CASE_STATE_AWAITING_REVIEW
    with site.person(sandbox.REVIEWER) as c:
        c.call(c.cases.ReviewCase, case_pb2.ReviewCaseRequest(
            case_id=case.case_id, verdict=case_pb2.ReviewCaseRequest.VERDICT_APPROVE),
            timeout=90)
        envelope = c.call(c.cases.GetReport, case_pb2.GetReportRequest(case_id=case.case_id))
    return envelope.SerializeToString()


def _csrf(page: str) -> str:
    return page.split('name="csrf" value="')[1].split('"')[0]


def _check(client: TestClient, data: bytes, name: str = "case.report.dsse"):
    form = client.get("/reports/check")
    assert form.status_code == 200 and 'for="report"' in form.text
    return client.post("/reports/check", data={"csrf": _csrf(form.text)},
                       files={"report": (name, data, "application/octet-stream")})


def test_a_genuine_report_is_said_to_be_genuine(site: ConsoleSite, report_file: bytes
                                                ) -> None:
    with site.app_client() as client:
        site.sign_in(client, sandbox.CLERK)  # any active member may check a report
        r = _check(client, report_file)
    assert r.status_code == 200, r.text[:600]
    assert "真实有效" in r.text and "最低生活保障" in r.text
    assert not list((site.config.state_dir).rglob("*.dsse"))  # never kept


def test_a_changed_or_foreign_file_is_not(site: ConsoleSite, report_file: bytes) -> None:
    changed = bytearray(report_file)
    at = changed.find(b"dibao")
    changed[at:at + 5] = b"dibaO"
    with site.app_client() as client:
        site.sign_in(client, sandbox.VERIFIER)
        tampered = _check(client, bytes(changed))
        assert tampered.status_code == 422
        assert "不能确认为真实报告" in tampered.text and "签名不对" in tampered.text
        foreign = _check(client, b"%PDF-1.7 not a report at all", "scan.pdf")
        assert foreign.status_code == 422 and "不是一份完整的核对报告文件" in foreign.text
        empty = _check(client, b"", "empty.dsse")
        assert empty.status_code == 400
