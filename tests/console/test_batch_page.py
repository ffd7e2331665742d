"""批量核对 against a real gateway and its eight agents: an .xlsx list made here with
openpyxl is previewed with its bad row, runs in the background to the end, and its
results sheet downloads with one row per household; a GBK CSV with English headers
works the same; a file that is no list is said in Chinese, without a traceback.
Synthetic households only."""

from __future__ import annotations

import hashlib
import io
import re
import time
import zipfile

import pytest
from console_site import ConsoleSite
from openpyxl import Workbook, load_workbook
from starlette.testclient import TestClient

from hedui import china_time
from hedui.console.batch_runs import TEMPLATE
from hedui.gateway import sandbox
from hedui.gateway.batch_results import COLUMNS
from hedui.v1 import case_pb2

pytestmark = pytest.mark.slow
TODAY = china_time.today()
WORDS = {"self": "本人", "spouse": "配偶", "child": "子女", "parent": "父母",
         "sibling": "兄弟姐妹", "grandparent": "祖父母", "grandchild": "孙子女", "other": "其他"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):
    s = ConsoleSite(tmp_path_factory.mktemp("batch"))
    s.start(agents=True)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def verifier(site: ConsoleSite) -> TestClient:
    client = site.app_client()
    site.sign_in(client, sandbox.VERIFIER)
    return client


def csrf(page: str) -> str:
    return page.split('name="csrf" value="')[1].split('"')[0]


def member_rows(site: ConsoleSite, sample: int, label: str, number: str, *,
                chinese: bool = True) -> list[list[str]]:
    """One row per member: 户, 姓名, 身份证号码, 关系, 项目, 区划, 授权书编号, 有效期, 摘要."""
    rows = []
    for m in site.samples[sample]["members"]:
        relation = m["relation"].removeprefix("RELATION_").lower()
        rows.append([label, m["name"], m["id_number"], WORDS[relation] if chinese else relation,
                     "dibao", "310000", number, TODAY.isoformat(),
                     TODAY.replace(year=TODAY.year + 1).isoformat(),
                     hashlib.sha256(number.encode()).hexdigest()])
    return rows


def upload(client: TestClient, name: str, data: bytes, media_type: str):
    token = csrf(client.get("/batch").text)
    return client.post("/batch", data={"csrf": token},
                       files={"listing": (name, data, media_type)}, follow_redirects=False)


def run_to_the_end(client: TestClient, location: str) -> None:
    page = client.get(location)
    r = client.post(location + "/start", data={"csrf": csrf(page.text)},
                    follow_redirects=False)
    assert r.status_code == 303, r.text[:500]
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        r = client.get(location + "/progress?polling=1", headers={"HX-Request": "true"})
        assert r.status_code == 200
        if r.headers.get("HX-Refresh") == "true":
            return
        assert "<progress" in r.text and 'hx-trigger="every' in r.text
        time.sleep(1)
    raise AssertionError("the batch did not finish")


def test_a_batch_from_an_xlsx_runs_and_its_results_download(verifier: TestClient,
                                                            site: ConsoleSite) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["户", "姓名", "身份证号码", "关系", "救助项目", "行政区划代码", "授权书编号",
                  "有效期自", "有效期至", "授权书摘要"])
    for row in (member_rows(site, 2, "一户", "SQ-BT-00001")
                + member_rows(site, 3, "二户", "SQ-BT-00002")):
        sheet.append(row)
    bad = member_rows(site, 4, "三户", "SQ-BT-00003")
    bad[0][2] = bad[0][2][:17] + ("0" if bad[0][2][17] != "0" else "1")  # a wrong check digit
    for row in bad:
        sheet.append(row)
    buf = io.BytesIO()
    book.save(buf)
    r = upload(verifier, "名单.xlsx", buf.getvalue(), XLSX)
    assert r.status_code == 303, r.text[:1000]
    location = r.headers["location"]
    preview = verifier.get(location)
    assert preview.status_code == 200
    assert "共 3 户，其中 1 户有问题" in preview.text
    assert "校验码不对" in preview.text and "可以核对" in preview.text
    assert bad[0][2] not in preview.text, "an ID number shown in full"
    run_to_the_end(verifier, location)
    page = verifier.get(location)
    assert "已完成" in page.text and "/cases/case-" in page.text
    sheet_r = verifier.get(location + "/results.xlsx")
    assert sheet_r.status_code == 200 and sheet_r.headers["content-type"] == XLSX
    results = load_workbook(io.BytesIO(sheet_r.content)).active
    rows = list(results.iter_rows(values_only=True))
    assert list(rows[0]) == list(COLUMNS)
    assert [r[1] for r in rows[1:]] == ["一户", "二户", "三户"]  # one row per household
    state = COLUMNS.index("状态 / state")
    assert all(r[COLUMNS.index("案件编号 / case")] for r in rows[1:3])
    assert "awaiting review" in rows[1][state] or "decided" in rows[1][state], rows[1]
    assert "failed" in rows[3][state]
    # a reviewer approves one: its report is in the archive from then on
    case_id = rows[1][COLUMNS.index("案件编号 / case")]
    with site.person(sandbox.REVIEWER) as reviewer:
        reviewer.call(reviewer.cases.ReviewCase, case_pb2.ReviewCaseRequest(
            case_id=case_id, verdict=case_pb2.ReviewCaseRequest.VERDICT_APPROVE))
    zipped = verifier.get(location + "/reports.zip")
    assert zipped.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(zipped.content)).namelist()
    assert {"results.xlsx", "results.csv", f"{case_id}.report.dsse"} <= set(names), names
    assert f"{case_id}.report.html" in names, names


def test_a_gbk_csv_with_english_headers_works(verifier: TestClient, site: ConsoleSite) -> None:
    lines = ["household,name,id_number,relation,programme,region,authorization_number,"
             "valid_from,valid_until,document_sha256"]
    lines += [",".join(row) for row in member_rows(site, 5, "张家", "SQ-BT-00004",
                                                   chinese=False)]
    data = ("\r\n".join(lines) + "\r\n").encode("gbk")
    r = upload(verifier, "list.csv", data, "text/csv")
    assert r.status_code == 303, r.text[:1000]
    location = r.headers["location"]
    preview = verifier.get(location)
    assert "张家" in preview.text and "共 1 户，其中 0 户有问题" in preview.text
    run_to_the_end(verifier, location)
    csv_r = verifier.get(location + "/results.csv")
    text = csv_r.content.decode("utf-8-sig")
    assert "张家" in text and "case-" in text
    case_id = re.search(r"case-\d{8}-[0-9a-f]{12}", text)[0]

    # the console restarted mid-run: the page says so and the run resumes, no second case
    run_file = site.config.state_dir / "batches" / location.rsplit("/", 1)[1] / "run.json"
    run_file.write_text(run_file.read_text(encoding="utf-8").replace(
        '"status": "done"', '"status": "running"'), encoding="utf-8")
    (run_file.parent / "progress.jsonl").write_text("", encoding="utf-8")
    restarted = site.app_client()
    site.sign_in(restarted, sandbox.VERIFIER, later=1)
    page = restarted.get(location)
    assert "已中断" in page.text and "继续运行" in page.text
    run_to_the_end(restarted, location)
    again = restarted.get(location + "/results.csv").content.decode("utf-8-sig")
    assert case_id in again, "the resumed run opened another case"


@pytest.mark.parametrize(("name", "data", "words"), [
    ("名单.xlsx", b"PK\x03\x04 this is no workbook at all", "无法读取该文件"),
    ("名单.xlsx", b"\x00\x01 not a zip", "不是有效的 .xlsx 工作簿"),
    ("名单.xls", b"\xd0\xcf\x11\xe0 old excel", "旧版 Excel"),
    ("名单.pdf", b"%PDF-1.4", "只能上传 .xlsx 工作簿或 .csv 文件"),
    ("名单.csv", "姓名,电话\n张三,123\n".encode("gbk"), "表头缺少"),
    ("名单.csv", b"\xff\xfe\xff bad bytes \x81", "无法读取该文件"),
])
def test_a_malformed_file_is_said_in_chinese(verifier: TestClient, name: str, data: bytes,
                                             words: str) -> None:
    r = upload(verifier, name, data, "application/octet-stream")
    assert r.status_code == 400 and words in r.text, r.text[-1500:]
    assert "Traceback" not in r.text and not re.search(r"\bError\b", r.text)


def test_only_verifiers_may_batch(site: ConsoleSite) -> None:
    client = site.app_client()
    site.sign_in(client, sandbox.REVIEWER)
    assert client.get("/batch").status_code == 403


def test_the_template_sheet_is_a_list_the_page_reads(verifier: TestClient,
                                                     site: ConsoleSite) -> None:
    r = verifier.get("/batch/template.xlsx")
    assert r.status_code == 200 and r.headers["content-type"] == XLSX
    sheet = load_workbook(io.BytesIO(r.content)).active
    header = [c.value for c in sheet[1]]
    assert list(header) == list(TEMPLATE)
    book = Workbook()
    filled = book.active
    filled.append(header)
    for row in member_rows(site, 6, "一户", "SQ-BT-00005"):
        filled.append(row[:6] + row[6:7] + row[7:10] + ["", "", ""])
    buf = io.BytesIO()
    book.save(buf)
    r = upload(verifier, "模板.xlsx", buf.getvalue(), XLSX)
    assert r.status_code == 303, r.text[-1500:]
    assert "共 1 户，其中 0 户有问题" in verifier.get(r.headers["location"]).text


def test_the_batch_page_in_english(site: ConsoleSite) -> None:
    client = site.app_client()
    site.sign_in(client, "op-1002")
    page = client.get("/batch")
    r = client.post("/lang", data={"csrf": csrf(page.text), "lang": "en", "next": "/batch"})
    assert r.status_code == 200 and "Upload and preview" in r.text, r.text[-800:]
    assert "Download the list template" in r.text
