"""The raw-gRPC baseline for the gateway benches: the same 1 + 8 call pattern with no work,
and the floor: the same pattern with only the signatures and waits no design can skip.

    python echo_gateway.py agent   LISTEN CERT KEY CA
    python echo_gateway.py gateway LISTEN CERT KEY CA AGENTS_JSON
    python echo_gateway.py floor-gateway LISTEN CERT KEY CA AGENTS_JSON KEYS_JSON

``agent`` answers DepartmentAgent.Answer by returning the envelope it got. ``gateway``
serves the CaseService a verifier uses: RegisterAuthorization and OpenCase answer at
once, VerifyCase sends one envelope of a signed query's size to each of the agents in
AGENTS_JSON (``{department: [endpoint, spiffe_id]}``) at the same time over mutual TLS
and returns a Case listing the eight departments. Same grpc.aio runtime, same
certificates, same channel options as the real processes. Prints "ready".

``floor-gateway`` adds what any conforming gateway must do per household, however fast
the rest: it signs each query and verifies each answer's signature, waits once for its
queries' audit entries before sending and once for the answers' after, and signs a
report. Its agents are ``bench/agents/floor_server.py``. KEYS_JSON is ``{"self":
KEY_FILE, "peers": {department: KEY_FILE}}`` (the agents' public keys are taken from
their key files: a bench shortcut). Waits cost only the suspension (no fsync), so the
floor is generous.
"""

from __future__ import annotations

import asyncio
import json
import sys
import uuid

import grpc

from hedui.keys import dsse, keyfile, tls
from hedui.v1 import agent_pb2_grpc, case_pb2, case_pb2_grpc, envelope_pb2

#: about the size of a signed query envelope for a 3-member household
QUERY_BYTES = 1500


class EchoAgent(agent_pb2_grpc.DepartmentAgentServicer):
    async def Answer(self, request, context):
        return request


#: about the size of a signed determination report's payload
REPORT_BYTES = 6000


def _verify(envelope: envelope_pb2.Envelope, verify_key) -> None:
    signature = envelope.signatures[0].sig
    verify_key.verify(dsse.pae(envelope.payload_type, envelope.payload), bytes(signature))


class EchoGateway(case_pb2_grpc.CaseServiceServicer):
    def __init__(self, agents: dict[str, tuple[str, str]], material: tls.TlsMaterial) -> None:
        self.stubs = {}
        for department, (endpoint, server_id) in agents.items():
            channel = grpc.aio.secure_channel(endpoint, tls.channel_credentials(*material),
                                              options=tls.channel_options(server_id))
            self.stubs[department] = agent_pb2_grpc.DepartmentAgentStub(channel)
        self.envelope = envelope_pb2.Envelope(payload_type="application/vnd.hedui.query+proto",
                                              payload=b"q" * QUERY_BYTES)

    async def RegisterAuthorization(self, request, context):
        return request.authorization

    async def OpenCase(self, request, context):
        return case_pb2.Case(case_id=f"case-echo-{uuid.uuid4().hex[:12]}",
                             state=case_pb2.CASE_STATE_OPEN, programme=request.programme,
                             region=request.region, members=request.members,
                             authorization_number=request.authorization_number,
                             operator=request.operator)

    async def VerifyCase(self, request, context):
        replies = await asyncio.gather(*(stub.Answer(self.envelope, timeout=10)
                                         for stub in self.stubs.values()))
        case = case_pb2.Case(case_id=request.case_id, state=case_pb2.CASE_STATE_DECIDED,
                             outcome=case_pb2.OUTCOME_ELIGIBLE, operator=request.operator)
        for department, reply in zip(self.stubs, replies, strict=True):
            case.departments.add(department=department, answer_digest=reply.payload[:32],
                                 attempts=1)
        return case


class FloorGateway(EchoGateway):
    def __init__(self, agents: dict[str, tuple[str, str]], material: tls.TlsMaterial,
                 keys: dict) -> None:
        super().__init__(agents, material)
        self.key = keyfile.load_signing_key(keys["self"])
        self.agent_keys = {d: keyfile.load_signing_key(k).verify_key
                           for d, k in keys["peers"].items()}

    async def VerifyCase(self, request, context):
        queries = {d: dsse.sign(uuid.uuid4().bytes + b"q" * QUERY_BYTES, dsse.QUERY_TYPE,
                                self.key) for d in self.stubs}
        await asyncio.sleep(0)  # the queries' audit entries, durable before they leave
        replies = await asyncio.gather(*(stub.Answer(queries[d], timeout=10)
                                         for d, stub in self.stubs.items()))
        case = case_pb2.Case(case_id=request.case_id, state=case_pb2.CASE_STATE_DECIDED,
                             outcome=case_pb2.OUTCOME_ELIGIBLE, operator=request.operator)
        for department, reply in zip(self.stubs, replies, strict=True):
            _verify(reply, self.agent_keys[department])
            case.departments.add(department=department, answer_digest=reply.payload[:32],
                                 attempts=1)
        await asyncio.sleep(0)  # the answers' audit entries
        dsse.sign(b"r" * REPORT_BYTES, dsse.REPORT_TYPE, self.key)
        return case


async def main(mode: str, listen: str, cert: str, key: str, ca: str, *extra: str) -> None:
    material = tls.load_tls_material(cert, key, ca)
    server = grpc.aio.server()
    if mode == "agent":
        agent_pb2_grpc.add_DepartmentAgentServicer_to_server(EchoAgent(), server)
    else:
        peers = {d: tuple(v) for d, v in json.loads(extra[0]).items()}
        servicer = (EchoGateway(peers, material) if mode == "gateway"
                    else FloorGateway(peers, material, json.loads(extra[1])))
        case_pb2_grpc.add_CaseServiceServicer_to_server(servicer, server)
    if server.add_secure_port(listen, tls.server_credentials(*material)) == 0:
        raise SystemExit(f"cannot listen on {listen}")
    await server.start()
    print("ready", flush=True)
    await server.wait_for_termination()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:]))
