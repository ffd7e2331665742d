"""How many signed single-subject queries one agent process answers per second over
mutual TLS, next to two baselines measured in the same run on the same endpoint.

    .venv/bin/python bench/agents/throughput.py [--seconds 10] [--concurrency 64]

The client pre-signs every query before timing starts (signing is the gateway's cost,
not the agent's) and keeps ``concurrency`` calls in flight over one channel. Each query
carries the same audit checkpoint, as queries do between two checkpoint publications.

Baselines, each a server process on the agent's certificate:

* **echo** (``echo_server.py``): returns each envelope; the transport alone.
* **floor** (``floor_server.py``): verifies the query's signature, waits once on the
  loop and signs a reply: the least any agent in this runtime must do per query.

Besides the rate, the server's CPU per query is read from /proc: on a shared, noisy
machine it moves less than the rate. Target (issue 4): >= 1,500 answered queries/s;
if the floor itself is below that on the machine, the target cannot be met there.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
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


def cpu_seconds(pid: int) -> float:
    """User+system CPU seconds of a process so far (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def drive(endpoint: str, server_id: str, material: tls.TlsMaterial, envelopes: list,
                seconds: float, concurrency: int, pid: int) -> dict[str, float]:
    """Keep ``concurrency`` calls in flight for ``seconds``; the rate and the server's
    CPU milliseconds per answered call."""
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

    cpu, client = cpu_seconds(pid), time.process_time()
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    cpu, client = cpu_seconds(pid) - cpu, time.process_time() - client
    await channel.close()
    return {"rate": ok / elapsed, "answered": ok, "refused": failed, "seconds": elapsed,
            "cpu_ms_per_query": cpu * 1000 / max(ok, 1),
            "client_cpu_ms_per_query": client * 1000 / max(ok, 1)}


def start_baseline(script: str, args: list[str]) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, str(HERE / script), *args], stdout=subprocess.PIPE)
    proc.stdout.readline()  # "ready"
    return proc


LABELS = {"echo": "echo baseline (transport only)",
          "floor": "floor (verify + one wait + sign)",
          "agent": "agent (every check, lookup, audit)"}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10.0, help="per server and round")
    ap.add_argument("--rounds", type=int, default=3,
                    help="echo, floor and agent take turns this many times (medians reported)")
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--persons", type=int, default=2000)
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="hedui-bench-agent-"))
    site = agentbench.provision(root, args.persons)
    sb = site.sb
    per_round = int(args.seconds * 2500) + 1  # the agent needs fresh (unreplayed) queries
    print(f"pre-signing {per_round * args.rounds} queries ...", flush=True)
    envelopes = site.queries(per_round * args.rounds)
    material = sandbox.gateway_material(sb)
    agent = sb.agents[DEPT]
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in LABELS}

    def run(name: str, endpoint: str, proc: subprocess.Popen, queries: list) -> None:
        try:
            runs[name].append(asyncio.run(drive(endpoint, agent.id, material, queries,
                                                args.seconds, args.concurrency, proc.pid)))
        finally:
            proc.terminate()
            proc.wait()

    # Taking turns, so that a machine whose speed drifts (shared cores) moves every
    # server's figures alike; each round's ratios compare neighbours in time.
    for r in range(args.rounds):
        queries = envelopes[r * per_round:(r + 1) * per_round]
        port = sandbox.free_port()
        run("echo", f"127.0.0.1:{port}", start_baseline("echo_server.py", [
            f"127.0.0.1:{port}", str(agent.tls_certificate), str(agent.tls_key),
            str(sb.ca_certificate)]), queries)
        run("floor", sb.endpoints[DEPT],
            start_baseline("floor_server.py", [str(sb.agent_config(DEPT))]), queries)
        proc = sandbox.start_agent(sb, DEPT)
        sandbox.wait_healthy(sb.endpoints[DEPT], agent.id, material, process=proc)
        run("agent", sb.endpoints[DEPT], proc, queries)
        print(f"  round {r + 1}: " + ", ".join(
            f"{name} {runs[name][-1]['rate']:.0f}/s" for name in LABELS), flush=True)

    rate = {name: statistics.median([x["rate"] for x in runs[name]]) for name in LABELS}
    cpu = {name: statistics.median([x["cpu_ms_per_query"] for x in runs[name]]) for name in LABELS}
    print(f"medians of {args.rounds} rounds, {args.concurrency} in flight:")
    print(f"{'':38} {'per s':>7} {'CPU ms/query':>13} {'rate/echo':>10}")
    for name in LABELS:
        print(f"{LABELS[name]:38} {rate[name]:7.0f} {cpu[name]:13.3f} "
              f"{rate[name] / rate['echo']:10.2f}")
    refused = sum(x["refused"] for x in runs["agent"])
    print(f"agent/floor: {rate['agent'] / rate['floor']:.2f} of the rate, "
          f"{cpu['agent'] / cpu['floor']:.2f} x the CPU per query"
          f"{f'; {refused} refused' if refused else ''}")
    verdict = ("met" if rate["agent"] >= 1500 else
               "NOT met" + (" (the floor itself is below it on this machine)"
                            if rate["floor"] < 1500 else ""))
    print(f"target >= 1500 queries/s: {verdict}")
    results = HERE.parent / "results"
    results.mkdir(exist_ok=True)
    out = results / f"agents-throughput-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(json.dumps({"concurrency": args.concurrency, "seconds": args.seconds,
                               "rounds": args.rounds, "cpus": os.cpu_count(),
                               "median_rate": rate, "median_cpu_ms_per_query": cpu,
                               "runs": runs}, indent=1) + "\n")
    print(f"results written to {out.relative_to(HERE.parent.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
