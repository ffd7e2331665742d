"""The rules a household's application is checked by before it reaches the gateway,
shared by the New case form (``pages/case_new.py``) and the batch lists
(``batch_runs.py``): relations, programmes' names, ID numbers in words, the household as
a whole. The gateway checks everything again; these say it in Chinese first.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from hedui.console import words
from hedui.console.words import N_
from hedui.resident_id import InvalidIdNumber, normalize
from hedui.v1 import case_pb2, common_pb2, records_pb2

#: the most members a household has (the gateway refuses more: HOUSEHOLD_SIZE)
MAX_MEMBERS = 20
#: the longest name a member may have
MAX_NAME = 64

Gettext = Callable[[str], str]



def same(message: str) -> str:
    """No translation (the Chinese source words)."""
    return message


#: the relation select, applicant first: (form value, proto value, 中文)
RELATIONS: tuple[tuple[str, int, str], ...] = (
    ("self", records_pb2.RELATION_SELF, N_("本人（申请人）")),
    ("spouse", records_pb2.RELATION_SPOUSE, N_("配偶")),
    ("child", records_pb2.RELATION_CHILD, N_("子女")),
    ("parent", records_pb2.RELATION_PARENT, N_("父母")),
    ("sibling", records_pb2.RELATION_SIBLING, N_("兄弟姐妹")),
    ("grandparent", records_pb2.RELATION_GRANDPARENT, N_("祖父母、外祖父母")),
    ("grandchild", records_pb2.RELATION_GRANDCHILD, N_("孙子女、外孙子女")),
    ("other", records_pb2.RELATION_OTHER, N_("其他")),
)
#: what a list or a clerk may write for a relation, in either language
RELATION_WORDS: dict[str, int] = {
    **{value: pb for value, pb, _ in RELATIONS},
    "本人": records_pb2.RELATION_SELF, "申请人": records_pb2.RELATION_SELF,
    "户主": records_pb2.RELATION_SELF, "配偶": records_pb2.RELATION_SPOUSE,
    "妻": records_pb2.RELATION_SPOUSE, "夫": records_pb2.RELATION_SPOUSE,
    "妻子": records_pb2.RELATION_SPOUSE, "丈夫": records_pb2.RELATION_SPOUSE,
    "子女": records_pb2.RELATION_CHILD, "子": records_pb2.RELATION_CHILD,
    "女": records_pb2.RELATION_CHILD, "儿子": records_pb2.RELATION_CHILD,
    "女儿": records_pb2.RELATION_CHILD, "父母": records_pb2.RELATION_PARENT,
    "父亲": records_pb2.RELATION_PARENT, "母亲": records_pb2.RELATION_PARENT,
    "兄弟姐妹": records_pb2.RELATION_SIBLING, "兄弟": records_pb2.RELATION_SIBLING,
    "姐妹": records_pb2.RELATION_SIBLING, "祖父母": records_pb2.RELATION_GRANDPARENT,
    "外祖父母": records_pb2.RELATION_GRANDPARENT, "孙子女": records_pb2.RELATION_GRANDCHILD,
    "外孙子女": records_pb2.RELATION_GRANDCHILD, "其他": records_pb2.RELATION_OTHER,
}

#: the programmes' names (the gateway's ids are English)
PROGRAMMES = words.PROGRAMMES
#: a programme's code as the gateway's policies name them (which exist: the gateway's
#: bundle says, so a programme the county designates needs no console change)
PROGRAMME_CODE = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+){0,5}")

#: an ID number's broken rule (``InvalidIdNumber.reason``) in words
ID_WORDS = {
    "length": N_("身份证号码应为18位，现在是{n}位。"),
    "characters": N_("身份证号码应为17位数字加1位数字或X。"),
    "check-digit": N_("校验码不对，可能输错或调换了数字。"),
    "birth-date": N_("号码中的出生日期不是真实日期，或晚于今天。"),
    "region": N_("号码前6位的地区代码不存在。"),
}

_DIGIT_MAP = str.maketrans({chr(0xFF10 + d): str(d) for d in range(10)})


def id_problem(value: str, t: Gettext = same) -> str | None:
    """Why ``value`` is not a resident ID number, in words (None: it is one). Never
    repeats the number."""
    try:
        normalize(value)
    except InvalidIdNumber as exc:
        n = len("".join(value.split()))
        return t(ID_WORDS.get(exc.reason, N_("身份证号码不正确。"))).format(n=n)
    return None


def relation_of(text: str) -> int | None:
    return RELATION_WORDS.get(text.strip().lower().removeprefix("relation_"))


def digits(text: str) -> str:
    """A code as typed (full-width digits, spaces) as ASCII digits."""
    return "".join(text.translate(_DIGIT_MAP).split())


def household_problem(members: list[case_pb2.Member], t: Gettext = same) -> str | None:
    """What is wrong with the household as a whole (each member already checked)."""
    if not members:
        return t(N_("请至少填写一位家庭成员。"))
    if len(members) > MAX_MEMBERS:
        return t(N_("一户最多 {n} 位成员。")).format(n=MAX_MEMBERS)
    if len({m.id_number for m in members}) != len(members):
        return t(N_("同一个身份证号码填写了两次。"))
    if sum(m.relation == records_pb2.RELATION_SELF for m in members) != 1:
        return t(N_("每户必须且只能有一位“本人（申请人）”。"))
    return None


def parse_day(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        return None


def pb_date(d: dt.date) -> common_pb2.Date:
    return common_pb2.Date(year=d.year, month=d.month, day=d.day)
