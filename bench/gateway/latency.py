"""Fan-out latency: a case takes as long as its slowest department, not the sum.

    .venv/bin/python bench/gateway/latency.py [--cases 60] [--delay 0.2] [--quick]

A real deployment (gateway + eight agent processes, mutual TLS, signed answers, audit)
with a TCP proxy (``delay_proxy.py``) in front of one agent: its endpoint in the trust
bundle points at the proxy, which holds every byte the agent sends back for ``--delay``
seconds. The agent itself is untouched. One verifier client runs cases one at a time;
the time of the VerifyCase RPC (fan-out, verification, storage, assessment, signed
report) is measured with the delay on, and — in the same deployment, interleaved in
blocks so machine noise hits both alike — with the delay off (the baseline).

Target: p50(delayed) - delay <= p50(undelayed) + 5 ms, i.e. the slow department adds
its own delay and nothing else.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time

from gwbench import (
    Deployment,
    authorization,
    deployment,
    households,
    median,
    members_pb,
    pct,
    say,
    workdir,
    write_results,
)

from hedui.gateway.client import ClientConfig, GatewayClient
from hedui.gateway.verifying import register_authorization
from hedui.v1 import case_pb2

SLOW = "banks"


def run_case(client: GatewayClient, auth: case_pb2.Authorization, members: list[dict]
             ) -> tuple[float, int]:
    op = client.config.operator
    case = client.call(client.cases.OpenCase, case_pb2.OpenCaseRequest(
        programme="dibao", region="310000", members=members_pb(members),
        authorization_number=auth.number, operator=op))
    started = time.perf_counter()
    case = client.call(client.cases.VerifyCase, case_pb2.VerifyCaseRequest(
        case_id=case.case_id, operator=op), timeout=60)
    return time.perf_counter() - started, case.state


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=60, help="cases per mode (delayed, not)")
    ap.add_argument("--delay", type=float, default=0.2)
    ap.add_argument("--block", type=int, default=5, help="cases per mode before switching")
    ap.add_argument("--quick", action="store_true", help="20 cases per mode")
    ap.add_argument("--keep", action="store_true", help="keep the deployment's folder")
    args = ap.parse_args()
    if args.quick:
        args.cases = min(args.cases, 20)
    persons = 400
    members = households(persons)[:50]
    say(f"fan-out latency: 8 agents, {SLOW} behind a proxy adding {args.delay * 1000:.0f} ms "
        f"to every response; {args.cases} cases per mode, one at a time")
    with workdir("hedui-bench-latency-", args.keep) as root, \
            deployment(root, persons=persons, proxied=SLOW, delay=args.delay) as dep:
        times = measure(dep, members, args)
    base, slow = times["undelayed"], times["delayed"]
    b50, b95, s50, s95 = pct(base, 50), pct(base, 95), pct(slow, 50), pct(slow, 95)
    extra = (s50 - args.delay) - b50
    ms = 1000
    say("")
    say(f"  VerifyCase, no delay (baseline)   p50 {b50 * ms:7.1f} ms   p95 {b95 * ms:7.1f} ms")
    say(f"  VerifyCase, {SLOW} +{args.delay * ms:.0f} ms          p50 {s50 * ms:7.1f} ms   "
        f"p95 {s95 * ms:7.1f} ms")
    say(f"  p50(delayed) - {args.delay * ms:.0f} ms = {(s50 - args.delay) * ms:7.1f} ms  vs  "
        f"p50(undelayed) {b50 * ms:7.1f} ms   -> {extra * ms:+.1f} ms "
        f"(ratio {(s50 - args.delay) / b50:.2f})")
    met = extra <= 0.005
    say(f"  target: slowest department only (+<= 5 ms over baseline): "
        f"{'met' if met else 'NOT met'}")
    write_results("latency", {
        "delay_s": args.delay, "slow_department": SLOW, "cases_per_mode": args.cases,
        "undelayed_s": {"p50": b50, "p95": b95, "mean": sum(base) / len(base), "all": base},
        "delayed_s": {"p50": s50, "p95": s95, "mean": sum(slow) / len(slow), "all": slow},
        "extra_over_delay_s": extra, "target_met": met,
        "median_delayed_minus_delay_ratio": (s50 - args.delay) / b50,
    }, args.quick)
    return 0


def measure(dep: Deployment, members: list[list[dict]], args) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"undelayed": [], "delayed": []}
    proxy = dep.proxy
    with GatewayClient(ClientConfig.load(dep.client_config)) as client:
        auths = []
        for i, m in enumerate(members):
            auth = authorization(f"SQ-LAT-{os.getpid()}-{i:04d}", m)
            register_authorization(client, auth)
            auths.append((auth, m))
        # warm both modes: channels, TLS through the proxy, caches
        for mode in ("delayed", "undelayed", "delayed", "undelayed"):
            proxy.send_signal(signal.SIGUSR2 if mode == "delayed" else signal.SIGUSR1)
            time.sleep(0.3)  # let bytes already in the delay line drain
            run_case(client, *auths[0])
        k = 0
        mode = "undelayed"
        while min(len(v) for v in times.values()) < args.cases:
            proxy.send_signal(signal.SIGUSR2 if mode == "delayed" else signal.SIGUSR1)
            time.sleep(args.delay + 0.1)
            for _ in range(args.block):
                if len(times[mode]) >= args.cases:
                    break
                auth, m = auths[k % len(auths)]
                k += 1
                elapsed, state = run_case(client, auth, m)
                if state != case_pb2.CASE_STATE_DECIDED:
                    say(f"  case ended {case_pb2.CaseState.Name(state)}; not counted")
                    continue
                times[mode].append(elapsed)
            done = sum(len(v) for v in times.values())
            print(f"\r  {done}/{2 * args.cases} cases  (median so far: undelayed "
                  f"{median(times['undelayed']) * 1000:.0f} ms, delayed "
                  f"{median(times['delayed']) * 1000:.0f} ms)", end="", file=sys.stderr,
                  flush=True)
            mode = "delayed" if mode == "undelayed" else "undelayed"
        print(file=sys.stderr)
    return times


if __name__ == "__main__":
    sys.exit(main())
