"""The program log's redaction catches names as well as ID numbers (issue 13, item 3).

Synthetic names only. What it cannot catch is documented in ``hedui.logging``.
"""

from __future__ import annotations

import io
import json

import structlog
from hypothesis import given
from hypothesis import strategies as st

from hedui import logging as hlog

ID = "11010519491231002X"  # GB 11643 example, no person's
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚"


def redact(**event: object) -> dict:
    return dict(hlog.redact(None, "info", dict(event)))


def test_name_like_fields_are_masked_and_subject_structures_dropped() -> None:
    out = redact(event="query refused", applicant_name="王小明", holder="李娜",
                 detail={"members": [{"name": "张伟"}], "spouse": "赵敏", "count": 2},
                 subjects=[{"id_number": ID}], key_name="county.example/agent/banks")
    assert out["applicant_name"] == out["holder"] == hlog.REDACTED_NAME
    assert out["detail"] == {"spouse": hlog.REDACTED_NAME, "count": 2}
    assert "subjects" not in out
    assert out["key_name"] == "county.example/agent/banks"  # a key's name, not a person's


def test_names_in_text_are_masked_where_a_pattern_shows_them() -> None:
    text = (f"姓名：张三 身份证 {ID}; 申请人 欧阳娜娜; name=王五; 阿依古丽·买买提; "
            "王小明 was refused")
    out = redact(event=text)["event"]
    for name in ("张三", "欧阳娜娜", "王五", "阿依古丽", "买买提", "王小明", ID):
        assert name not in out
    # department and programme words are left alone
    assert redact(event="低保 公安 住房公积金")["event"] == "低保 公安 住房公积金"


@given(surname=st.sampled_from(hlog.SURNAMES),
       given_name=st.text(alphabet=GIVEN, min_size=1, max_size=2),
       before=st.sampled_from(["", "refused ", "subject "]),
       after=st.sampled_from(["", " refused", ": not found"]))
def test_any_common_surname_name_standing_alone_is_masked(
    surname: str, given_name: str, before: str, after: str
) -> None:
    name = surname + given_name
    assert name not in redact(event=f"{before}{name}{after}")["event"]


def test_the_configured_logger_writes_neither_names_nor_id_numbers() -> None:
    stream = io.StringIO()
    before = structlog.get_config()
    hlog.configure(stream=stream)
    try:
        structlog.get_logger("t").info("refused", person="王小明", detail=f"张伟 {ID}")
    finally:
        structlog.configure(**before)
    line = json.loads(stream.getvalue())
    assert "王小明" not in stream.getvalue() and "张伟" not in stream.getvalue()
    assert ID not in stream.getvalue() and line["event"] == "refused"
