"""The center's certificate authority for mutual TLS: create it, issue X509-SVIDs, check them.

Certificates use ECDSA P-256 (fast, and every TLS stack speaks it). A participant's
certificate carries its SPIFFE id as URI SAN, the id's own DNS form
(``banks.agent.county.example``, which hedui clients check), DNS/IP SANs for the host
names the other side dials only when asked (never ``localhost`` by default), and both
serverAuth and clientAuth, since agents and gateways are each client and server.
The CA names its trust domain as its own URI SAN (``spiffe://<domain>``)
so that it refuses to issue ids of another domain.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

from hedui.keys._files import read_limited, write_atomic
from hedui.keys.errors import CertificateError, CertificateNotTrusted, InvalidIdentity
from hedui.keys.identity import (
    SCHEME,
    TrustDomain,
    parse_id,
    spiffe_ids_of_certificate,
    tls_server_name,
)
from hedui.keys.tls import channel_credentials, server_credentials

__all__ = [
    "CertificateError",
    "CertificateNotTrusted",
    "cert_fingerprint",
    "certificate_pem",
    "channel_credentials",
    "create_ca",
    "issue_certificate",
    "load_certificate",
    "load_certificates",
    "parse_certificates",
    "server_credentials",
    "trust_domain_of_ca",
    "verify_certificate",
    "write_certificate",
]

#: issued certificates start this much before ``now``, to tolerate clock skew between hosts
BACKDATE = timedelta(minutes=5)


def _now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("now must be a timezone-aware datetime")
    return now


def create_ca(
    trust_domain: str | TrustDomain, *, now: datetime | None = None, days: int = 3650
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A self-signed CA for ``trust_domain``, valid ``days`` from ``now``.

    The CA may only sign end-entity certificates (path length 0).
    """
    domain = TrustDomain(str(trust_domain)).name
    if days < 1:
        raise ValueError("days must be at least 1")
    start = _now(now) - BACKDATE
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "hedui"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"hedui CA {domain}"),
        ]
    )
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + BACKDATE + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .add_extension(
            x509.SubjectAlternativeName([x509.UniformResourceIdentifier(f"{SCHEME}{domain}")]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    return cert, key


def trust_domain_of_ca(ca_cert: x509.Certificate) -> str | None:
    """The trust domain a hedui CA names in its URI SAN, or None for a foreign CA."""
    try:
        san = ca_cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None
    for uri in san.get_values_for_type(x509.UniformResourceIdentifier):
        rest = uri[len(SCHEME) :] if uri.startswith(SCHEME) else ""
        if rest and "/" not in rest.rstrip("/"):
            return rest.rstrip("/")
    return None


def issue_certificate(
    ca_cert: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    spiffe_id: str,
    *,
    dns_names: Sequence[str] = (),
    ip_addresses: Sequence[str] = (),
    days: int = 397,
    now: datetime | None = None,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A TLS certificate (and new P-256 key) for ``spiffe_id``, signed by the CA.

    Besides ``dns_names`` it always names :func:`~hedui.keys.identity.tls_server_name`
    of the id, which clients use to check the server's identity during the handshake.
    No loopback name or address unless asked: a production certificate that also says
    ``localhost`` would be accepted for whatever a client reaches on its own host.

    Preconditions: ``spiffe_id`` is a valid hedui id in the CA's trust domain; the IP
    addresses parse; ``days`` >= 1. The certificate never outlives the CA.
    """
    parsed = parse_id(spiffe_id)
    ca_domain = trust_domain_of_ca(ca_cert)
    if ca_domain is not None and ca_domain != parsed.domain:
        raise InvalidIdentity(
            f"{spiffe_id} is outside the CA's trust domain {ca_domain}; use spiffe://{ca_domain}/..."
        )
    if days < 1:
        raise ValueError("days must be at least 1")
    try:
        ips = [ipaddress.ip_address(ip) for ip in ip_addresses]
    except ValueError as exc:
        raise CertificateError(f"not an IP address: {exc}") from None
    start = _now(now) - BACKDATE
    end = min(start + BACKDATE + timedelta(days=days), ca_cert.not_valid_after_utc)
    key = ec.generate_private_key(ec.SECP256R1())
    sans: list[x509.GeneralName] = [x509.UniformResourceIdentifier(spiffe_id)]
    dns = [tls_server_name(spiffe_id), *(d for d in dns_names if d != tls_server_name(spiffe_id))]
    sans += [x509.DNSName(d) for d in dns]
    sans += [x509.IPAddress(ip) for ip in ips]
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    cert = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, parsed.domain),
                    x509.NameAttribute(NameOID.COMMON_NAME, f"{parsed.kind}/{parsed.name}"),
                ]
            )
        )
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return cert, key


def verify_certificate(
    cert: x509.Certificate, ca_certs: Iterable[x509.Certificate], *, now: datetime
) -> str:
    """Check ``cert`` chains to a CA in ``ca_certs`` at ``now``; return its SPIFFE id.

    The same chain rules the TLS stack applies, usable offline (``hedui keys show``,
    tests, checking a pinned certificate before deployment). Raises CertificateNotTrusted.
    """
    if now.tzinfo is None:
        raise ValueError("now must be a timezone-aware datetime")
    roots = list(ca_certs)
    if not roots:
        raise CertificateNotTrusted("no CA certificate to check against")
    verifier = PolicyBuilder().store(Store(roots)).time(now).build_client_verifier()
    try:
        verifier.verify(cert, [])
    except VerificationError as exc:
        raise CertificateNotTrusted(f"the certificate does not chain to the CA: {exc}") from None
    ids = spiffe_ids_of_certificate(cert)
    if len(ids) != 1:
        raise CertificateNotTrusted("the certificate must carry exactly one SPIFFE id")
    return ids[0]


def cert_fingerprint(cert: x509.Certificate | bytes) -> str:
    """Lowercase hex SHA-256 of the DER certificate (as pinned in the trust bundle)."""
    if isinstance(cert, x509.Certificate):
        der = cert.public_bytes(serialization.Encoding.DER)
    elif bytes(cert).lstrip().startswith(b"-----BEGIN"):
        der = parse_certificates(bytes(cert))[0].public_bytes(serialization.Encoding.DER)
    else:
        der = bytes(cert)
    return hashlib.sha256(der).hexdigest()


def certificate_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def parse_certificates(data: bytes, source: str = "the data") -> list[x509.Certificate]:
    """Every certificate in PEM ``data`` (or a single DER certificate)."""
    try:
        if b"-----BEGIN CERTIFICATE-----" in data:
            return x509.load_pem_x509_certificates(data)
        return [x509.load_der_x509_certificate(data)]
    except ValueError:
        raise CertificateError(f"{source} holds no readable X.509 certificate") from None


def load_certificates(path: str | os.PathLike[str]) -> list[x509.Certificate]:
    """All certificates in a PEM file (a CA bundle may hold several)."""
    return parse_certificates(read_limited(path), str(path))


def load_certificate(path: str | os.PathLike[str]) -> x509.Certificate:
    """The first certificate in a PEM file (the leaf, for a chain file)."""
    return load_certificates(path)[0]


def write_certificate(
    path: str | os.PathLike[str],
    cert: x509.Certificate | Sequence[x509.Certificate],
    *,
    overwrite: bool = False,
) -> Path:
    """Write certificate(s) as PEM, mode 0644, atomically."""
    certs = [cert] if isinstance(cert, x509.Certificate) else list(cert)
    return write_atomic(
        path, b"".join(certificate_pem(c) for c in certs), mode=0o644, overwrite=overwrite
    )
