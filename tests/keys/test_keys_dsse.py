"""DSSE envelopes: the PAE vector, signing, and every way verification must refuse."""

from __future__ import annotations

from datetime import UTC, datetime

import nacl.signing
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hedui.errors import HeduiError
from hedui.keys import dsse
from hedui.keys.dsse import (
    BadSignature,
    KeyNotValid,
    MalformedEnvelope,
    RevokedKey,
    TooManySignatures,
    UnknownKey,
    UnsignedEnvelope,
    WrongPayloadType,
)
from hedui.keys.signing import keyid

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
OWNER = "spiffe://county.example/agent/banks"


class Lookup:
    """A key lookup with per-key verdicts, standing in for a trust bundle."""

    def __init__(self) -> None:
        self.keys: dict[str, nacl.signing.VerifyKey] = {}
        self.verdicts: dict[str, Exception] = {}

    def trust(self, key: nacl.signing.SigningKey) -> nacl.signing.SigningKey:
        self.keys[keyid(key)] = key.verify_key
        return key

    def signing_key(self, kid: str, at: datetime) -> tuple[nacl.signing.VerifyKey, str]:
        assert at == NOW
        if kid in self.verdicts:
            raise self.verdicts[kid]
        if kid not in self.keys:
            raise UnknownKey(kid)
        return self.keys[kid], OWNER


@pytest.fixture
def lookup() -> Lookup:
    return Lookup()


@pytest.fixture
def key(lookup: Lookup) -> nacl.signing.SigningKey:
    return lookup.trust(nacl.signing.SigningKey.generate())


def _verify(envelope: object, lookup: Lookup, ptype: str = dsse.QUERY_TYPE) -> dsse.VerifiedPayload:
    return dsse.verify(envelope, lookup, payload_type=ptype, now=NOW)  # type: ignore[arg-type]


# --- PAE -------------------------------------------------------------------------------


def test_pae_dsse_spec_vector() -> None:
    # from https://github.com/secure-systems-lab/dsse/blob/master/protocol.md
    assert (
        dsse.pae("http://example.com/HelloWorld", b"hello world")
        == b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )


def test_pae_empty() -> None:
    assert dsse.pae("", b"") == b"DSSEv1 0  0 "


def test_pae_counts_utf8_bytes_not_characters() -> None:
    assert dsse.pae("核对", b"\x00") == b"DSSEv1 6 \xe6\xa0\xb8\xe5\xaf\xb9 1 \x00"


@given(st.text(), st.binary(), st.text(), st.binary())
def test_pae_is_injective(t1: str, b1: bytes, t2: str, b2: bytes) -> None:
    if (t1, b1) != (t2, b2):
        assert dsse.pae(t1, b1) != dsse.pae(t2, b2)


@settings(max_examples=60, deadline=None)
@given(payload=st.binary(max_size=2048), ptype=st.text(min_size=1, max_size=80))
def test_sign_verify_round_trip(payload: bytes, ptype: str) -> None:
    lookup = Lookup()
    key = lookup.trust(nacl.signing.SigningKey.generate())
    envelope = dsse.sign(payload, ptype, key)
    wire = envelope.SerializeToString()
    result = dsse.verify(wire, lookup, payload_type=ptype, now=NOW)
    assert result == dsse.VerifiedPayload(payload, ptype, keyid(key), OWNER)


# --- accepting -------------------------------------------------------------------------


def test_verified_payload_names_signer(lookup: Lookup, key: nacl.signing.SigningKey) -> None:
    result = _verify(dsse.sign(b"q", dsse.QUERY_TYPE, key), lookup)
    assert (result.payload, result.payload_type) == (b"q", dsse.QUERY_TYPE)
    assert (result.keyid, result.signer) == (keyid(key), OWNER)


def test_rotation_old_key_unknown_new_key_trusted(
    lookup: Lookup, key: nacl.signing.SigningKey
) -> None:
    unknown = nacl.signing.SigningKey.generate()
    envelope = dsse.sign(b"q", dsse.QUERY_TYPE, [unknown, key])
    assert _verify(envelope, lookup).keyid == keyid(key)


# --- refusing: one test per attack ------------------------------------------------------


def test_tampered_payload_one_bit(lookup: Lookup, key: nacl.signing.SigningKey) -> None:
    envelope = dsse.sign(b"household income 1330", dsse.QUERY_TYPE, key)
    payload = bytearray(envelope.payload)
    payload[-1] ^= 0x01
    envelope.payload = bytes(payload)
    with pytest.raises(BadSignature, match="does not verify"):
        _verify(envelope, lookup)


def test_tampered_payload_type_relabelled(lookup: Lookup, key: nacl.signing.SigningKey) -> None:
    envelope = dsse.sign(b"q", dsse.QUERY_TYPE, key)
    envelope.payload_type = dsse.ANSWER_TYPE
    with pytest.raises(BadSignature):
        _verify(envelope, lookup, dsse.ANSWER_TYPE)


def test_query_presented_as_answer(lookup: Lookup, key: nacl.signing.SigningKey) -> None:
    envelope = dsse.sign(b"q", dsse.QUERY_TYPE, key)
    with pytest.raises(WrongPayloadType, match="answer"):
        _verify(envelope, lookup, dsse.ANSWER_TYPE)


def test_truncated_signature(lookup: Lookup, key: nacl.signing.SigningKey) -> None:
    envelope = dsse.sign(b"q", dsse.QUERY_TYPE, key)
    envelope.signatures[0].sig = envelope.signatures[0].sig[:63]
    with pytest.raises(BadSignature):
        _verify(envelope, lookup)


def test_signature_by_other_key_under_trusted_keyid(
    lookup: Lookup, key: nacl.signing.SigningKey
) -> None:
    forger = nacl.signing.SigningKey.generate()
    envelope = dsse.sign(b"q", dsse.QUERY_TYPE, forger)
    envelope.signatures[0].keyid = keyid(key)
    with pytest.raises(BadSignature):
        _verify(envelope, lookup)


def test_unknown_key(lookup: Lookup) -> None:
    envelope = dsse.sign(b"q", dsse.QUERY_TYPE, nacl.signing.SigningKey.generate())
    with pytest.raises(UnknownKey, match="not in the trust bundle"):
        _verify(envelope, lookup)


def test_revoked_key(lookup: Lookup, key: nacl.signing.SigningKey) -> None:
    lookup.verdicts[keyid(key)] = RevokedKey(keyid(key), "2026-01-01T00:00:00Z", "lost")
    with pytest.raises(RevokedKey, match="revoked"):
        _verify(dsse.sign(b"q", dsse.QUERY_TYPE, key), lookup)


def test_expired_key(lookup: Lookup, key: nacl.signing.SigningKey) -> None:
    lookup.verdicts[keyid(key)] = KeyNotValid(keyid(key), "expired")
    with pytest.raises(KeyNotValid):
        _verify(dsse.sign(b"q", dsse.QUERY_TYPE, key), lookup)


def test_unsigned_envelope(lookup: Lookup) -> None:
    envelope = dsse.sign(b"q", dsse.QUERY_TYPE, nacl.signing.SigningKey.generate())
    del envelope.signatures[:]
    with pytest.raises(UnsignedEnvelope):
        _verify(envelope, lookup)


def test_too_many_signatures_refused_before_any_lookup(lookup: Lookup) -> None:
    envelope = dsse.sign(b"q", dsse.QUERY_TYPE, nacl.signing.SigningKey.generate())
    for _ in range(dsse.MAX_SIGNATURES):
        envelope.signatures.add(keyid="0" * 64, sig=b"\x00" * 64)

    class Exploding:
        def signing_key(self, kid: str, at: datetime) -> tuple[nacl.signing.VerifyKey, str]:
            raise AssertionError("must not be called")

    with pytest.raises(TooManySignatures):
        dsse.verify(envelope, Exploding(), payload_type=dsse.QUERY_TYPE, now=NOW)


def test_lookup_returning_key_under_wrong_keyid(key: nacl.signing.SigningKey) -> None:
    other = nacl.signing.SigningKey.generate()

    class Confused:
        def signing_key(self, kid: str, at: datetime) -> tuple[nacl.signing.VerifyKey, str]:
            return other.verify_key, OWNER

    envelope = dsse.sign(b"q", dsse.QUERY_TYPE, other)
    envelope.signatures[0].keyid = keyid(key)
    with pytest.raises(UnknownKey, match="does not hash"):
        dsse.verify(envelope, Confused(), payload_type=dsse.QUERY_TYPE, now=NOW)


def test_garbage_bytes(lookup: Lookup) -> None:
    with pytest.raises(MalformedEnvelope):
        _verify(b"\xff\xff\xff", lookup)


def test_naive_now_is_a_programming_error(lookup: Lookup, key: nacl.signing.SigningKey) -> None:
    with pytest.raises(ValueError, match="timezone"):
        dsse.verify(
            dsse.sign(b"q", dsse.QUERY_TYPE, key),
            lookup,
            payload_type=dsse.QUERY_TYPE,
            now=datetime(2026, 1, 1),
        )


# --- precedence when nothing verifies ---------------------------------------------------


def test_revoked_outranks_unknown(lookup: Lookup) -> None:
    revoked = lookup.trust(nacl.signing.SigningKey.generate())
    lookup.verdicts[keyid(revoked)] = RevokedKey(keyid(revoked))
    envelope = dsse.sign(b"q", dsse.QUERY_TYPE, [nacl.signing.SigningKey.generate(), revoked])
    with pytest.raises(RevokedKey):
        _verify(envelope, lookup)


def test_tampering_outranks_a_claimed_revoked_keyid(
    lookup: Lookup, key: nacl.signing.SigningKey
) -> None:
    revoked = lookup.trust(nacl.signing.SigningKey.generate())
    lookup.verdicts[keyid(revoked)] = RevokedKey(keyid(revoked))
    envelope = dsse.sign(b"q", dsse.QUERY_TYPE, [revoked, key])
    envelope.payload = b"Q"
    with pytest.raises(BadSignature):
        _verify(envelope, lookup)


def test_errors_are_hedui_errors_with_reasons() -> None:
    for cls in (BadSignature, UnknownKey, RevokedKey, KeyNotValid, WrongPayloadType):
        assert issubclass(cls, HeduiError)
        assert cls.reason.isupper()


def test_sign_refuses_empty_type() -> None:
    with pytest.raises(ValueError):
        dsse.sign(b"q", "", nacl.signing.SigningKey.generate())
