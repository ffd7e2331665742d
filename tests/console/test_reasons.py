"""Every reason the gateway can give has words on the console's pages, in both languages:
a new refusal never shows a bare code to a clerk."""

from __future__ import annotations

import re

from hedui.console import reasons
from hedui.gateway.case_errors import REASONS

_CJK = re.compile(r"[\u4e00-\u9fff]")


def test_every_gateway_reason_has_chinese_and_english_words() -> None:
    missing = sorted(set(REASONS) - set(reasons.WORDS))
    assert not missing, f"no words in console/reasons.py for: {', '.join(missing)}"
    for reason, (zh, en) in reasons.WORDS.items():
        assert _CJK.search(zh), reason
        assert en and not _CJK.search(en), reason


def test_an_unknown_reason_names_its_code_instead_of_failing() -> None:
    assert "SOMETHING_NEW" in reasons.words("SOMETHING_NEW")
    assert "SOMETHING_NEW" in reasons.words("SOMETHING_NEW", lang="en")
