"""Chinese first, English second: gettext catalogs read with Babel.

Templates are written in Chinese (the msgids are the Chinese words the clerks read), so
the Chinese page needs no catalog; the ``.po`` files in ``locale/en/LC_MESSAGES/`` (one
per group of screens, merged) translate them to English. They are read at start
(``babel.messages.pofile``) — no compile step to forget. A test extracts every message
from the templates and code and requires an English translation for each.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALES = ("zh", "en")
CATALOGS = Path(__file__).resolve().parent / "locale"


@cache
def translations(lang: str) -> NullTranslations:
    """The catalog for ``lang`` ("zh": the templates' own words)."""
    if lang != "en":
        return NullTranslations()
    merged: Translations | None = None
    for po in sorted((CATALOGS / "en" / "LC_MESSAGES").glob("*.po")):
        with po.open("rb") as f:
            catalog = read_po(f, locale="en")
        buf = io.BytesIO()
        write_mo(buf, catalog)
        buf.seek(0)
        one = Translations(buf, domain="console")
        merged = one if merged is None else merged.merge(one)
    return merged or NullTranslations()


def choose(accept_language: str, cookie: str | None) -> str:
    """The language of a page before sign-in: the cookie, else the browser's first of
    ours, else Chinese."""
    if cookie in LOCALES:
        return cookie
    for part in accept_language.split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("en"):
            return "en"
        if tag.startswith("zh"):
            return "zh"
    return "zh"
