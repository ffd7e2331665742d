"""Pseudonyms: the same person always maps to the same HMAC, and no ID number leaks."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from hedui.audit.errors import PseudonymError
from hedui.audit.pseudonym import Pseudonymizer

KEY = b"k" * 32
ID = "11010519491231002X"  # the check-digit example of GB 11643


def test_pseudonym_is_hmac_sha256_of_the_normalized_number() -> None:
    want = hmac.new(KEY, ID.encode(), hashlib.sha256).hexdigest()
    assert Pseudonymizer(KEY).pseudonym(ID) == want


@pytest.mark.parametrize(
    "spelling",
    [ID, ID.lower(), " 110105 19491231 002x ", "110105\u300019491231002X", "1101051949123100２X"],
)
def test_spellings_of_one_number_share_a_pseudonym(spelling: str) -> None:
    assert Pseudonymizer(KEY).pseudonym(spelling) == Pseudonymizer(KEY).pseudonym(ID)


def test_another_key_gives_another_pseudonym() -> None:
    assert Pseudonymizer(KEY).pseudonym(ID) != Pseudonymizer(b"j" * 32).pseudonym(ID)


@pytest.mark.parametrize(
    "bad", ["110105194912310021", "11010519491231002", "1101051949123100AX", "abc", ""]
)
def test_malformed_numbers_are_refused_without_echoing_them(bad: str) -> None:
    with pytest.raises(PseudonymError) as err:
        Pseudonymizer(KEY).pseudonym(bad)
    assert bad not in str(err.value) or not bad


def test_short_key_is_refused_and_key_never_shown() -> None:
    with pytest.raises(PseudonymError):
        Pseudonymizer(b"short")
    assert "k" * 8 not in repr(Pseudonymizer(KEY))
