"""Shared by the agent benchmarks: one department's sandbox, and signed single-subject
queries to it as the gateway would send them."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import nacl.signing

from hedui.audit.store import AuditLog
from hedui.gateway import sandbox
from hedui.gateway.queries import SubjectRef, build_query, sign_query
from hedui.keys import keyfile
from hedui.v1 import envelope_pb2

DEPT = "banks"
PATHS = ["deposits.*.balance_fen", "securities.*.market_value_fen", "income"]


@dataclass
class Site:
    """A sandbox with ``DEPT`` only, the gateway's key, a checkpoint and the ID numbers."""

    sb: sandbox.Sandbox
    key: nacl.signing.SigningKey
    note: str
    ids: list[str]

    def queries(self, n: int, offset: int = 0) -> list[envelope_pb2.Envelope]:
        """``n`` signed queries, each for one person, all carrying the same checkpoint
        (as queries do between two checkpoint publications)."""
        sb = self.sb
        return [sign_query(build_query(
            issuer=sb.gateway.id, audience=sb.agents[DEPT].id, case_id="bench",
            purpose="dibao", operator="op-1001",
            subjects=[SubjectRef(self.ids[(offset + i) % len(self.ids)])], field_paths=PATHS,
            authorization_number="SQ-BENCH", consent_digest="ab" * 32,
            audit_checkpoint=self.note, lifetime=dt.timedelta(minutes=10),
        ), self.key).envelope for i in range(n)]


def provision(root: Path, persons: int) -> Site:
    sb = sandbox.provision(root, persons=persons, departments=[DEPT])
    key = keyfile.load_signing_key(sb.gateway.signing_key)
    log = AuditLog.create(f"sqlite:///{root / 'gw.sqlite'}", origin="county.example/gateway/audit",
                          key_name=sb.gateway.id.removeprefix("spiffe://"), signing_key=key)
    log.append(b"bench")
    note = log.checkpoint()
    log.close()
    people = json.loads((sb.data_dir / "households.json").read_text())["samples"]
    if isinstance(people, dict):
        people = [h for g in people.values() for h in g]
    return Site(sb, key, note, [m["id_number"] for h in people for m in h["members"]])
