"""What a refused query may write into a department's log, and what every refusal says.

A real public-security agent process on loopback with mutual TLS. Whoever holds a
certificate can send anything; the agent's log must keep only what it verified (the TLS
peer, the payload digest, the reason code) and, of a query whose signature verified,
fields that pass a strict grammar. Every malformed input is INVALID_ARGUMENT with an
``ErrorInfo`` reason, logged as a refusal; nothing echoed is unbounded. A query whose
paths all name fields the record lacks is refused, not answered "not found".
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import grpc
import nacl.signing
import pytest
from agent_site import first_person, gateway_checkpoint, serving_agent

from hedui.audit.entries import decode
from hedui.audit.store import AuditLog
from hedui.gateway import sandbox
from hedui.gateway.queries import SubjectRef, build_query, sign_query
from hedui.keys import dsse, keyfile, tls
from hedui.status import reason_of
from hedui.v1 import agent_pb2_grpc, audit_pb2, audit_pb2_grpc, envelope_pb2, query_pb2

DEPT = "public-security"
FIELDS = ["household_registration.region_code", "vehicles.*.kind"]
#: synthetic (GB 11643 example), never a real person's
PLANTED_ID = "11010519491231002X"
PLANTED_NAME = "张伟明"


@dataclass
class Site:
    sb: sandbox.Sandbox
    material: tls.TlsMaterial
    gateway_key: nacl.signing.SigningKey
    checkpoint: str
    person: str

    @property
    def agent_id(self) -> str:
        return self.sb.agents[DEPT].id

    def channel(self, material: tls.TlsMaterial | None = None) -> grpc.Channel:
        return grpc.secure_channel(self.sb.endpoints[DEPT],
                                   tls.channel_credentials(*(material or self.material)),
                                   options=tls.channel_options(self.agent_id))

    def entries(self) -> list[audit_pb2.AuditEntry]:
        state = self.sb.agent_config(DEPT).parent / "state"
        key = keyfile.load_signing_key(state / "audit-log.key")
        name = self.agent_id.removeprefix("spiffe://")
        log = AuditLog.open(f"sqlite:///{state / 'audit.sqlite'}", origin=f"{name}/audit",
                            key_name=name, verify_key=key.verify_key)
        try:
            return [decode(log.leaf(i)) for i in range(log.size())]
        finally:
            log.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("logref")
    sb = sandbox.provision(root / "site", persons=40, departments=[DEPT])
    gateway_key, note = gateway_checkpoint(sb, root)
    with serving_agent(sb, DEPT) as (material, _process):
        yield Site(sb, material, gateway_key, note, first_person(sb))
    text = (sb.logs / f"agent-{DEPT}.log").read_text(encoding="utf-8")
    assert PLANTED_ID not in text and PLANTED_NAME not in text  # the program log too


def query(site: Site, **overrides) -> query_pb2.Query:
    args = dict(issuer=site.sb.gateway.id, audience=site.agent_id, case_id="case-log",
                purpose="dibao", operator="op-1001", subjects=[SubjectRef(site.person)],
                field_paths=FIELDS, authorization_number="SQ-LOG-1",
                consent_digest="ab" * 32, audit_checkpoint=site.checkpoint)
    args.update(overrides)
    return build_query(**args)


def send(site: Site, data: bytes | envelope_pb2.Envelope) -> grpc.RpcError:
    raw = data if isinstance(data, bytes) else data.SerializeToString()
    with site.channel() as channel, pytest.raises(grpc.RpcError) as info:
        channel.unary_unary("/hedui.v1.DepartmentAgent/Answer")(raw, timeout=10)
    return info.value


def refusal_of(site: Site, payload: bytes) -> audit_pb2.AuditEntry:
    digest = hashlib.sha256(payload).digest()
    found = [e for e in site.entries() if e.query_digest == digest]
    assert len(found) == 1, "every refusal is in the agent's log, once"
    assert found[0].kind == audit_pb2.AUDIT_KIND_QUERY_REFUSED
    return found[0]


# ------------------------------------------------ item 3: what a refusal may write


def test_a_forged_query_plants_nothing_in_the_departments_log(site: Site) -> None:
    """Old code stored the unverified payload's operator, case id, query id and purpose."""
    forged = query(site, operator=PLANTED_ID, case_id=PLANTED_NAME, purpose=PLANTED_ID,
                   query_id=f"{PLANTED_NAME}-{PLANTED_ID}")
    envelope = sign_query(forged, nacl.signing.SigningKey.generate()).envelope  # unknown key
    err = send(site, envelope)
    assert err.code() == grpc.StatusCode.UNAUTHENTICATED
    assert reason_of(err).reason == "UNKNOWN_KEY"
    entry = refusal_of(site, envelope.payload)
    assert (entry.operator, entry.case_id, entry.query_id, entry.purpose) == ("", "", "", "")
    assert entry.reason == f"UNKNOWN_KEY (peer {site.sb.gateway.id})"
    raw = entry.SerializeToString()
    assert PLANTED_ID.encode() not in raw and PLANTED_NAME.encode() not in raw
    assert PLANTED_ID not in err.details() and PLANTED_NAME not in err.details()


def test_a_verified_refusal_logs_only_fields_that_pass_their_grammar(site: Site) -> None:
    good = query(site, authorization_number="", consent_digest="")  # CONSENT_MISSING
    signed = sign_query(good, site.gateway_key)
    assert reason_of(send(site, signed.envelope)).reason == "CONSENT_MISSING"
    entry = refusal_of(site, signed.envelope.payload)
    assert (entry.operator, entry.case_id, entry.purpose) == ("op-1001", "case-log", "dibao")
    assert entry.query_id == good.query_id

    planted = query(site, authorization_number="", consent_digest="", operator=PLANTED_ID,
                    case_id=f"case-{PLANTED_ID}", query_id=PLANTED_ID, purpose=PLANTED_NAME)
    signed = sign_query(planted, site.gateway_key)
    assert reason_of(send(site, signed.envelope)).reason == "PURPOSE_NOT_IN_POLICY"
    entry = refusal_of(site, signed.envelope.payload)
    assert (entry.operator, entry.case_id, entry.query_id, entry.purpose) == ("", "", "", "")


def test_a_huge_key_id_is_bounded_in_the_status_and_absent_from_the_log(site: Site) -> None:
    """A 100 KB key id once overflowed the status metadata (UNKNOWN, not a refusal)."""
    envelope = sign_query(query(site), site.gateway_key).envelope
    envelope.signatures[0].keyid = "k" * 100_000
    err = send(site, envelope)
    said = reason_of(err)
    assert err.code() == grpc.StatusCode.UNAUTHENTICATED and said.reason == "UNKNOWN_KEY"
    assert len(err.details()) <= 400
    assert "k" * 500 not in refusal_of(site, envelope.payload).SerializeToString().decode(
        errors="replace")


# --------------------------------------------------------------- item 4: statuses


def test_bytes_that_are_not_an_envelope_are_invalid_argument_and_logged(site: Site) -> None:
    """Old code: UNKNOWN with protobuf's DecodeError, and nothing in the log."""
    junk = b"\x0a\xff\xff\xff\xff\x0f" + b"\x00" * 10
    err = send(site, junk)
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert reason_of(err).reason == "MALFORMED_ENVELOPE"
    assert "Error" not in err.details() and "<class" not in err.details()
    assert refusal_of(site, junk).reason.startswith("MALFORMED_ENVELOPE")


@pytest.mark.parametrize("seconds", [2**62, -(2**62), 253_402_300_800])
def test_an_out_of_range_timestamp_is_invalid_argument_and_logged(site: Site,
                                                                  seconds: int) -> None:
    """Old code: UNKNOWN "Unexpected <class 'ValueError'>", and not logged."""
    q = query(site)
    q.expires_at.seconds = seconds
    signed = sign_query(q, site.gateway_key)
    err = send(site, signed.envelope)
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert reason_of(err).reason == "MALFORMED_TIMESTAMP"
    assert "ValueError" not in err.details()
    entry = refusal_of(site, signed.envelope.payload)
    assert entry.reason.startswith("MALFORMED_TIMESTAMP") and entry.query_id == q.query_id


def test_every_refusal_carries_its_reason_as_error_info(site: Site) -> None:
    err = send(site, sign_query(query(site, audience="spiffe://county.example/agent/banks"),
                                site.gateway_key).envelope)
    said = reason_of(err)
    assert said.reason == "WRONG_AUDIENCE" and said.metadata["department"] == DEPT
    assert not said.message.startswith("WRONG_AUDIENCE:")  # words for people, no prefix


# ---------------------------------------------------- item 5: no signed false "not found"


def test_paths_naming_no_field_are_refused_not_answered_not_found(site: Site) -> None:
    """Old code signed STATUS_NOT_FOUND ("holds nothing about this person") for a person
    the department holds, because nothing was read."""
    signed = sign_query(query(site, field_paths=["no_such_field", "vehicles.*.wings"]),
                        site.gateway_key)
    err = send(site, signed.envelope)
    said = reason_of(err)
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert said.reason == "NOTHING_RELEASABLE"
    assert said.metadata["no_such_field"] == "2"
    refusal_of(site, signed.envelope.payload)


def test_a_person_held_is_still_answered_found(site: Site) -> None:
    signed = sign_query(query(site, field_paths=[*FIELDS, "no_such_field"]), site.gateway_key)
    with site.channel() as channel:
        reply = agent_pb2_grpc.DepartmentAgentStub(channel).Answer(signed.envelope, timeout=10)
    assert reply.payload_type == dsse.ANSWER_TYPE
    answer = query_pb2.Answer.FromString(reply.payload)
    assert answer.subjects[0].status == query_pb2.SubjectAnswer.STATUS_FOUND
    assert answer.agent_checkpoint and answer.agent_log_key  # for the gateway to witness


# ------------------------------------------- item 7: the agent's log, served to gateways


def test_the_agents_audit_service_serves_gateways_only(site: Site) -> None:
    with site.channel() as channel:
        reply = audit_pb2_grpc.AuditServiceStub(channel).GetCheckpoint(
            audit_pb2.GetCheckpointRequest(), timeout=5)
    assert reply.checkpoint.startswith(f"{site.agent_id.removeprefix('spiffe://')}/audit\n")
    desk = site.sb.desk  # a CA-issued certificate, not a gateway
    material = tls.load_tls_material(desk.tls_certificate, desk.tls_key, site.sb.ca_certificate)
    with site.channel(material) as channel, pytest.raises(grpc.RpcError) as info:
        audit_pb2_grpc.AuditServiceStub(channel).GetConsistencyProof(
            audit_pb2.GetConsistencyProofRequest(first_size=1, second_size=2), timeout=5)
    assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert reason_of(info.value).reason == "PEER_NOT_ALLOWED"
