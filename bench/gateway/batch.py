"""Batch re-verification: `hedui verify --batch FILE.csv` and `hedui reverify` over N
households.

    .venv/bin/python bench/gateway/batch.py [--households 1000] [--concurrency 8] [--quick]
                                            [--only batch|reverify]

Provisions a deployment whose synthetic population is large enough for N distinct
households, writes one household TOML per household (each with its own authorization
number) and the CSV, and runs the real command — `hedui verify --batch` as a separate
process, with the CLI's default concurrency unless told — against

- the raw baseline: ``echo_gateway.py`` (RegisterAuthorization/OpenCase answered at once,
  VerifyCase fanned out to eight echo agents), same certificates and same CLI; and
- the real gateway with eight agents.

- a re-verification run (issue 18): the same households imported onto the dibao roster
  (`hedui reverify import`), then `hedui reverify start` — bulk queries of 500
  households to each agent, every household assessed and its determination signed and
  graded — with its peak memory (the process's max RSS).

Wall time includes the CLI's start-up, as a verifier would see it. Targets: 100,000
households in <= 5 minutes, i.e. >= 333 households/s; re-verification at >= 2x the raw
per-case baseline's rate; memory < 1 GiB. The figure for N is extrapolated (100,000
are run only with ``--households 100000``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

from gwbench import (
    cpu_seconds,
    echo_deployment,
    households,
    provision,
    say,
    started,
    workdir,
    write_households,
    write_results,
)

from hedui.gateway import sandbox

TARGET_N = 100_000
TARGET_S = 300.0


def write_batch(root: Path, persons: int, n: int) -> Path:
    members = households(persons)
    if len(members) < n:
        say(f"  note: {len(members)} distinct households for {n} rows; some repeat (each row "
            "still has its own authorization)")
    paths = write_households(root / "households", members, f"B{os.getpid()}", n)
    csv = root / "batch.csv"
    csv.write_text("household,previous_outcome\n" + "".join(
        f"households/{p.name},\n" for p in paths), encoding="utf-8")
    return csv


def run_cli(csv: Path, client: Path, out: Path, concurrency: int | None,
            timeout: float) -> tuple[float, dict[str, int], float]:
    """Run `hedui verify --batch`; returns (wall seconds, states, CPU seconds of the CLI)."""
    cmd = [*sandbox.hedui_command(), "verify", "--batch", str(csv), "--client", str(client),
           "--out", str(out)]
    if concurrency:
        cmd += ["--concurrency", str(concurrency)]
    log = out.parent / f"{out.name}.log"
    out.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    with open(log, "w") as f:
        proc = subprocess.Popen(cmd, stdout=f, stderr=subprocess.DEVNULL)
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    _, status, usage = os.wait4(proc.pid, 0)  # the CLI's own CPU time
    timer.cancel()
    wall = time.perf_counter() - t
    code = os.waitstatus_to_exitcode(status)
    states: dict[str, int] = {}
    progress = out / f"{csv.stem}.progress.jsonl"
    if progress.exists():
        for line in progress.read_text(encoding="utf-8").splitlines():
            s = json.loads(line)["state"]
            states[s] = states.get(s, 0) + 1
    if code not in (0, 3):
        say(f"  hedui verify --batch exited {code}: {log.read_text()[-300:]}")
    return wall, states, usage.ru_utime + usage.ru_stime


def write_roster(root: Path, members: list[list[dict]], n: int) -> list[Path]:
    """The programme's list as an office keeps it: one row per person, Chinese headers;
    split into files of at most 150,000 rows (the import takes 200,000 at most)."""
    today = time.strftime("%Y-%m-%d")
    header = "户号,身份证号,姓名,与户主关系,纳入日期,授权书编号,授权书摘要,乡镇,区划"
    files: list[list[str]] = [[]]
    for i, household in enumerate(members[:n]):
        if len(files[-1]) + len(household) > 150_000:
            files.append([])
        digest = hashlib.sha256(f"roster-{i}".encode()).hexdigest()
        for m in household:
            files[-1].append(f"H{i:07d},{m['id_number']},{m['name']},{m['relation']},{today},"
                             f"SQ-RV-{i:07d},{digest},town-{i % 7},310000")
    paths = []
    for k, rows in enumerate(files):
        path = root / f"roster-{k}.csv"
        path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def run_reverify(dep, root: Path, members: list[list[dict]], n: int,  # type: ignore[no-untyped-def]
                 timeout: float, workers: int) -> dict:
    """Import the roster, then time one run; its wall time, decided count, CPU, max RSS."""
    config = str(dep.sb.gateway_config)
    for roster in write_roster(root, members, n):
        done = subprocess.run([*sandbox.hedui_command(), "reverify", "import", "--config",
                               config, "--programme", "dibao", str(roster)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"hedui reverify import failed: {done.stderr.strip()}")
    log = root / "reverify.log"
    cmd = [*sandbox.hedui_command(), "reverify", "start", "--config", config,
           "--programme", "dibao", "--operator", sandbox.VERIFIER, "--chunk", "500",
           "--workers", str(workers)]
    t = time.perf_counter()
    with open(log, "w") as f:
        proc = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT)
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    _, status, usage = os.wait4(proc.pid, 0)
    timer.cancel()
    wall = time.perf_counter() - t
    text = log.read_text(encoding="utf-8")
    found = re.search(r"DECIDED (\d+)", text)
    decided = int(found.group(1)) if found else 0
    if os.waitstatus_to_exitcode(status) != 0:
        say(f"  hedui reverify start failed: {text[-400:]}")
    return {"wall_s": wall, "decided": decided, "rate": decided / wall,
            "cpu_s": usage.ru_utime + usage.ru_stime,
            "max_rss_mib": usage.ru_maxrss / 1024, "workers": workers,
            "summary": text.strip().splitlines()[-1:]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--households", type=int, default=1000)
    ap.add_argument("--concurrency", type=int, default=None,
                    help="passed to hedui verify --concurrency (default: the CLI's own)")
    ap.add_argument("--quick", action="store_true", help="200 households")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                    help="hedui reverify --workers (default: one per core)")
    ap.add_argument("--only", choices=("batch", "reverify"),
                    help="run only the per-case batch or only the re-verification run")
    args = ap.parse_args()
    if args.quick:
        args.households = min(args.households, 200)
    n = args.households
    persons = max(400, int(n * 3.2))
    conc = args.concurrency or "CLI default"
    say(f"batch: hedui verify --batch with {n} households (concurrency {conc})")
    with workdir("hedui-bench-batch-", args.keep) as root:
        t = time.perf_counter()
        dep = provision(root, persons=persons)
        csv = write_batch(root, persons, n)
        say(f"  provisioned {persons} persons and wrote {n} household files in "
            f"{time.perf_counter() - t:.0f} s")
        timeout = max(600.0, n / 5)
        with echo_deployment(dep.sb) as procs:
            srv0 = sum(cpu_seconds(p.pid) for p in procs.values())
            echo_wall, echo_states, echo_cli_cpu = run_cli(
                csv, dep.client_config, root / "out-echo", args.concurrency, timeout)
            echo_srv_cpu = sum(cpu_seconds(p.pid) for p in procs.values()) - srv0
        with started(dep):
            pids = {k: p.pid for k, p in dep.processes.items()}
            before = {k: cpu_seconds(p) for k, p in pids.items()}
            wall, states, cli_cpu = ((1e-9, {}, 0.0) if args.only == "reverify" else
                                     run_cli(csv, dep.client_config, root / "out",
                                             args.concurrency, timeout))
            after = {k: cpu_seconds(p) for k, p in pids.items()}
            rv = (None if args.only == "batch" else
                  run_reverify(dep, root, households(persons), n, timeout,
                               args.workers))
    decided, echo_decided = states.get("decided", 0), echo_states.get("decided", 0)
    rate, echo_rate = decided / wall, echo_decided / echo_wall
    gw_cpu = after["gateway"] - before["gateway"]
    ag_cpu = sum(after[k] - before[k] for k in after if k != "gateway")
    eta = TARGET_N / rate if rate else float("inf")
    say("")
    say(f"  raw baseline (echo gateway + 8 echo agents): {echo_decided:6d} decided in "
        f"{echo_wall:6.1f} s = {echo_rate:7.1f} households/s")
    say(f"  hedui gateway + 8 agents:                    {decided:6d} decided in "
        f"{wall:6.1f} s = {rate:7.1f} households/s   ({states})")
    say(f"  ratio real/raw: {rate / echo_rate:.2f}")
    say(f"  CPU per household: gateway {gw_cpu * 1000 / max(decided, 1):.1f} ms, 8 agents "
        f"{ag_cpu * 1000 / max(decided, 1):.1f} ms, CLI {cli_cpu * 1000 / max(decided, 1):.1f} ms "
        f"(raw: servers {echo_srv_cpu * 1000 / max(echo_decided, 1):.1f} ms, CLI "
        f"{echo_cli_cpu * 1000 / max(echo_decided, 1):.1f} ms)")
    say(f"  100,000 households at this rate: {eta / 60:.1f} min (target <= 5 min, i.e. "
        f">= {TARGET_N / TARGET_S:.0f}/s: {'met' if eta <= TARGET_S else 'NOT met'}); "
        f"raw floor {TARGET_N / echo_rate / 60:.1f} min")
    if rv is not None:
        ratio = rv["rate"] / echo_rate
        say(f"  hedui reverify, {args.workers} workers (bulk, signed determinations): "
            f"{rv['decided']:6d} decided in "
            f"{rv['wall_s']:6.1f} s = {rv['rate']:7.1f} households/s; ratio to raw "
            f"{ratio:.2f} (target >= 2: {'met' if ratio >= 2 else 'NOT met'}); max RSS "
            f"{rv['max_rss_mib']:.0f} MiB (target < 1024); CPU "
            f"{rv['cpu_s'] * 1000 / max(rv['decided'], 1):.1f} ms a household")
    write_results("batch", {
        "households": n, "concurrency": args.concurrency, "persons": persons,
        "raw": {"wall_s": echo_wall, "decided": echo_decided, "rate": echo_rate,
                "states": echo_states, "cli_cpu_s": echo_cli_cpu,
                "servers_cpu_s": echo_srv_cpu},
        "hedui": {"wall_s": wall, "decided": decided, "rate": rate, "states": states,
                  "cli_cpu_s": cli_cpu, "gateway_cpu_s": gw_cpu, "agents_cpu_s": ag_cpu},
        "ratio": rate / echo_rate, "extrapolated_100k_s": eta, "target_met": eta <= TARGET_S,
        "reverify": rv, "reverify_ratio": (rv["rate"] / echo_rate) if rv else None,
    }, args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
