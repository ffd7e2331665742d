"""How many signed single-subject queries one agent process answers per second over
mutual TLS, next to a plain gRPC echo over the same TLS measured in the same run.

    .venv/bin/python bench/agents/throughput.py [--seconds 10] [--concurrency 64]

The client pre-signs every query before timing starts (signing is the gateway's cost,
not the agent's) and keeps ``concurrency`` calls in flight over one channel. Each query
carries the same audit checkpoint, as queries do between two checkpoint publications.
Target (issue 4): >= 1,500 answered queries/s on the 2-core machine.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import agentbench
import grpc
from agentbench import DEPT

from hedui.gateway import sandbox
from hedui.keys import tls
from hedui.v1 import agent_pb2_grpc

HERE = Path(__file__).resolve().parent


async def drive(endpoint: str, server_id: str, material: tls.TlsMaterial, envelopes: list,
                seconds: float, concurrency: int) -> tuple[int, int, float]:
    channel = grpc.aio.secure_channel(endpoint, tls.channel_credentials(*material),
                                      options=tls.channel_options(server_id))
    stub = agent_pb2_grpc.DepartmentAgentStub(channel)
    await stub.Answer(envelopes[0], timeout=10)  # warm the connection
    ok = failed = 0
    next_i = 1
    stop_at = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal ok, failed, next_i
        while time.perf_counter() < stop_at and next_i < len(envelopes):
            env = envelopes[next_i]
            next_i += 1
            try:
                await stub.Answer(env, timeout=10)
                ok += 1
            except grpc.aio.AioRpcError:
                failed += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    await channel.close()
    return ok, failed, elapsed


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--persons", type=int, default=2000)
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="hedui-bench-agent-"))
    site = agentbench.provision(root, args.persons)
    sb = site.sb
    n = int(args.seconds * 4000) + 1
    print(f"pre-signing {n} queries ...", flush=True)
    envelopes = site.queries(n)
    material = sandbox.gateway_material(sb)

    # baseline: echo over the same mutual TLS
    port = sandbox.free_port()
    agent = sb.agents[DEPT]
    echo = subprocess.Popen([sys.executable, str(HERE / "echo_server.py"), f"127.0.0.1:{port}",
                             str(agent.tls_certificate), str(agent.tls_key),
                             str(sb.ca_certificate)], stdout=subprocess.PIPE)
    echo.stdout.readline()
    try:
        e_ok, _, e_t = asyncio.run(drive(f"127.0.0.1:{port}", agent.id, material, envelopes,
                                         args.seconds, args.concurrency))
    finally:
        echo.terminate()
        echo.wait()
    # the agent
    proc = sandbox.start_agent(sb, DEPT)
    try:
        sandbox.wait_healthy(sb.endpoints[DEPT], agent.id, material, process=proc)
        a_ok, a_fail, a_t = asyncio.run(drive(sb.endpoints[DEPT], agent.id, material, envelopes,
                                              args.seconds, args.concurrency))
    finally:
        sandbox.stop_process(proc)
    echo_rate, agent_rate = e_ok / e_t, a_ok / a_t
    print(f"echo baseline (mTLS, same envelopes): {echo_rate:8.0f} calls/s")
    print(f"agent (check+sign+audit+lookup):      {agent_rate:8.0f} queries/s "
          f"({a_fail} refused)")
    print(f"ratio agent/echo:                     {agent_rate / echo_rate:8.2f}")
    print(f"target >= 1500 queries/s: {'met' if agent_rate >= 1500 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
