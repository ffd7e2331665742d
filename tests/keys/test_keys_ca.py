"""The CA: certificates carry the SPIFFE id, chain to their CA only, and work for gRPC mTLS."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from concurrent import futures
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

from hedui.keys import ca, keyfile, tls
from hedui.keys.errors import CertificateNotTrusted, InvalidIdentity, KeyFileError
from hedui.keys.identity import peer_identity

D = "county.example"
BANKS = "spiffe://county.example/agent/banks"
GATEWAY = "spiffe://county.example/gateway/center"
NOW = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def county_ca() -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    return ca.create_ca(D, now=NOW)


def _san(cert: x509.Certificate) -> x509.SubjectAlternativeName:
    return cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value


def test_ca_is_a_ca(county_ca: tuple) -> None:
    cert, _ = county_ca
    bc = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and bc.value.ca and bc.value.path_length == 0
    assert cert.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign
    assert ca.trust_domain_of_ca(cert) == D


def test_certificate_carries_spiffe_uri_san(county_ca: tuple) -> None:
    cert, key = ca.issue_certificate(*county_ca, BANKS, dns_names=("agent.bank.example",), now=NOW)
    san = _san(cert)
    assert san.get_values_for_type(x509.UniformResourceIdentifier) == [BANKS]
    assert san.get_values_for_type(x509.DNSName) == [
        "banks.agent.county.example",
        "agent.bank.example",
    ]
    assert san.get_values_for_type(x509.IPAddress) == []
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert set(eku) == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert cert.public_key().public_numbers() == key.public_key().public_numbers()


def test_loopback_names_only_when_asked(county_ca: tuple) -> None:
    """A production certificate must not also stand for whatever answers on localhost."""
    plain, _ = ca.issue_certificate(*county_ca, BANKS, now=NOW)
    assert _san(plain).get_values_for_type(x509.DNSName) == ["banks.agent.county.example"]
    assert _san(plain).get_values_for_type(x509.IPAddress) == []
    trial, _ = ca.issue_certificate(*county_ca, BANKS, dns_names=("localhost",),
                                    ip_addresses=("127.0.0.1", "::1"), now=NOW)
    assert _san(trial).get_values_for_type(x509.DNSName) == [
        "banks.agent.county.example", "localhost"]
    assert _san(trial).get_values_for_type(x509.IPAddress) == [
        ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")]


def test_certificate_verifies_against_its_ca(county_ca: tuple) -> None:
    cert, _ = ca.issue_certificate(*county_ca, BANKS, now=NOW)
    assert ca.verify_certificate(cert, [county_ca[0]], now=NOW + timedelta(days=1)) == BANKS


def test_certificate_from_another_ca_does_not_chain(county_ca: tuple) -> None:
    rogue_cert, rogue_key = ca.create_ca(D, now=NOW)  # same name, different key
    cert, _ = ca.issue_certificate(rogue_cert, rogue_key, BANKS, now=NOW)
    with pytest.raises(CertificateNotTrusted):
        ca.verify_certificate(cert, [county_ca[0]], now=NOW + timedelta(days=1))


def test_expired_certificate_does_not_chain(county_ca: tuple) -> None:
    cert, _ = ca.issue_certificate(*county_ca, BANKS, days=1, now=NOW)
    with pytest.raises(CertificateNotTrusted):
        ca.verify_certificate(cert, [county_ca[0]], now=NOW + timedelta(days=2))


def test_certificate_never_outlives_ca() -> None:
    short_ca = ca.create_ca(D, now=NOW, days=10)
    cert, _ = ca.issue_certificate(*short_ca, BANKS, days=397, now=NOW)
    assert cert.not_valid_after_utc <= short_ca[0].not_valid_after_utc


def test_ca_refuses_id_of_another_trust_domain(county_ca: tuple) -> None:
    with pytest.raises(InvalidIdentity, match="outside the CA's trust domain"):
        ca.issue_certificate(*county_ca, "spiffe://other.example/agent/banks", now=NOW)


def test_fingerprint_is_sha256_of_der(county_ca: tuple) -> None:
    import hashlib

    from cryptography.hazmat.primitives.serialization import Encoding

    cert = county_ca[0]
    der = cert.public_bytes(Encoding.DER)
    assert ca.cert_fingerprint(cert) == hashlib.sha256(der).hexdigest()
    assert ca.cert_fingerprint(der) == ca.cert_fingerprint(ca.certificate_pem(cert))


def test_certificate_files_round_trip(tmp_path: Path, county_ca: tuple) -> None:
    path = ca.write_certificate(tmp_path / "ca.crt", county_ca[0])
    assert ca.load_certificate(path) == county_ca[0]


# --- gRPC mutual TLS on loopback ---------------------------------------------------------


@pytest.fixture(scope="module")
def mtls_server(county_ca: tuple) -> Iterator[tuple[int, bytes]]:
    """A server that answers with the caller's SPIFFE id, as every hedui server learns it."""
    now = datetime.now(UTC)
    cert, key = ca.issue_certificate(*county_ca, BANKS, now=now)

    def whoami(request: bytes, context: grpc.ServicerContext) -> bytes:
        return peer_identity(context.auth_context()).encode()

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    handler = grpc.unary_unary_rpc_method_handler(whoami)
    server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler("t.T", {"Who": handler})])
    ca_pem = ca.certificate_pem(county_ca[0])
    creds = tls.server_credentials(ca.certificate_pem(cert), keyfile.private_key_pem(key), ca_pem)
    port = server.add_secure_port("127.0.0.1:0", creds)
    server.start()
    yield port, ca_pem
    server.stop(None)


def _call(port: int, creds: grpc.ChannelCredentials, options: list | None = None) -> bytes:
    with grpc.secure_channel(f"127.0.0.1:{port}", creds, options=options or []) as channel:
        return channel.unary_unary("/t.T/Who")(b"", timeout=5)


def test_mtls_server_learns_client_spiffe_id(mtls_server: tuple, county_ca: tuple) -> None:
    port, ca_pem = mtls_server
    cert, key = ca.issue_certificate(*county_ca, GATEWAY, now=datetime.now(UTC))
    creds = tls.channel_credentials(ca.certificate_pem(cert), keyfile.private_key_pem(key), ca_pem)
    assert _call(port, creds, tls.channel_options(BANKS)) == GATEWAY.encode()


def test_mtls_without_loopback_sans_dialling_127_0_0_1(mtls_server: tuple,
                                                       county_ca: tuple) -> None:
    """hedui clients check the id's own name, so a server needs no loopback SAN; a client
    that checks the dialled address instead is refused (nothing stands for 127.0.0.1)."""
    port, ca_pem = mtls_server
    cert, key = ca.issue_certificate(*county_ca, GATEWAY, now=datetime.now(UTC))
    creds = tls.channel_credentials(ca.certificate_pem(cert), keyfile.private_key_pem(key), ca_pem)
    assert _call(port, creds, tls.channel_options(BANKS)) == GATEWAY.encode()
    with pytest.raises(grpc.RpcError) as err:
        _call(port, creds)
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE


def test_mtls_client_refuses_server_with_other_identity(
    mtls_server: tuple, county_ca: tuple
) -> None:
    port, ca_pem = mtls_server
    cert, key = ca.issue_certificate(*county_ca, GATEWAY, now=datetime.now(UTC))
    creds = tls.channel_credentials(ca.certificate_pem(cert), keyfile.private_key_pem(key), ca_pem)
    with pytest.raises(grpc.RpcError) as err:
        _call(port, creds, tls.channel_options("spiffe://county.example/agent/tax"))
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE


def test_mtls_server_refuses_client_from_another_ca(mtls_server: tuple) -> None:
    port, ca_pem = mtls_server
    rogue = ca.create_ca(D)
    cert, key = ca.issue_certificate(*rogue, GATEWAY)
    creds = tls.channel_credentials(ca.certificate_pem(cert), keyfile.private_key_pem(key), ca_pem)
    with pytest.raises(grpc.RpcError) as err:  # the server's name is right: the client is refused
        _call(port, creds, tls.channel_options(BANKS))
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE


def test_tls_material_from_encrypted_key_file(tmp_path: Path, county_ca: tuple) -> None:
    cert, key = ca.issue_certificate(*county_ca, GATEWAY, now=NOW)
    ca.write_certificate(tmp_path / "tls.crt", cert)
    ca.write_certificate(tmp_path / "ca.crt", county_ca[0])
    keyfile.write_private_key(tmp_path / "tls.key", key, b"pw")
    material = tls.load_tls_material(
        tmp_path / "tls.crt", tmp_path / "tls.key", tmp_path / "ca.crt", b"pw"
    )
    assert b"ENCRYPTED" not in material.key_pem
    tls.channel_credentials(*material)
    with pytest.raises(KeyFileError, match="encrypted"):
        tls.server_credentials(
            material.cert_pem, keyfile.private_key_pem(key, b"pw"), material.ca_pem
        )
