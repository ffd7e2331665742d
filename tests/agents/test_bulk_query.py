"""Bulk queries against a real public-security agent served in this process.

The agent is the one ``hedui agent serve`` builds (``hedui.agents.server.build``), its
service mounted on a grpc.aio server with mutual TLS on loopback, asked by the gateway's
certificate and key through ``hedui.gateway.bulk_client``. Chunks are kept small here so
a dozen households already make several; the agent process test is
tests/integration/test_bulk_exchange.py.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TypeVar

import grpc
import nacl.signing
import pytest

from hedui.agents import config as agent_config
from hedui.agents.bulk import BulkAnswerer
from hedui.agents.server import Agent, DepartmentAgentService, add_to_server, build
from hedui.audit.entries import decode
from hedui.audit.store import AuditLog
from hedui.gateway import sandbox
from hedui.gateway.agent_client import AgentCallFailed, AgentClient
from hedui.gateway.bulk_client import (
    BulkReply,
    HouseholdAnswer,
    HouseholdRefusal,
    HouseholdRequest,
    SignedBulkQuery,
    ask_bulk,
    build_bulk_query,
    sign_bulk_query,
)
from hedui.gateway.queries import SubjectRef, build_query, sign_query
from hedui.keys import keyfile, tls
from hedui.v1 import audit_pb2, query_pb2

pytestmark = pytest.mark.xdist_group("bulk-query-agent")

DEPT = "public-security"
FIELDS = ["household_registration.region_code", "vehicles.*.kind"]
CONSENT = "ab" * 32
T = TypeVar("T")


@dataclass
class Site:
    sb: sandbox.Sandbox
    agent: Agent
    gateway_key: nacl.signing.SigningKey
    checkpoint: str
    households: list[list[str]]  # the sample households' ID numbers

    @property
    def agent_id(self) -> str:
        return self.sb.agents[DEPT].id

    def entries(self) -> list[audit_pb2.AuditEntry]:
        log = self.agent.audit_log
        return [decode(log.leaf(i)) for i in range(log.size())]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("bulk")
    sb = sandbox.provision(root / "site", persons=40, departments=[DEPT])
    gateway_key = keyfile.load_signing_key(sb.gateway.signing_key)
    log = AuditLog.create(f"sqlite:///{root / 'gateway-audit.sqlite'}",
                          origin="county.example/gateway/audit",
                          key_name=sb.gateway.id.removeprefix("spiffe://"),
                          signing_key=gateway_key)
    log.append(b"first entry")
    note = log.checkpoint()
    log.close()
    samples = json.loads((sb.data_dir / "households.json").read_text())["samples"]
    households = [[m["id_number"] for m in h["members"]]
                  for group in samples.values() for h in group]
    agent = build(agent_config.load(sb.agent_config(DEPT)))
    try:
        yield Site(sb, agent, gateway_key, note, households)
    finally:
        agent.close()


@asynccontextmanager
async def serving(site: Site, chunk: int) -> AsyncIterator[AgentClient]:
    """The agent's gRPC service on a loopback port (mutual TLS), and a gateway client."""
    service = DepartmentAgentService(site.agent)
    service.bulk = BulkAnswerer(site.agent.answerer, chunk_households=chunk)
    server = grpc.aio.server()
    add_to_server(service, server)
    port = server.add_secure_port("127.0.0.1:0", tls.server_credentials(*site.agent.material))
    await server.start()
    client = AgentClient(DEPT, site.agent_id, f"127.0.0.1:{port}",
                         sandbox.gateway_material(site.sb), lambda: site.agent.trust.current)
    try:
        yield client
    finally:
        await client.close()
        await server.stop(None)
        service.committer.close()


def run(site: Site, body: Callable[[AgentClient], Awaitable[T]], chunk: int = 4) -> T:
    async def main() -> T:
        async with serving(site, chunk) as client:
            return await body(client)
    return asyncio.run(main())


def requests(site: Site, count: int) -> list[HouseholdRequest]:
    return [HouseholdRequest(f"hh-{i:04d}",
                             [SubjectRef(n) for n in site.households[i % len(site.households)]],
                             f"SQ-BULK-{i}", CONSENT) for i in range(count)]


def bulk(site: Site, households: list[HouseholdRequest], **overrides) -> SignedBulkQuery:
    args = dict(issuer=site.sb.gateway.id, audience=site.agent_id, run_id="rv-test",
                purpose="dibao", operator="op-1001", households=households,
                field_paths=FIELDS, audit_checkpoint=site.checkpoint)
    args.update(overrides)
    return sign_bulk_query(build_bulk_query(**args), site.gateway_key)


def ask(site: Site, signed: SignedBulkQuery, chunk: int = 4) -> BulkReply:
    return run(site, lambda c: ask_bulk(c, signed, timeout=20), chunk)


def test_every_household_is_answered_across_several_chunks(site: Site) -> None:
    households = requests(site, 13)
    signed = bulk(site, households)
    reply = ask(site, signed, chunk=4)
    assert len(reply.chunk_digests) == 4  # 4 + 4 + 4 + 1
    assert list(reply.households) == [h.household_ref for h in households]
    assert reply.refusals == {}
    found = 0
    for h in households:
        got = reply.households[h.household_ref]
        assert isinstance(got, HouseholdAnswer)
        assert got.answer.query_digest == signed.digest
        assert [s.id_number for s in got.answer.subjects] == [s.id_number for s in h.subjects]
        found += sum(s.status == query_pb2.SubjectAnswer.STATUS_FOUND
                     for s in got.answer.subjects)
        for s in got.answer.subjects:
            assert not s.record.public_security.household_registration.hukou_number
    assert found > 0
    assert got.chunk_digest == reply.chunk_digests[-1]
    assert reply.agent_checkpoint and reply.agent_log_key


def test_bad_households_are_refused_alone(site: Site) -> None:
    households = requests(site, 6)
    bad_id = site.households[0][0][:-1] + ("0" if site.households[0][0][-1] != "0" else "1")
    households[1] = HouseholdRequest("hh-bad-id", [SubjectRef(site.households[1][0]),
                                                   SubjectRef(bad_id)], "SQ-X", CONSENT)
    households[3] = HouseholdRequest("hh-no-auth", [SubjectRef(site.households[2][0])])
    households[4] = HouseholdRequest("hh-crowd", [SubjectRef(site.households[2][0])] * 21,
                                     "SQ-Y", CONSENT)
    before = len(site.entries())
    reply = ask(site, bulk(site, households))
    refused = {ref: r.reason for ref, r in reply.refusals.items()}
    assert refused == {"hh-bad-id": "MALFORMED_ID_NUMBER", "hh-no-auth": "AUTHORIZATION_MISSING",
                       "hh-crowd": "TOO_MANY_SUBJECTS"}
    assert bad_id not in reply.refusals["hh-bad-id"].detail  # a position, never the number
    assert set(reply.answers) == {"hh-0000", "hh-0002", "hh-0005"}
    (entry,) = site.entries()[before:]
    assert entry.kind == audit_pb2.AUDIT_KIND_BULK_QUERY_ANSWERED
    assert entry.outcome == audit_pb2.AUDIT_OUTCOME_PARTIAL
    assert "3 of 6 households refused" in entry.reason
    assert bad_id not in entry.reason


def test_field_restriction_is_the_single_querys(site: Site) -> None:
    paths = [*FIELDS, "vehicles.*.plate", "no_such_field"]
    person = site.households[0][0]
    single = sign_query(build_query(
        issuer=site.sb.gateway.id, audience=site.agent_id, case_id="case-test",
        purpose="dibao", operator="op-1001", subjects=[SubjectRef(person)], field_paths=paths,
        authorization_number="SQ-1", consent_digest=CONSENT, audit_checkpoint=site.checkpoint),
        site.gateway_key)
    signed = bulk(site, [HouseholdRequest("hh-1", [SubjectRef(person)], "SQ-1", CONSENT)],
                  field_paths=paths)

    async def both(client: AgentClient):
        return await client.ask(single, timeout=10), await ask_bulk(client, signed, timeout=10)

    one, many = run(site, both)
    got = many.households["hh-1"]
    assert isinstance(got, HouseholdAnswer)
    assert list(got.answer.withheld) == list(one.answer.withheld) == list(many.withheld)
    assert {w.path for w in many.withheld} == {"vehicles.*.plate", "no_such_field"}
    assert got.answer.subjects[0].record == one.answer.subjects[0].record

    outside = ["vehicles.*.plate"]
    single_out = sign_query(build_query(
        issuer=site.sb.gateway.id, audience=site.agent_id, case_id="case-test",
        purpose="dibao", operator="op-1001", subjects=[SubjectRef(person)],
        field_paths=outside, authorization_number="SQ-1", consent_digest=CONSENT,
        audit_checkpoint=site.checkpoint), site.gateway_key)
    bulk_out = bulk(site, [HouseholdRequest("hh-1", [SubjectRef(person)], "SQ-1", CONSENT)],
                    field_paths=outside)

    async def refusals(client: AgentClient) -> list[tuple[grpc.StatusCode, str]]:
        out = []
        for call in (client.ask(single_out, timeout=10), ask_bulk(client, bulk_out, timeout=10)):
            with pytest.raises(AgentCallFailed) as info:
                await call
            out.append((info.value.code, info.value.reason))
        return out

    a, b = run(site, refusals)
    assert a == b == (grpc.StatusCode.PERMISSION_DENIED, "FIELD_OUTSIDE_POLICY")


def test_too_many_households_is_refused_whole(site: Site) -> None:
    before = len(site.entries())
    signed = bulk(site, requests(site, 1001))

    async def body(client: AgentClient) -> AgentCallFailed:
        with pytest.raises(AgentCallFailed) as info:
            await ask_bulk(client, signed, timeout=20)
        return info.value

    failed = run(site, body)
    assert (failed.code, failed.reason) == (grpc.StatusCode.INVALID_ARGUMENT,
                                            "TOO_MANY_HOUSEHOLDS")
    (entry,) = site.entries()[before:]
    assert entry.kind == audit_pb2.AUDIT_KIND_BULK_QUERY_REFUSED
    assert entry.case_id == "rv-test" and not entry.subject_pseudonyms


def test_one_entry_names_every_subject_before_any_chunk(site: Site) -> None:
    households = requests(site, 9)
    before = len(site.entries())
    signed = bulk(site, households, now=dt.datetime.now(dt.UTC))

    async def first_chunk_then_log(client: AgentClient) -> int:
        call = client.answer_bulk_call(signed.envelope, timeout=10)
        await call.read()  # the first chunk: the entry is already durable
        logged = len(site.entries()) - before
        call.cancel()
        return logged

    assert run(site, first_chunk_then_log, chunk=2) == 1
    before = len(site.entries())
    signed = bulk(site, households, now=dt.datetime.now(dt.UTC))
    reply = ask(site, signed, chunk=2)
    assert len(reply.chunk_digests) == 5
    (entry,) = site.entries()[before:]
    assert entry.kind == audit_pb2.AUDIT_KIND_BULK_QUERY_ANSWERED
    assert entry.outcome == audit_pb2.AUDIT_OUTCOME_OK
    assert entry.case_id == "rv-test" and entry.query_id == signed.query.query_id
    assert entry.query_digest == signed.digest
    assert list(entry.field_paths) == sorted(FIELDS)
    pseudonymizer = site.agent.answerer.recorder.pseudonymizer
    asked = {s.id_number for h in households for s in h.subjects}
    assert set(entry.subject_pseudonyms) == {pseudonymizer.pseudonym(i) for i in asked}
    assert len(entry.subject_pseudonyms) == len(asked)
    raw = entry.SerializeToString()
    assert not any(i.encode() in raw for i in asked)
    assert isinstance(reply.households["hh-0000"], HouseholdAnswer)
    assert not isinstance(reply.households["hh-0000"], HouseholdRefusal)
