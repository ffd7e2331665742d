"""The guide's Recipes, run as written: its TOML blocks over databases in that native shape.

Each recipe's ```toml blocks are taken from docs/guide-department-it.md, given a
department and a real SQLite database, and read through the mapping loader and the
fetch path serving uses — so the guide cannot drift from what works.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from hedui.agents import mapping_sample
from hedui.agents.mapping import MappingSource
from hedui.v1 import records_pb2

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "guide-department-it.md"
HUSBAND, WIFE = "110101198001010011", "11010119820202002X"
OTHER_HUSBAND, OTHER_WIFE = "110101197001010031", "110101197202020046"


def recipe(title: str) -> list[str]:
    """The ```toml blocks under '### <title>' in the guide's Recipes section."""
    text = GUIDE.read_text(encoding="utf-8")
    start = text.index("\n## Recipes\n")
    section = text[text.index(f"\n### {title}\n", start):]
    end = section.find("\n### ", 5)
    end2 = section.find("\n## ", 5)
    stop = min(e for e in (end, end2, len(section)) if e >= 0)
    return re.findall(r"^```toml\n(.*?)^```$", section[:stop], flags=re.S | re.M)


def source(tmp_path: Path, dept: str, db: Path, toml: str, name: str = "m") -> MappingSource:
    path = tmp_path / f"{name}.toml"
    path.write_text(f'department = "{dept}"\ndatabase = "sqlite:///{db}"\n\n{toml}',
                    encoding="utf-8")
    src = MappingSource(path)
    assert src.check() == []
    return src


def database(path: Path, script: str, rows: dict[str, list[tuple]]) -> Path:
    with sqlite3.connect(path) as conn:
        conn.executescript(script)
        for table, values in rows.items():
            marks = ", ".join("?" * len(values[0]))
            conn.executemany(f"INSERT INTO {table} VALUES ({marks})", values)
    conn.close()
    return path


# ------------------------------------------------------------ pair tables


def test_pair_table_gives_each_spouse_the_other(tmp_path: Path) -> None:
    (toml,) = recipe("Pair tables")
    db = database(tmp_path / "civil.sqlite", """
        CREATE TABLE hy_jhdj (nf_sfzh TEXT, nf_xm TEXT, vf_sfzh TEXT, vf_xm TEXT,
                              hyzt TEXT, djrq TEXT);""", {"hy_jhdj": [
        (HUSBAND, "王建国", WIFE, "李秀英", "1", "2010-05-01"),
        (OTHER_HUSBAND, "赵强", OTHER_WIFE, "孙丽", "2", "1995-03-08"),
        (OTHER_HUSBAND, "赵强", "110101197505050057", "周敏", "1", "2001-09-09"),
    ]})
    src = source(tmp_path, "civil-affairs", db, toml)
    asked = [HUSBAND, WIFE, OTHER_HUSBAND, OTHER_WIFE]  # both spouses in one query
    records = src.fetch(asked, src.held_paths())
    assert set(records) == set(asked)
    husband, wife = records[HUSBAND].marriage, records[WIFE].marriage
    assert (husband.spouse_id_number, husband.spouse_name) == (WIFE, "李秀英")
    assert (wife.spouse_id_number, wife.spouse_name) == (HUSBAND, "王建国")
    assert husband.status == wife.status == records_pb2.Marriage.STATUS_MARRIED
    assert (wife.since.year, wife.since.month, wife.since.day) == (2010, 5, 1)
    # the latest registration wins: remarried after a divorce
    assert records[OTHER_HUSBAND].marriage.spouse_name == "周敏"
    assert records[OTHER_WIFE].marriage.status == records_pb2.Marriage.STATUS_DIVORCED
    src.close()


def test_the_case_shortcut_the_guide_warns_against_loses_a_spouse(tmp_path: Path) -> None:
    db = database(tmp_path / "civil.sqlite", """
        CREATE TABLE hy_jhdj (nf_sfzh TEXT, vf_sfzh TEXT, djrq TEXT);""",
        {"hy_jhdj": [(HUSBAND, WIFE, "2010-05-01")]})
    src = source(tmp_path, "civil-affairs", db, '''[record.marriage]
sql = """
SELECT CASE WHEN nf_sfzh IN :ids THEN nf_sfzh ELSE vf_sfzh END AS zjhm,
       CASE WHEN nf_sfzh IN :ids THEN vf_sfzh ELSE nf_sfzh END AS po, djrq
  FROM hy_jhdj WHERE nf_sfzh IN :ids OR vf_sfzh IN :ids
"""
key = "zjhm"

[record.marriage.fields]
spouse_id_number = "po"
''')
    assert src.fetch([WIFE], src.held_paths())[WIFE].marriage.spouse_id_number == HUSBAND
    assert set(src.fetch([HUSBAND, WIFE], src.held_paths())) == {HUSBAND}
    src.close()


# ------------------------------------------------------------ payment ledgers


def _ledger(tmp_path: Path) -> Path:
    """Two pensioners paid monthly; the second's pension rose in April, and a third
    person is paid by two schemes."""
    rows = [(HUSBAND, "11", f"2024{m:02d}", "3250.00") for m in range(1, 8)]
    rows += [(WIFE, "31", f"2024{m:02d}", "180.50" if m < 4 else "195.50")
             for m in range(2, 8)]
    rows += [(OTHER_WIFE, "11", "202406", "2100"), (OTHER_WIFE, "31", "202407", "150")]
    return database(tmp_path / "hr.sqlite", """
        CREATE TABLE yl_ffmx (sfzh TEXT, xzlx TEXT, ffny TEXT, ffje TEXT);""",
        {"yl_ffmx": rows})


def test_payment_ledger_grouped_gives_one_monthly_pension_since_the_first_month(
        tmp_path: Path) -> None:
    _wrong, right = recipe("Payment ledgers")
    db = _ledger(tmp_path)
    src = source(tmp_path, "human-resources", db, right)
    records = src.fetch([HUSBAND, WIFE, OTHER_WIFE], src.held_paths())
    (h,) = records[HUSBAND].pensions
    assert (h.scheme, h.monthly_amount_fen) == ("urban-employee", 325_000)
    assert (h.since.year, h.since.month, h.since.day) == (2024, 1, 0)
    (w,) = records[WIFE].pensions
    assert (w.scheme, w.monthly_amount_fen) == ("urban-rural-resident", 19_550)  # latest
    assert (w.since.year, w.since.month) == (2024, 2)
    assert sorted(p.monthly_amount_fen for p in records[OTHER_WIFE].pensions) == [15_000,
                                                                                 210_000]
    src.close()


def test_check_sample_shows_the_ledger_over_count(tmp_path: Path) -> None:
    wrong, right = recipe("Payment ledgers")
    db = _ledger(tmp_path)
    bad = source(tmp_path, "human-resources", db, wrong, "wrong")
    ids, _ = mapping_sample.pick_subjects(bad, 2)
    assert sorted(ids) == sorted([HUSBAND, OTHER_WIFE])  # the first two the block holds
    out = "\n".join(mapping_sample.report(bad, [HUSBAND, WIFE]))
    assert "rows found: 13, for 2 of the 2 person(s) (6.5 a person)" in out
    assert "monthly_amount_fen 23,893.00 yuan" in out  # 7 × 3,250 + 2 × 180.50 + 4 × 195.50
    assert "look again: 2 person(s)" in out and "payment ledgers" in out
    assert HUSBAND not in out and "1101**********0011" in out
    good = source(tmp_path, "human-resources", db, right, "right")
    out = "\n".join(mapping_sample.report(good, [HUSBAND, WIFE]))
    assert "rows found: 2, for 2 of the 2 person(s) (1.0 a person)" in out
    assert "monthly_amount_fen 3,445.50 yuan" in out and "look again" not in out
    bad.close()
    good.close()


# ------------------------------------------------------------ constant columns


def test_constant_column_fills_a_field_the_table_lacks(tmp_path: Path) -> None:
    (toml,) = recipe("Constant columns")
    db = database(tmp_path / "tax.sqlite", """
        CREATE TABLE gs_sbxx (nsrsbh TEXT, sssq_q TEXT, sssq_z TEXT, ynssde NUMERIC,
                              ybtse NUMERIC);""", {"gs_sbxx": [
        (HUSBAND, "2025-01-01", "2025-12-31", "86400.00", "1320.00"),
        (HUSBAND, "2024-01-01", "2024-12-31", "80000.10", "1200.01"),
    ]})
    src = source(tmp_path, "tax", db, toml)
    filings = src.fetch([HUSBAND, WIFE], src.held_paths())[HUSBAND].filings
    individual = records_pb2.TaxFiling.TAXPAYER_KIND_INDIVIDUAL
    assert [f.taxpayer_kind for f in filings] == [individual, individual]
    assert sorted(f.taxable_income_fen for f in filings) == [8_000_010, 8_640_000]
    assert sorted(f.tax_paid_fen for f in filings) == [120_001, 132_000]
    src.close()
