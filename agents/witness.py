"""Departments witness the center: every agent checks the gateway's audit checkpoints.

The gateway puts its latest signed checkpoint into every query. The agent keeps the
largest checkpoint it has verified; a new one must be signed by a gateway or audit
key of the trust bundle and be consistent with the kept one — the same root at the
same size, or an RFC 9162 consistency proof (fetched from the gateway's audit
service) between the two sizes. Consistency is transitive, so checking against the
kept checkpoint alone proves the whole sequence. On an inconsistency the agent
raises an alarm that survives restarts and refuses every further query until an
administrator clears it: the center cannot rewrite its log without the departments
noticing.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from pathlib import Path

import grpc
from sqlalchemy import (
    Column,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    insert,
    select,
)

from hedui.agents import refusals
from hedui.audit.checkpoint import Checkpoint, open_checkpoint
from hedui.audit.entries import AccessRecorder
from hedui.audit.errors import AuditError
from hedui.audit.proof_verify import verify_consistency
from hedui.keys import tls
from hedui.keys.bundle import Bundle
from hedui.keys.tls import TlsMaterial
from hedui.local_tables import create_missing
from hedui.v1 import audit_pb2, audit_pb2_grpc, query_pb2, trust_pb2

#: (first_size, second_size) -> consistency proof hashes
ProofSource = Callable[[int, int], list[bytes]]

metadata = MetaData()
seen = Table(
    "witnessed_checkpoints",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("origin", String, nullable=False),
    Column("size", Integer, nullable=False),
    Column("root", LargeBinary, nullable=False),
    Column("note", Text, nullable=False),
)
alarms = Table(
    "witness_alarms",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("raised_at", String, nullable=False),
    Column("reason", Text, nullable=False),
    Column("first_note", Text, nullable=False),
    Column("second_note", Text, nullable=False),
)


def grpc_proof_source(endpoint: str, server_id: str, material: TlsMaterial) -> ProofSource:
    """Consistency proofs from the gateway's audit service over mutual TLS."""
    channel = grpc.secure_channel(
        endpoint, tls.channel_credentials(*material), options=tls.channel_options(server_id)
    )
    stub = audit_pb2_grpc.AuditServiceStub(channel)

    def fetch(first: int, second: int) -> list[bytes]:
        reply = stub.GetConsistencyProof(
            audit_pb2.GetConsistencyProofRequest(first_size=first, second_size=second),
            timeout=5.0,
        )
        return list(reply.proof.hashes)

    return fetch


def checkpoint_key_name(participant_id: str) -> str:
    """The signed-note key name of a participant: its id without the scheme."""
    return participant_id.removeprefix("spiffe://")


class Witness:
    """Verifies the center's checkpoints as they arrive in queries."""

    def __init__(
        self,
        path: Path | str | None,
        *,
        bundle: Callable[[], Bundle],
        recorder: AccessRecorder | None,
        proof_source: ProofSource | None = None,
        required: bool = True,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        url = "sqlite://" if path is None else f"sqlite:///{Path(path)}"
        self._engine = create_engine(url)
        create_missing(self._engine, metadata)
        self._bundle = bundle
        self._recorder = recorder
        self._proof_source = proof_source
        self.required = required
        self._clock = clock
        self._lock = threading.Lock()
        #: notes already verified, per trust bundle (most queries repeat the last one)
        self._opened: dict[tuple[str, str], Checkpoint] = {}
        with self._engine.connect() as conn:
            row = conn.execute(select(alarms.c.reason).order_by(alarms.c.id.desc())).first()
            self.alarm: str | None = row[0] if row else None
            last = conn.execute(
                select(seen.c.origin, seen.c.size, seen.c.root, seen.c.note)
                .order_by(seen.c.size.desc(), seen.c.id.desc())
            ).first()
        self.latest: tuple[Checkpoint, str] | None = (
            (Checkpoint(last.origin, last.size, bytes(last.root)), last.note) if last else None
        )

    def set_proof_source(self, source: ProofSource) -> None:
        self._proof_source = source

    def observe(self, query: query_pb2.Query) -> None:
        """Check the checkpoint a query carries; raise WitnessAlarm when inconsistent."""
        if self.alarm:
            raise refusals.WitnessAlarm(
                f"this agent has stopped answering: the center's audit log is inconsistent "
                f"({self.alarm}); an administrator must investigate"
            )
        note = query.audit_checkpoint
        if not note:
            if self.required:
                raise refusals.MalformedQuery(
                    "the query carries no audit checkpoint; this agent witnesses the center's log"
                )
            return
        checkpoint = self._open_cached(note)
        with self._lock:
            if self.alarm:
                raise refusals.WitnessAlarm(
                    f"the center's audit log is inconsistent ({self.alarm})"
                )
            previous = self.latest
            if previous is None:
                self._keep(checkpoint, note)
                return
            old, old_note = previous
            try:
                self._check_consistent(old, checkpoint)
            except (AuditError, refusals.WitnessAlarm) as exc:
                self._raise_alarm(str(exc), old_note, note)
            if checkpoint.size > old.size:
                self._keep(checkpoint, note)

    def _open_cached(self, note: str) -> Checkpoint:
        """Verify each distinct note once per trust bundle; queries repeat the latest."""
        key = (note, self._bundle().payload_sha256)
        found = self._opened.get(key)
        if found is None:
            found = self._open(note)
            if len(self._opened) > 64:
                self._opened.clear()
            self._opened[key] = found
        return found

    def _open(self, note: str) -> Checkpoint:
        """Verify the note's signature by any gateway or audit key of the bundle."""
        bundle = self._bundle()
        now = self._clock()
        for participant in bundle.proto.participants:
            if participant.role not in (trust_pb2.ROLE_GATEWAY, trust_pb2.ROLE_AUDIT):
                continue
            name = checkpoint_key_name(participant.id)
            for key in participant.signing_keys:
                try:
                    verify_key, _ = bundle.signing_key(key.keyid, now)
                    return open_checkpoint(note, name, verify_key)
                except Exception:
                    continue
        raise refusals.MalformedQuery(
            "the query's audit checkpoint is not signed by any gateway key in the trust bundle"
        )

    def _check_consistent(self, old: Checkpoint, new: Checkpoint) -> None:
        if new.origin != old.origin:
            raise refusals.WitnessAlarm(
                f"checkpoint for log {new.origin!r} after one for {old.origin!r}"
            )
        if new.size == old.size:
            if new.root != old.root:
                raise refusals.WitnessAlarm(f"two different roots for tree size {new.size}")
            return
        small, large = (old, new) if new.size > old.size else (new, old)
        if small.size == 0:
            return
        proof = self._fetch_proof(small.size, large.size)
        verify_consistency(small.size, large.size, proof, small.root, large.root)

    def _fetch_proof(self, first: int, second: int) -> list[bytes]:
        if self._proof_source is None:
            raise refusals.DataUnavailable(
                "cannot verify the center's checkpoint: no gateway audit service configured "
                "([witness] gateway_audit_endpoint)"
            )
        try:
            return self._proof_source(first, second)
        except refusals.QueryRefused:
            raise
        except AuditError:
            raise
        except Exception as exc:
            # the status code only: grpc's own text names Python classes and addresses
            code = getattr(exc, "code", None)
            said = code().name if isinstance(exc, grpc.RpcError) and callable(code) \
                else "no reply"
            raise refusals.DataUnavailable(
                f"cannot fetch a consistency proof from the center's audit service ({said})"
            ) from None

    def _keep(self, checkpoint: Checkpoint, note: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(insert(seen).values(
                origin=checkpoint.origin, size=checkpoint.size, root=checkpoint.root, note=note,
            ))
        self.latest = (checkpoint, note)

    def _raise_alarm(self, reason: str, first_note: str, second_note: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(insert(alarms).values(
                raised_at=self._clock().isoformat(), reason=reason,
                first_note=first_note, second_note=second_note,
            ))
        self.alarm = reason
        if self._recorder is not None:
            self._recorder.record(
                audit_pb2.AUDIT_KIND_WITNESS_ALARM,
                outcome=audit_pb2.AUDIT_OUTCOME_REFUSED,
                reason=f"inconsistent checkpoints from the center: {reason}",
            )
        raise refusals.WitnessAlarm(
            f"the center's audit checkpoints are inconsistent ({reason}); this agent refuses "
            "all queries until an administrator investigates"
        )
