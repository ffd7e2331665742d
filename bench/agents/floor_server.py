"""The agent floor, for bench/agents/throughput.py and the gateway benches' floor run: the
least any conforming agent must do per query in this runtime, with none of hedui's own
checks, lookup or audit.

    floor_server.py AGENT_CONFIG

On the agent's endpoint, certificate and keys: verify the query envelope's signature
against the trust bundle (as an agent must before reading it), wait once on the event
loop (an agent must wait for its durable audit entry before it answers; here the wait
costs nothing but the suspension itself) and sign a reply over the query's payload
with the agent's key. No replay check, no policy, no database, no fsync.

If this floor cannot reach a throughput target on a machine, no agent written for this
runtime can: the gap between the floor and the agent is what hedui's own work costs.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys

import grpc

from hedui.agents import config as config_mod
from hedui.keys import dsse, keyfile, tls
from hedui.keys.bundle import TrustStore
from hedui.keys.signing import read_public_key
from hedui.v1 import agent_pb2_grpc, envelope_pb2


class Floor(agent_pb2_grpc.DepartmentAgentServicer):
    def __init__(self, trust: TrustStore, key) -> None:
        self._trust = trust
        self._key = key

    async def Answer(self, request: envelope_pb2.Envelope, context) -> envelope_pb2.Envelope:
        now = dt.datetime.now(dt.UTC)
        dsse.verify(request, self._trust.current, payload_type=dsse.QUERY_TYPE, now=now)
        await asyncio.sleep(0)  # the one wait every answer has: its durable audit entry
        return dsse.sign(request.payload, dsse.ANSWER_TYPE, self._key)


async def main(config_path: str) -> None:
    cfg = config_mod.load(config_path)
    trust = TrustStore(read_public_key(cfg.root_public_key))
    trust.load(cfg.bundle, dt.datetime.now(dt.UTC))
    key = keyfile.load_signing_key(cfg.signing_key)
    material = tls.load_tls_material(cfg.tls_certificate, cfg.tls_key, cfg.tls_ca)
    server = grpc.aio.server()
    agent_pb2_grpc.add_DepartmentAgentServicer_to_server(Floor(trust, key), server)
    if server.add_secure_port(cfg.listen, tls.server_credentials(*material)) == 0:
        raise SystemExit(f"cannot listen on {cfg.listen}")
    await server.start()
    print("ready", flush=True)
    await server.wait_for_termination()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
