"""Throughput: households decided per second by one gateway and eight agents, next to
the raw gRPC limit of the same 1 + 8 call pattern measured in the same run.

    .venv/bin/python bench/gateway/throughput.py [--seconds 20] [--rounds 2]
                                                 [--concurrency 32] [--quick]

Real processes on loopback, mutual TLS everywhere. This process is the verifiers'
client: it registers authorizations and opens cases beforehand (not timed), then keeps
``--concurrency`` VerifyCase calls in flight and counts cases that end DECIDED (eight
signed queries, eight verified signed answers, audit entries, storage, assessment and
a signed report each).

Baseline: ``echo_gateway.py`` on the gateway's endpoint and certificate, fanning each
VerifyCase out to eight echo agents (the agents' certificates) and returning — the same
client, the same concurrency, the same number of seconds. Floor: the same echo
processes signing each query and answer and the report, verifying each signature
and waiting where a conforming system waits for its audit log (``echo_gateway.py``):
the least any implementation in this runtime does; hedui's own work is the gap
between the floor and the real system. The three take turns for ``--rounds``.

Target: >= 50 % of the raw rate and >= 400 households/s. While the real system runs,
py-spy samples the gateway, two agents and this client, and the CPU time each process
used per household is read from /proc: together they say what limits it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

import grpc
from gwbench import (
    authorization,
    cpu_seconds,
    echo_deployment,
    households,
    median,
    members_pb,
    pct,
    print_hotspots,
    provision,
    py_spy,
    say,
    started,
    workdir,
    write_results,
)

from hedui.gateway import sandbox
from hedui.keys import tls
from hedui.v1 import case_pb2, case_pb2_grpc

PROFILED_AGENTS = ("banks", "human-resources")
PROFILE_SECONDS = 6


def channel(sb: sandbox.Sandbox) -> grpc.aio.Channel:
    material = tls.load_tls_material(sb.desk.tls_certificate, sb.desk.tls_key, sb.ca_certificate)
    return grpc.aio.secure_channel(sb.gateway_endpoint, tls.channel_credentials(*material),
                                   options=tls.channel_options(sb.gateway.id))


async def pool(items: list, concurrency: int, fn, stop_at: float | None = None) -> list:
    """Run ``fn(item)`` with ``concurrency`` in flight; stop taking new items at ``stop_at``."""
    out: list = []
    it = iter(items)

    async def worker() -> None:
        for item in it:
            if stop_at is not None and time.perf_counter() >= stop_at:
                return
            out.append(await fn(item))

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return out


async def verify_many(stub, case_ids: list[str], concurrency: int, seconds: float
                      ) -> tuple[int, int, float, list[float]]:
    """VerifyCase over ``case_ids``; returns (decided, other, elapsed, latencies)."""
    async def one(case_id: str) -> tuple[bool, float]:
        t = time.perf_counter()
        try:
            case = await stub.VerifyCase(case_pb2.VerifyCaseRequest(
                case_id=case_id, operator=sandbox.VERIFIER), timeout=120)
            ok = case.state == case_pb2.CASE_STATE_DECIDED
        except grpc.aio.AioRpcError:
            ok = False
        return ok, time.perf_counter() - t

    started_at = time.perf_counter()
    res = await pool(case_ids, concurrency, one, started_at + seconds)
    elapsed = time.perf_counter() - started_at
    ok = sum(1 for r, _ in res if r)
    return ok, len(res) - ok, elapsed, [t for _, t in res]


async def open_cases(stub, members: list[list[dict]], n: int, concurrency: int, tag: str
                     ) -> tuple[list[str], float]:
    auths = [authorization(f"SQ-TP-{tag}-{i:05d}", m) for i, m in enumerate(members)]

    async def reg(a):
        try:
            await stub.RegisterAuthorization(case_pb2.RegisterAuthorizationRequest(
                authorization=a, operator=sandbox.VERIFIER), timeout=60)
        except grpc.aio.AioRpcError as exc:
            if "already registered" not in (exc.details() or ""):
                raise

    async def open_one(i: int) -> str:
        a, m = auths[i % len(auths)], members[i % len(members)]
        case = await stub.OpenCase(case_pb2.OpenCaseRequest(
            programme="dibao", region="310000", members=members_pb(m),
            authorization_number=a.number, operator=sandbox.VERIFIER), timeout=60)
        return case.case_id

    await pool(auths, concurrency, reg)
    t = time.perf_counter()
    ids = await pool(list(range(n)), concurrency, open_one)
    return ids, time.perf_counter() - t


def cpu_of(pids: dict[str, int]) -> dict[str, float]:
    return {name: cpu_seconds(pid) for name, pid in pids.items()}


def cpu_per_household(before: dict, after: dict, n: int) -> dict[str, float]:
    per = {k: (after[k] - before[k]) * 1000 / max(n, 1) for k in before}
    agents = sum(v for k, v in per.items() if k not in ("gateway", "client"))
    return {"gateway": per["gateway"], "8 agents": agents, "client": per["client"]}


async def run_echo(dep, args, floor: bool = False) -> dict:
    sb = dep.sb
    with echo_deployment(sb, floor=floor) as procs:
        pids = {k: p.pid for k, p in procs.items()} | {"client": os.getpid()}
        async with channel(sb) as ch:
            stub = case_pb2_grpc.CaseServiceStub(ch)
            await verify_many(stub, [f"warm-{i}" for i in range(64)], args.concurrency, 30)
            ids = [f"echo-{i}" for i in range(int(args.seconds * 6000))]
            before = cpu_of(pids)
            ok, bad, elapsed, lat = await verify_many(stub, ids, args.concurrency, args.seconds)
            after = cpu_of(pids)
    return {"rate": ok / elapsed, "decided": ok, "failed": bad, "seconds": elapsed,
            "p50_s": pct(lat, 50), "p95_s": pct(lat, 95),
            "cpu_ms_per_household": cpu_per_household(before, after, ok)}


async def run_real(dep, args, members: list[list[dict]], profile_dir: Path,
                   profile: bool = True) -> dict:
    sb = dep.sb
    with started(dep):
        pids = {k: p.pid for k, p in dep.processes.items()} | {"client": os.getpid()}
        async with channel(sb) as ch:
            stub = case_pb2_grpc.CaseServiceStub(ch)
            # calibrate: how many cases will the timed run need?
            ids, _ = await open_cases(stub, members, 4 * args.concurrency, 16, "cal")
            ok, _, elapsed, _ = await verify_many(stub, ids, args.concurrency, 60)
            guess = ok / elapsed
            n = int(guess * (args.seconds + PROFILE_SECONDS + 1) * 1.5) + 2 * args.concurrency
            say(f"  calibration: {guess:.0f} households/s; opening {n} cases for the timed run")
            ids, open_s = await open_cases(stub, members, n, 16, "run")
            say(f"  opened {n} cases in {open_s:.1f} s ({n / open_s:.0f} OpenCase/s, "
                f"16 in flight; not part of the figure)")
            before = cpu_of(pids)
            ok, bad, elapsed, lat = await verify_many(stub, ids, args.concurrency, args.seconds)
            after = cpu_of(pids)
            left = ids[ok + bad:]
            if profile and not args.no_profile and left:
                # profile afterwards, so py-spy's own CPU does not lower the figure
                targets = {"gateway": pids["gateway"], "client": pids["client"]}
                targets |= {a: pids[a] for a in PROFILED_AGENTS}
                spies = py_spy(targets, PROFILE_SECONDS, profile_dir)
                await verify_many(stub, left, args.concurrency, PROFILE_SECONDS + 1)
                for p in spies.values():
                    p.wait(timeout=60)
    if not left:
        say("  (ran out of opened cases before the time was up; the figure still holds)")
    return {"rate": ok / elapsed, "decided": ok, "failed": bad, "seconds": elapsed,
            "p50_s": pct(lat, 50), "p95_s": pct(lat, 95), "open_rate": n / open_s,
            "cpu_ms_per_household": cpu_per_household(before, after, ok)}


def summary(runs: list[dict]) -> dict:
    """Median rate and CPU per household over rounds; the last round's latencies."""
    out = dict(runs[-1])
    out["rate"] = median([r["rate"] for r in runs])
    out["cpu_ms_per_household"] = {
        k: median([r["cpu_ms_per_household"][k] for r in runs])
        for k in runs[-1]["cpu_ms_per_household"]}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--persons", type=int, default=2000)
    ap.add_argument("--no-profile", action="store_true", help="skip py-spy")
    ap.add_argument("--rounds", type=int, default=2,
                    help="raw and real take turns this many times (medians reported)")
    ap.add_argument("--quick", action="store_true", help="8 s per run, one round")
    ap.add_argument("--keep", action="store_true", help="keep the deployment's folder")
    args = ap.parse_args()
    if args.quick:
        args.seconds = min(args.seconds, 8.0)
        args.rounds = 1
    say(f"throughput: gateway + 8 agents, {args.concurrency} VerifyCase in flight, "
        f"{args.seconds:.0f} s per run, {os.cpu_count()} cores")
    with workdir("hedui-bench-throughput-", args.keep) as root:
        dep = provision(root, persons=args.persons)
        members = households(args.persons)[:300]
        echoes: list[dict] = []
        floors: list[dict] = []
        reals: list[dict] = []
        # Taking turns, so that a machine whose speed drifts (shared cores) moves every
        # figure alike; the medians are reported, each round's ratio beside them.
        for r in range(args.rounds):
            say(f"  round {r + 1}/{args.rounds}: raw baseline (echo gateway + 8 echo agents, "
                "same TLS, same pattern) ...")
            echoes.append(asyncio.run(run_echo(dep, args)))
            say(f"  round {r + 1}/{args.rounds}: floor (the same, signing and verifying "
                "what a conforming system must) ...")
            floors.append(asyncio.run(run_echo(dep, args, floor=True)))
            say(f"  round {r + 1}/{args.rounds}: real system ...")
            last = r == args.rounds - 1
            reals.append(asyncio.run(run_real(dep, args, members, root / "profiles",
                                              profile=last)))
            say(f"  round {r + 1}: raw {echoes[-1]['rate']:.1f}/s, floor "
                f"{floors[-1]['rate']:.1f}/s, hedui {reals[-1]['rate']:.1f}/s, ratio "
                f"{reals[-1]['rate'] / echoes[-1]['rate']:.2f}")
        echo, floor, real = summary(echoes), summary(floors), summary(reals)
        say("")
        ratio = real["rate"] / echo["rate"]
        say(f"  medians of {args.rounds} round(s); the last round's latencies:")
        say(f"  raw gRPC 1+8 echo (baseline): {echo['rate']:8.1f} households/s   "
            f"p50 {echo['p50_s'] * 1000:6.1f} ms  p95 {echo['p95_s'] * 1000:6.1f} ms")
        say(f"  floor (signatures + waits):   {floor['rate']:8.1f} households/s   "
            f"p50 {floor['p50_s'] * 1000:6.1f} ms  p95 {floor['p95_s'] * 1000:6.1f} ms"
            f"  ({floor['rate'] / echo['rate']:.2f} of raw)")
        say(f"  hedui gateway + 8 agents:     {real['rate']:8.1f} households/s   "
            f"p50 {real['p50_s'] * 1000:6.1f} ms  p95 {real['p95_s'] * 1000:6.1f} ms"
            f"  ({real['failed']} not decided)")
        say(f"  ratio real/raw:               {ratio:8.2f}   (target >= 0.50 and >= 400/s: "
            f"{'met' if ratio >= 0.5 and real['rate'] >= 400 else 'NOT met'})")
        say("  CPU per household (ms):        gateway   8 agents   client")
        for name, r in (("raw echo", echo), ("floor", floor), ("hedui", real)):
            c = r["cpu_ms_per_household"]
            say(f"    {name:<26} {c['gateway']:8.2f}  {c['8 agents']:9.2f}  {c['client']:7.2f}")
        cores = os.cpu_count() or 1
        tot = sum(real["cpu_ms_per_household"].values())
        say(f"  CPU bound at {cores} cores: <= {cores * 1000 / tot:.0f} households/s for hedui "
            f"({tot:.1f} ms CPU per household over all processes)")
        profiles = {}
        if not args.no_profile:
            say("")
            say("  hotspots (py-spy, share of each process's busy samples):")
            for name in ("gateway", *PROFILED_AGENTS, "client"):
                profiles[name] = print_hotspots(name, root / "profiles" / f"{name}.txt")
        write_results("throughput", {"concurrency": args.concurrency, "seconds": args.seconds,
                                     "rounds": args.rounds, "raw": echo, "floor": floor,
                                     "hedui": real, "ratio": ratio, "raw_rounds": echoes,
                                     "floor_rounds": floors, "hedui_rounds": reals,
                                     "profiles": profiles}, args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
