"""Two gateway replicas on one PostgreSQL database, as a county runs them behind a load
balancer: cases spread over both are each decided once, into one audit tree whose every
proof verifies; a replica SIGKILLed mid-batch loses nothing and the batch resumes."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import uuid
from collections import Counter
from pathlib import Path

import pytest

from hedui.audit.entries import decode
from hedui.audit.hashing import leaf_hash
from hedui.audit.proof_verify import verify_inclusion
from hedui.audit.store import AuditLog
from hedui.gateway import household as household_mod
from hedui.gateway import sandbox
from hedui.gateway.demo import write_client_config
from hedui.keys import keyfile
from hedui.v1 import audit_pb2

PG = os.environ.get("HEDUI_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

pytestmark = pytest.mark.postgres


def _admin_connect():
    psycopg = pytest.importorskip("psycopg")
    dsn = PG.replace("postgresql+psycopg://", "postgresql://")
    try:
        return psycopg.connect(dsn, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable at {PG}: {exc}")


@pytest.fixture()
def pg_database():
    """A fresh database per test: replicas share it, tests never do."""
    name = f"hedui_rep_{uuid.uuid4().hex[:10]}"
    admin = _admin_connect()
    admin.execute(f'CREATE DATABASE "{name}"')
    base = PG.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()


class Center:
    """Eight agents and two gateway replicas on one PostgreSQL database."""

    def __init__(self, root: Path, db_url: str) -> None:
        self.sb = sandbox.provision(root, persons=400, seed=5)
        self.db = db_url
        self.material = sandbox.gateway_material(self.sb)
        self.ports = [self.sb.gateway_endpoint, f"127.0.0.1:{sandbox.free_port()}"]
        self.configs = [
            sandbox.write_gateway_config(
                self.sb, cases_db=db_url, audit_db=db_url, listen=port,
                state_dir=f"state-{i}", path=self.sb.root / "gateway" / f"replica-{i}.toml")
            for i, port in enumerate(self.ports)
        ]
        self.replicas: dict[int, subprocess.Popen] = {}
        self.agents: dict[str, subprocess.Popen] = {}
        client = write_client_config(self.sb, self.sb.desk, sandbox.VERIFIER, "client.toml")
        text = client.read_text().replace(f'gateway = "{self.sb.gateway_endpoint}"',
                                          f'gateway = "{",".join(self.ports)}"')
        client.write_text(text)
        self.client = client

    def start_replica(self, i: int) -> None:
        self.replicas[i] = sandbox.start_gateway(self.sb, self.configs[i], f"replica-{i}")
        sandbox.wait_healthy(self.ports[i], self.sb.gateway.id, self.material,
                             process=self.replicas[i],
                             log_file=self.sb.logs / f"replica-{i}.log")

    def start(self) -> None:
        self.start_replica(0)  # creates the schema; the second finds it
        self.start_replica(1)
        for d in self.sb.agents:
            self.agents[d] = sandbox.start_agent(self.sb, d)
        for d, ident in self.sb.agents.items():
            sandbox.wait_healthy(self.sb.endpoints[d], ident.id, self.material,
                                 process=self.agents[d])

    def stop(self) -> None:
        for p in [*self.replicas.values(), *self.agents.values()]:
            sandbox.stop_process(p)

    def batch_file(self, n: int) -> Path:
        data = json.loads((self.sb.data_dir / "households.json").read_text())
        samples = data["samples"]
        if isinstance(samples, dict):
            samples = [h for group in samples.values() for h in group]
        rows = []
        (self.sb.root / "hh").mkdir(exist_ok=True)
        for i in range(n):
            h = samples[i % len(samples)]
            path = household_mod.write(
                self.sb.root / "hh" / f"{i}.toml", programme="dibao", region="310000",
                members=h["members"], authorization_number=f"SQ-R-{i:06d}",
                today=dt.date.today())
            rows.append(f"hh/{path.name}")
        csv_path = self.sb.root / "batch.csv"
        csv_path.write_text("household\n" + "\n".join(rows) + "\n")
        return csv_path

    def run_batch(self, csv_path: Path, *, wait: bool = True) -> subprocess.Popen:
        proc = subprocess.Popen(
            [*sandbox.hedui_command(), "verify", "--client", str(self.client), "--batch",
             str(csv_path), "--out", str(self.sb.root / "out"), "--concurrency", "16"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if wait:
            proc.wait(600)
        return proc

    def progress(self) -> list[dict]:
        path = self.sb.root / "out" / "batch.progress.jsonl"
        if not path.exists():
            return []
        return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]

    def why_not_decided(self) -> str:
        """The departments' reasons of cases left undecided (for a failing assertion)."""
        from sqlalchemy import create_engine, text

        engine = create_engine(self.db)
        with engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT d.department, d.state, d.reason FROM case_departments d "
                "JOIN cases c ON c.case_id = d.case_id "
                "WHERE c.state <> 'CASE_STATE_DECIDED' AND d.state <> 'ANSWERED' LIMIT 8")).all()
            states = conn.execute(text("SELECT state, count(*) FROM cases GROUP BY state")).all()
        engine.dispose()
        return f"\ncase states {states}\n" + "\n".join(f"{r[0]} {r[1]}: {r[2]}" for r in rows)

    def audit_log(self) -> AuditLog:
        key = keyfile.load_signing_key(self.sb.pki / "audit" / "signing.key")
        return AuditLog.open(self.db, origin="county.example/gateway/audit",
                             key_name="county.example/audit/log", signing_key=key)

    def check_one_tree(self, expected_cases: int) -> None:
        """One audit tree: intact, every leaf proved, each case decided exactly once."""
        from sqlalchemy import create_engine, text

        engine = create_engine(self.db)
        with engine.connect() as conn:
            states = dict(conn.execute(text(
                "SELECT state, count(*) FROM cases GROUP BY state")).all())
            reports = conn.execute(text("SELECT count(*) FROM reports")).scalar()
            report_of = dict(conn.execute(text("SELECT case_id, report_digest FROM cases")).all())
        engine.dispose()
        assert states == {"CASE_STATE_DECIDED": expected_cases}, states
        assert reports == expected_cases
        log = self.audit_log()
        try:
            log.verify_all()
            note = log.checkpoint()
            cp = log.open_note(note)
            leaves = [log.leaf(i) for i in range(cp.size)]
            for i in range(0, cp.size, max(1, cp.size // 2000)):
                verify_inclusion(leaf_hash(leaves[i]), i, cp.size,
                                 log.inclusion_proof(i, cp.size), cp.root)
        finally:
            log.close()
        assert len(set(leaves)) == len(leaves), "an audit entry is duplicated"
        entries = [decode(x) for x in leaves]
        decisions = [e for e in entries if e.kind == audit_pb2.AUDIT_KIND_CASE_DECIDED]
        committed = Counter(e.case_id for e in decisions
                            if e.report_digest == bytes(report_of[e.case_id]))
        assert len(committed) == expected_cases, "a decided case has no decision entry"
        assert set(committed.values()) == {1}, "a case was decided twice"
        self.superseded = len(decisions) - expected_cases


@pytest.fixture()
def center(tmp_path: Path, pg_database: str):
    c = Center(tmp_path, pg_database)
    try:
        c.start()
        yield c
    finally:
        c.stop()


def test_two_replicas_decide_a_thousand_cases_into_one_tree(center: Center) -> None:
    csv_path = center.batch_file(1000)
    proc = center.run_batch(csv_path)
    out = proc.stdout.read()
    assert proc.returncode == 0, out + proc.stderr.read()
    assert "1000 decided" in out
    center.check_one_tree(1000)
    assert center.superseded == 0
    served = [(center.sb.logs / f"replica-{i}.log").read_text().count('"case decided"')
              for i in (0, 1)]
    assert all(n > 0 for n in served), f"cases per replica: {served}"
    assert sum(served) == 1000


def test_replica_killed_mid_batch_loses_nothing_and_the_batch_resumes(center: Center) -> None:
    import time

    csv_path = center.batch_file(200)
    proc = center.run_batch(csv_path, wait=False)
    deadline = time.monotonic() + 120
    while len(center.progress()) < 40 and time.monotonic() < deadline:
        time.sleep(0.05)
    center.replicas[1].send_signal(signal.SIGKILL)
    center.replicas[1].wait()
    proc.wait(600)
    first = proc.stdout.read()
    assert "interrupted" in first or "200 decided" in first, first + proc.stderr.read()
    center.start_replica(1)
    for _ in range(10):
        again = center.run_batch(csv_path)
        if again.returncode == 0:
            break
        time.sleep(2)
    out = again.stdout.read()
    assert again.returncode == 0, out[-600:] + again.stderr.read()[-600:] + center.why_not_decided()
    assert "200 decided" in out
    center.check_one_tree(200)
    # at most the cases the killed replica was deciding at that moment
    assert center.superseded <= 16
