"""Files as Chinese offices produce them, read by the verifier's commands: household
files, batch lists and the connection file in UTF-8 (with or without BOM) and
GB18030/GBK, batch lists also as .xlsx, with English or Chinese column headers; the
results spreadsheet; tables that line up with Chinese text. All data is synthetic."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

from hedui.errors import HeduiError
from hedui.gateway import household as household_mod
from hedui.gateway.batch import read_rows
from hedui.gateway.batch_results import COLUMNS, ResultRow, previous_key, write_results
from hedui.gateway.client import ClientConfig
from hedui.tables import display_width, render

#: synthetic resident ID numbers (valid check characters, nobody's)
ID_1, ID_2 = "110101198001010053", "11010119820315002X"

HOUSEHOLD = f"""# 家庭核对申请 (synthetic)
programme = "dibao"
region = "310000"
application_date = 2026-11-02

[authorization]
number = "SQ-2026-000123"
signed_on = 2026-11-02
valid_from = 2026-11-02
valid_until = 2027-11-01
document_sha256 = "{'ab' * 32}"

[[members]]
id_number = "{ID_1}"
name = "张建国"
relation = "self"

[[members]]
id_number = "{ID_2}"
name = "李秀兰"
relation = "spouse"
"""


def household_file(folder: Path, name: str = "张家.toml", encoding: str = "utf-8") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(HOUSEHOLD.encode(encoding))
    return path


# ------------------------------------------------------------------ household files


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_a_household_file_in_every_office_encoding(tmp_path: Path, encoding: str) -> None:
    hh = household_mod.load(household_file(tmp_path, encoding=encoding))
    assert [m.name for m in hh.members] == ["张建国", "李秀兰"]
    assert hh.application_date == dt.date(2026, 11, 2)


@pytest.mark.parametrize(("content", "expected"), [
    (b"\x89PNG\r\n\x1a\n\x00\xff\xfe\xfd\x80", "not text in UTF-8 or GB18030"),
    ("programme = 低保\n".encode("gbk"), "not valid TOML"),
    (b'programme = "dibao"\nregion = "310000"\nmembers = "x"\n', "[[members]] tables"),
])
def test_a_household_file_that_is_not_one_is_one_line(tmp_path: Path, content: bytes,
                                                      expected: str) -> None:
    path = tmp_path / "hh.toml"
    path.write_bytes(content)
    with pytest.raises(household_mod.HouseholdFileError) as caught:
        household_mod.load(path)
    assert expected in str(caught.value) and "\n" not in str(caught.value)


def test_a_missing_household_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(household_mod.HouseholdFileError, match="does not exist"):
        household_mod.load(tmp_path / "nope.toml")


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gbk"])
def test_the_connection_file_in_an_office_encoding(tmp_path: Path, encoding: str) -> None:
    desk = tmp_path / "核对科"
    desk.mkdir()
    (desk / "hedui-client.toml").write_bytes(
        '# 核对中心\ngateway = "127.0.0.1:7400"\ngateway_id = "spiffe://county.example/gateway/'
        'center"\noperator = "op-1001"\n[tls]\ncertificate = "证书/tls.crt"\nkey = "证书/tls.key"'
        '\nca = "证书/ca.crt"\n'.encode(encoding))
    config = ClientConfig.load(desk / "hedui-client.toml")
    assert config.operator == "op-1001" and config.ca == desk.resolve() / "证书" / "ca.crt"


def test_a_connection_file_without_tls_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('gateway = "x"\ngateway_id = "y"\ntls = 3\n', encoding="utf-8")
    with pytest.raises(HeduiError, match=r"\[tls\] must be a table"):
        ClientConfig.load(path)


# ------------------------------------------------------------------ batch lists


@pytest.mark.parametrize(("encoding", "header"), [
    ("utf-8-sig", "household,application_date,previous_outcome"),  # CSV UTF-8 from Excel
    ("gbk", "家庭文件,申请日期,原结果"),  # "CSV (逗号分隔)" on a Chinese Windows
    ("gb18030", "户,申请日期,上次结果"),
    ("utf-8", "家庭文件 / household,申请日期 / application date,原结果 / previous outcome"),
])
def test_a_batch_list_in_office_encodings_and_either_language(
        tmp_path: Path, encoding: str, header: str) -> None:
    household_file(tmp_path / "households")
    path = tmp_path / "复核名单.csv"
    path.write_bytes(f"{header}\nhouseholds\\张家.toml,2026-10-01,符合条件\n"
                     "households/张家.toml,,不符合\n".encode(encoding))
    rows = read_rows(path)
    assert [r.problem for r in rows] == ["", ""]
    assert [r.hh.application_date for r in rows] == [dt.date(2026, 10, 1), dt.date(2026, 11, 2)]
    assert [r.previous for r in rows] == ["eligible", "ineligible"]
    assert rows[0].applicant == "张**"  # masked, for the results sheet


def test_a_batch_list_as_an_xlsx_workbook(tmp_path: Path) -> None:
    from openpyxl import Workbook

    household_file(tmp_path)
    book = Workbook()
    book.active.append(["户", "申请日期", "上次结果"])
    book.active.append(["张家.toml", dt.datetime(2026, 10, 8), "需人工复核"])
    book.save(tmp_path / "名单.xlsx")
    (row,) = read_rows(tmp_path / "名单.xlsx")
    assert row.hh.application_date == dt.date(2026, 10, 8)
    assert row.previous == "needs-manual-review" and row.line == 2


def test_bad_rows_are_marked_with_their_line_and_the_others_kept(tmp_path: Path) -> None:
    household_file(tmp_path)
    wrong = household_file(tmp_path, "错号.toml")
    wrong.write_text(wrong.read_text(encoding="utf-8").replace(ID_2, ID_2[:17] + "1"),
                     encoding="utf-8")
    (tmp_path / "b.csv").write_text(
        "household,申请日期,previous_outcome\n张家.toml,,eligible\n没有.toml,,\n"
        "张家.toml,2026-13-40,\n错号.toml,,\n张家.toml,,合格\n,,eligible\n张家.toml,,\n",
        encoding="utf-8")
    rows = read_rows(tmp_path / "b.csv")
    problems = [r.problem for r in rows]
    assert problems[0] == "" and problems[-1] == ""
    assert problems[1].startswith("line 3: household file") and "does not exist" in problems[1]
    assert problems[2] == "line 4: application_date must be a date like 2026-11-02"
    assert problems[3].startswith("line 5: ") and "member 2 (李秀兰)" in problems[3]
    assert ID_2[:17] not in problems[3]  # a refusal never repeats the number
    assert problems[4].startswith("line 6: previous_outcome '合格' is not one of")
    assert problems[5] == "line 7: the household column is empty"


def test_a_list_without_a_household_column_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "b.csv").write_bytes("姓名,备注\n张三,x\n".encode("gbk"))
    with pytest.raises(HeduiError) as caught:
        read_rows(tmp_path / "b.csv")
    message = str(caught.value)
    assert "household, 家庭文件 or 户" in message and "found: 姓名, 备注" in message


@pytest.mark.parametrize(("text", "key"), [
    ("符合", "eligible"), ("符合条件", "eligible"), ("Eligible", "eligible"),
    ("不符合", "ineligible"), ("不符合条件", "ineligible"), ("ineligible", "ineligible"),
    ("无法核定", "incomplete"), ("incomplete", "incomplete"), ("核对未完成", "incomplete"),
    ("需人工复核", "needs-manual-review"), ("needs manual review", "needs-manual-review"),
    ("needs_manual_review", "needs-manual-review"),
    ("eligible / 符合条件", "eligible"), ("不符合条件 / ineligible", "ineligible"),
    ("", None), ("  ", None),
])
def test_previous_outcome_labels(text: str, key: str | None) -> None:
    assert previous_key(text) == key


def test_a_previous_outcome_that_contradicts_itself_is_refused() -> None:
    with pytest.raises(HeduiError):
        previous_key("符合条件 / ineligible")


# ------------------------------------------------------------------ the results sheet


def test_the_results_sheet_as_xlsx_and_csv_with_a_bom(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    rows = [
        ResultRow(2, "households/张家.toml", "张**", {
            "state": "decided", "case_id": "case-20261102-0123456789ab",
            "outcome_key": "ineligible", "previous_key": "eligible",
            "reasons": ["存款超过标准", "deposits above the limit"],
            "report": "case-20261102-0123456789ab.report.html"}),
        ResultRow(3, "没有.toml", "", {"state": "failed",
                                      "reason": "line 3: household file 没有.toml does not exist"}),
    ]
    xlsx, csv_path = write_results(rows, tmp_path / "名单.results.xlsx")
    assert csv_path.read_bytes().startswith(b"\xef\xbb\xbf")
    with csv_path.open(encoding="utf-8-sig", newline="") as f:
        table = list(csv.reader(f))
    assert tuple(table[0]) == COLUMNS and COLUMNS[0].startswith("行号")
    assert table[1][COLUMNS.index("变化 / change")] == \
        "符合条件 / eligible → 不符合条件 / ineligible"
    assert table[2][COLUMNS.index("状态 / state")] == "行有误 / failed"
    assert "does not exist" in table[2][COLUMNS.index("原因 / reasons")]
    sheet = load_workbook(xlsx).active
    assert [c.value for c in sheet[1]] == list(COLUMNS)
    link = sheet.cell(row=2, column=COLUMNS.index("报告 / report") + 1)
    assert link.hyperlink.target == "case-20261102-0123456789ab.report.html"
    assert sheet.cell(row=3, column=1).value == 3
    assert not list(tmp_path.glob(".*.tmp"))


# ------------------------------------------------------------------ tables


def test_tables_line_up_with_chinese_text_and_never_cut_a_cell() -> None:
    assert display_width("张**") == 4 and display_width("ｘ1") == 3
    long = "banks, civil-affairs, housing, housing-fund, human-resources, market, tax"
    lines = render(["申请人/applicant", "状态/state", "等待部门/waiting"],
                   [["张**", "open", long], ["欧阳**", "decided", ""],
                    ["li*", "incomplete", "tax"]])
    assert long in lines[2]  # more than 48 characters, whole
    starts = {display_width(line[:line.index(word)])
              for line, word in zip(lines[2:], ["open", "decided", "incomplete"], strict=True)}
    assert len(starts) == 1  # the second column starts at the same terminal column


def test_a_connection_file_with_a_typo_names_what_it_resembles(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('gateway = "x"\ngateway_id = "y"\noperater = "op-1"\n[tls]\n'
                    'certificate = "a"\nkey = "b"\nca = "c"\n', encoding="utf-8")
    with pytest.raises(HeduiError, match=r"line 3: operater is not a known key; did you mean "
                                         r"operator\?"):
        ClientConfig.load(path)
