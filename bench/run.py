"""Run every hedui benchmark, one after another, each as its own process.

    .venv/bin/python bench/run.py [--quick] [--only NAME ...]

Each bench prints its figures next to a baseline measured in the same run and writes
JSON to bench/results/. ``--quick`` passes small sizes/short durations to each (a few
minutes in all on the 2-core machine); without it the defaults of each bench apply.
The exit status is non-zero if any bench failed (the others still run).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent

#: name -> (script, options always, options with --quick)
BENCHES: dict[str, tuple[str, list[str], list[str]]] = {
    "audit": ("audit/run.py", [], ["--quick"]),
    "agents-lookup": ("agents/lookup.py", [], ["--persons", "100000", "--samples", "500"]),
    "agents-throughput": ("agents/throughput.py", [], ["--seconds", "4"]),
    "agents-answer-path": ("agents/answer_path.py", [], ["--queries", "1000"]),
    "gateway-latency": ("gateway/latency.py", [], ["--quick"]),
    "gateway-throughput": ("gateway/throughput.py", [], ["--quick"]),
    "gateway-batch": ("gateway/batch.py", [], ["--quick"]),
    "console-pages": ("console/pages.py", [], ["--quick"]),
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, short runs")
    ap.add_argument("--only", nargs="+", choices=sorted(BENCHES), metavar="NAME",
                    help=f"run only these: {', '.join(BENCHES)}")
    args = ap.parse_args()
    names = args.only or list(BENCHES)
    outcome: dict[str, tuple[int, float]] = {}
    for name in names:
        script, always, quick = BENCHES[name]
        cmd = [sys.executable, str(BENCH / script), *always, *(quick if args.quick else [])]
        print(f"\n=== {name}: {' '.join(cmd[1:])}", flush=True)
        t = time.perf_counter()
        try:
            code = subprocess.run(cmd, cwd=BENCH.parent).returncode
        except KeyboardInterrupt:
            print(f"=== {name} interrupted", flush=True)
            return 130
        outcome[name] = (code, time.perf_counter() - t)
    print("\n=== summary", flush=True)
    for name, (code, seconds) in outcome.items():
        print(f"  {name:<20} {'ok' if code == 0 else f'FAILED (exit {code})':<16} "
              f"{seconds:6.0f} s")
    return 0 if all(code == 0 for code, _ in outcome.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
