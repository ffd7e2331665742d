"""DSSE signed envelopes: sign a payload, verify one against a trust bundle.

The signature covers ``PAE(payload_type, payload)``, so the type cannot be swapped
without breaking it, and the payload stays the exact signed bytes: nobody re-serializes
before verifying (DESIGN.md, wire protocol; https://github.com/secure-systems-lab/dsse).

:func:`verify` returns a :class:`VerifiedPayload` or raises one
:class:`~hedui.keys.errors.EnvelopeError`; there is no boolean to forget to check.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple, Protocol

import nacl.exceptions
import nacl.signing
from google.protobuf.message import DecodeError

from hedui.keys.errors import (
    BadSignature,
    EnvelopeError,
    KeyNotValid,
    MalformedEnvelope,
    RevokedKey,
    TooManySignatures,
    UnknownKey,
    UnsignedEnvelope,
    WrongPayloadType,
)
from hedui.keys.signing import keyid as compute_keyid
from hedui.v1 import envelope_pb2

__all__ = [
    "ANSWER_TYPE",
    "BULK_CHUNK_TYPE",
    "BULK_QUERY_TYPE",
    "MAX_SIGNATURES",
    "OFFLINE_BUNDLE_TYPE",
    "PAYLOAD_TYPES",
    "QUERY_TYPE",
    "REPORT_TYPE",
    "TRUST_BUNDLE_TYPE",
    "BadSignature",
    "EnvelopeError",
    "KeyLookup",
    "KeyNotValid",
    "MalformedEnvelope",
    "RevokedKey",
    "TooManySignatures",
    "TrustedKey",
    "UnknownKey",
    "UnsignedEnvelope",
    "VerifiedPayload",
    "WrongPayloadType",
    "add_signature",
    "pae",
    "parse_envelope",
    "sign",
    "verify",
]

QUERY_TYPE = "application/vnd.hedui.query+protobuf"
ANSWER_TYPE = "application/vnd.hedui.answer+protobuf"
TRUST_BUNDLE_TYPE = "application/vnd.hedui.trust-bundle+protobuf"
REPORT_TYPE = "application/vnd.hedui.report+protobuf"
OFFLINE_BUNDLE_TYPE = "application/vnd.hedui.offline-bundle+protobuf"
#: re-verification: one query for many households, answered in signed chunks
BULK_QUERY_TYPE = "application/vnd.hedui.bulk-query+protobuf"
BULK_CHUNK_TYPE = "application/vnd.hedui.bulk-answer-chunk+protobuf"
PAYLOAD_TYPES = (QUERY_TYPE, ANSWER_TYPE, TRUST_BUNDLE_TYPE, REPORT_TYPE, OFFLINE_BUNDLE_TYPE,
                 BULK_QUERY_TYPE, BULK_CHUNK_TYPE)

#: signatures beyond this many are refused unread, so an envelope cannot make us verify forever
MAX_SIGNATURES = 8

_SIGNATURE_SIZE = 64

# When no signature verifies, the error raised is the first of these that occurred.
# A BadSignature from a key the bundle trusts right now is cryptographic proof that the
# envelope was altered, so it outranks the others, which only echo keyids the sender
# chose; among those, revoked (a key known to be bad) says more than expired, and expired
# more than unknown (maybe just a newer bundle we lack).
_PRECEDENCE: tuple[type[EnvelopeError], ...] = (BadSignature, RevokedKey, KeyNotValid, UnknownKey)


class TrustedKey(NamedTuple):
    """What a key lookup returns: the key and the participant it speaks for."""

    verify_key: nacl.signing.VerifyKey
    participant_id: str


class KeyLookup(Protocol):
    """Where :func:`verify` finds keys; :class:`hedui.keys.bundle.Bundle` is one.

    ``signing_key`` returns ``(VerifyKey, participant id)`` for a key usable at ``at``, or
    raises :class:`UnknownKey`, :class:`RevokedKey` or :class:`KeyNotValid`.
    """

    def signing_key(self, keyid: str, at: datetime) -> tuple[nacl.signing.VerifyKey, str]: ...


@dataclass(frozen=True, slots=True)
class VerifiedPayload:
    """A payload whose signature verified, with who signed it."""

    payload: bytes
    payload_type: str
    keyid: str
    #: the participant id (SPIFFE id) that owns the key
    signer: str


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE pre-authentication encoding: ``DSSEv1 <len> <type> <len> <body>``.

    Lengths are byte lengths in decimal (the type is UTF-8 encoded first).
    """
    type_bytes = payload_type.encode("utf-8")
    body = bytes(payload)
    return b"DSSEv1 %d %b %d %b" % (len(type_bytes), type_bytes, len(body), body)


def sign(
    payload: bytes,
    payload_type: str,
    signing_key: nacl.signing.SigningKey | Iterable[nacl.signing.SigningKey],
) -> envelope_pb2.Envelope:
    """Sign ``payload`` as ``payload_type`` with one key, or several (e.g. during rotation).

    Preconditions: ``payload_type`` is non-empty; at most :data:`MAX_SIGNATURES` keys.
    """
    if not payload_type:
        raise ValueError("payload_type must be a non-empty media type")
    keys = [signing_key] if isinstance(signing_key, nacl.signing.SigningKey) else list(signing_key)
    if not keys or len(keys) > MAX_SIGNATURES:
        raise ValueError(f"sign with 1 to {MAX_SIGNATURES} keys, not {len(keys)}")
    envelope = envelope_pb2.Envelope(payload=bytes(payload), payload_type=payload_type)
    for key in keys:
        add_signature(envelope, key)
    return envelope


def add_signature(envelope: envelope_pb2.Envelope, signing_key: nacl.signing.SigningKey) -> None:
    """Append a signature by ``signing_key`` over the envelope's PAE (in place)."""
    if len(envelope.signatures) >= MAX_SIGNATURES:
        raise ValueError(f"an envelope carries at most {MAX_SIGNATURES} signatures")
    sig = signing_key.sign(pae(envelope.payload_type, envelope.payload)).signature
    envelope.signatures.add(keyid=compute_keyid(signing_key), sig=sig)


def parse_envelope(data: bytes) -> envelope_pb2.Envelope:
    """Parse a serialized Envelope; raise :class:`MalformedEnvelope` if it is not one."""
    envelope = envelope_pb2.Envelope()
    try:
        envelope.ParseFromString(bytes(data))
    except DecodeError:
        raise MalformedEnvelope("the data is not a serialized hedui.v1.Envelope") from None
    return envelope


def verify(
    envelope: envelope_pb2.Envelope | bytes,
    key_lookup: KeyLookup,
    *,
    payload_type: str,
    now: datetime,
) -> VerifiedPayload:
    """Verify ``envelope`` holds ``payload_type`` signed by a key ``key_lookup`` trusts at ``now``.

    Accepted when at least one signature verifies with a known, unrevoked key valid at
    ``now``. Otherwise raises one error: BadSignature (by a trusted key) before
    RevokedKey before KeyNotValid before UnknownKey (see ``_PRECEDENCE`` for why).

    Key validity and revocation are judged at ``now``, the verifier's clock: the envelope
    carries no signing time, and one taken from the unverified payload would be the
    sender's to choose.

    Preconditions: ``now`` is timezone-aware; ``payload_type`` is non-empty.
    Checked before any key lookup or signature verification: the envelope parses, it has
    1 to :data:`MAX_SIGNATURES` signatures, and its type is ``payload_type``.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")
    if not payload_type:
        raise ValueError("payload_type must be a non-empty media type")
    if not isinstance(envelope, envelope_pb2.Envelope):
        envelope = parse_envelope(envelope)
    count = len(envelope.signatures)
    if count == 0:
        raise UnsignedEnvelope()
    if count > MAX_SIGNATURES:
        raise TooManySignatures(count, MAX_SIGNATURES)
    if envelope.payload_type != payload_type:
        raise WrongPayloadType(envelope.payload_type, payload_type)

    message = pae(envelope.payload_type, envelope.payload)
    failures: list[EnvelopeError] = []
    for signature in envelope.signatures:
        try:
            trusted = _lookup(key_lookup, signature.keyid, now)
            if len(signature.sig) != _SIGNATURE_SIZE:
                raise BadSignature(signature.keyid)
            try:
                trusted.verify_key.verify(message, bytes(signature.sig))
            except nacl.exceptions.BadSignatureError:
                raise BadSignature(signature.keyid) from None
        except EnvelopeError as exc:
            failures.append(exc)
            continue
        return VerifiedPayload(
            payload=bytes(envelope.payload),
            payload_type=envelope.payload_type,
            keyid=signature.keyid,
            signer=trusted.participant_id,
        )
    raise _most_informative(failures)


def _lookup(key_lookup: KeyLookup, keyid: str, now: datetime) -> TrustedKey:
    verify_key, participant_id = key_lookup.signing_key(keyid, now)
    # A lookup that hands back a key under the wrong name would let one key speak for another.
    if compute_keyid(verify_key) != keyid:
        raise UnknownKey(keyid, f"the trust bundle's key for keyid {keyid} does not hash to it")
    return TrustedKey(verify_key, participant_id)


def _most_informative(failures: list[EnvelopeError]) -> EnvelopeError:
    for kind in _PRECEDENCE:
        for failure in failures:
            if isinstance(failure, kind):
                return failure
    return failures[0]
