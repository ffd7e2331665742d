"""Pseudonyms of data subjects: the audit log names people only by a keyed hash.

An entry must let a privacy officer find every access to one person's data without the
log itself revealing who anyone is. ``HMAC-SHA-256(key, ID number)`` gives a stable
identifier per person that nobody without the key can reverse or recompute by trying
all 10^17 plausible ID numbers. The ID number is normalized first (every space removed,
then ``stdnum.cn.ric.compact``, which upper-cases the check character ``x``) so the same person
always gets the same pseudonym, and its check digit is verified so a typo does not
silently create a pseudonym for nobody.
"""

from __future__ import annotations

import hashlib
import hmac

from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from hedui.audit.errors import PseudonymError

#: how many recent ID numbers keep their pseudonym in memory
RECENT = 4096

#: shortest accepted HMAC key: below 128 bits an offline search becomes thinkable
MIN_KEY_BYTES = 16


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

    @staticmethod
    def normalize(id_number: str) -> str:
        """Return the compact form of a resident ID number (18 characters, final 'X').

        Requires 17 digits and a correct check character; raises :class:`PseudonymError`
        otherwise, without repeating the number (it is personal data).
        """
        if not isinstance(id_number, str):
            raise PseudonymError("an ID number must be text")
        # compact() trims and upper-cases; spaces inside (also U+3000) are dropped first.
        number = ric.compact("".join(id_number.split()))
        if len(number) != 18 or not number[:17].isdigit() or not number[:17].isascii():
            raise PseudonymError(
                "not a resident ID number: expected 17 digits and a check character"
            )
        try:
            if number[17] != ric.calc_check_digit(number):
                raise PseudonymError("resident ID number has a wrong check character")
        except ValidationError:
            raise PseudonymError("not a resident ID number") from None
        return number

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
