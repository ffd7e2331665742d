"""A batch from an ``.xlsx``, in a real browser: a verifier uploads an Excel list (one
row per family member, Chinese headers as an office writes them), sees the preview with
the problem of the one household whose ID number is mistyped, starts the run, watches
the progress bar reach the end, and downloads the results workbook."""

from __future__ import annotations

import hashlib
import io

import pytest

pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")

from browsing import SCREENSHOTS, Browsing

from hedui import china_time
from hedui.gateway import sandbox

pytestmark = pytest.mark.slow  # a real browser against a real site

HEADERS = ("户", "姓名", "身份证号码", "关系", "救助项目", "行政区划代码", "授权书编号",
           "有效期自", "有效期至", "授权书摘要", "申请日期")
RELATIONS = {"self": "本人", "spouse": "配偶", "child": "子女", "parent": "父母",
             "sibling": "兄弟姐妹"}


def workbook(households: list[dict], bad: dict) -> bytes:
    """The list as Excel saves it: the good households, then one with a wrong check
    digit in its applicant's ID number."""
    from openpyxl import Workbook

    today = china_time.today()
    until = today.replace(year=today.year + 1)
    book = Workbook()
    sheet = book.active
    sheet.append(HEADERS)
    for n, h in enumerate([*households, bad], start=1):
        digest = hashlib.sha256(f"synthetic scan {n}".encode()).hexdigest()
        for m in h["members"]:
            relation = m["relation"].removeprefix("RELATION_").lower()
            sheet.append((f"户{n:02d}", m["name"], m["id_number"],
                          RELATIONS.get(relation, relation), "dibao", "310000",
                          f"SQ-XLSX-{n:04d}", today.isoformat(), until.isoformat(), digest,
                          today.isoformat()))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def mistyped(household: dict) -> dict:
    first = dict(household["members"][0])
    number = first["id_number"]
    first["id_number"] = number[:17] + ("0" if number[17] != "0" else "1")
    return {**household, "members": [first, *household["members"][1:]]}


def test_a_batch_from_an_xlsx(browsing: Browsing, shot) -> None:
    samples = [s for s in browsing.site.samples if s["expected"] == "eligible"]
    # the last three: other tests open cases for the first ones (a household verified
    # again within days would need a reason)
    good, bad = samples[-3:-1], mistyped(samples[-1])
    listing = workbook(good, bad)
    page = browsing.signed_in(sandbox.VERIFIER, shot)
    page.get_by_role("link", name="批量核对").click()
    page.wait_for_url("**/batch")
    page.get_by_label("名单文件（.xlsx 或 .csv）").set_input_files(files=[{
        "name": "复核名单.xlsx", "buffer": listing,
        "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}])
    shot(page, "chosen")
    page.get_by_role("button", name="上传并预览").click()
    page.get_by_role("heading", name="预览").wait_for()
    shot(page, "preview")
    rows = page.locator("table.preview tbody tr")
    assert rows.count() == 3
    flagged = page.locator("table.preview tbody tr.bad")
    assert flagged.count() == 1 and "户03" in flagged.inner_text()
    line = 2 + sum(len(h["members"]) for h in good)  # the bad applicant's row in Excel
    assert f"第{line}行" in flagged.inner_text() and "校验码" in flagged.inner_text()
    assert bad["members"][0]["id_number"] not in page.content(), "the ID number is echoed"

    page.get_by_role("button", name="开始核对 2 户").click()
    bar = page.get_by_label("进度")
    bar.wait_for()
    shot(page, "running")
    page.locator("#download-results").wait_for(timeout=120_000)
    shot(page, "done")
    assert bar.get_attribute("value") == bar.get_attribute("max"), "the bar is full"

    with page.expect_download() as download:
        page.locator("#download-results").click()
    data = download.value.path().read_bytes()
    (SCREENSHOTS / "test_a_batch_from_an_xlsx" / "results.xlsx").write_bytes(data)
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(data), read_only=True).active
    lines = [[str(c) if c is not None else "" for c in row]
             for row in sheet.iter_rows(values_only=True)]
    body = "\n".join(" ".join(r) for r in lines[1:])
    assert len([r for r in lines[1:] if any(r)]) == 3, body
    assert body.count("case-") == 2 and body.count("符合条件") == 2, body
    page.context.close()
