"""Pseudonyms of data subjects: the audit log names people only by a keyed hash.

An entry must let a privacy officer find every access to one person's data without the
log itself revealing who anyone is. ``HMAC-SHA-256(key, ID number)`` gives a stable
identifier per person that nobody without the key can reverse or recompute by trying
all 10^17 plausible ID numbers. The ID number is normalized first by
:func:`hedui.resident_id.normalize` — the one validation the gateway and the agents use —
so every spelling of one number (full-width digits, a lowercase x, spaces) gets the same
pseudonym, and a number the rest of hedui refuses (a typo) never gets a pseudonym for nobody.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata

from hedui import resident_id
from hedui.audit.errors import PseudonymError

#: how many recent ID numbers keep their pseudonym in memory
RECENT = 4096

#: shortest accepted HMAC key: below 128 bits an offline search becomes thinkable
MIN_KEY_BYTES = 16

#: what the key check value is the HMAC of (never an ID number: 17 digits and a check)
KEY_CHECK_MESSAGE = b"hedui pseudonym key check v1"
#: hex digits of the check value kept (128 bits: a different key matches by chance never)
KEY_CHECK_HEX = 32


def key_check_value(key: bytes) -> str:
    """The check value a log stores of its pseudonym key: HMAC(key, KEY_CHECK_MESSAGE),
    truncated to 128 bits, lowercase hex.

    Why: a search with another key finds nobody and says "no entries" — a false "nobody
    read your data". Comparing check values refuses the wrong key instead. It reveals
    nothing of the key, and the fixed message can never be a pseudonym's input.
    """
    if not isinstance(key, bytes) or len(key) < MIN_KEY_BYTES:
        raise PseudonymError(f"a pseudonym key must be at least {MIN_KEY_BYTES} bytes")
    return hmac.new(key, KEY_CHECK_MESSAGE, hashlib.sha256).hexdigest()[:KEY_CHECK_HEX]


class Pseudonymizer:
    """Turns resident ID numbers into lowercase-hex HMAC-SHA-256 pseudonyms.

    Requires a key of at least :data:`MIN_KEY_BYTES` random bytes, kept secret like a
    signing key: whoever holds it can test whether a known person appears in the log.
    """

    __slots__ = ("_key", "_recent")

    def __init__(self, key: bytes) -> None:
        if not isinstance(key, bytes) or len(key) < MIN_KEY_BYTES:
            raise PseudonymError(f"a pseudonym key must be at least {MIN_KEY_BYTES} bytes")
        self._key = key
        self._recent: dict[str, str] = {}

    def __repr__(self) -> str:  # never show the key
        return "Pseudonymizer(<key>)"

    def check_value(self) -> str:
        """This key's :func:`key_check_value`, to compare with the one a log stores."""
        return key_check_value(self._key)

    @staticmethod
    def normalize(id_number: str) -> str:
        """Return the canonical form of a resident ID number (18 characters, final 'X').

        Delegates to :func:`hedui.resident_id.normalize`; raises :class:`PseudonymError`
        otherwise, without repeating the number (it is personal data).
        """
        if not isinstance(id_number, str):
            raise PseudonymError("an ID number must be text")
        try:
            return resident_id.normalize(id_number)
        except resident_id.InvalidIdNumber as exc:
            raise PseudonymError(f"not a valid resident ID number: {exc}") from None

    def pseudonym(self, id_number: str) -> str:
        """Return the lowercase hex HMAC-SHA-256 of the normalized ID number.

        Remembered for the last few thousand numbers: a case writes a dozen entries
        about the same household, and normalizing is most of the cost.
        """
        cached = self._recent.get(id_number)
        if cached is not None:
            return cached
        number = self.normalize(id_number)
        value = hmac.new(self._key, number.encode("ascii"), hashlib.sha256).hexdigest()
        if len(self._recent) >= RECENT:
            self._recent.clear()
        self._recent[id_number] = value
        return value

    def name_key(self, name: str) -> str:
        """A keyed digest of a person's name, for finding their cases by name (the
        console's search) without storing the name: HMAC(key, "name:" + the name without
        whitespace, NFKC). The prefix keeps it from ever equalling an ID number's
        pseudonym; names are few, so unlike the ID pseudonym it protects against reading,
        not against someone with the key testing a guessed name."""
        text = "".join(unicodedata.normalize("NFKC", name).split())
        return hmac.new(self._key, ("name:" + text).encode("utf-8"), hashlib.sha256).hexdigest()
