"""Reading a programme's beneficiary list (低保/特困 名册) onto the roster.

The list comes as the programme's office keeps it: an ``.xlsx`` workbook or a CSV in GBK
or UTF-8 with a BOM (``hedui.textfiles``), one row per person, headers in Chinese or
English (matched as ``hedui.gateway.batch.column`` matches them):

户号/household, 身份证号/id_number, 姓名/name, 与户主关系/relation, 纳入日期/enrolled_on,
授权书编号/authorization_number, 授权书摘要/consent_digest, 授权有效期/authorization_valid_until,
乡镇/township, 区划/region.

Rows with the same 户号 are one household, and the household's own columns (dates,
authorization, township, region) must agree on all its rows. Full-width digits and
punctuation typed on a Chinese keyboard are read as ASCII. Every row is checked and
every problem reported (line, column, what is wrong, in Chinese, never repeating an ID
number); if any row is bad nothing is imported — a roster is paid from, so half a list
is worse than none.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from hedui import resident_id
from hedui.errors import HeduiError
from hedui.gateway.batch import column
from hedui.gateway.household import RELATIONS
from hedui.gateway.store_roster import ImportResult, RosterEntry
from hedui.textfiles import Table, read_table
from hedui.v1 import case_pb2, records_pb2

if TYPE_CHECKING:
    from hedui.gateway.store_roster import RosterStore

__all__ = ["COLUMNS", "RosterImportError", "RosterList", "RowError", "import_roster",
           "read_roster"]

#: field → (names in the header, Chinese name for messages, required)
COLUMNS: dict[str, tuple[tuple[str, ...], str, bool]] = {
    "household": (("household", "household_ref", "户号", "户编号"), "户号", True),
    "id_number": (("id_number", "身份证号", "身份证号码", "公民身份号码"), "身份证号", True),
    "name": (("name", "姓名"), "姓名", True),
    "relation": (("relation", "与户主关系", "关系"), "与户主关系", False),
    "enrolled_on": (("enrolled_on", "纳入日期"), "纳入日期", True),
    "authorization_number": (("authorization_number", "授权书编号"), "授权书编号", True),
    "consent_digest": (("consent_digest", "授权书摘要"), "授权书摘要", False),
    "authorization_valid_until": (("authorization_valid_until", "授权有效期"), "授权有效期",
                                  False),
    "township": (("township", "乡镇", "乡镇（街道）", "乡镇(街道)"), "乡镇", True),
    "region": (("region", "区划", "行政区划代码"), "区划", True),
}
#: household-level columns: the same on every row of one household
_HOUSEHOLD_FIELDS = ("enrolled_on", "authorization_number", "consent_digest",
                     "authorization_valid_until", "township", "region")

_R = records_pb2
_RELATION_WORDS = {
    **{w: _R.RELATION_SELF for w in ("户主", "本人", "申请人")},
    **{w: _R.RELATION_SPOUSE for w in ("配偶", "妻", "妻子", "夫", "丈夫")},
    **{w: _R.RELATION_CHILD for w in ("子", "女", "子女", "儿子", "女儿", "长子", "长女",
                                      "次子", "次女")},
    **{w: _R.RELATION_PARENT for w in ("父亲", "母亲", "父母", "父", "母")},
    **{w: _R.RELATION_SIBLING for w in ("兄弟姐妹", "兄", "弟", "姐", "妹", "哥哥", "弟弟",
                                        "姐姐", "妹妹")},
    **{w: _R.RELATION_GRANDPARENT for w in ("祖父母", "外祖父母", "祖父", "祖母", "外祖父",
                                            "外祖母", "爷爷", "奶奶")},
    **{w: _R.RELATION_GRANDCHILD for w in ("孙子女", "孙子", "孙女", "外孙子女", "外孙",
                                           "外孙女")},
    **{w: _R.RELATION_OTHER for w in ("其他", "其它")},
    **RELATIONS,
}
_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")
_MAX_TEXT = {"household": 128, "authorization_number": 64, "consent_digest": 128,
             "township": 16}


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"第 {self.line} 行 {self.column}：{self.message}"


@dataclass(frozen=True)
class RosterList:
    """A read list: households (none when any row is bad) and every problem found."""

    source: str
    #: "import:<first 16 hex of the file's SHA-256>", the roster rows' ``source``
    source_tag: str
    entries: tuple[RosterEntry, ...]
    errors: tuple[RowError, ...]
    rows: int


class RosterImportError(HeduiError):
    """The list has bad rows; nothing was imported. ``errors`` lists them all."""

    def __init__(self, source: str, errors: Sequence[RowError]) -> None:
        self.errors = tuple(errors)
        shown = "；".join(str(e) for e in self.errors[:10])
        more = f"（另有 {len(self.errors) - 10} 处）" if len(self.errors) > 10 else ""
        super().__init__(f"{source}：名册有 {len(self.errors)} 处错误，未导入任何户：{shown}{more}")


def _plain(text: str) -> str:
    """Full-width digits, letters and punctuation as ASCII; spaces trimmed."""
    return unicodedata.normalize("NFKC", text).strip()


def _date(text: str) -> dt.date:
    text = _plain(text).replace(" ", "")
    if re.fullmatch(r"\d{8}", text):
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    m = _DATE.match(text)
    if not m:
        raise ValueError("不是日期（应写作 2026-01-05）")
    try:
        return dt.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        raise ValueError("不是真实存在的日期") from None


def _relation(text: str) -> int:
    word = _plain(text).lower().removeprefix("relation_").replace("_", "-")
    if word not in _RELATION_WORDS:
        raise ValueError("无法识别（应为 户主、配偶、子女、父母、兄弟姐妹、祖父母、"
                         "孙子女 或 其他）")
    return _RELATION_WORDS[word]


_ID_REASONS = {
    "length": "应为 18 位",
    "characters": "应为 17 位数字加一位数字或 X",
    "check-digit": "校验码不符（可能输错或颠倒了数字）",
    "birth-date": "出生日期不正确",
    "region": "地区码不存在",
}


def read_roster(path: str | Path, *, today: dt.date | None = None) -> RosterList:
    """The list at ``path``, every row checked (FileProblem when it cannot be read)."""
    path = Path(path)
    table = read_table(path)
    errors: list[RowError] = []
    cols = {f: column(table, names) for f, (names, _zh, _req) in COLUMNS.items()}
    for f, (_names, zh, required) in COLUMNS.items():
        if required and cols[f] is None:
            errors.append(RowError(1, zh, "表头缺少此列"))
    tag = "import:" + hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    if errors:
        return RosterList(str(path), tag, (), tuple(errors), len(table.rows))
    households = _households(table, cols, errors, today)
    entries = () if errors else tuple(households)
    return RosterList(str(path), tag, entries, tuple(errors), len(table.rows))


def _households(table: Table, cols: dict[str, str | None], errors: list[RowError],
                today: dt.date | None) -> list[RosterEntry]:
    def name_of(f: str) -> str:
        return cols[f] or COLUMNS[f][1]

    groups: dict[str, dict[str, object]] = {}
    seen_ids: dict[str, int] = {}
    for line, cells in table.rows:
        def cell(f: str, _cells: dict[str, str] = cells) -> str:
            c = cols[f]
            return _cells.get(c, "").strip() if c else ""

        def bad(f: str, message: str, _line: int = line) -> None:
            errors.append(RowError(_line, name_of(f), message))

        values: dict[str, object] = {}
        for f in ("household", "name", "township", "region", "authorization_number",
                  "enrolled_on"):
            if not cell(f):
                bad(f, "不能为空")
        ref = _plain(cell("household"))
        for f, most in _MAX_TEXT.items():
            text = _plain(cell(f))
            if len(text) > most:
                bad(f, f"超过 {most} 个字符")
            values[f] = text
        region = _plain(cell("region"))
        if region and not re.fullmatch(r"\d{6}", region):
            bad("region", "应为 6 位行政区划代码")
        values["region"] = region
        for f in ("enrolled_on", "authorization_valid_until"):
            if cell(f):
                try:
                    values[f] = _date(cell(f))
                except ValueError as exc:
                    bad(f, str(exc))
            else:
                values[f] = None
        number = ""
        try:
            number = resident_id.normalize(cell("id_number"), today=today)
        except resident_id.InvalidIdNumber as exc:
            bad("id_number", "不能为空" if not cell("id_number") else
                "身份证号" + _ID_REASONS.get(exc.reason, "不正确"))
        if number:
            if number in seen_ids:
                bad("id_number", f"与第 {seen_ids[number]} 行的身份证号重复")
            else:
                seen_ids[number] = line
        relation: int | None = None
        if cell("relation"):
            try:
                relation = _relation(cell("relation"))
            except ValueError as exc:
                bad("relation", str(exc))
        if not ref:
            continue
        group = groups.setdefault(ref, {"line": line, "values": values, "members": []})
        first = group["values"]
        assert isinstance(first, dict)
        for f in _HOUSEHOLD_FIELDS:
            if first is not values and first.get(f) != values.get(f) and values.get(f):
                bad(f, f"与本户第 {group['line']} 行不一致")
        members = group["members"]
        assert isinstance(members, list)
        members.append((line, number, cell("name"), relation))
    return [e for ref, g in groups.items()
            if (e := _entry(ref, g, cols, errors)) is not None]


def _entry(ref: str, group: dict[str, object], cols: dict[str, str | None],
           errors: list[RowError]) -> RosterEntry | None:
    members = group["members"]
    values = group["values"]
    assert isinstance(members, list) and isinstance(values, dict)
    relations = [r for *_, r in members]
    if cols["relation"] is None:  # no column: the first person listed applies
        relations = [_R.RELATION_SELF] + [_R.RELATION_OTHER] * (len(members) - 1)
    elif any(r is None for r in relations):
        for line, *_rest, r in members:
            if r is None:
                errors.append(RowError(line, cols["relation"] or "与户主关系", "不能为空"))
        return None
    selves = [m[0] for m, r in zip(members, relations, strict=True) if r == _R.RELATION_SELF]
    if len(selves) != 1:
        where = str(cols["relation"] or "与户主关系")
        message = ("本户没有户主（与户主关系为“户主”或“本人”的一行）" if not selves
                   else f"本户有 {len(selves)} 个户主（第 {'、'.join(map(str, selves))} 行）")
        errors.append(RowError(int(group["line"]), where, message))  # type: ignore[call-overload]
        return None
    if errors:
        return None
    return RosterEntry(
        household_ref=ref,
        members=[case_pb2.Member(id_number=n, name=name, relation=r)
                 for (_line, n, name, _r), r in zip(members, relations, strict=True)],
        region=str(values["region"]), township=str(values["township"]),
        enrolled_on=values["enrolled_on"],  # type: ignore[arg-type]
        authorization_number=str(values["authorization_number"]),
        consent_digest=str(values.get("consent_digest") or ""),
        authorization_valid_until=values.get("authorization_valid_until"),  # type: ignore[arg-type]
    )


def import_roster(store: RosterStore, programme: str, path: str | Path, *,
                  today: dt.date | None = None) -> ImportResult:
    """Read the list and add its households to the programme's roster, all or nothing
    (RosterImportError naming every bad row)."""
    read = read_roster(path, today=today)
    if read.errors:
        raise RosterImportError(read.source, read.errors)
    return store.import_rows(programme, read.entries, source=read.source_tag)
