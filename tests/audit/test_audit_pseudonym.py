"""Pseudonyms: the same person always maps to the same HMAC, and no ID number leaks."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from hedui.audit.errors import PseudonymError
from hedui.audit.pseudonym import Pseudonymizer
from hedui.resident_id import check_digit

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


#: the same synthetic number as typed at an office: full-width digits, a full-width ｘ,
#: an ideographic space and a no-break space
FULL_WIDTH = "１１０１０５\u3000１９４９１２３１\u00a0００２ｘ"


def test_full_width_digits_get_the_pseudonym_of_the_ascii_form() -> None:
    assert Pseudonymizer.normalize(FULL_WIDTH) == ID
    assert Pseudonymizer(KEY).pseudonym(FULL_WIDTH) == Pseudonymizer(KEY).pseudonym(ID)


def test_a_region_code_created_after_birth_gets_a_pseudonym() -> None:
    """110112 (Tongzhou) exists since 1997; a 1965 birth there is a real, reissued number."""
    body = "11011219650505001"
    number = body + check_digit(body)
    assert Pseudonymizer(KEY).pseudonym(number) == hmac.new(
        KEY, number.encode(), hashlib.sha256).hexdigest()


@pytest.mark.parametrize("body", [
    "99999919800101001",  # a region code never assigned
    "11010530000101001",  # born in the future
    "11010518991231001",  # born before 1900
    "11010519800230001",  # 30 February
])
def test_numbers_the_agents_refuse_get_no_pseudonym(body: str) -> None:
    number = body + check_digit(body)
    with pytest.raises(PseudonymError) as err:
        Pseudonymizer(KEY).pseudonym(number)
    assert number not in str(err.value) and body[:6] not in str(err.value)
