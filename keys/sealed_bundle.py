"""Sealed offline bundle files: seal signed envelopes to one participant, open and verify.

The byte layout and the messages are in ``proto/hedui/v1/offline.proto``; the whole
format is specified in ``docs/offline-bundles.md``. In short::

    "HEDUIBND" | 0x01 | len(header) u32 BE | Envelope(OfflineBundleHeader) | nonce ‖ box

The header is a DSSE envelope signed by the sender; it binds the length and SHA-256 of
the sealed body, so one signature covers every byte of the file. The body is an
``OfflineBundleBody`` encrypted with NaCl ``Box`` (X25519, XSalsa20-Poly1305) from the
sender's box key to the recipient's.

:func:`open_sealed` verifies the whole file before it returns anything: magic and
version, header signature by a key the trust bundle gives to the named sender (who must
have the role the content kind requires), recipient, replay, validity window, body
length and digest, then decryption. It raises one :class:`SealedBundleError` subclass
per failure and never a half-checked result. This module is pure: no files, no clock,
no database; callers pass ``now`` and the bundle ids already imported.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import struct
import uuid
from collections.abc import Container, Iterable, Sequence
from typing import NamedTuple

import nacl.exceptions
import nacl.public
import nacl.signing
from google.protobuf.message import DecodeError

from hedui.keys import dsse
from hedui.keys.bundle import Bundle
from hedui.keys.errors import (
    BadSignature,
    EnvelopeError,
    KeyNotValid,
    KeysError,
    RevokedKey,
    UnknownKey,
)
from hedui.timestamps import from_timestamp, to_timestamp
from hedui.v1 import audit_pb2, envelope_pb2, offline_pb2, trust_pb2

__all__ = [
    "FORMAT_VERSION",
    "MAGIC",
    "MAX_BUNDLE_BYTES",
    "MAX_ENVELOPES",
    "BundleExpired",
    "BundleNotYetValid",
    "BundleReplayed",
    "BundleSignerKeyNotValid",
    "BundleSignerRevoked",
    "BundleSignerUnknown",
    "BundleTampered",
    "BundleTooLarge",
    "BundleTruncated",
    "NotABundle",
    "OpenedBundle",
    "SealedBundleError",
    "SealedToSomeoneElse",
    "SenderNotAllowed",
    "UnsupportedBundleVersion",
    "WrongContentKind",
    "open_sealed",
    "peek_header",
    "seal",
]

Kind = offline_pb2.OfflineBundleHeader.ContentKind
QUERIES = offline_pb2.OfflineBundleHeader.CONTENT_KIND_QUERIES
ANSWERS = offline_pb2.OfflineBundleHeader.CONTENT_KIND_ANSWERS

MAGIC = b"HEDUIBND"
FORMAT_VERSION = 1
_PREFIX = struct.Struct(">8sBI")  # magic, version, header length
#: a bundle file larger than this is refused unread (a USB drive, not a data dump)
MAX_BUNDLE_BYTES = 64 * 1024 * 1024
MAX_HEADER_BYTES = 64 * 1024
MAX_ENVELOPES = 10_000
#: how far a sender's clock may run ahead of the reader's
CLOCK_SKEW = dt.timedelta(minutes=5)

#: which envelopes each content kind carries, and who may send it
#: (a re-verification run's bulk queries travel too, and their signed chunks come back)
_PAYLOAD_TYPE = {QUERIES: (dsse.QUERY_TYPE, dsse.BULK_QUERY_TYPE),
                 ANSWERS: (dsse.ANSWER_TYPE, dsse.BULK_CHUNK_TYPE)}
_SENDER_ROLE = {QUERIES: trust_pb2.ROLE_GATEWAY, ANSWERS: trust_pb2.ROLE_AGENT}
_KIND_WORD = {QUERIES: "queries", ANSWERS: "answers"}


# ----------------------------------------------------------------------- errors


class SealedBundleError(KeysError):
    """An offline bundle file was refused; nothing in it may be used.

    ``str()`` is one sentence for the person holding the USB drive; ``reason`` a stable
    code for the audit log.
    """

    reason = "BUNDLE_REFUSED"


class NotABundle(SealedBundleError):
    reason = "NOT_A_BUNDLE"


class UnsupportedBundleVersion(SealedBundleError):
    reason = "UNSUPPORTED_BUNDLE_VERSION"


class BundleTooLarge(SealedBundleError):
    reason = "BUNDLE_TOO_LARGE"


class BundleTruncated(SealedBundleError):
    reason = "BUNDLE_TRUNCATED"


class BundleTampered(SealedBundleError):
    """The bytes are not what the sender signed (or never were a consistent bundle)."""

    reason = "BUNDLE_TAMPERED"


class BundleSignerUnknown(SealedBundleError):
    reason = "BUNDLE_SIGNER_UNKNOWN"


class BundleSignerRevoked(SealedBundleError):
    reason = "BUNDLE_SIGNER_REVOKED"


class BundleSignerKeyNotValid(SealedBundleError):
    reason = "BUNDLE_SIGNER_KEY_NOT_VALID"


class SenderNotAllowed(SealedBundleError):
    """The signer is not the sender the header names, or may not send this content."""

    reason = "BUNDLE_SENDER_NOT_ALLOWED"


class SealedToSomeoneElse(SealedBundleError):
    reason = "BUNDLE_NOT_FOR_US"


class WrongContentKind(SealedBundleError):
    reason = "BUNDLE_WRONG_CONTENT"


class BundleExpired(SealedBundleError):
    reason = "BUNDLE_EXPIRED"


class BundleNotYetValid(SealedBundleError):
    reason = "BUNDLE_NOT_YET_VALID"


class BundleReplayed(SealedBundleError):
    reason = "BUNDLE_ALREADY_IMPORTED"


# ------------------------------------------------------------------------ seal


def _aware(name: str, t: dt.datetime) -> None:
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")


def seal(
    *,
    kind: int,
    envelopes: Sequence[envelope_pb2.Envelope],
    sender: str,
    signing_key: nacl.signing.SigningKey,
    box_key: nacl.public.PrivateKey,
    recipient: str,
    recipient_box_public_key: bytes,
    created_at: dt.datetime,
    expires_at: dt.datetime,
    bundle_id: str | None = None,
    refusals: Iterable[offline_pb2.OfflineRefusal] = (),
    consistency_proofs: Iterable[audit_pb2.ConsistencyProof] = (),
) -> bytes:
    """Seal ``envelopes`` (queries or answers, per ``kind``) from ``sender`` to ``recipient``.

    Returns the complete file bytes. ``box_key`` is the sender's X25519 key (its public
    half must be the sender's ``box_public_key`` in the trust bundle for the recipient to
    accept the file); ``signing_key`` one of the sender's Ed25519 keys.

    Preconditions (checked first): ``kind`` is QUERIES or ANSWERS and every envelope
    carries that kind's payload type; at most :data:`MAX_ENVELOPES`; the recipient key is
    32 bytes; times are timezone-aware and ``created_at < expires_at``.
    """
    if kind not in _PAYLOAD_TYPE:
        raise ValueError("kind must be CONTENT_KIND_QUERIES or CONTENT_KIND_ANSWERS")
    wanted = _PAYLOAD_TYPE[kind]
    if any(e.payload_type not in wanted for e in envelopes):
        raise ValueError(f"a {_KIND_WORD[kind]} bundle carries only {' or '.join(wanted)} "
                         "envelopes")
    if len(envelopes) > MAX_ENVELOPES:
        raise ValueError(f"a bundle carries at most {MAX_ENVELOPES} envelopes")
    if len(recipient_box_public_key) != nacl.public.PublicKey.SIZE:
        raise ValueError("the recipient's box public key must be 32 bytes (X25519)")
    _aware("created_at", created_at)
    _aware("expires_at", expires_at)
    if expires_at <= created_at:
        raise ValueError("expires_at must be after created_at")
    bundle_id = bundle_id or str(uuid.uuid4())

    body = offline_pb2.OfflineBundleBody(
        envelopes=list(envelopes), refusals=list(refusals),
        consistency_proofs=list(consistency_proofs), bundle_id=bundle_id,
    )
    box = nacl.public.Box(box_key, nacl.public.PublicKey(bytes(recipient_box_public_key)))
    sealed = bytes(box.encrypt(body.SerializeToString(deterministic=True)))
    header = offline_pb2.OfflineBundleHeader(
        format_version=FORMAT_VERSION, bundle_id=bundle_id, sender=sender,
        recipient=recipient, created_at=to_timestamp(created_at),
        expires_at=to_timestamp(expires_at),
        content_kind=kind, count=len(envelopes), body_sha256=hashlib.sha256(sealed).digest(),
        sender_box_public_key=bytes(box_key.public_key),
        recipient_box_public_key=bytes(recipient_box_public_key), body_length=len(sealed),
    )
    signed = dsse.sign(header.SerializeToString(deterministic=True), dsse.OFFLINE_BUNDLE_TYPE,
                       signing_key).SerializeToString(deterministic=True)
    if len(signed) > MAX_HEADER_BYTES:
        raise ValueError("the bundle header is too large")
    return _PREFIX.pack(MAGIC, FORMAT_VERSION, len(signed)) + signed + sealed


# ------------------------------------------------------------------------ open


class OpenedBundle(NamedTuple):
    """A bundle whose every byte verified: its header, its envelopes, the whole body.

    The envelopes are still signed envelopes: the recipient verifies each one as it
    would one that came over the network (the agent's checks, ``verify_answer``).
    """

    header: offline_pb2.OfflineBundleHeader
    envelopes: list[envelope_pb2.Envelope]
    body: offline_pb2.OfflineBundleBody


def _split(data: bytes) -> tuple[bytes, bytes]:
    """(header envelope bytes, sealed body bytes), after the prefix checks."""
    if len(data) > MAX_BUNDLE_BYTES:
        raise BundleTooLarge(
            f"the file has {len(data)} bytes, more than the {MAX_BUNDLE_BYTES} a bundle may have"
        )
    if not data:
        raise NotABundle("the file is empty; it is not a hedui offline bundle")
    if len(data) < len(MAGIC):
        if MAGIC.startswith(data):
            raise BundleTruncated("the file ends inside the bundle's first bytes (cut off)")
        raise NotABundle("the file is not a hedui offline bundle (no HEDUIBND signature)")
    if data[: len(MAGIC)] != MAGIC:
        raise NotABundle("the file is not a hedui offline bundle (no HEDUIBND signature)")
    if len(data) < _PREFIX.size:
        raise BundleTruncated("the file ends inside the bundle's prefix (cut off)")
    _, version, header_len = _PREFIX.unpack_from(data)
    if version != FORMAT_VERSION:
        raise UnsupportedBundleVersion(
            f"the bundle has format version {version}; this hedui reads version "
            f"{FORMAT_VERSION} only (update hedui)"
        )
    if header_len == 0 or header_len > MAX_HEADER_BYTES:
        raise BundleTampered(f"the bundle declares a header of {header_len} bytes, which no "
                             "sender writes; the file was altered")
    end = _PREFIX.size + header_len
    if len(data) < end:
        raise BundleTruncated(
            f"the file ends inside the bundle header ({len(data)} of at least {end} bytes; "
            "it was cut off — copy it again)"
        )
    return data[_PREFIX.size:end], data[end:]


def peek_header(data: bytes) -> offline_pb2.OfflineBundleHeader | None:
    """The header as written, UNVERIFIED, or None: only for words in a refusal message."""
    try:
        raw, _ = _split(bytes(data))
        envelope = envelope_pb2.Envelope.FromString(raw)
        return offline_pb2.OfflineBundleHeader.FromString(envelope.payload)
    except (SealedBundleError, DecodeError):
        return None


def _verify_header(raw: bytes, trust: Bundle, now: dt.datetime) -> tuple[
        offline_pb2.OfflineBundleHeader, str]:  # fmt: skip
    try:
        envelope = envelope_pb2.Envelope.FromString(raw)
    except DecodeError:
        raise BundleTampered("the bundle header is not a signed envelope; the file was "
                             "altered") from None
    try:
        verified = dsse.verify(envelope, trust, payload_type=dsse.OFFLINE_BUNDLE_TYPE, now=now)
    except BadSignature:
        raise BundleTampered("the bundle header's signature does not verify; the file was "
                             "altered after it was sealed") from None
    except RevokedKey as exc:
        raise BundleSignerRevoked(f"the bundle is signed by a revoked key: {exc}") from None
    except KeyNotValid as exc:
        raise BundleSignerKeyNotValid(f"the bundle is signed by a key not valid now: {exc}"
                                      ) from None
    except UnknownKey as exc:
        raise BundleSignerUnknown(f"the bundle is signed by a key the trust bundle does not "
                                  f"know ({exc.keyid[:16]}…); it does not come from a "
                                  "participant") from None
    except EnvelopeError as exc:
        raise BundleTampered(f"the bundle header is not acceptable: {exc}") from None
    try:
        header = offline_pb2.OfflineBundleHeader.FromString(verified.payload)
    except DecodeError:
        raise BundleTampered("the signed header is not a hedui.v1.OfflineBundleHeader") from None
    return header, verified.signer


def open_sealed(
    data: bytes,
    *,
    trust: Bundle,
    box_key: nacl.public.PrivateKey,
    recipient: str,
    now: dt.datetime,
    seen_bundle_ids: Container[str],
    kind: int,
) -> OpenedBundle:
    """Verify a whole bundle file for ``recipient`` and return what it carries.

    ``trust``: the current trust bundle (signing keys, senders' roles and box keys).
    ``box_key``: the recipient's X25519 private key. ``seen_bundle_ids``: the bundle ids
    the recipient has imported before (a replay is refused). ``kind``: the content the
    caller expects (a gateway imports ANSWERS, an agent QUERIES).

    Precondition: ``now`` is timezone-aware. Raises one :class:`SealedBundleError`
    subclass, checked in this order: size, magic, version, truncated header, header
    signature (tampered / unknown / revoked / not-yet-or-no-longer-valid key), sender
    (signer, role, box key), content kind, recipient, replay, validity window, body
    length (truncated), body digest (tampered), decryption and body contents.
    """
    _aware("now", now)
    raw_header, sealed = _split(bytes(data))
    header, signer = _verify_header(raw_header, trust, now)
    if header.format_version != FORMAT_VERSION:
        raise UnsupportedBundleVersion(
            f"the signed header says format version {header.format_version}, not "
            f"{FORMAT_VERSION}"
        )
    if header.sender != signer:
        raise SenderNotAllowed(
            f"the bundle names {header.sender or 'nobody'} as sender but is signed by {signer}"
        )
    if header.content_kind not in _SENDER_ROLE:
        raise BundleTampered("the bundle header names no known content kind")
    participant = trust.participant(signer)
    if participant is None or participant.role != _SENDER_ROLE[header.content_kind]:
        role = trust_pb2.Role.Name(participant.role) if participant else "no participant"
        raise SenderNotAllowed(
            f"{signer} ({role}) may not send a {_KIND_WORD[header.content_kind]} bundle"
        )
    if len(participant.box_public_key) != nacl.public.PublicKey.SIZE or not hmac.compare_digest(
        participant.box_public_key, header.sender_box_public_key
    ):
        raise SenderNotAllowed(
            f"the bundle was boxed with a key the trust bundle does not give to {signer} "
            f"(trust bundle serial {trust.serial})"
        )
    if header.content_kind != kind:
        raise WrongContentKind(
            f"the bundle carries {_KIND_WORD[header.content_kind]}, but "
            f"{_KIND_WORD.get(kind, 'something else')} are expected here"
        )
    if header.recipient != recipient:
        raise SealedToSomeoneElse(
            f"the bundle is sealed to {header.recipient or 'nobody'}, not to {recipient}"
        )
    my_public = bytes(box_key.public_key)
    if not hmac.compare_digest(header.recipient_box_public_key, my_public):
        raise SealedToSomeoneElse(
            f"the bundle is sealed to another box key than {recipient}'s; the sender used "
            "an old or wrong key (check the trust bundle's box_public_key)"
        )
    if not header.bundle_id:
        raise BundleTampered("the bundle header carries no bundle id")
    if header.bundle_id in seen_bundle_ids:
        raise BundleReplayed(
            f"bundle {header.bundle_id} has been imported before; a bundle is imported once"
        )
    created = from_timestamp(header.created_at)
    expires = from_timestamp(header.expires_at)
    if expires <= now:
        raise BundleExpired(
            f"bundle {header.bundle_id} expired on {expires:%Y-%m-%d %H:%M} UTC; ask "
            f"{header.sender} for a new one"
        )
    if created > now + CLOCK_SKEW:
        raise BundleNotYetValid(
            f"bundle {header.bundle_id} is dated in the future ({created:%Y-%m-%d %H:%M} UTC); "
            "check the clocks"
        )
    if len(sealed) < header.body_length:
        raise BundleTruncated(
            f"bundle {header.bundle_id} is cut off: {len(sealed)} of {header.body_length} "
            "body bytes are present (copy the file again)"
        )
    if len(sealed) > header.body_length:
        raise BundleTampered(f"bundle {header.bundle_id} has bytes after its signed end")
    if not hmac.compare_digest(hashlib.sha256(sealed).digest(), header.body_sha256):
        raise BundleTampered(
            f"the body of bundle {header.bundle_id} is not what the sender signed; the file "
            "was altered"
        )
    box = nacl.public.Box(box_key, nacl.public.PublicKey(bytes(header.sender_box_public_key)))
    try:
        plain = box.decrypt(sealed)
    except (nacl.exceptions.CryptoError, ValueError):
        # the digest matched, so these are the bytes the sender signed: it boxed them wrongly
        raise BundleTampered(
            f"bundle {header.bundle_id} does not decrypt with the keys its header names"
        ) from None
    try:
        body = offline_pb2.OfflineBundleBody.FromString(plain)
    except DecodeError:
        raise BundleTampered(f"bundle {header.bundle_id} holds no OfflineBundleBody") from None
    if body.bundle_id != header.bundle_id:
        raise BundleTampered(f"the body of bundle {header.bundle_id} belongs to another bundle")
    if len(body.envelopes) != header.count or header.count > MAX_ENVELOPES:
        raise BundleTampered(
            f"bundle {header.bundle_id} holds {len(body.envelopes)} envelopes; its header "
            f"says {header.count}"
        )
    wanted = _PAYLOAD_TYPE[header.content_kind]
    if any(e.payload_type not in wanted for e in body.envelopes):
        raise BundleTampered(
            f"bundle {header.bundle_id} carries an envelope that is not a "
            f"{_KIND_WORD[header.content_kind][:-1]}"
        )
    return OpenedBundle(header, list(body.envelopes), body)
