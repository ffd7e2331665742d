"""Every message the console shows has its English: extracted from the templates and
the code as Babel does, and looked up in the merged catalogs. A Chinese word added to a
page without its English fails here, not in front of an English-reading user."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir

from hedui.console import i18n

CONSOLE = Path(__file__).resolve().parents[2] / "console"
#: Chinese text: the msgids are Chinese, so any message holding a CJK character
_CJK = re.compile(r"[\u4e00-\u9fff]")


def _messages() -> dict[str, str]:
    """msgid → where it is used, from templates (jinja2's extractor) and Python."""
    method_map = [("**/templates/**.html", "jinja2.ext:babel_extract"),
                  ("**.py", "python")]
    options = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n",
                                        "trim_blocks": "True", "lstrip_blocks": "True"},
               "**.py": {}}
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            str(CONSOLE), method_map, options_map=options,
            keywords={"_": None, "gettext": (2,), "N_": None}):
        ids = message if isinstance(message, tuple) else (message,)
        for msgid in ids:
            if msgid and _CJK.search(msgid):
                found.setdefault(msgid, f"{filename}:{lineno}")
    return found


def test_the_extraction_finds_the_pages_messages() -> None:
    messages = _messages()
    assert "退出登录" in messages and len(messages) > 20


def test_every_message_has_its_english() -> None:
    english = i18n.translations("en")
    missing = {m: where for m, where in _messages().items()
               if english.gettext(m) == m or _CJK.search(english.gettext(m))}
    assert not missing, "no English for:\n" + "\n".join(
        f"  {where}: {m}" for m, where in sorted(missing.items(), key=lambda x: x[1]))
