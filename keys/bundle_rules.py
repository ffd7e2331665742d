"""The invariants of a TrustBundle, checked wherever one is built or received.

A bundle that breaks one of these is refused whole, whoever signed it: the TOML loader
checks each item as it builds it (naming the TOML key), and :class:`~hedui.keys.bundle.Bundle`
checks the whole message again after verifying the root signature. Each ``check_*``
returns None or raises :class:`~hedui.keys.errors.InvalidBundle` with a message that
starts with the offending value, so callers can prefix where it was found.
"""

from __future__ import annotations

import hashlib
import re

from cryptography import x509

from hedui.keys.errors import InvalidBundle, InvalidIdentity
from hedui.keys.identity import DEPARTMENTS, TrustDomain, parse_id
from hedui.v1 import trust_pb2

__all__ = [
    "FIELD_PATH_RE",
    "PURPOSE_RE",
    "ROLE_BY_KIND",
    "check_ca_certificate",
    "check_field_path",
    "check_hex256",
    "check_participant",
    "check_policy",
    "check_purpose",
    "check_revoked",
    "check_signing_key",
    "validate_bundle",
]

#: AIP-161 field path over a department record; ``*`` only for every element of a repeated field
FIELD_PATH_RE = re.compile(r"[a-z_][a-z0-9_]*(\.([a-z_][a-z0-9_]*|\*))*")
PURPOSE_RE = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
_HEX256_RE = re.compile(r"[0-9a-f]{64}")
_ENDPOINT_RE = re.compile(r"([A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\]):\d{1,5}")

ROLE_BY_KIND = {
    "gateway": trust_pb2.ROLE_GATEWAY,
    "agent": trust_pb2.ROLE_AGENT,
    "audit": trust_pb2.ROLE_AUDIT,
}


def check_hex256(value: str, what: str) -> None:
    """``value`` is 64 lowercase hex digits (a SHA-256 keyid or fingerprint)."""
    if not _HEX256_RE.fullmatch(value):
        raise InvalidBundle(f"{value!r} is not a {what} (64 lowercase hex digits)")


def check_field_path(path: str) -> None:
    """``path`` is an AIP-161 field path that does not start with a wildcard."""
    if not FIELD_PATH_RE.fullmatch(path):
        raise InvalidBundle(
            f"{path!r} is not a field path; write fields separated by '.', with '*' for "
            "every element of a repeated field, e.g. vehicles.*.purchase_price_fen"
        )


def check_purpose(purpose: str) -> None:
    if not PURPOSE_RE.fullmatch(purpose):
        raise InvalidBundle(
            f"{purpose!r} is not a purpose id; use lowercase words joined by '-', e.g. low-income"
        )


def check_signing_key(key: trust_pb2.SigningKey) -> None:
    """The key is 32 bytes, its keyid is its SHA-256, and its window is not empty."""
    if len(key.public_key) != 32:
        raise InvalidBundle(
            f"signing key {key.keyid!r} has {len(key.public_key)} bytes; Ed25519 keys have 32"
        )
    expected = hashlib.sha256(key.public_key).hexdigest()
    if key.keyid != expected:
        raise InvalidBundle(f"keyid {key.keyid!r} is not the SHA-256 of its key ({expected})")
    if (
        key.HasField("not_before")
        and key.HasField("not_after")
        and key.not_before.ToNanoseconds() >= key.not_after.ToNanoseconds()
    ):
        raise InvalidBundle(f"signing key {key.keyid}: not_before is not before not_after")


def check_participant(p: trust_pb2.Participant, trust_domain: str) -> None:
    """Id in the trust domain, role matching the id's kind, an agent's department its name."""
    try:
        sid = parse_id(p.id)
    except InvalidIdentity as exc:
        raise InvalidBundle(str(exc)) from None
    if sid.domain != trust_domain:
        raise InvalidBundle(f"{p.id} is outside the bundle's trust domain {trust_domain}")
    if p.role != ROLE_BY_KIND[sid.kind]:
        raise InvalidBundle(
            f"{p.id} has role {trust_pb2.Role.Name(p.role)}; its id says {sid.kind}"
        )
    expected_department = sid.name if sid.kind == "agent" else ""
    if p.department != expected_department:
        raise InvalidBundle(
            f"{p.id} has department {p.department!r}; expected {expected_department!r}"
        )
    if p.endpoint and not _ENDPOINT_RE.fullmatch(p.endpoint):
        raise InvalidBundle(f"{p.id}: endpoint {p.endpoint!r} is not host:port")
    if sid.kind == "agent" and not p.offline and not p.endpoint:
        raise InvalidBundle(f"{p.id} is an online agent without an endpoint (host:port)")
    if p.offline and len(p.box_public_key) != 32:
        raise InvalidBundle(
            f"{p.id} is offline and needs a 32-byte box_public_key to seal bundles to"
        )
    if p.box_public_key and len(p.box_public_key) != 32:
        raise InvalidBundle(f"{p.id}: box_public_key must be 32 bytes (X25519)")
    for fingerprint in p.certificate_sha256:
        check_hex256(fingerprint, "certificate SHA-256")
    for key in p.signing_keys:
        check_signing_key(key)


def check_revoked(r: trust_pb2.RevokedKey) -> None:
    check_hex256(r.keyid, "keyid")


def check_policy(policy: trust_pb2.PurposePolicy) -> None:
    """Known departments, each once, each with at least one valid field path."""
    check_purpose(policy.purpose)
    if not policy.departments:
        raise InvalidBundle(f"policy {policy.purpose!r} names no department")
    seen: set[str] = set()
    for dep in policy.departments:
        if dep.department not in DEPARTMENTS:
            raise InvalidBundle(
                f"{dep.department!r} is not a department; expected one of {', '.join(DEPARTMENTS)}"
            )
        if dep.department in seen:
            raise InvalidBundle(f"policy {policy.purpose!r} names {dep.department} twice")
        seen.add(dep.department)
        if not dep.field_paths:
            raise InvalidBundle(
                f"{dep.department} lists no field path; list some or leave the department out"
            )
        for path in dep.field_paths:
            check_field_path(path)


def check_ca_certificate(der: bytes) -> x509.Certificate:
    """``der`` parses as an X.509 CA certificate; return it."""
    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError:
        raise InvalidBundle("a CA certificate is not DER X.509") from None
    try:
        bc = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        bc = None
    if bc is None or not bc.ca:
        raise InvalidBundle(f"certificate {cert.subject.rfc4514_string()} is not a CA certificate")
    return cert


def validate_bundle(bundle: trust_pb2.TrustBundle) -> None:
    """Every invariant above, plus uniqueness of ids, keyids and purposes across the bundle."""
    try:
        TrustDomain(bundle.trust_domain)
    except InvalidIdentity as exc:
        raise InvalidBundle(str(exc)) from None
    if bundle.serial < 1:
        raise InvalidBundle("the bundle serial must be 1 or more")
    if (
        bundle.HasField("valid_until")
        and bundle.HasField("issued_at")
        and bundle.valid_until.ToNanoseconds() <= bundle.issued_at.ToNanoseconds()
    ):
        raise InvalidBundle("the bundle's valid_until is not after its issued_at")
    for der in bundle.ca_certificates:
        check_ca_certificate(der)
    ids: set[str] = set()
    keyids: dict[str, str] = {}
    for p in bundle.participants:
        check_participant(p, bundle.trust_domain)
        if p.id in ids:
            raise InvalidBundle(f"participant {p.id} is listed twice")
        ids.add(p.id)
        for key in p.signing_keys:
            if key.keyid in keyids:
                raise InvalidBundle(
                    f"signing key {key.keyid} is listed for both {keyids[key.keyid]} and {p.id}; "
                    "a key speaks for one participant"
                )
            keyids[key.keyid] = p.id
    for r in bundle.revoked_keys:
        check_revoked(r)
    purposes: set[str] = set()
    for policy in bundle.policies:
        check_policy(policy)
        if policy.purpose in purposes:
            raise InvalidBundle(f"policy {policy.purpose!r} is listed twice")
        purposes.add(policy.purpose)
