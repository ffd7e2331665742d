"""Shared by the offline tests (imported as ``offline_testlib``).

One deployment: provident-fund is offline, the rest run for real.

A gateway process and seven agent processes on loopback (mutual TLS, real SQLite); the
provident-fund agent has no process — it only ever sees sealed files. Tests reach the
gateway's case service as the verifier desk, run `hedui bundle …` / `hedui agent
answer-bundle` as the staff would, and read the databases to prove what did (not) change.

The gateway's case database and audit log are SQLite files under its state directory
unless ``Site`` is given SQLAlchemy URLs for them (e.g. PostgreSQL, as in production).
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from hedui.gateway import household as household_mod
from hedui.gateway import sandbox, verifying
from hedui.gateway.client import ClientConfig, GatewayClient
from hedui.gateway.demo import write_client_config
from hedui.keys import signing
from hedui.v1 import audit_pb2, case_pb2

OFFLINE = "provident-fund"

CASE_TABLES = ("cases", "case_departments", "answers", "reports", "case_audit_leaves",
               "offline_queries", "offline_bundles")


@dataclass(frozen=True)
class Snapshot:
    """What an import may change: every case table's rows and the audit log's size."""

    rows: dict[str, list[tuple]]
    audit_size: int


def fetch_all(url: str, sql: str, **params: Any) -> list[tuple]:
    """The rows of one read-only query against the database at ``url`` (SQLite or PostgreSQL)."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql), params)]
    finally:
        engine.dispose()


class Site:
    def __init__(self, root: Path, *, cases_db: str | None = None,
                 audit_db: str | None = None) -> None:
        """``cases_db`` / ``audit_db``: the gateway's store URLs (default: SQLite in state/)."""
        extra = root / "extra"
        extra.mkdir(parents=True)
        self.revoked_key = signing.generate_signing_key()
        signing.write_public_key(extra / "revoked.pub", self.revoked_key)
        self.cases_db = cases_db
        self.audit_db = audit_db
        self.sb = sandbox.provision(
            root / "site", persons=200, seed=11, offline=[OFFLINE],
            extra_gateway_keys=[sandbox.ExtraKey(extra / "revoked.pub",
                                                 revoked_reason="key file lost")],
        )
        if cases_db or audit_db:
            sandbox.write_gateway_config(self.sb, cases_db=cases_db, audit_db=audit_db)
        self.material = sandbox.gateway_material(self.sb)
        self.client_file = write_client_config(self.sb, self.sb.desk, sandbox.VERIFIER,
                                               "hedui-client.toml")
        data = json.loads((self.sb.data_dir / "households.json").read_text())
        samples = data["samples"]
        if isinstance(samples, dict):
            samples = [h for group in samples.values() for h in group]
        self.samples = samples
        (self.sb.root / "households").mkdir()
        self.processes: dict[str, subprocess.Popen] = {}
        self._n = 0
        self._used: dict[str, int] = {}

    # -------------------------------------------------------------- processes

    def start(self) -> None:
        sb = self.sb
        self.processes["gateway"] = sandbox.start_gateway(sb)
        for d in sb.agents:
            if d != OFFLINE:
                self.processes[d] = sandbox.start_agent(sb, d)
        sandbox.wait_healthy(sb.gateway_endpoint, sb.gateway.id, self.material,
                             process=self.processes["gateway"], log_file=sb.logs / "gateway.log")
        for d, p in self.processes.items():
            if d != "gateway":
                sandbox.wait_healthy(sb.endpoints[d], sb.agents[d].id, self.material,
                                     process=p, log_file=sb.logs / f"agent-{d}.log")

    def stop(self) -> None:
        for p in self.processes.values():
            sandbox.stop_process(p)

    # ------------------------------------------------------------------ cases

    def client(self) -> GatewayClient:
        return GatewayClient(ClientConfig.load(self.client_file))

    def new_case(self, label: str = "eligible") -> case_pb2.Case:
        """Open and verify a household's case: every online department answers."""
        skip = self._used.get(label, 0)
        self._used[label] = skip + 1
        h = [s for s in self.samples if s["expected"] == label][skip]
        self._n += 1
        path = household_mod.write(
            self.sb.root / "households" / f"hh-{self._n}.toml", programme="dibao",
            region="310000", members=h["members"], authorization_number=f"SQ-OFF-{self._n:04d}",
            today=dt.date.today(),
        )
        with self.client() as client:
            case = verifying.decide(client, household_mod.load(path))
        assert case.state == case_pb2.CASE_STATE_AWAITING_OFFLINE_ANSWER, verifying.summary(case)
        return case

    def get_case(self, case_id: str) -> case_pb2.Case:
        with self.client() as client:
            return client.call(client.cases.GetCase, case_pb2.GetCaseRequest(
                case_id=case_id, operator=sandbox.VERIFIER))

    # -------------------------------------------------------------------- cli

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*sandbox.hedui_command(), *args], capture_output=True, text=True,
                              timeout=120)

    def export(self, out: Path, *extra: str) -> subprocess.CompletedProcess:
        return self.cli("bundle", "export", "--config", str(self.sb.gateway_config),
                        "--department", OFFLINE, "--out", str(out), *extra)

    def answer(self, queries: Path, out: Path, config: Path | None = None
               ) -> subprocess.CompletedProcess:
        return self.cli("agent", "answer-bundle", "--config",
                        str(config or self.sb.agent_config(OFFLINE)), "--in", str(queries),
                        "--out", str(out))

    def import_(self, answers: Path) -> subprocess.CompletedProcess:
        return self.cli("bundle", "import", "--config", str(self.sb.gateway_config),
                        str(answers))

    # -------------------------------------------------------------- databases

    @property
    def state(self) -> Path:
        return self.sb.gateway_config.parent / "state"

    @property
    def cases_url(self) -> str:
        return self.cases_db or f"sqlite:///{self.state / 'cases.sqlite'}"

    def audit_url(self, db: Path | None = None) -> str:
        """The gateway's audit log, or the SQLite log at ``db`` (e.g. an agent's)."""
        if db is not None:
            return f"sqlite:///{db}"
        return self.audit_db or f"sqlite:///{self.state / 'audit.sqlite'}"

    def table_rows(self, *tables: str) -> dict[str, list[tuple]]:
        """Every row of the given case tables, in a stable order."""
        return {t: sorted(fetch_all(self.cases_url, f"SELECT * FROM {t}"), key=repr)
                for t in tables}

    def snapshot(self) -> Snapshot:
        return Snapshot(self.table_rows(*CASE_TABLES), self.audit_size())

    def audit_size(self, db: Path | None = None) -> int:
        return fetch_all(self.audit_url(db), "SELECT COUNT(*) FROM audit_leaves")[0][0]

    def audit_entries(self, since: int = 0, db: Path | None = None
                      ) -> list[audit_pb2.AuditEntry]:
        rows = fetch_all(self.audit_url(db),
                         "SELECT entry FROM audit_leaves WHERE idx >= :since ORDER BY idx",
                         since=since)
        return [audit_pb2.AuditEntry.FromString(bytes(r[0])) for r in rows]

    def assert_only_refusal_logged(self, before: Snapshot, reason: str) -> None:
        """Nothing in the case database changed; the audit log grew by one BUNDLE_REFUSED."""
        after = self.snapshot()
        for table in CASE_TABLES:
            assert after.rows[table] == before.rows[table], f"{table} changed"
        assert after.audit_size == before.audit_size + 1
        (entry,) = self.audit_entries(before.audit_size)
        assert entry.kind == audit_pb2.AUDIT_KIND_BUNDLE_REFUSED
        assert entry.outcome == audit_pb2.AUDIT_OUTCOME_REFUSED
        assert entry.reason.startswith(reason), entry.reason

