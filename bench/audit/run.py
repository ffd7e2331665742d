"""Audit log benchmark: append throughput, inclusion-proof latency, full verification.

Run ``.venv/bin/python bench/audit/run.py [--quick]``. Every figure is printed beside a
baseline measured in the same run on the same database, with the ratio, so the numbers
say what the Merkle bookkeeping costs rather than how fast this machine's disk is:

- append: plain batched INSERTs of the same bytes into a plain ``(idx, entry)`` table
  under the same durability settings (SQLite WAL + synchronous=FULL);
- inclusion proof: a primary-key lookup of one leaf row through the same engine;
- report evidence (a case's 18 entries proved together): the same 18 proofs one by one;
- verify: reading every entry in order and hashing it (the I/O + SHA-256 floor).

Targets (DESIGN.md / issue): append >= 20k/s on SQLite and >= 5k/s on PostgreSQL with
batching, inclusion proof <= 1 ms at 10^6 leaves, full verify of 10^6 leaves <= 30 s.
PostgreSQL is taken from ``HEDUI_BENCH_PG`` (default the local test server) and is
skipped when unreachable. Results are also written to ``bench/results/``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from nacl.signing import SigningKey
from sqlalchemy import Engine, create_engine, text

from hedui.audit.store import AuditLog, make_engine

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
ENTRY_BYTES = 300  # a typical serialized AuditEntry
KEY = SigningKey(b"\x42" * 32)
RESULTS: list[dict[str, object]] = []


def entries(n: int, seed: int = 1) -> list[bytes]:
    rng = random.Random(seed)
    return [rng.randbytes(ENTRY_BYTES) for _ in range(n)]


def report(backend: str, what: str, value: float, unit: str, base: float, target: str) -> None:
    better_high = unit.endswith("/s")
    ratio = value / base if base else float("nan")
    RESULTS.append({"backend": backend, "metric": what, "value": value, "unit": unit,
                    "baseline": base, "ratio": ratio, "target": target})  # fmt: skip
    rel = "of baseline" if better_high else "x baseline"
    print(f"  {what:<50} {value:>12,.1f} {unit:<7} baseline {base:>12,.1f}  "
          f"({ratio:5.2f} {rel})  target {target}", flush=True)  # fmt: skip


# ------------------------------------------------------------------ databases


@contextmanager
def sqlite_db() -> Iterator[tuple[str, dict[str, object]]]:
    with tempfile.TemporaryDirectory(prefix="hedui-bench-") as d:
        yield f"sqlite:///{d}/audit.db", {}


@contextmanager
def postgres_db(url: str) -> Iterator[tuple[str, dict[str, object]]]:
    schema = f"bench_audit_{uuid.uuid4().hex[:10]}"
    try:
        yield url, {"schema": schema}
    finally:
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        engine.dispose()


def postgres_url() -> str | None:
    url = os.environ.get("HEDUI_BENCH_PG", DEFAULT_PG)
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return url
    except Exception as exc:  # unreachable server: skip that backend
        print(f"PostgreSQL at {url} unreachable ({type(exc).__name__}): skipped")
        return None


def open_log(url: str, opts: dict[str, object], prefix: str) -> AuditLog:
    return AuditLog.create(
        url,
        origin="bench.hedui.example/audit",
        key_name="bench",
        signing_key=KEY,
        prefix=prefix,
        schema=opts.get("schema"),  # type: ignore[arg-type]
    )


class PlainTable:
    """The baseline: the same bytes into ``(idx, entry)``, same engine settings."""

    def __init__(self, url: str, opts: dict[str, object], name: str) -> None:
        self.engine: Engine = make_engine(url)
        schema = opts.get("schema")
        self.name = f"{schema}.{name}" if schema else name
        self.next = 0
        self.lock = threading.Lock()
        with self.engine.begin() as conn:
            if schema:
                conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {schema}"))
            conn.execute(text(f"CREATE TABLE {self.name} (idx BIGINT PRIMARY KEY, entry "
                              f"{'BYTEA' if schema else 'BLOB'} NOT NULL)"))  # fmt: skip
        mark = "?" if self.engine.dialect.paramstyle == "qmark" else "%s"
        self.sql = f"INSERT INTO {self.name} (idx, entry) VALUES ({mark}, {mark})"

    def insert(self, batch: list[bytes]) -> None:
        with self.lock:  # a plain table still needs someone to hand out indexes
            start = self.next
            self.next += len(batch)
        with self.engine.begin() as conn:
            conn.exec_driver_sql(self.sql, [(start + i, e) for i, e in enumerate(batch)])

    def lookup(self, idx: int) -> bytes:
        with self.engine.connect() as conn:
            return bytes(conn.exec_driver_sql(
                f"SELECT entry FROM {self.name} WHERE idx = {int(idx)}").scalar_one())  # fmt: skip

    def scan_and_hash(self) -> int:
        n = 0
        with self.engine.connect() as conn:
            result = conn.execution_options(yield_per=20_000).exec_driver_sql(
                f"SELECT idx, entry FROM {self.name} ORDER BY idx")  # fmt: skip
            for _, e in result:
                hashlib.sha256(b"\x00" + bytes(e)).digest()
                n += 1
        return n


def rate(count: int, threads: int, call: Callable[[list[bytes]], object], batch: int,
         data: list[bytes]) -> float:  # fmt: skip
    """Entries per second when ``threads`` threads push ``count`` entries in ``batch``es."""
    per = count // threads
    chunks = [[data[(t * per + i) % len(data)] for i in range(per)] for t in range(threads)]
    barrier = threading.Barrier(threads + 1)

    def work(mine: list[bytes]) -> None:
        barrier.wait()
        for s in range(0, len(mine), batch):
            call(mine[s : s + batch])

    workers = [threading.Thread(target=work, args=(c,)) for c in chunks]
    for w in workers:
        w.start()
    barrier.wait()
    t0 = time.perf_counter()
    for w in workers:
        w.join()
    return per * threads / (time.perf_counter() - t0)


# --------------------------------------------------------------------- benches


def bench_append(backend: str, url: str, opts: dict[str, object], quick: bool) -> None:
    data = entries(4096)
    target = ">= 20,000/s" if backend == "sqlite" else ">= 5,000/s"
    n_batch = 20_000 if quick else 100_000
    n_single = 300 if quick else 1_000
    cases = [
        ("1 writer, append_many(1000)", 1, 1000, n_batch, target),
        ("4 writers, append_many(1000)", 4, 1000, n_batch, target),
        ("1 writer, append() one durable commit each", 1, 1, n_single, "-"),
        ("4 writers, append() (group commit)", 4, 1, n_single * 2, "-"),
        ("64 writers, append() (group commit)", 64, 1, n_single * 8, "-"),
    ]
    for k, (label, threads, batch, count, tgt) in enumerate(cases):
        log = open_log(url, opts, f"a{k}_")
        plain = PlainTable(url, opts, f"plain_a{k}")
        try:
            if batch == 1:
                audit = rate(count, threads, lambda b, log=log: log.append(b[0]), 1, data)
            else:
                audit = rate(count, threads, log.append_many, batch, data)
            base = rate(count, threads, plain.insert, batch, data)
            report(backend, f"append: {label}", audit, "/s", base, tgt)
        finally:
            log.close()
            plain.engine.dispose()


def grow(log: AuditLog, plain: PlainTable, target: int) -> None:
    """Bulk path: append_many in 8,192-entry transactions (the same rows as any append)."""
    data = entries(8192, seed=target)
    while (n := log.size()) < target:
        batch = data[: min(8192, target - n)]
        log.append_many(batch)
        plain.insert(batch)


def bench_proofs_and_verify(backend: str, url: str, opts: dict[str, object],
                            quick: bool) -> None:  # fmt: skip
    sizes = [10_000, 100_000] if quick else [10_000, 100_000, 1_000_000]
    log = open_log(url, opts, "p_")
    plain = PlainTable(url, opts, "plain_p")
    rng = random.Random(7)
    try:
        for size in sizes:
            t0 = time.perf_counter()
            grow(log, plain, size)
            built = time.perf_counter() - t0
            print(f"  (built {size:,} leaves + baseline rows in {built:.1f} s)", flush=True)
            cp = log.open_note(log.checkpoint())
            picks = [rng.randrange(size) for _ in range(2000)]
            for i in picks[:50]:  # warm the caches and the statement cache
                log.inclusion_proof(i, cp.size)
                plain.lookup(i)
            audit = _latency(lambda i, n=cp.size: log.inclusion_proof(i, n), picks)
            base = _latency(plain.lookup, picks)
            report(backend, f"inclusion proof at {size:,} (median)", audit[0] * 1e3, "ms",
                   base[0] * 1e3, "<= 1 ms at 10^6")  # fmt: skip
            report(backend, f"inclusion proof at {size:,} (p99)", audit[1] * 1e3, "ms",
                   base[1] * 1e3, "-")  # fmt: skip
            # a report's evidence: a case's 18 entries among the log's newest, proved
            # together; baseline: the same proofs asked for one by one
            cases = [sorted(rng.sample(range(max(0, size - 300), size), 18)) for _ in range(300)]
            together = _latency(lambda k, n=cp.size, c=cases: log.evidence(c[k], n),
                                list(range(300)))
            apart = _latency(lambda k, n=cp.size, c=cases: [log.inclusion_proof(i, n)
                                                             for i in c[k]], list(range(300)))
            report(backend, f"report evidence, 18 leaves at {size:,} (median)",
                   together[0] * 1e3, "ms", apart[0] * 1e3, "-")  # fmt: skip
        t0 = time.perf_counter()
        log.verify_all()
        verify = time.perf_counter() - t0
        t0 = time.perf_counter()
        plain.scan_and_hash()
        base_scan = time.perf_counter() - t0
        report(backend, f"verify_all at {sizes[-1]:,}", verify, "s", base_scan,
               "<= 30 s at 10^6")  # fmt: skip
    finally:
        log.close()
        plain.engine.dispose()


def _latency(call: Callable[[int], object], picks: list[int]) -> tuple[float, float]:
    times = []
    for i in picks:
        t0 = time.perf_counter()
        call(i)
        times.append(time.perf_counter() - t0)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (10^4, 10^5)")
    args = parser.parse_args(argv)
    print(f"hedui audit bench ({'quick' if args.quick else 'full'}), {os.cpu_count()} CPUs, "
          f"Python {sys.version.split()[0]}, entries of {ENTRY_BYTES} bytes")  # fmt: skip
    backends: list[tuple[str, Callable[[], object]]] = [("sqlite", sqlite_db)]
    pg = postgres_url()
    if pg is not None:
        backends.append(("postgresql", lambda: postgres_db(pg)))
    for name, db in backends:
        print(f"\n[{name}]", flush=True)
        with db() as (url, opts):  # type: ignore[attr-defined]
            bench_append(name, url, opts, args.quick)
            bench_proofs_and_verify(name, url, opts, args.quick)
    out = Path(__file__).resolve().parents[1] / "results"
    out.mkdir(exist_ok=True)
    path = out / f"audit-{time.strftime('%Y%m%dT%H%M%S')}{'-quick' if args.quick else ''}.json"
    path.write_text(json.dumps(RESULTS, indent=2))
    print(f"\nresults written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
