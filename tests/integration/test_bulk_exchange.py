"""The bulk exchange for real: a public-security agent process on loopback with mutual
TLS, asked about hundreds of households in ONE signed bulk query by the gateway's
identity, answering in a stream of signed chunks (200 households each). Whole-query
refusals are a single query's, to the status code and ErrorInfo reason; the agent logs
the bulk query once, naming every subject, and a person's access report finds it."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import grpc
import nacl.signing
import pytest
from agent_site import gateway_checkpoint, serving_agent

from hedui.agents.bulk import BULK_CHUNK_TYPE
from hedui.audit.entries import AccessRecorder, decode
from hedui.audit.pseudonym import Pseudonymizer
from hedui.audit.search import AuditQueries
from hedui.audit.store import AuditLog
from hedui.gateway import sandbox
from hedui.gateway.agent_client import AgentCallFailed, AgentClient
from hedui.gateway.bulk_client import (
    BulkAnswerRejected,
    HouseholdRequest,
    SignedBulkQuery,
    ask_bulk,
    build_bulk_query,
    sign_bulk_query,
    verify_bulk_chunks,
)
from hedui.gateway.queries import SubjectRef, build_query, sign_query
from hedui.keys import dsse, keyfile, signing, tls
from hedui.keys.bundle import TrustStore
from hedui.keys.secrets import load_secret
from hedui.status import reason_of
from hedui.v1 import agent_pb2_grpc, audit_pb2, bulk_pb2, envelope_pb2

DEPT = "public-security"
FIELDS = ["household_registration.region_code", "vehicles.*.kind"]
CONSENT = "cd" * 32


@dataclass
class Site:
    sb: sandbox.Sandbox
    material: tls.TlsMaterial
    gateway_key: nacl.signing.SigningKey
    checkpoint: str
    households: list[list[str]]
    trust: TrustStore

    @property
    def agent_id(self) -> str:
        return self.sb.agents[DEPT].id

    @property
    def state(self) -> Path:
        return self.sb.agent_config(DEPT).parent / "state"

    def client(self) -> AgentClient:
        return AgentClient(DEPT, self.agent_id, self.sb.endpoints[DEPT], self.material,
                           lambda: self.trust.current)

    def stub(self, channel: grpc.Channel) -> agent_pb2_grpc.DepartmentAgentStub:
        return agent_pb2_grpc.DepartmentAgentStub(channel)

    def channel(self) -> grpc.Channel:
        return grpc.secure_channel(self.sb.endpoints[DEPT],
                                   tls.channel_credentials(*self.material),
                                   options=tls.channel_options(self.agent_id))

    def entries(self) -> list[audit_pb2.AuditEntry]:
        key = keyfile.load_signing_key(self.state / "audit-log.key")
        name = self.agent_id.removeprefix("spiffe://")
        log = AuditLog.open(f"sqlite:///{self.state / 'audit.sqlite'}", origin=f"{name}/audit",
                            key_name=name, verify_key=key.verify_key)
        try:
            return [decode(log.leaf(i)) for i in range(log.size())]
        finally:
            log.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("bulkx")
    sb = sandbox.provision(root / "site", persons=60, departments=[DEPT])
    gateway_key, note = gateway_checkpoint(sb, root)
    trust = TrustStore(signing.read_public_key(sb.root_public_key))
    trust.load(sb.bundle, dt.datetime.now(dt.UTC))
    samples = json.loads((sb.data_dir / "households.json").read_text())["samples"]
    households = [[m["id_number"] for m in h["members"]]
                  for group in samples.values() for h in group]
    with serving_agent(sb, DEPT) as (material, _process):
        yield Site(sb, material, gateway_key, note, households, trust)


def requests(site: Site, count: int) -> list[HouseholdRequest]:
    return [HouseholdRequest(f"roster-{i:05d}",
                             [SubjectRef(n) for n in site.households[i % len(site.households)]],
                             f"SQ-RV-{i}", CONSENT) for i in range(count)]


def bulk(site: Site, households: list[HouseholdRequest], **overrides) -> SignedBulkQuery:
    args = dict(issuer=site.sb.gateway.id, audience=site.agent_id, run_id="rv-2025-q1",
                purpose="dibao", operator="op-1001", households=households,
                field_paths=FIELDS, audit_checkpoint=site.checkpoint)
    args.update(overrides)
    return sign_bulk_query(build_bulk_query(**args), site.gateway_key)


def single(site: Site, **overrides):
    args = dict(issuer=site.sb.gateway.id, audience=site.agent_id, case_id="case-test",
                purpose="dibao", operator="op-1001", subjects=[SubjectRef(site.households[0][0])],
                field_paths=FIELDS, authorization_number="SQ-1", consent_digest=CONSENT,
                audit_checkpoint=site.checkpoint)
    args.update(overrides)
    return sign_query(build_query(**args), site.gateway_key)


def ask(site: Site, signed: SignedBulkQuery):
    async def main():
        client = site.client()
        try:
            return await ask_bulk(client, signed, timeout=30)
        finally:
            await client.close()
    return asyncio.run(main())


def raw_chunks(site: Site, envelope: envelope_pb2.Envelope) -> list[envelope_pb2.Envelope]:
    with site.channel() as channel:
        return list(site.stub(channel).AnswerBulk(envelope, timeout=30))


def refusal(site: Site, envelope: envelope_pb2.Envelope, *, bulk_rpc: bool) -> tuple:
    with site.channel() as channel, pytest.raises(grpc.RpcError) as info:
        stub = site.stub(channel)
        if bulk_rpc:
            list(stub.AnswerBulk(envelope, timeout=10))
        else:
            stub.Answer(envelope, timeout=10)
    return info.value.code(), reason_of(info.value).reason


# ------------------------------------------------------------------ answers


def test_hundreds_of_households_in_one_query_and_three_chunks(site: Site) -> None:
    households = requests(site, 450)
    before = len(site.entries())
    reply = ask(site, bulk(site, households))
    assert len(reply.chunk_digests) == 3  # 200 + 200 + 50
    assert list(reply.households) == [h.household_ref for h in households]
    assert not reply.refusals and len(reply.answers) == 450
    assert reply.signer == site.agent_id
    (entry,) = site.entries()[before:]  # one entry for 450 households
    assert entry.kind == audit_pb2.AUDIT_KIND_BULK_QUERY_ANSWERED
    pseudonymizer = Pseudonymizer(load_secret(site.sb.pseudonym_key))
    asked = {s.id_number for h in households for s in h.subjects}
    assert sorted(entry.subject_pseudonyms) == sorted(pseudonymizer.pseudonym(i) for i in asked)


def test_refused_households_do_not_fail_the_rest(site: Site) -> None:
    households = requests(site, 5)
    good = site.households[3][0]
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    households[0] = HouseholdRequest("roster-bad", [SubjectRef(bad)], "SQ-B", CONSENT)
    households[2] = HouseholdRequest("roster-unauthorized", [SubjectRef(good)])
    reply = ask(site, bulk(site, households))
    assert {r: x.reason for r, x in reply.refusals.items()} == {
        "roster-bad": "MALFORMED_ID_NUMBER", "roster-unauthorized": "AUTHORIZATION_MISSING"}
    assert set(reply.answers) == {"roster-00001", "roster-00003", "roster-00004"}
    assert site.entries()[-1].outcome == audit_pb2.AUDIT_OUTCOME_PARTIAL


def test_field_paths_are_restricted_as_in_a_single_query(site: Site) -> None:
    paths = [*FIELDS, "vehicles.*.plate"]
    one = single(site, field_paths=paths)

    async def main():
        client = site.client()
        try:
            return await client.ask(one, timeout=10)
        finally:
            await client.close()

    answer = asyncio.run(main()).answer
    person = site.households[0][0]
    reply = ask(site, bulk(site, [HouseholdRequest("r1", [SubjectRef(person)], "SQ-1", CONSENT)],
                           field_paths=paths))
    assert list(reply.withheld) == list(answer.withheld)
    assert [w.path for w in reply.withheld] == ["vehicles.*.plate"]
    assert reply.answers["r1"].answer.subjects[0].record == answer.subjects[0].record
    only_outside = ["vehicles.*.plate"]
    assert refusal(site, bulk(site, requests(site, 2), field_paths=only_outside).envelope,
                   bulk_rpc=True) == refusal(site, single(site, field_paths=only_outside).envelope,
                                             bulk_rpc=False)


# ------------------------------------------------------------------ whole-query refusals


def test_unsigned_wrong_audience_and_replay_refused_as_a_single_query(site: Site) -> None:
    before = len(site.entries())
    unsigned_bulk = envelope_pb2.Envelope(
        payload=bulk(site, requests(site, 2)).envelope.payload,
        payload_type=bulk(site, []).envelope.payload_type)
    unsigned_one = envelope_pb2.Envelope(payload=single(site).envelope.payload,
                                         payload_type=dsse.QUERY_TYPE)
    got = refusal(site, unsigned_bulk, bulk_rpc=True)
    assert got == refusal(site, unsigned_one, bulk_rpc=False)
    assert got == (grpc.StatusCode.UNAUTHENTICATED, "UNSIGNED_ENVELOPE")

    other = "spiffe://county.example/agent/banks"
    got = refusal(site, bulk(site, requests(site, 2), audience=other).envelope, bulk_rpc=True)
    assert got == refusal(site, single(site, audience=other).envelope, bulk_rpc=False)
    assert got == (grpc.StatusCode.PERMISSION_DENIED, "WRONG_AUDIENCE")

    replayed = bulk(site, requests(site, 2))
    assert len(raw_chunks(site, replayed.envelope)) == 1
    got = refusal(site, replayed.envelope, bulk_rpc=True)
    once = single(site)
    with site.channel() as channel:
        site.stub(channel).Answer(once.envelope, timeout=10)
    assert got == refusal(site, once.envelope, bulk_rpc=False)
    assert got == (grpc.StatusCode.ALREADY_EXISTS, "REPLAYED_NONCE")

    # a single query's envelope is not a bulk query
    assert refusal(site, single(site).envelope, bulk_rpc=True)[0] == \
        grpc.StatusCode.INVALID_ARGUMENT

    kinds = [e.kind for e in site.entries()[before:]]
    assert kinds.count(audit_pb2.AUDIT_KIND_BULK_QUERY_REFUSED) == 4
    assert kinds.count(audit_pb2.AUDIT_KIND_BULK_QUERY_ANSWERED) == 1


def test_ask_bulk_raises_agent_call_failed_on_a_whole_refusal(site: Site) -> None:
    with pytest.raises(AgentCallFailed) as info:
        ask(site, bulk(site, requests(site, 2), purpose="no-such-programme"))
    assert info.value.code == grpc.StatusCode.PERMISSION_DENIED
    assert info.value.reason == "PURPOSE_NOT_IN_POLICY"


# ------------------------------------------------------------------ the gateway's checks


def test_a_tampered_or_incomplete_stream_is_rejected(site: Site) -> None:
    signed = bulk(site, requests(site, 420))
    chunks = raw_chunks(site, signed.envelope)
    assert len(chunks) == 3
    now = dt.datetime.now(dt.UTC)
    check = dict(signed=signed, department=DEPT, bundle=site.trust.current, now=now)
    assert len(verify_bulk_chunks(chunks, **check).households) == 420

    tampered = envelope_pb2.Envelope()
    tampered.CopyFrom(chunks[1])
    chunk = bulk_pb2.BulkAnswerChunk.FromString(tampered.payload)
    chunk.households[0].refusal.reason = "MALFORMED_ID_NUMBER"  # hide a household's answer
    tampered.payload = chunk.SerializeToString()
    with pytest.raises(BulkAnswerRejected, match="bad signature"):
        verify_bulk_chunks([chunks[0], tampered, chunks[2]], **check)

    forged = dsse.sign(chunk.SerializeToString(), BULK_CHUNK_TYPE, signing.generate_signing_key())
    with pytest.raises(BulkAnswerRejected, match="bad signature"):
        verify_bulk_chunks([chunks[0], forged, chunks[2]], **check)
    with pytest.raises(BulkAnswerRejected, match="#1 was due"):
        verify_bulk_chunks([chunks[0], chunks[2]], **check)  # a chunk left out
    with pytest.raises(BulkAnswerRejected):
        verify_bulk_chunks([chunks[1], chunks[0], chunks[2]], **check)
    with pytest.raises(BulkAnswerRejected, match="without its last chunk"):
        verify_bulk_chunks(chunks[:2], **check)
    other = bulk(site, requests(site, 420))
    with pytest.raises(BulkAnswerRejected, match="another query"):
        verify_bulk_chunks(chunks, **{**check, "signed": other})


# ------------------------------------------------------------------ the access report


def test_a_persons_access_report_lists_the_bulk_query(site: Site, tmp_path: Path) -> None:
    signed = bulk(site, requests(site, 3), run_id="rv-report")
    ask(site, signed)
    copy = tmp_path / "agent-audit.sqlite"  # a snapshot: the agent's log has one writer
    with sqlite3.connect(site.state / "audit.sqlite") as src, sqlite3.connect(copy) as dst:
        src.backup(dst)
    name = site.agent_id.removeprefix("spiffe://")
    pseudonym_key = load_secret(site.sb.pseudonym_key)
    log = AuditLog.open(f"sqlite:///{copy}", origin=f"{name}/audit", key_name=name,
                        signing_key=keyfile.load_signing_key(site.state / "audit-log.key"),
                        pseudonym_key=pseudonym_key)
    try:
        recorder = AccessRecorder(log, actor="privacy-officer",
                                  pseudonymizer=Pseudonymizer(pseudonym_key))
        hits = AuditQueries(log, recorder).subject_report(site.households[0][0],
                                                          requested_by="po-1001")
    finally:
        log.close()
    bulk_hits = [h.entry for h in hits if h.entry.query_id == signed.query.query_id]
    assert [e.kind for e in bulk_hits] == [audit_pb2.AUDIT_KIND_BULK_QUERY_ANSWERED]
    assert bulk_hits[0].case_id == "rv-report"
