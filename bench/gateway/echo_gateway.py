"""The raw-gRPC baseline for the gateway benches: the same 1 + 8 call pattern with no work.

    python echo_gateway.py agent   LISTEN CERT KEY CA
    python echo_gateway.py gateway LISTEN CERT KEY CA AGENTS_JSON

``agent`` answers DepartmentAgent.Answer by returning the envelope it got. ``gateway``
serves the CaseService a verifier uses: RegisterAuthorization and OpenCase answer at
once, VerifyCase sends one envelope of a signed query's size to each of the agents in
AGENTS_JSON (``{department: [endpoint, spiffe_id]}``) at the same time over mutual TLS
and returns a Case listing the eight departments. Same grpc.aio runtime, same
certificates, same channel options as the real processes. Prints "ready".
"""

from __future__ import annotations

import asyncio
import json
import sys
import uuid

import grpc

from hedui.keys import tls
from hedui.v1 import agent_pb2_grpc, case_pb2, case_pb2_grpc, envelope_pb2

#: about the size of a signed query envelope for a 3-member household
QUERY_BYTES = 1500


class EchoAgent(agent_pb2_grpc.DepartmentAgentServicer):
    async def Answer(self, request, context):
        return request


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


async def main(mode: str, listen: str, cert: str, key: str, ca: str, agents: str = "") -> None:
    material = tls.load_tls_material(cert, key, ca)
    server = grpc.aio.server()
    if mode == "agent":
        agent_pb2_grpc.add_DepartmentAgentServicer_to_server(EchoAgent(), server)
    else:
        peers = {d: tuple(v) for d, v in json.loads(agents).items()}
        case_pb2_grpc.add_CaseServiceServicer_to_server(EchoGateway(peers, material), server)
    if server.add_secure_port(listen, tls.server_credentials(*material)) == 0:
        raise SystemExit(f"cannot listen on {listen}")
    await server.start()
    print("ready", flush=True)
    await server.wait_for_termination()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:]))
