"""What an agent's own code costs per query, without gRPC: the server's answer path
(checks, lookup, mask, audit entry, durable batch commit, signature) driven directly,
next to the same path committing through a writer thread (the design it replaced).

    .venv/bin/python bench/agents/answer_path.py [--queries 3000] [--concurrency 64]

The difference between this figure and ``bench/agents/throughput.py`` is the gRPC
runtime (TLS, HTTP/2, grpc.aio's tasks) and what it does to the caches.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import agentbench
from agentbench import DEPT

from hedui.agents import config as config_mod
from hedui.agents import server
from hedui.keys import identity
from hedui.v1 import envelope_pb2


class PeerContext:
    """What the handler asks of a grpc.aio context: the peer, as mutual TLS gives it."""

    def __init__(self, gateway_id: str, certificate: bytes) -> None:
        self._auth = {identity.PEER_SPIFFE_ID_KEY: [gateway_id.encode()],
                      identity.PEER_PEM_CERT_KEY: [certificate]}

    def auth_context(self) -> dict:
        return self._auth

    async def abort(self, code: object, details: str) -> None:
        raise RuntimeError(f"refused: {details}")


def drive(answer: Callable[[envelope_pb2.Envelope], Awaitable[object]],
          envelopes: list[envelope_pb2.Envelope], concurrency: int,
          setup: Callable[[], None] | None = None) -> tuple[float, float]:
    """(queries/s, CPU ms per query) answering every envelope, ``concurrency`` at once."""

    async def run() -> tuple[float, float]:
        if setup is not None:
            setup()
        todo = iter(envelopes)

        async def worker() -> None:
            for env in todo:
                await answer(env)

        started, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - started
        return len(envelopes) / wall, (time.process_time() - cpu) / len(envelopes) * 1000

    return asyncio.run(run())


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--queries", type=int, default=3000)
    ap.add_argument("--concurrency", type=int, default=64)
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="hedui-bench-path-"))
    site = agentbench.provision(root, 2000)
    sb = site.sb
    n = args.queries
    print(f"signing {2 * n} queries ...", flush=True)
    baseline_envs, loop_envs = site.queries(n), site.queries(n, offset=n)
    cfg = config_mod.load(sb.agent_config(DEPT))
    ctx = PeerContext(sb.gateway.id, sb.gateway.tls_certificate.read_bytes())

    # baseline: claims written one by one, entries through the writer thread
    old = server.build(cfg)
    peer_id, fingerprint = server.peer(ctx.auth_context())

    async def through_writer_thread(env: envelope_pb2.Envelope) -> object:
        prepared = old.answerer.prepare(env, peer_id=peer_id, peer_cert_sha256=fingerprint)
        await asyncio.wrap_future(old.audit_log.append_future(prepared.entry))
        return old.answerer.release(prepared)

    b_rate, b_cpu = drive(through_writer_thread, baseline_envs, args.concurrency)
    old.close()

    # what `hedui agent serve` runs: the handler, committing on the loop
    agent = server.build(cfg, serving=True)
    service: list[server.DepartmentAgentService] = []

    def make_service() -> None:  # the committer belongs to the running loop
        service.append(server.DepartmentAgentService(agent))

    async def handler(env: envelope_pb2.Envelope) -> object:
        return await service[0].Answer(env, ctx)  # type: ignore[arg-type]

    a_rate, a_cpu = drive(handler, loop_envs, args.concurrency, setup=make_service)
    service[0].committer.close()
    agent.close()

    print(f"answer path, writer-thread commit (baseline): {b_rate:7.0f} queries/s "
          f"{b_cpu:6.3f} ms CPU per query")
    print(f"answer path, loop commit (the server's):      {a_rate:7.0f} queries/s "
          f"{a_cpu:6.3f} ms CPU per query   ({a_rate / b_rate:.2f} x baseline)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
