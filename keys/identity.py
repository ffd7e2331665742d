"""SPIFFE-style participant identities: ``spiffe://<trust-domain>/<kind>/<name>``.

The identity is the URI SAN in a participant's certificate and its id in the trust
bundle, so both ends of a connection name each other the same way. hedui accepts a
strict subset of SPIFFE IDs: lowercase, exactly two path segments, kind one of
gateway/agent/audit/client/staff/console, the name a DNS label, and an agent's name one of the eight
departments; so an id also maps one-to-one to a DNS name (:func:`tls_server_name`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from cryptography import x509

from hedui.keys.errors import InvalidIdentity, UnauthenticatedPeer

__all__ = [
    "DEPARTMENTS",
    "KINDS",
    "InvalidIdentity",
    "SpiffeId",
    "TrustDomain",
    "UnauthenticatedPeer",
    "agent_id",
    "audit_id",
    "client_id",
    "console_id",
    "gateway_id",
    "parse_id",
    "peer_identity",
    "spiffe_ids_of_certificate",
    "staff_id",
    "tls_server_name",
]

SCHEME = "spiffe://"
# "client": verifiers' desks and privacy officers' tools calling the gateway; they are
# not exchange participants (not in the trust bundle) but the gateway's allow-list.
# "staff": a person's own certificate, named by their staff id (``…/staff/op-1001``):
# the gateway takes the operator from it, never from the request. "console": the web
# console, which signs people in and asserts who they are (allowed by the gateway's
# ``[clients] consoles`` list). Neither is an exchange participant.
KINDS = ("gateway", "agent", "audit", "client", "staff", "console")
DEPARTMENTS = (
    "public-security",
    "housing",
    "human-resources",
    "civil-affairs",
    "banks",
    "provident-fund",
    "market-regulation",
    "tax",
)

_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
_DOMAIN_RE = re.compile(rf"{_LABEL}(\.{_LABEL})*")
_NAME_RE = re.compile(_LABEL)
_MAX_DOMAIN = 255
_MAX_ID = 2048  # SPIFFE's limit on a whole id

#: grpc core's auth-context keys (src/core/lib/security/security_connector/ssl_utils.cc)
PEER_SPIFFE_ID_KEY = "peer_spiffe_id"
PEER_PEM_CERT_KEY = "x509_pem_cert"


@dataclass(frozen=True, slots=True)
class TrustDomain:
    """A validated trust domain, e.g. ``county.example`` (a lowercase DNS-like name)."""

    name: str

    def __post_init__(self) -> None:
        name = self.name
        if not isinstance(name, str) or not name:
            raise InvalidIdentity("the trust domain is empty; use a name like county.example")
        if len(name) > _MAX_DOMAIN or not _DOMAIN_RE.fullmatch(name):
            raise InvalidIdentity(
                f"trust domain {name!r} is not valid; use lowercase letters, digits, "
                "'-' and '.', like county.example"
            )

    def __str__(self) -> str:
        return self.name


class SpiffeId(NamedTuple):
    """A parsed id; a tuple ``(domain, kind, name)``."""

    domain: str
    kind: str
    name: str

    def __str__(self) -> str:
        return f"{SCHEME}{self.domain}/{self.kind}/{self.name}"


def _domain(domain: str | TrustDomain) -> str:
    return domain.name if isinstance(domain, TrustDomain) else TrustDomain(domain).name


def _make(domain: str | TrustDomain, kind: str, name: str) -> str:
    return str(parse_id(f"{SCHEME}{_domain(domain)}/{kind}/{name}"))


def gateway_id(domain: str | TrustDomain, name: str) -> str:
    """``spiffe://<domain>/gateway/<name>``."""
    return _make(domain, "gateway", name)


def agent_id(domain: str | TrustDomain, department: str) -> str:
    """``spiffe://<domain>/agent/<department>``; ``department`` is one of :data:`DEPARTMENTS`."""
    return _make(domain, "agent", department)


def client_id(domain: str | TrustDomain, name: str) -> str:
    """``spiffe://<domain>/client/<name>``: a verifier desk or a privacy officer's tool."""
    return _make(domain, "client", name)


def staff_id(domain: str | TrustDomain, staff: str) -> str:
    """``spiffe://<domain>/staff/<staff-id>``: one person's certificate."""
    return _make(domain, "staff", staff)


def console_id(domain: str | TrustDomain, name: str) -> str:
    """``spiffe://<domain>/console/<name>``: a console that asserts the person signed in."""
    return _make(domain, "console", name)


def audit_id(domain: str | TrustDomain, name: str = "log") -> str:
    """``spiffe://<domain>/audit/<name>``, the audit log service that signs checkpoints."""
    return _make(domain, "audit", name)


def parse_id(s: str) -> SpiffeId:
    """Split a hedui SPIFFE id into ``(domain, kind, name)``; raise InvalidIdentity if malformed."""
    if not isinstance(s, str) or not s.startswith(SCHEME):
        raise InvalidIdentity(f"{s!r} is not a SPIFFE id; expected spiffe://<domain>/<kind>/<name>")
    rest = s[len(SCHEME) :]
    if len(s) > _MAX_ID or any(c in rest for c in "?#%@: \t\r\n"):
        raise InvalidIdentity(
            f"{s!r} is not a valid SPIFFE id (no port, user, query, fragment or %-escapes)"
        )
    domain, _, path = rest.partition("/")
    TrustDomain(domain)
    parts = path.split("/")
    if len(parts) != 2 or not all(parts):
        raise InvalidIdentity(
            f"{s!r} must have exactly two path segments: spiffe://{domain}/<kind>/<name>"
        )
    kind, name = parts
    if kind not in KINDS:
        raise InvalidIdentity(f"{s!r} has kind {kind!r}; expected one of {', '.join(KINDS)}")
    if kind == "agent" and name not in DEPARTMENTS:
        raise InvalidIdentity(
            f"{s!r} names department {name!r}; expected one of {', '.join(DEPARTMENTS)}"
        )
    if not _NAME_RE.fullmatch(name):
        raise InvalidIdentity(
            f"{s!r} has name {name!r}; use lowercase letters, digits and '-' (a DNS label)"
        )
    return SpiffeId(domain, kind, name)


def tls_server_name(spiffe_id: str) -> str:
    """The DNS name ``<name>.<kind>.<domain>`` that stands for ``spiffe_id`` in TLS.

    Every certificate hedui issues carries it as a DNS SAN, so a client that dials with
    ``grpc.ssl_target_name_override`` set to it (:func:`hedui.keys.tls.channel_options`)
    has the TLS handshake itself check *which* participant answered, not just "some
    certificate from our CA" (grpc Python clients cannot read the server's SAN).
    """
    parsed = parse_id(spiffe_id)
    return f"{parsed.name}.{parsed.kind}.{parsed.domain}"


def spiffe_ids_of_certificate(cert: x509.Certificate) -> list[str]:
    """The ``spiffe://`` URI SANs of ``cert`` (a valid X509-SVID has exactly one)."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return [
        u for u in san.get_values_for_type(x509.UniformResourceIdentifier) if u.startswith(SCHEME)
    ]


def peer_identity(
    auth_context: Mapping[str, Sequence[bytes]], *, trust_domain: str | None = None
) -> str:
    """The authenticated peer's SPIFFE id from a grpc ``context.auth_context()``.

    grpc core sets ``peer_spiffe_id`` when the verified client certificate has exactly one
    spiffe URI SAN; otherwise the id is read from ``x509_pem_cert``. Raises
    UnauthenticatedPeer when there is no single valid id (or it is outside ``trust_domain``).
    """
    ids = [_text(v) for v in auth_context.get(PEER_SPIFFE_ID_KEY, ())]
    if not ids:
        for pem in auth_context.get(PEER_PEM_CERT_KEY, ())[:1]:
            try:
                cert = x509.load_pem_x509_certificate(bytes(pem))
            except ValueError:
                raise UnauthenticatedPeer("the peer's certificate cannot be parsed") from None
            ids = spiffe_ids_of_certificate(cert)
    if not ids:
        raise UnauthenticatedPeer(
            "the peer presented no certificate with a SPIFFE id; connect with mutual TLS "
            "using a certificate from `hedui keys issue`"
        )
    if len(ids) != 1:
        raise UnauthenticatedPeer("the peer's certificate carries more than one SPIFFE id")
    try:
        parsed = parse_id(ids[0])
    except InvalidIdentity as exc:
        raise UnauthenticatedPeer(f"the peer's identity is not valid: {exc}") from None
    if trust_domain is not None and parsed.domain != _domain(trust_domain):
        raise UnauthenticatedPeer(
            f"the peer {ids[0]} is outside trust domain {_domain(trust_domain)}"
        )
    return ids[0]


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes | bytearray) else value
