"""SPIFFE ids: building, parsing, refusing look-alikes, and reading the TLS peer."""

from __future__ import annotations

import pytest

from hedui.keys import identity
from hedui.keys.ca import certificate_pem, create_ca, issue_certificate
from hedui.keys.identity import InvalidIdentity, TrustDomain, UnauthenticatedPeer

D = "county.example"


def test_builders() -> None:
    assert identity.gateway_id(D, "center") == "spiffe://county.example/gateway/center"
    assert identity.agent_id(D, "banks") == "spiffe://county.example/agent/banks"
    assert identity.audit_id(TrustDomain(D)) == "spiffe://county.example/audit/log"
    assert identity.tls_server_name(identity.agent_id(D, "tax")) == "tax.agent.county.example"


def test_departments() -> None:
    assert len(identity.DEPARTMENTS) == 8
    for dep in identity.DEPARTMENTS:
        assert identity.parse_id(identity.agent_id(D, dep)) == (D, "agent", dep)


def test_parse_returns_tuple() -> None:
    domain, kind, name = identity.parse_id("spiffe://county.example/gateway/center")
    assert (domain, kind, name) == (D, "gateway", "center")


@pytest.mark.parametrize(
    "bad",
    [
        "https://county.example/agent/banks",
        "spiffe://county.example/agent/bank",  # not a department
        "spiffe://county.example/agent/banks/extra",
        "spiffe://county.example/agent/",
        "spiffe://county.example/agent",
        "spiffe://county.example//banks",
        "spiffe://County.Example/agent/banks",
        "spiffe://county.example:443/agent/banks",
        "spiffe://user@county.example/agent/banks",
        "spiffe://county.example/agent/banks?x=1",
        "spiffe://county.example/agent/banks#frag",
        "spiffe://county.example/agent/ban%6bs",
        "spiffe://county.example/root/banks",
        "spiffe://county.example/gateway/../agent",
        "spiffe:///agent/banks",
        "spiffe://county..example/agent/banks",
        "spiffe://county.example/gateway/Center",
        "spiffe://county.example/gateway/-center",
    ],
)
def test_lookalike_ids_refused(bad: str) -> None:
    with pytest.raises(InvalidIdentity):
        identity.parse_id(bad)


@pytest.mark.parametrize("bad", ["", "UPPER.example", "a_b.example", "-x.example", "x" * 300])
def test_bad_trust_domain(bad: str) -> None:
    with pytest.raises(InvalidIdentity):
        TrustDomain(bad)


def test_agent_id_refuses_unknown_department() -> None:
    with pytest.raises(InvalidIdentity, match="department"):
        identity.agent_id(D, "police")


def test_peer_identity_from_grpc_spiffe_key() -> None:
    ctx = {
        "peer_spiffe_id": [b"spiffe://county.example/agent/tax"],
        "transport_security_type": [b"ssl"],
    }
    assert identity.peer_identity(ctx) == "spiffe://county.example/agent/tax"


def test_peer_identity_falls_back_to_certificate() -> None:
    ca_cert, ca_key = create_ca(D)
    cert, _ = issue_certificate(ca_cert, ca_key, "spiffe://county.example/agent/housing")
    ctx = {"x509_pem_cert": [certificate_pem(cert)]}
    assert identity.peer_identity(ctx) == "spiffe://county.example/agent/housing"


def test_peer_without_certificate_is_unauthenticated() -> None:
    with pytest.raises(UnauthenticatedPeer, match="mutual TLS"):
        identity.peer_identity({"transport_security_type": [b"insecure"]})


def test_peer_with_two_spiffe_ids_is_unauthenticated() -> None:
    ctx = {
        "peer_spiffe_id": [
            b"spiffe://county.example/agent/tax",
            b"spiffe://county.example/agent/banks",
        ]
    }
    with pytest.raises(UnauthenticatedPeer):
        identity.peer_identity(ctx)


def test_peer_from_another_trust_domain() -> None:
    ctx = {"peer_spiffe_id": [b"spiffe://evil.example/gateway/center"]}
    assert identity.peer_identity(ctx) == "spiffe://evil.example/gateway/center"
    with pytest.raises(UnauthenticatedPeer, match="outside trust domain"):
        identity.peer_identity(ctx, trust_domain=D)


def test_peer_with_malformed_id_is_unauthenticated() -> None:
    with pytest.raises(UnauthenticatedPeer, match="not valid"):
        identity.peer_identity({"peer_spiffe_id": [b"spiffe://county.example/agent/bank"]})
