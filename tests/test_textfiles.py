"""Files as offices make them (hedui.textfiles): UTF-8 with and without BOM, GB18030/GBK,
UTF-16 from Excel's "Unicode text", .xlsx workbooks; anything else one clear line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedui.textfiles import FileProblem, decode, read_table, read_toml

HOUSEHOLD = 'programme = "dibao"\n[[members]]\nname = "张三"\nrelation = "本人"\n'
CSV = "household,申请日期,备注\n张三家.toml,2026-11-15,低保复核\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16"])
def test_toml_in_every_office_encoding(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "household.toml"
    path.write_bytes(HOUSEHOLD.encode(encoding))
    data, _ = read_toml(path)
    assert data["members"][0]["name"] == "张三"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk"])
def test_csv_in_every_office_encoding(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "batch.csv"
    path.write_bytes(CSV.encode(encoding))
    table = read_table(path, required=["household"])
    assert table.header == ("household", "申请日期", "备注")
    assert table.rows == ((2, {"household": "张三家.toml", "申请日期": "2026-11-15",
                               "备注": "低保复核"}),)


def test_excel_unicode_text_is_tab_separated_utf16(tmp_path: Path) -> None:
    path = tmp_path / "batch.txt"
    path.write_bytes(CSV.replace(",", "\t").encode("utf-16"))
    assert read_table(path).rows[0][1]["备注"] == "低保复核"


def test_an_xlsx_workbook(tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["household", "申请日期", "序号"])
    sheet.append(["张三家.toml", dt.datetime(2026, 11, 15), 7])
    sheet.append([None, None, None])  # an empty row Excel leaves behind
    sheet.append(["李四家.toml", dt.date(2026, 10, 1), 8.0])
    path = tmp_path / "batch.xlsx"
    book.save(path)
    table = read_table(path, required=["household"])
    assert table.rows == (
        (2, {"household": "张三家.toml", "申请日期": "2026-11-15", "序号": "7"}),
        (4, {"household": "李四家.toml", "申请日期": "2026-10-01", "序号": "8"}),
    )


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("a.csv", b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe\xfd", "not text in UTF-8 or GB18030"),
        ("a.xls", b"\xd0\xcf\x11\xe0", "old Excel 97-2003"),
        ("a.xlsx", b"not a zip", "not a readable .xlsx"),
        ("a.csv", b"", "empty"),
        ("a.csv", "name,备注\n".encode(), "needs a 'household' column (found: name, 备注)"),
    ],
)
def test_anything_else_is_one_clear_line(tmp_path: Path, name: str, content: bytes,
                                         expected: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(FileProblem) as caught:
        read_table(path, required=["household"])
    assert expected in str(caught.value) and "\n" not in str(caught.value)
    assert str(path) in str(caught.value)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(FileProblem, match="no such file"):
        read_toml(tmp_path / "nowhere.toml")


@given(st.text())
def test_utf8_with_or_without_bom_round_trips(text: str) -> None:
    assert decode(text.encode("utf-8"), "t") == text
    assert decode(text.encode("utf-8-sig"), "t") == text


@given(st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), min_size=2))
def test_gbk_chinese_text_round_trips_or_is_valid_utf8(text: str) -> None:
    raw = text.encode("gb18030")
    try:
        as_utf8 = raw.decode("utf-8")
    except UnicodeDecodeError:
        assert decode(raw, "t") == text
    else:  # the rare byte string valid in both: UTF-8 wins, as documented
        assert decode(raw, "t") == as_utf8
