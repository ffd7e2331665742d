"""The signed trust bundle: sign it, hold the newest one, and answer lookups from it.

Every participant pins the center's root key and keeps a :class:`TrustStore`. The store
accepts a bundle only if the root key signed it and its serial is not lower than any it
accepted before, remembered in a state file across restarts, so a captured old bundle
(with a since-revoked key in it) cannot be replayed. Readers get an immutable
:class:`Bundle` snapshot; a newer bundle swaps in atomically while servers run.

A bundle lives until its ``valid_until``: from then on it is neither loaded nor trusted
for any signature (:class:`~hedui.keys.errors.BundleExpired`), so a participant cut off
from the center stops instead of enforcing stale keys and policy indefinitely.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import threading
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path

import nacl.signing
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from google.protobuf.message import DecodeError
from google.protobuf.timestamp_pb2 import Timestamp

from hedui.keys import dsse
from hedui.keys._files import read_limited, write_atomic
from hedui.keys.bundle_rules import ROLE_BY_KIND, validate_bundle
from hedui.keys.bundle_toml import bundle_from_toml
from hedui.keys.errors import (
    BundleError,
    BundleExpired,
    ConflictingBundle,
    InvalidBundle,
    KeyNotValid,
    NotRootKey,
    NoTrustBundle,
    RevokedKey,
    StaleBundle,
    UnknownKey,
    UnknownParticipant,
)
from hedui.keys.signing import KeyLike, verify_key
from hedui.keys.signing import keyid as compute_keyid
from hedui.timestamps import from_timestamp
from hedui.v1 import envelope_pb2, trust_pb2

__all__ = [
    "LEGACY_LIFETIME",
    "WARN_BEFORE",
    "Bundle",
    "BundleExpired",
    "ConflictingBundle",
    "InvalidBundle",
    "NoTrustBundle",
    "StaleBundle",
    "TrustBundleHolder",
    "TrustStore",
    "UnknownParticipant",
    "bundle_from_toml",
    "sign_bundle",
]

_ROOT_SIGNER = "root"

#: how long a bundle without ``valid_until`` (signed before the field existed) lives from
#: its ``issued_at``: the default lifetime of new bundles, so old ones end at the same
#: pace instead of never (the hole the field closes) or at once (an outage at upgrade)
LEGACY_LIFETIME = timedelta(days=90)
#: how long before a bundle's end servers start warning (log, metrics)
WARN_BEFORE = timedelta(days=14)


def sign_bundle(
    bundle: trust_pb2.TrustBundle, root_signing_key: nacl.signing.SigningKey
) -> envelope_pb2.Envelope:
    """Check ``bundle``'s invariants and sign it with the center's root key."""
    validate_bundle(bundle)
    payload = bundle.SerializeToString(deterministic=True)
    return dsse.sign(payload, dsse.TRUST_BUNDLE_TYPE, root_signing_key)


def _iso(ts: Timestamp) -> str:
    return _iso_dt(from_timestamp(ts))


def _iso_dt(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


class Bundle:
    """A read-only, checked view of one TrustBundle, with the lookups servers need.

    Built from a message (checked with :func:`~hedui.keys.bundle_rules.validate_bundle`);
    treat the protobuf messages its methods return as read-only.
    """

    def __init__(self, message: trust_pb2.TrustBundle, *, payload: bytes | None = None) -> None:
        validate_bundle(message)
        self._msg = message
        self.payload = (
            payload if payload is not None else message.SerializeToString(deterministic=True)
        )
        #: SHA-256 of the signed payload bytes: identifies this bundle's content
        self.payload_sha256 = hashlib.sha256(self.payload).hexdigest()
        self._participants = {p.id: p for p in message.participants}
        self._keys = {k.keyid: (k, p.id) for p in message.participants for k in p.signing_keys}
        self._revoked = {r.keyid: r for r in message.revoked_keys}
        self._policies = {p.purpose: p for p in message.policies}
        self._valid_until: datetime | None = None
        self._legacy_lifetime = not message.HasField("valid_until")
        if message.HasField("valid_until"):
            self._valid_until = from_timestamp(message.valid_until)
        elif message.HasField("issued_at"):
            self._valid_until = from_timestamp(message.issued_at) + LEGACY_LIFETIME

    @classmethod
    def from_payload(cls, payload: bytes) -> Bundle:
        """Parse serialized TrustBundle bytes (e.g. a verified envelope's payload)."""
        message = trust_pb2.TrustBundle()
        try:
            message.ParseFromString(payload)
        except DecodeError:
            raise InvalidBundle("the signed payload is not a hedui.v1.TrustBundle") from None
        return cls(message, payload=bytes(payload))

    @property
    def proto(self) -> trust_pb2.TrustBundle:
        return self._msg

    @property
    def trust_domain(self) -> str:
        return self._msg.trust_domain

    @property
    def serial(self) -> int:
        return self._msg.serial

    @property
    def issued_at(self) -> datetime:
        return from_timestamp(self._msg.issued_at)

    @property
    def valid_until(self) -> datetime | None:
        """The end of the bundle's life: ``valid_until``, else ``issued_at`` plus
        :data:`LEGACY_LIFETIME`; None only for an in-memory bundle stating neither
        (a signed one is refused, :meth:`TrustStore.verify`)."""
        return self._valid_until

    def remaining(self, now: datetime) -> timedelta | None:
        """How long the bundle still lives at ``now`` (negative once expired)."""
        return None if self._valid_until is None else self._valid_until - now

    def check_current(self, now: datetime) -> None:
        """Raise BundleExpired when the bundle's life is over at ``now``.

        Servers call it before acting on the bundle they hold (an agent before it
        answers), since a bundle that was current at start can expire while they run.
        """
        if now.tzinfo is None:
            raise ValueError("now must be a timezone-aware datetime")
        if self._valid_until is not None and now >= self._valid_until:
            detail = (
                f" (it states no valid_until, so it lived {LEGACY_LIFETIME.days} days from "
                f"issued_at {_iso(self._msg.issued_at)})"
                if self._legacy_lifetime
                else ""
            )
            raise BundleExpired(self.serial, _iso_dt(self._valid_until), detail)

    def participant(self, participant_id: str) -> trust_pb2.Participant | None:
        return self._participants.get(participant_id)

    def participants_by_role(self, role: int | str) -> tuple[trust_pb2.Participant, ...]:
        """Participants with ``role`` (``trust_pb2.ROLE_AGENT`` or ``"agent"``), in bundle order."""
        wanted = ROLE_BY_KIND[role] if isinstance(role, str) else role
        return tuple(p for p in self._msg.participants if p.role == wanted)

    def agent(self, department: str) -> trust_pb2.Participant | None:
        """The agent participant of ``department``, if the bundle lists one."""
        for p in self._msg.participants:
            if p.role == trust_pb2.ROLE_AGENT and p.department == department:
                return p
        return None

    def authorize_peer(self, peer_id: str, cert_sha256: str | None = None) -> trust_pb2.Participant:
        """The participant an authenticated TLS peer is; raise UnknownParticipant if none.

        When the bundle pins certificate fingerprints for it, ``cert_sha256`` must be one.
        """
        p = self._participants.get(peer_id)
        if p is None:
            raise UnknownParticipant(
                f"{peer_id} is not a participant in trust bundle serial {self.serial}"
            )
        if p.certificate_sha256 and cert_sha256 not in p.certificate_sha256:
            raise UnknownParticipant(
                f"{peer_id} presented a certificate the trust bundle does not pin "
                f"(sha256 {cert_sha256 or 'unknown'})"
            )
        return p

    def signing_key(self, keyid: str, at: datetime) -> dsse.TrustedKey:
        """The key ``keyid`` and its owner if usable at ``at`` (the dsse.KeyLookup protocol).

        An expired bundle vouches for no key (BundleExpired). Revocation is checked
        next, so a revoked key that was also dropped from the participants still reads
        as revoked; a revocation applies from ``revoked_at`` on.
        """
        if at.tzinfo is None:
            raise ValueError("at must be a timezone-aware datetime")
        self.check_current(at)
        revoked = self._revoked.get(keyid)
        if revoked is not None and (
            not revoked.HasField("revoked_at") or at >= from_timestamp(revoked.revoked_at)
        ):
            when = _iso(revoked.revoked_at) if revoked.HasField("revoked_at") else ""
            raise RevokedKey(keyid, when, revoked.reason)
        entry = self._keys.get(keyid)
        if entry is None:
            raise UnknownKey(
                keyid,
                f"signing key {keyid} is not in trust bundle serial {self.serial}; update the "
                "trust bundle or ask the sender which key it signs with",
            )
        key, owner = entry
        if key.HasField("not_before") and at < from_timestamp(key.not_before):
            raise KeyNotValid(
                keyid, f"of {owner} is not valid before {_iso(key.not_before)}; check the clocks"
            )
        if key.HasField("not_after") and at > from_timestamp(key.not_after):
            raise KeyNotValid(
                keyid,
                f"of {owner} expired on {_iso(key.not_after)}; the sender must sign with its "
                "new key",
            )
        return dsse.TrustedKey(nacl.signing.VerifyKey(key.public_key), owner)

    def policy(self, purpose: str) -> trust_pb2.PurposePolicy | None:
        return self._policies.get(purpose)

    def department_fields(self, purpose: str, department: str) -> tuple[str, ...]:
        """The field paths ``purpose`` may read from ``department``; empty when none."""
        policy = self._policies.get(purpose)
        if policy is None:
            return ()
        for dep in policy.departments:
            if dep.department == department:
                return tuple(dep.field_paths)
        return ()

    def ca_certificates(self) -> list[x509.Certificate]:
        return [x509.load_der_x509_certificate(der) for der in self._msg.ca_certificates]

    def ca_certificates_pem(self) -> bytes:
        """The bundle's CA certificates as one PEM blob (grpc's ``root_certificates``)."""
        return b"".join(c.public_bytes(Encoding.PEM) for c in self.ca_certificates())


class _RootKeys:
    """The dsse.KeyLookup of the pinned root key(s): nothing else may sign a bundle."""

    def __init__(self, keys: dict[str, nacl.signing.VerifyKey]) -> None:
        self.keys = keys

    def signing_key(self, keyid: str, at: datetime) -> dsse.TrustedKey:
        try:
            return dsse.TrustedKey(self.keys[keyid], _ROOT_SIGNER)
        except KeyError:
            raise NotRootKey(keyid, tuple(self.keys)) from None


class TrustStore:
    """Holds the newest trust bundle signed by the pinned root key; thread-safe.

    ``root_key``: the center's root public key (VerifyKey, raw 32 bytes), or several during
    a root key rotation. It must be the key itself: an envelope names its signer only by
    keyid, so a keyid alone cannot check a signature.

    ``state_path``: a small JSON file remembering the highest serial accepted (and that
    bundle, for :meth:`restore`); without it the memory lasts as long as the object.

    A bundle for another trust domain than the held one is refused (InvalidBundle).

    Serial rule: lower than held -> StaleBundle; equal with the same payload bytes -> no-op;
    equal with different payload -> ConflictingBundle, because two different documents
    under one serial mean the center (or whoever holds its key) equivocated, and
    participants could no longer say which serial-N policy they enforced.
    """

    def __init__(
        self,
        root_key: KeyLike | Iterable[KeyLike],
        state_path: str | os.PathLike[str] | None = None,
    ) -> None:
        keys: list[KeyLike] = (
            list(root_key) if isinstance(root_key, list | tuple | set | frozenset) else [root_key]
        )
        if not keys:
            raise ValueError("pin at least one root key")
        self._roots = _RootKeys({compute_keyid(k): verify_key(k) for k in keys})
        self._state_path = Path(state_path) if state_path is not None else None
        self._lock = threading.Lock()
        self._current: Bundle | None = None
        self._held_serial: int | None = None
        self._held_sha256: str | None = None
        self._held_domain: str | None = None
        self._saved_envelope: bytes | None = None
        if self._state_path is not None and self._state_path.exists():
            self._read_state()

    @property
    def root_keyids(self) -> tuple[str, ...]:
        return tuple(self._roots.keys)

    @property
    def held_serial(self) -> int | None:
        """The highest serial ever accepted (also from before a restart), or None."""
        return self._held_serial

    @property
    def bundle(self) -> Bundle | None:
        return self._current

    @property
    def current(self) -> Bundle:
        """The bundle in force; raises NoTrustBundle before the first load."""
        current = self._current
        if current is None:
            raise NoTrustBundle()
        return current

    def signing_key(self, keyid: str, at: datetime) -> dsse.TrustedKey:
        """dsse.KeyLookup over whichever bundle is current at the time of the call."""
        return self.current.signing_key(keyid, at)

    def verify(self, source: bytes | str | os.PathLike[str] | envelope_pb2.Envelope,
               now: datetime) -> Bundle:  # fmt: skip
        """Verify a signed bundle against the root key(s) without accepting it.

        Its lifetime is not judged here (``hedui keys show`` describes expired bundles
        too), but it must state one: InvalidBundle without valid_until and issued_at.
        """
        envelope = _read_envelope(source)
        verified = dsse.verify(envelope, self._roots, payload_type=dsse.TRUST_BUNDLE_TYPE, now=now)
        bundle = Bundle.from_payload(verified.payload)
        if bundle.valid_until is None:
            raise InvalidBundle(
                f"trust bundle serial {bundle.serial} states neither valid_until nor "
                "issued_at, so its lifetime is unknown; sign it again with hedui keys bundle"
            )
        return bundle

    def load(self, source: bytes | str | os.PathLike[str] | envelope_pb2.Envelope,
             now: datetime) -> Bundle:  # fmt: skip
        """Verify and accept a signed bundle unless it is older than the one held.

        ``source``: serialized Envelope bytes, an Envelope, or a file path. Returns the
        bundle now current. Raises an EnvelopeError (e.g. NotRootKey, BadSignature),
        InvalidBundle, BundleExpired (its life is over at ``now``), StaleBundle or
        ConflictingBundle; the held bundle is then unchanged.
        """
        envelope = _read_envelope(source)
        bundle = self.verify(envelope, now)
        bundle.check_current(now)
        with self._lock:
            if self._held_domain is not None and bundle.trust_domain != self._held_domain:
                raise InvalidBundle(
                    f"the trust bundle is for trust domain {bundle.trust_domain}, but this "
                    f"participant belongs to {self._held_domain}"
                )
            held = self._held_serial
            if held is not None and bundle.serial < held:
                raise StaleBundle(
                    f"trust bundle serial {bundle.serial} is older than the held serial {held}; "
                    "refusing to go back (get the newest bundle from the center)"
                )
            if held is not None and bundle.serial == held:
                if bundle.payload_sha256 != self._held_sha256:
                    raise ConflictingBundle(
                        f"trust bundle serial {bundle.serial} differs from the serial {held} "
                        "already held; the center must publish changes under a higher serial"
                    )
                if self._current is None:
                    self._current = bundle
                return self._current
            self._write_state(bundle, envelope.SerializeToString(deterministic=True))
            self._held_serial = bundle.serial
            self._held_sha256 = bundle.payload_sha256
            self._held_domain = bundle.trust_domain
            self._current = bundle
            return bundle

    def restore(self, now: datetime) -> Bundle | None:
        """Re-verify and make current the bundle saved in the state file, if there is one."""
        if self._saved_envelope is None:
            return self._current
        return self.load(self._saved_envelope, now)

    # --- state file --------------------------------------------------------------

    def _read_state(self) -> None:
        assert self._state_path is not None
        try:
            state = json.loads(read_limited(self._state_path))
            self._held_serial = int(state["serial"])
            self._held_sha256 = str(state["payload_sha256"])
            self._held_domain = state.get("trust_domain") or None
            env = state.get("envelope")
            self._saved_envelope = base64.b64decode(env, validate=True) if env else None
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise BundleError(
                f"trust store state {self._state_path} is unreadable ({exc}); restore it from "
                "a backup rather than deleting it, which would accept older bundles again"
            ) from None

    def _write_state(self, bundle: Bundle, envelope: bytes) -> None:
        if self._state_path is None:
            return
        state = {
            "serial": bundle.serial,
            "payload_sha256": bundle.payload_sha256,
            "trust_domain": bundle.trust_domain,
            "envelope": base64.b64encode(envelope).decode("ascii"),
        }
        data = json.dumps(state, indent=1).encode() + b"\n"
        write_atomic(self._state_path, data, mode=0o644, overwrite=True)
        self._saved_envelope = envelope


#: the name the brief uses for the same class
TrustBundleHolder = TrustStore


def _read_envelope(
    source: bytes | str | os.PathLike[str] | envelope_pb2.Envelope,
) -> envelope_pb2.Envelope:
    if isinstance(source, envelope_pb2.Envelope):
        return source
    if isinstance(source, bytes | bytearray | memoryview):
        return dsse.parse_envelope(bytes(source))
    return dsse.parse_envelope(read_limited(source))
