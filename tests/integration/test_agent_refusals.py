"""The first slice, for real: a public-security agent process on loopback with mutual
TLS, asked by the gateway's identity. Each security rule has a test showing the attack
refused with its own gRPC status and a reason a department IT person understands."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import grpc
import nacl.signing
import pytest
from agent_site import first_person, gateway_checkpoint, serving_agent
from grpc_health.v1 import health_pb2, health_pb2_grpc

from hedui.audit.entries import decode
from hedui.audit.store import AuditLog
from hedui.gateway import sandbox
from hedui.gateway.answers import verify_answer
from hedui.gateway.queries import SubjectRef, build_query, sign_query
from hedui.keys import ca as ca_mod
from hedui.keys import dsse, keyfile, signing, tls
from hedui.keys.bundle import TrustStore
from hedui.status import reason_of
from hedui.v1 import agent_pb2_grpc, audit_pb2, envelope_pb2, query_pb2

DEPT = "public-security"
FIELDS = ["household_registration.region_code", "vehicles.*.kind",
          "vehicles.*.purchase_price_fen"]


@dataclass
class Site:
    sb: sandbox.Sandbox
    material: tls.TlsMaterial
    gateway_key: nacl.signing.SigningKey
    revoked_key: nacl.signing.SigningKey
    expired_key: nacl.signing.SigningKey
    checkpoint: str
    person: str
    trust: TrustStore

    @property
    def agent_id(self) -> str:
        return self.sb.agents[DEPT].id

    @property
    def endpoint(self) -> str:
        return self.sb.endpoints[DEPT]

    @property
    def agent_audit_db(self) -> str:
        return f"sqlite:///{self.sb.agent_config(DEPT).parent / 'state' / 'audit.sqlite'}"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("slice")
    extra = root / "extra"
    extra.mkdir()
    revoked, expired = signing.generate_signing_key(), signing.generate_signing_key()
    signing.write_public_key(extra / "revoked.pub", revoked)
    signing.write_public_key(extra / "expired.pub", expired)
    sb = sandbox.provision(
        root / "site", persons=60, departments=[DEPT],
        extra_gateway_keys=[
            sandbox.ExtraKey(extra / "revoked.pub", revoked_reason="key file lost"),
            sandbox.ExtraKey(extra / "expired.pub", not_before="2019-01-01T00:00:00Z",
                             not_after="2020-01-01T00:00:00Z"),
        ],
    )
    # the gateway's audit log, so queries carry a genuine signed checkpoint
    gateway_key, note = gateway_checkpoint(sb, root)
    trust = TrustStore(signing.read_public_key(sb.root_public_key))
    trust.load(sb.bundle, dt.datetime.now(dt.UTC))
    with serving_agent(sb, DEPT) as (material, _process):
        yield Site(sb, material, gateway_key, revoked, expired, note, first_person(sb), trust)


def make_query(site: Site, **overrides) -> query_pb2.Query:
    args = dict(
        issuer=site.sb.gateway.id, audience=site.agent_id, case_id="case-test",
        purpose="dibao", operator="op-1001", subjects=[SubjectRef(site.person, "测试")],
        field_paths=FIELDS, authorization_number="SQ-TEST-1", consent_digest="ab" * 32,
        audit_checkpoint=site.checkpoint,
    )
    args.update(overrides)
    return build_query(**args)


def call(site: Site, envelope: envelope_pb2.Envelope, *,
         credentials: grpc.ChannelCredentials | None = None,
         server_id: str | None = None) -> envelope_pb2.Envelope:
    creds = credentials or tls.channel_credentials(*site.material)
    options = tls.channel_options(server_id or site.agent_id)
    with grpc.secure_channel(site.endpoint, creds, options=options) as channel:
        return agent_pb2_grpc.DepartmentAgentStub(channel).Answer(envelope, timeout=10)


def refused(site: Site, envelope: envelope_pb2.Envelope, **kw) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as info:
        call(site, envelope, **kw)
    return info.value


# ------------------------------------------------------------------ happy path


def test_health_service_reports_serving_over_mutual_tls(site: Site) -> None:
    creds = tls.channel_credentials(*site.material)
    with grpc.secure_channel(site.endpoint, creds,
                             options=tls.channel_options(site.agent_id)) as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service="hedui.v1.DepartmentAgent"), timeout=5)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


def test_signed_query_gets_a_signed_answer_the_gateway_verifies(site: Site) -> None:
    signed = sign_query(make_query(site), site.gateway_key)
    answer_env = call(site, signed.envelope)
    verified = verify_answer(answer_env, query=signed.query, query_digest=signed.digest,
                             department=DEPT, bundle=site.trust.current,
                             now=dt.datetime.now(dt.UTC))
    assert verified.signer == site.agent_id
    assert verified.answer.query_digest == signed.digest
    assert [s.id_number for s in verified.answer.subjects] == [site.person]
    subject = verified.answer.subjects[0]
    assert subject.status == query_pb2.SubjectAnswer.STATUS_FOUND
    record = subject.record.public_security
    assert record.household_registration.region_code
    assert not record.household_registration.hukou_number  # not asked for: not released


def test_withheld_paths_are_listed_with_reasons(site: Site) -> None:
    signed = sign_query(make_query(site, field_paths=[*FIELDS, "vehicles.*.plate",
                                                      "no_such_field"]), site.gateway_key)
    answer = query_pb2.Answer()
    answer.ParseFromString(call(site, signed.envelope).payload)
    reasons = {w.path: w.reason for w in answer.withheld}
    assert reasons["vehicles.*.plate"] == query_pb2.Withheld.REASON_NOT_IN_POLICY
    assert reasons["no_such_field"] == query_pb2.Withheld.REASON_NO_SUCH_FIELD


# --------------------------------------------------------------- transport


def test_no_client_certificate_is_refused(site: Site) -> None:
    creds = grpc.ssl_channel_credentials(root_certificates=site.material.ca_pem)
    err = refused(site, sign_query(make_query(site), site.gateway_key).envelope,
                  credentials=creds)
    assert err.code() == grpc.StatusCode.UNAVAILABLE


def test_client_certificate_from_another_ca_is_refused(site: Site, tmp_path: Path) -> None:
    other_ca, other_key = ca_mod.create_ca("county.example")
    cert, key = ca_mod.issue_certificate(other_ca, other_key, site.sb.gateway.id)
    creds = tls.channel_credentials(
        ca_mod.certificate_pem(cert), keyfile.private_key_pem(key), site.material.ca_pem)
    err = refused(site, sign_query(make_query(site), site.gateway_key).envelope,
                  credentials=creds)
    assert err.code() == grpc.StatusCode.UNAVAILABLE


def test_plaintext_connection_is_refused(site: Site) -> None:
    """No plaintext port exists: a plaintext client cannot even start a call."""
    with grpc.insecure_channel(site.endpoint) as channel, pytest.raises(grpc.RpcError) as info:
        agent_pb2_grpc.DepartmentAgentStub(channel).Answer(
            sign_query(make_query(site), site.gateway_key).envelope, timeout=5)
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE


def test_oversized_message_is_refused(site: Site) -> None:
    query = make_query(site, subjects=[SubjectRef(site.person, "名" * 150_000)])
    err = refused(site, sign_query(query, site.gateway_key).envelope)
    assert err.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


# --------------------------------------------------------------- signatures


def test_unsigned_envelope_is_refused(site: Site) -> None:
    envelope = envelope_pb2.Envelope(payload=make_query(site).SerializeToString(),
                                     payload_type=dsse.QUERY_TYPE)
    err = refused(site, envelope)
    assert err.code() == grpc.StatusCode.UNAUTHENTICATED
    assert reason_of(err).reason == "UNSIGNED_ENVELOPE"


def test_signature_by_unknown_key_is_refused(site: Site) -> None:
    err = refused(site, sign_query(make_query(site), signing.generate_signing_key()).envelope)
    assert err.code() == grpc.StatusCode.UNAUTHENTICATED
    assert reason_of(err).reason == "UNKNOWN_KEY"


def test_signature_by_revoked_key_is_refused(site: Site) -> None:
    err = refused(site, sign_query(make_query(site), site.revoked_key).envelope)
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "revoked" in err.details().lower()


def test_signature_by_expired_key_is_refused(site: Site) -> None:
    err = refused(site, sign_query(make_query(site), site.expired_key).envelope)
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED


def test_tampered_payload_is_refused(site: Site) -> None:
    signed = sign_query(make_query(site), site.gateway_key)
    tampered = envelope_pb2.Envelope()
    tampered.CopyFrom(signed.envelope)
    query = make_query(site, purpose="dibao", field_paths=[*FIELDS, "vehicles.*.plate"])
    tampered.payload = query.SerializeToString()
    err = refused(site, tampered)
    assert err.code() == grpc.StatusCode.UNAUTHENTICATED
    assert reason_of(err).reason == "BAD_SIGNATURE"


def test_query_signed_by_an_agent_is_refused(site: Site) -> None:
    """Only a gateway may ask: an agent's certificate and key are not enough."""
    agent = site.sb.agents[DEPT]
    material = tls.load_tls_material(agent.tls_certificate, agent.tls_key,
                                     site.sb.ca_certificate)
    query = make_query(site, issuer=agent.id)
    envelope = sign_query(query, keyfile.load_signing_key(agent.signing_key)).envelope
    err = refused(site, envelope, credentials=tls.channel_credentials(*material))
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "not a gateway" in err.details()


# ------------------------------------------------------------------ the query


def test_query_for_another_agent_is_refused(site: Site) -> None:
    query = make_query(site, audience="spiffe://county.example/agent/banks")
    err = refused(site, sign_query(query, site.gateway_key).envelope)
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED
    assert reason_of(err).reason == "WRONG_AUDIENCE"


def test_expired_query_is_refused(site: Site) -> None:
    old = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=30)
    err = refused(site, sign_query(make_query(site, now=old), site.gateway_key).envelope)
    assert err.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert "expired" in err.details()


def test_replayed_nonce_is_refused(site: Site) -> None:
    envelope = sign_query(make_query(site), site.gateway_key).envelope
    call(site, envelope)
    err = refused(site, envelope)
    assert err.code() == grpc.StatusCode.ALREADY_EXISTS
    assert "replay" in err.details()


def test_purpose_not_in_policy_is_refused(site: Site) -> None:
    err = refused(site, sign_query(make_query(site, purpose="marketing"),
                                   site.gateway_key).envelope)
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED
    assert reason_of(err).reason == "PURPOSE_NOT_IN_POLICY"


def test_field_path_outside_policy_is_refused(site: Site) -> None:
    query = make_query(site, field_paths=["vehicles.*.plate",
                                          "household_registration.members"])
    err = refused(site, sign_query(query, site.gateway_key).envelope)
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED
    assert reason_of(err).reason == "FIELD_OUTSIDE_POLICY"


def test_malformed_id_number_is_refused_without_echoing_it(site: Site) -> None:
    bad = site.person[:-1] + ("0" if site.person[-1] != "0" else "1")
    err = refused(site, sign_query(make_query(site, subjects=[SubjectRef(bad)]),
                                   site.gateway_key).envelope)
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert reason_of(err).reason == "MALFORMED_ID_NUMBER"
    assert bad not in err.details()


def test_too_many_subjects_are_refused(site: Site) -> None:
    query = make_query(site, subjects=[SubjectRef(site.person)] * 21)
    err = refused(site, sign_query(query, site.gateway_key).envelope)
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert reason_of(err).reason == "TOO_MANY_SUBJECTS"


def test_every_refusal_and_answer_is_in_the_agents_audit_log(site: Site) -> None:
    """Runs last in this module: the log holds the refusals above, and no ID number."""
    key_file = site.sb.agent_config(DEPT).parent / "state" / "audit-log.key"
    key = keyfile.load_signing_key(key_file)  # the log's own key, not the exchange key
    log = AuditLog.open(site.agent_audit_db, origin=f"{site.agent_id[9:]}/audit",
                        key_name=site.agent_id[9:], verify_key=key.verify_key)
    try:
        log.verify_all()
        entries = [decode(log.leaf(i)) for i in range(log.size())]
    finally:
        log.close()
    kinds = [e.kind for e in entries]
    assert audit_pb2.AUDIT_KIND_QUERY_ANSWERED in kinds
    assert kinds.count(audit_pb2.AUDIT_KIND_QUERY_REFUSED) >= 10
    raw = b"".join(e.SerializeToString() for e in entries)
    assert site.person.encode() not in raw
    assert "测试".encode() not in raw
