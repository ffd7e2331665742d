"""Structured JSON logs that cannot carry personal data or secrets.

Every hedui process logs through structlog as one JSON object per line. The
``redact`` processor runs last before rendering: it drops fields whose names say
they hold a person's identity or a secret (``subjects`` and ``members`` whole, at any
depth), masks the value of any field whose name suggests a person's name, and in every
string replaces anything shaped like a resident ID number, and names it recognises,
with a marker. Logs carry pseudonyms, never ID numbers or names.

What it catches of names: the value of a name-like key (``name``, ``applicant_name``,
``holder``, ``spouse``, ``姓名`` …); Han names after a label (``姓名：张三``,
``申请人 李四``, ``name=王五``); names joined by a middle dot (``阿依古丽·买买提``);
and a run of two to four Han characters standing alone that starts with one of the
common surnames (``SURNAMES``: single and compound), e.g. ``"王小明 refused"``.
What it cannot: names in pinyin or Latin letters (``Zhang San``), a name inside a longer
run of Han text (``张三的存款``), a name whose surname is not listed, and anything a
caller encodes (base64, hex). It is the second line of defence: the first is that
code never logs a subject's name or ID number in the first place.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

#: 17 digits and a check character, not inside a longer run of digits — also as offices
#: type them (full-width digits and Ｘ, spaces between groups), which intake normalises
#: but a log line about refused input may still hold
_D = "[0-9\uff10-\uff19]"
ID_NUMBER = re.compile(
    rf"(?<![0-9\uff10-\uff19])[1-9\uff11-\uff19](?:[ \u3000\u00a0]?{_D}){{16}}"
    rf"[ \u3000\u00a0]?[0-9\uff10-\uff19Xx\uff38\uff58](?![0-9\uff10-\uff19])"
)

#: field names never written to a log
FORBIDDEN_KEYS = frozenset({
    "id_number", "id_numbers", "name", "names", "subject", "subjects", "members",
    "passphrase", "password", "secret", "private_key", "signing_key", "pseudonym_key",
})

REDACTED_ID = "[id-number-redacted]"
REDACTED_NAME = "[name-redacted]"

#: words that make a field name "name-like": its value is masked whatever it holds
NAME_WORDS = frozenset({
    "name", "names", "fullname", "surname", "applicant", "holder", "person", "persons",
    "spouse", "member", "姓名", "名字", "申请人", "户主",
})
#: name-like field names that name a thing, not a person
NOT_PERSONS = frozenset({
    "key_name", "display_name", "file_name", "host_name", "service_name", "table_name",
    "column_name", "block_name", "logger_name", "origin_name",
})
_KEY_SPLIT = re.compile(r"[_\-.\s]+")

#: common Chinese surnames (the hundred most frequent single ones and the compound ones)
_SURNAME_TEXT = (
    "欧阳 上官 司马 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 令狐 端木 "
    "王 李 张 刘 陈 杨 黄 赵 吴 周 徐 孙 马 朱 胡 郭 何 高 林 罗 郑 梁 谢 宋 唐 许 韩 "
    "冯 邓 曹 彭 曾 肖 田 董 袁 潘 于 蒋 蔡 余 杜 叶 程 苏 魏 吕 丁 任 沈 姚 卢 姜 崔 钟 "
    "谭 陆 汪 范 金 石 廖 贾 夏 韦 付 方 白 邹 孟 熊 秦 邱 江 尹 薛 闫 段 雷 侯 龙 史 陶 "
    "黎 贺 顾 毛 郝 龚 邵 万 钱 严 覃 武 戴 莫 孔 向 汤"
)
SURNAMES = tuple(_SURNAME_TEXT.split())
_HAN = "\u4e00-\u9fff\u3400-\u4dbf"
_HAS_HAN = re.compile(f"[{_HAN}]")
#: a label, then the name: 姓名：张三 / 申请人 李四 / name=王五
_LABELLED = re.compile(
    rf"((?:姓名|名字|申请人|户主|配偶|成员|家庭成员|name|Name|NAME)\s*[:：=]?\s*)"
    rf"[{_HAN}·]{{2,8}}"
)
#: a minority name joined by a middle dot
_DOTTED = re.compile(rf"[{_HAN}]{{1,10}}[·•][{_HAN}]{{1,10}}")
#: two to four Han characters standing alone, starting with a common surname
_STANDALONE = re.compile(
    rf"(?<![{_HAN}])(?:{'|'.join(sorted(SURNAMES, key=len, reverse=True))})"
    rf"[{_HAN}]{{1,3}}(?![{_HAN}])"
)


def _name_like(key: object) -> bool:
    if not isinstance(key, str):
        return False
    lowered = key.lower()
    if lowered in NOT_PERSONS:
        return False
    return lowered in NAME_WORDS or any(w in NAME_WORDS for w in _KEY_SPLIT.split(lowered))


def mask_names(text: str) -> str:
    """``text`` with the Chinese names it recognises replaced (see the module docstring)."""
    if not _HAS_HAN.search(text):
        return text
    text = _LABELLED.sub(lambda m: m.group(1) + REDACTED_NAME, text)
    text = _DOTTED.sub(REDACTED_NAME, text)
    return _STANDALONE.sub(REDACTED_NAME, text)


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return mask_names(ID_NUMBER.sub(REDACTED_ID, value))
    if isinstance(value, dict):
        return {k: REDACTED_NAME if _name_like(k) else _scrub(v)
                for k, v in value.items() if k not in FORBIDDEN_KEYS}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value


def redact(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: remove identity and secret fields, mask ID numbers and names."""
    for key in [k for k in event if k in FORBIDDEN_KEYS]:
        del event[key]
    for key, value in list(event.items()):
        event[key] = REDACTED_NAME if _name_like(key) else _scrub(value)
    return event


def configure(level: int = logging.INFO, stream: Any = None) -> None:
    """JSON lines on stderr (or ``stream``), with redaction last before rendering."""
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            redact,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(stream or sys.stderr),
        cache_logger_on_first_use=True,
    )
