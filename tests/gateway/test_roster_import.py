"""Reading a beneficiary list: GBK and UTF-8-BOM CSV, .xlsx, Chinese or English headers,
full-width digits, households grouped; any bad row reported and nothing imported."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from hedui import resident_id
from hedui.gateway import migrations as case_migrations
from hedui.gateway.roster_import import RosterImportError, import_roster, read_roster
from hedui.gateway.sealing import Vault
from hedui.gateway.store import make_engine
from hedui.gateway.store_roster import RosterStore
from hedui.v1 import records_pb2

TODAY = dt.date(2027, 3, 1)
ZH = ["户号", "身份证号", "姓名", "与户主关系", "纳入日期", "授权书编号", "授权书摘要",
      "授权有效期", "乡镇", "区划"]
EN = ["household", "id_number", "name", "relation", "enrolled_on", "authorization_number",
      "consent_digest", "authorization_valid_until", "township", "region"]


def idn(serial: int, born: str = "19800101") -> str:
    body = f"320102{born}{serial:03d}"
    return body + resident_id.check_digit(body)


def full_width(text: str) -> str:
    return "".join(chr(ord(c) - 0x30 + 0xFF10) if c.isdigit() else c for c in text)


ROWS = [
    ["H001", idn(1), "张三", "户主", "2025-06-01", "SQ-001", "ab" * 32, "2028-05-31", "t01",
     "320102"],
    ["H001", idn(2, "19820304"), "李四", "配偶", "2025-06-01", "SQ-001", "ab" * 32,
     "2028-05-31", "t01", "320102"],
    ["H002", idn(3, "19500505"), "王五", "本人", "2024/1/9", "SQ-002", "", "", "t02",
     "320102"],
]


def write_csv(path: Path, header: list[str], rows: list[list[str]], encoding: str) -> Path:
    text = "\r\n".join(",".join(r) for r in [header, *rows]) + "\r\n"
    path.write_bytes(text.encode(encoding))
    return path


@pytest.fixture
def store(tmp_path: Path) -> Iterator[RosterStore]:
    url = f"sqlite:///{tmp_path / 'cases.sqlite'}"
    case_migrations.upgrade(url)
    engine = make_engine(url)
    try:
        yield RosterStore(engine, Vault(b"\x0a" * 32),
                          pseudonym=lambda n: hashlib.sha256(n.encode()).hexdigest())
    finally:
        engine.dispose()


def check(read_entries: tuple) -> None:
    assert [e.household_ref for e in read_entries] == ["H001", "H002"]
    h1, h2 = read_entries
    assert [(m.name, m.relation) for m in h1.members] == [
        ("张三", records_pb2.RELATION_SELF), ("李四", records_pb2.RELATION_SPOUSE)]
    assert h1.members[0].id_number == idn(1)
    assert h1.enrolled_on == dt.date(2025, 6, 1)
    assert h1.authorization_valid_until == dt.date(2028, 5, 31)
    assert (h1.township, h1.region, h1.consent_digest) == ("t01", "320102", "ab" * 32)
    assert h2.enrolled_on == dt.date(2024, 1, 9) and h2.authorization_valid_until is None


def test_gbk_csv_with_chinese_headers(tmp_path: Path, store: RosterStore) -> None:
    path = write_csv(tmp_path / "名册.csv", ZH, ROWS, "gbk")
    read = read_roster(path, today=TODAY)
    assert read.errors == () and read.rows == 3
    check(read.entries)
    assert read.source_tag == "import:" + hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    result = import_roster(store, "dibao", path, today=TODAY)
    assert len(result.added) == 2
    assert store.import_rows("dibao", read.entries, source=read.source_tag).skipped == 2
    assert {r.source for r in store.list_active("dibao")} == {read.source_tag}


def test_utf8_bom_csv_with_english_headers(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "roster.csv", EN, ROWS, "utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    read = read_roster(path, today=TODAY)
    assert read.errors == ()
    check(read.entries)


def test_xlsx_with_bilingual_headers_and_date_cells(tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append([f"{z} / {e}" for z, e in zip(ZH, EN, strict=True)])
    for r in ROWS:
        cells: list[object] = list(r)
        cells[4] = dt.datetime.fromisoformat(r[4].replace("/", "-").replace("-1-9", "-01-09"))
        sheet.append(cells)
    path = tmp_path / "roster.xlsx"
    book.save(path)
    read = read_roster(path, today=TODAY)
    assert read.errors == ()
    check(read.entries)


def test_full_width_digits_are_read_as_ascii(tmp_path: Path) -> None:
    rows = [[full_width(c) if i in (0, 1, 4, 7, 9) else c for i, c in enumerate(r)]
            for r in ROWS]
    rows[0][4] = "２０２５年６月１日"
    rows[1][4] = "２０２５－０６－０１"
    assert rows[0][1] != ROWS[0][1]
    path = write_csv(tmp_path / "全角.csv", ZH, rows, "gbk")
    read = read_roster(path, today=TODAY)
    assert read.errors == ()
    assert [e.household_ref for e in read.entries] == ["H001", "H002"]
    assert read.entries[0].members[0].id_number == idn(1)
    assert read.entries[0].enrolled_on == dt.date(2025, 6, 1)


def test_a_bad_row_is_reported_and_nothing_is_imported(tmp_path: Path,
                                                       store: RosterStore) -> None:
    rows = [list(r) for r in ROWS]
    bad_id = idn(2, "19820304")[:-1] + ("0" if idn(2, "19820304")[-1] != "0" else "1")
    rows[1][1] = bad_id
    rows[2][4] = "2024-13-40"
    rows.append(["H002", idn(3, "19500505"), "王五", "户主", "2024-01-09", "SQ-002", "", "",
                 "t02", "320102"])
    rows.append(["H003", idn(9), "赵六", "朋友", "2024-01-09", "SQ-003", "", "", "t02",
                 "32010"])
    path = write_csv(tmp_path / "bad.csv", ZH, rows, "utf-8-sig")
    read = read_roster(path, today=TODAY)
    assert read.entries == ()
    found = {(e.line, e.column) for e in read.errors}
    assert (3, "身份证号") in found  # check digit
    assert (4, "纳入日期") in found  # not a date
    assert (5, "身份证号") in found  # the same person twice
    assert (6, "与户主关系") in found and (6, "区划") in found
    messages = " ".join(str(e) for e in read.errors)
    assert "校验码" in messages and "第 3 行" in messages and bad_id not in messages
    with pytest.raises(RosterImportError) as err:
        import_roster(store, "dibao", path, today=TODAY)
    assert len(err.value.errors) == len(read.errors) and "未导入" in str(err.value)
    assert store.list_active("dibao") == []


def test_a_household_needs_one_head_and_agreeing_columns(tmp_path: Path) -> None:
    rows = [list(r) for r in ROWS]
    rows[1][3] = "户主"  # two heads in H001
    rows[1][8] = "t09"  # and another township
    path = write_csv(tmp_path / "heads.csv", ZH, rows, "gbk")
    read = read_roster(path, today=TODAY)
    assert read.entries == ()
    assert {(e.line, e.column) for e in read.errors} == {(3, "乡镇"), (2, "与户主关系")}


def test_a_missing_column_is_named(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "short.csv", ZH[:3], [r[:3] for r in ROWS], "gbk")
    read = read_roster(path, today=TODAY)
    assert read.entries == ()
    assert {e.column for e in read.errors} >= {"纳入日期", "授权书编号", "乡镇", "区划"}
    assert all(e.line == 1 for e in read.errors)
