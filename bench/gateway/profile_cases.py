"""Where a case's CPU time goes in the gateway: a CPU profile of many concurrent cases.

    .venv/bin/pip install yappi        # a profiler that follows threads; not a dependency
    .venv/bin/python bench/gateway/profile_cases.py [--cases 120] [--concurrency 16]

A sandbox with eight real agents and a gateway process (the agents witness its audit
log); the profiled CaseManager is built in this process from the same configuration and
verifies the cases. Prints self and inclusive CPU per case for the heaviest functions.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
import tempfile
import time
from pathlib import Path

from hedui.audit.loop_commit import LoopCommitter
from hedui.gateway import config as gateway_config
from hedui.gateway import household, sandbox, server
from hedui.v1 import case_pb2


async def profile(sb: sandbox.Sandbox, cases: int, concurrency: int) -> None:
    import yappi

    data = json.loads((sb.data_dir / "households.json").read_text())["samples"]
    samples = [h for g in data.values() for h in g] if isinstance(data, dict) else data
    gw = server.build(gateway_config.load(sb.gateway_config))
    committer = LoopCommitter(gw.audit_log)  # as server.serve does
    gw.audit_log.route_appends(committer)
    manager = gw.cases
    ids = []
    for n in range(cases + 1):
        h = samples[n % len(samples)]
        hh = household.load(household.write(
            sb.root / f"h{n}.toml", programme="dibao", region="310000", members=h["members"],
            authorization_number=f"PROF-{n}", today=dt.date.today()))
        manager.authorizations.register(hh.authorization, operator=sandbox.VERIFIER,
                                        now=dt.datetime.now(dt.UTC))
        ids.append(manager.open(case_pb2.OpenCaseRequest(
            programme="dibao", region="310000", members=hh.members,
            authorization_number=hh.authorization.number, operator=sandbox.VERIFIER)).case_id)
    await manager.verify(ids.pop(), sandbox.VERIFIER)  # warm up channels and caches
    gate = asyncio.Semaphore(concurrency)

    async def one(case_id: str) -> case_pb2.Case:
        async with gate:
            return await manager.verify(case_id, sandbox.VERIFIER)

    yappi.set_clock_type("cpu")
    yappi.start()
    started = time.perf_counter()
    done = await asyncio.gather(*(one(i) for i in ids))
    wall = time.perf_counter() - started
    yappi.stop()
    decided = sum(c.state == case_pb2.CASE_STATE_DECIDED for c in done)
    stats = yappi.get_func_stats()
    total = sum(f.tsub for f in stats)
    print(f"{decided}/{len(ids)} decided; {wall / len(ids) * 1000:.1f} ms wall and "
          f"{total / len(ids) * 1000:.1f} ms CPU per case (profiled: ~2-3x slower than real)")
    stats.sort("tsub")
    print("self CPU per case:")
    for f in list(stats)[:20]:
        print(f"  {f.tsub * 1000 / len(ids):7.2f} ms  {f.full_name[-90:]}")
    stats.sort("ttot")
    print("inclusive CPU per case (hedui code):")
    for f in [f for f in stats if "/hedui" in f.full_name or "/work/" in f.full_name][:25]:
        print(f"  {f.ttot * 1000 / len(ids):7.2f} ms  {f.full_name[-90:]}")
    gw.audit_log.route_appends(None)
    committer.close()
    await gw.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=120)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    try:
        import yappi  # noqa: F401
    except ImportError:
        print("install the profiler first: .venv/bin/pip install yappi", file=sys.stderr)
        return 2
    sb = sandbox.provision(Path(tempfile.mkdtemp(prefix="hedui-profile-")), persons=300)
    material = sandbox.gateway_material(sb)
    processes = [sandbox.start_gateway(sb)]
    sandbox.wait_healthy(sb.gateway_endpoint, sb.gateway.id, material, process=processes[0])
    for department, ident in sb.agents.items():
        processes.append(sandbox.start_agent(sb, department))
        sandbox.wait_healthy(sb.endpoints[department], ident.id, material,
                             process=processes[-1])
    try:
        asyncio.run(profile(sb, args.cases, args.concurrency))
    finally:
        for p in processes:
            sandbox.stop_process(p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
