"""Single-subject lookup latency of the mapping adapter, against a raw sqlite3 baseline.

Seeds (or reuses) the eight synthetic department databases for 1,000,000 persons,
then, per department, times ``MappingSource.fetch([one id], all held paths)`` over
~2,000 random subjects, next to ``SELECT * FROM <main table> WHERE <id column> = ?``
on a plain sqlite3 connection to the same file. Target: p99 <= 5 ms. "cpu p99" is the
thread's CPU time per fetch: when it stays low while the wall-clock p99 jumps, the
machine was busy with other work (the process was preempted), not the adapter slow.

    .venv/bin/python bench/agents/lookup.py [--persons 1000000] [--samples 2000]

The data lives in $HEDUI_BENCH_DIR (default /tmp/hedui-bench/agents-<persons>) and
is reused while its seed parameters match; delete it to measure seeding again.
Seeding runs in a child process so that its time and peak RSS are its own.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

from hedui.agents.mapping import MappingSource

REPO = Path(__file__).resolve().parents[2]
MAPPINGS = REPO / "deploy" / "agents"

#: the table and ID column a department would look a person up in first
MAIN_TABLE: dict[str, tuple[str, str]] = {
    "public-security": ("hj_person", "sfzh"),
    "housing": ("RE_HOLDER", "HOLDER_CERT_NO"),
    "human-resources": ("ac01", "aac002"),
    "civil-affairs": ("hy_djxx", "zjhm"),
    "banks": ("DEP_ACCT", "CUST_CERT_NO"),
    "provident-fund": ("gr_zh", "zjhm"),
    "market-regulation": ("e_inv_person", "cerno"),
    "tax": ("sb_sbxx", "nsrsbh"),
}


def ensure_data(directory: Path, persons: int, seed: int) -> dict[str, object]:
    """Seed in a child process unless the directory already holds this population."""
    stamp = directory / "bench-seed.json"
    if stamp.is_file():
        info = json.loads(stamp.read_text())
        if info.get("persons") == persons and info.get("seed") == seed:
            info["reused"] = True
            return info
    directory.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "hedui.agents.synthetic", str(directory),
                    "--persons", str(persons), "--seed", str(seed)], check=True)
    seconds = time.monotonic() - started
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    size = sum(p.stat().st_size for p in directory.glob("*.sqlite"))
    info = {"persons": persons, "seed": seed, "seed_seconds": round(seconds, 1),
            "seed_peak_rss_mb": round(peak_kb / 1024, 1),
            "database_bytes": size}
    stamp.write_text(json.dumps(info, indent=1))
    info["reused"] = False
    return info


def percentiles(samples_ms: list[float]) -> tuple[float, float]:
    q = statistics.quantiles(samples_ms, n=100, method="inclusive")
    return q[49], q[98]


def bench_department(directory: Path, dept: str, subjects: list[str]) -> dict[str, float]:
    db = directory / f"{dept}.sqlite"
    src = MappingSource(MAPPINGS / f"{dept}.toml", f"sqlite:///{db}")
    problems = src.check()
    if problems:
        raise SystemExit(f"{dept}: mapping problems: {problems}")
    paths = src.held_paths()
    for sid in subjects[:200]:  # warm the page cache and the statement cache
        src.fetch([sid], paths)
    fetch_ms, cpu_ms, found = [], [], 0
    for sid in subjects:
        c = time.thread_time_ns()
        t = time.perf_counter_ns()
        got = src.fetch([sid], paths)
        fetch_ms.append((time.perf_counter_ns() - t) / 1e6)
        cpu_ms.append((time.thread_time_ns() - c) / 1e6)
        found += bool(got)
    households = [subjects[i:i + 4] for i in range(0, len(subjects), 4)]
    batch_ms = []
    for ids in households:
        t = time.perf_counter_ns()
        src.fetch(ids, paths)
        batch_ms.append((time.perf_counter_ns() - t) / 1e6)
    src.close()

    table, column = MAIN_TABLE[dept]
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    sql = f"SELECT * FROM {table} WHERE {column} = ?"
    for sid in subjects[:200]:
        conn.execute(sql, (sid,)).fetchall()
    raw_ms = []
    for sid in subjects:
        t = time.perf_counter_ns()
        conn.execute(sql, (sid,)).fetchall()
        raw_ms.append((time.perf_counter_ns() - t) / 1e6)
    conn.close()
    p50, p99 = percentiles(fetch_ms)
    r50, r99 = percentiles(raw_ms)
    b50, b99 = percentiles(batch_ms)
    return {"paths": len(paths), "found": found / len(subjects), "p50_ms": p50, "p99_ms": p99,
            "cpu_p99_ms": percentiles(cpu_ms)[1],
            "raw_p50_ms": r50, "raw_p99_ms": r99, "batch4_p50_ms": b50, "batch4_p99_ms": b99}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    directory = Path(os.environ.get("HEDUI_BENCH_DIR",
                                    f"/tmp/hedui-bench/agents-{args.persons}"))
    info = ensure_data(directory, args.persons, args.seed)
    print(f"data: {directory} ({'reused' if info['reused'] else 'seeded now'}): "
          f"{info['persons']:,} persons, seed {info['seed_seconds']} s, "
          f"peak RSS {info['seed_peak_rss_mb']} MB, "
          f"{int(info['database_bytes']) / 1e6:,.0f} MB on disk")  # type: ignore[call-overload]
    with sqlite3.connect(f"file:{directory / 'public-security.sqlite'}?mode=ro",
                         uri=True) as conn:
        everybody = [r[0] for r in conn.execute("SELECT sfzh FROM hj_person WHERE swbz = '0'")]
    subjects = random.Random(2026).sample(everybody, args.samples)
    del everybody
    print(f"{'department':18} {'paths':>5} {'found':>6} {'fetch p50':>10} {'fetch p99':>10} "
          f"{'cpu p99':>8} {'raw p50':>8} {'raw p99':>8} {'4 ids p50':>10} "
          f"{'4 ids p99':>10}   (ms)")
    results: dict[str, dict[str, float]] = {}
    for dept in MAIN_TABLE:
        r = bench_department(directory, dept, subjects)
        results[dept] = r
        flag = "" if r["p99_ms"] <= 5.0 else "  > 5 ms target"
        print(f"{dept:18} {r['paths']:5.0f} {r['found']:6.0%} {r['p50_ms']:10.3f} "
              f"{r['p99_ms']:10.3f} {r['cpu_p99_ms']:8.3f} {r['raw_p50_ms']:8.3f} "
              f"{r['raw_p99_ms']:8.3f} "
              f"{r['batch4_p50_ms']:10.3f} {r['batch4_p99_ms']:10.3f}{flag}")
    if args.json:
        args.json.write_text(json.dumps({"data": info, "results": results}, indent=1))
    return 0 if all(r["p99_ms"] <= 5.0 for r in results.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
