"""A new case from the form to a printed report, in a real browser: a verifier types a
synthetic household into 新建案件 (each ID number checked as typed), uploads the scanned
authorization, submits; the case page follows the departments until every one has
answered; a reviewer (another person) approves; the report is printed to an A4 PDF
(Chromium's own print, ``page.pdf``) and the signed report downloaded."""

from __future__ import annotations

import re

import pytest

pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")

from browsing import SCREENSHOTS, Browsing, unlabelled_fields, wait_for_state

from hedui import china_time
from hedui.gateway import sandbox
from hedui.v1 import envelope_pb2

pytestmark = pytest.mark.slow  # a real browser against a real site

#: a tiny but real PDF (the console checks a scan's type by its content)
SCAN = b"%PDF-1.4\n% synthetic authorization form\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
CASE_URL = re.compile(r"/cases/(case-\d{8}-[0-9a-f]{12})$")


def fill_household(page, members: list[dict], number: str) -> None:
    """The form as a clerk fills it in, field by field through the labels."""
    rows = page.locator("#member-rows .member")
    for n, m in enumerate(members):
        if rows.count() <= n:
            page.get_by_role("button", name="添加家庭成员").click()
            rows.nth(n).wait_for()
        row = rows.nth(n)
        row.get_by_label("姓名").fill(m["name"])
        row.get_by_label("身份证号码").fill(m["id_number"])
        row.get_by_label("与申请人关系").select_option(
            m["relation"].removeprefix("RELATION_").lower())
        row.locator(".id-check").filter(has_text="号码正确").wait_for()
    today = china_time.today()
    page.get_by_label("救助项目").select_option("dibao")
    page.get_by_label("行政区划代码").fill("310000")
    page.get_by_label("申请日期").fill(today.isoformat())
    page.get_by_label("授权书编号").fill(number)
    page.get_by_label("签署日期").fill(today.isoformat())
    page.get_by_label("有效期自").fill(today.isoformat())
    page.get_by_label("有效期至").fill(today.replace(year=today.year + 1).isoformat())
    page.get_by_label("授权书扫描件").set_input_files(
        files=[{"name": "授权书.pdf", "mimeType": "application/pdf", "buffer": SCAN}])
    page.locator("#document-sha256").wait_for()


def pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf))


def test_a_new_case_from_the_form_to_a_printed_report(browsing: Browsing, shot) -> None:
    site = browsing.site
    eligible = [s for s in site.samples if s["expected"] == "eligible"]
    # a household of a few members (rows to add), none of the last three (the batch's)
    household = max(eligible[:-3], key=lambda s: min(len(s["members"]), 3))
    page = browsing.signed_in(sandbox.VERIFIER, shot)
    page.get_by_role("link", name="新建案件").click()
    page.wait_for_url("**/cases/new")
    assert unlabelled_fields(page) == []
    fill_household(page, household["members"], "SQ-BROWSER-0001")
    shot(page, "form-filled")
    with page.expect_navigation(url=CASE_URL, timeout=60_000):
        page.get_by_role("button", name="提交并开始核对").click()
    case_id = CASE_URL.search(page.url)[1]
    shot(page, "submitted")
    wait_for_state(page, "待审核", timeout=120)
    shot(page, "verified")
    rows = page.locator("table.departments tbody tr")
    assert rows.count() == len(site.sb.agents)
    assert rows.filter(has_text="已答复").count() == len(site.sb.agents), \
        rows.all_inner_texts()
    assert household["members"][0]["id_number"] not in page.content(), "IDs are masked"
    page.context.close()

    page = browsing.signed_in(sandbox.REVIEWER, shot)
    page.goto(f"/cases/{case_id}")
    page.get_by_label("审核意见（退回时必填，不要填写身份证号码或姓名）").fill("材料齐全，同意。")
    shot(page, "review")
    page.get_by_role("button", name="审核通过，出具报告").click()
    wait_for_state(page, "已认定", timeout=60)
    shot(page, "decided")
    page.get_by_role("link", name="查看认定报告").click()
    page.wait_for_url(f"**/cases/{case_id}/report")
    report = page.locator("article.report")
    assert case_id in report.inner_text()
    assert "符合条件" in report.inner_text()
    shot(page, "report")

    page.emulate_media(media="print")
    shot(page, "report-print")
    assert not page.get_by_role("button", name="打印（A4）").is_visible(), "tools not printed"
    pdf = page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
    folder = SCREENSHOTS / "test_a_new_case_from_the_form_to_a_printed_report"
    (folder / "report.pdf").write_bytes(pdf)
    assert pdf.startswith(b"%PDF-") and 1 <= pdf_pages(pdf) <= 4, pdf_pages(pdf)
    page.emulate_media(media="screen")

    with page.expect_download() as download:
        page.get_by_role("link", name="下载签名报告（.dsse）").click()
    signed = envelope_pb2.Envelope()
    signed.ParseFromString(download.value.path().read_bytes())
    assert signed.payload and signed.signatures
    page.context.close()
