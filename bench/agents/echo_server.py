"""Baseline for bench/agents/throughput.py: the same gRPC service over the same mutual
TLS, returning each envelope unchanged — the raw cost of the transport in this runtime."""

from __future__ import annotations

import asyncio
import sys

import grpc

from hedui.keys import tls
from hedui.v1 import agent_pb2_grpc


class Echo(agent_pb2_grpc.DepartmentAgentServicer):
    async def Answer(self, request, context):
        return request


async def main(listen: str, cert: str, key: str, ca: str) -> None:
    material = tls.load_tls_material(cert, key, ca)
    server = grpc.aio.server()
    agent_pb2_grpc.add_DepartmentAgentServicer_to_server(Echo(), server)
    server.add_secure_port(listen, tls.server_credentials(*material))
    await server.start()
    print("ready", flush=True)
    await server.wait_for_termination()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
