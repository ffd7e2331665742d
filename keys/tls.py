"""gRPC mutual-TLS credentials from hedui certificates.

Servers always require a client certificate from the center's CA: the peer's SPIFFE id
is how every hedui server knows who is calling (:func:`hedui.keys.identity.peer_identity`).
grpc takes unencrypted PEM keys only, so :func:`load_tls_material` decrypts a
passphrase-protected key file in memory after the usual 0600 check.
"""

from __future__ import annotations

import os
from typing import NamedTuple

import grpc

from hedui.keys._files import read_limited
from hedui.keys.errors import CertificateError, KeyFileError
from hedui.keys.identity import tls_server_name
from hedui.keys.keyfile import load_tls_private_key, private_key_pem

__all__ = [
    "TlsMaterial",
    "channel_credentials",
    "channel_options",
    "load_tls_material",
    "server_credentials",
]


class TlsMaterial(NamedTuple):
    """PEM bytes for one side of a connection: own chain, own key (unencrypted), CA roots."""

    cert_pem: bytes
    key_pem: bytes
    ca_pem: bytes


def load_tls_material(
    cert_path: str | os.PathLike[str],
    key_path: str | os.PathLike[str],
    ca_path: str | os.PathLike[str],
    passphrase: bytes | None = None,
) -> TlsMaterial:
    """Read certificate, private key (mode-checked, decrypted) and CA bundle files."""
    key = load_tls_private_key(key_path, passphrase)
    cert_pem = read_limited(cert_path)
    ca_pem = read_limited(ca_path)
    for path, pem in ((cert_path, cert_pem), (ca_path, ca_pem)):
        if b"-----BEGIN CERTIFICATE-----" not in pem:
            raise CertificateError(f"{path} holds no PEM certificate")
    return TlsMaterial(cert_pem, private_key_pem(key), ca_pem)


def _check(cert_pem: bytes, key_pem: bytes, ca_pem: bytes) -> None:
    if b"ENCRYPTED" in key_pem:
        raise KeyFileError(
            "grpc cannot use an encrypted TLS key; load it with load_tls_material(..., passphrase)"
        )
    if not (cert_pem and key_pem and ca_pem):
        raise ValueError("certificate, key and CA PEM must all be given")


def server_credentials(cert_pem: bytes, key_pem: bytes, ca_pem: bytes) -> grpc.ServerCredentials:
    """Server credentials that demand and verify a client certificate from ``ca_pem``."""
    _check(cert_pem, key_pem, ca_pem)
    return grpc.ssl_server_credentials(
        [(key_pem, cert_pem)], root_certificates=ca_pem, require_client_auth=True
    )


def channel_credentials(cert_pem: bytes, key_pem: bytes, ca_pem: bytes) -> grpc.ChannelCredentials:
    """Channel credentials presenting our certificate and trusting only ``ca_pem``.

    Pass :func:`channel_options` of the expected server id to the channel, so the
    handshake refuses any other participant's certificate.
    """
    _check(cert_pem, key_pem, ca_pem)
    return grpc.ssl_channel_credentials(
        root_certificates=ca_pem, private_key=key_pem, certificate_chain=cert_pem
    )


def channel_options(expected_server_id: str) -> list[tuple[str, str]]:
    """grpc channel options that make TLS check the server is ``expected_server_id``.

    Uses the DNS SAN every hedui certificate carries for its id
    (:func:`~hedui.keys.identity.tls_server_name`); the dialled address may then be any
    host name or IP.
    """
    return [("grpc.ssl_target_name_override", tls_server_name(expected_server_id))]
