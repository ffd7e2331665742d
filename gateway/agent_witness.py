"""The center witnesses the departments: the gateway checks every agent's log checkpoints.

Departments witness the center's log (``hedui.agents.witness``); without the converse a
department's log cut back to an earlier checkpoint still passes ``hedui audit verify``,
for nobody outside ever saw the later one. So every answer carries the agent's latest
checkpoint (``Answer.agent_checkpoint``) and its log's verifier key
(``Answer.agent_log_key``), both inside the payload the agent's exchange key signs.

The key is pinned on first use, per agent, persistently: the agents make their log keys
themselves on first start (``state/audit-log.key``), so the trust bundle cannot name
them, and the answer's signature by the agent's bundle key vouches for the first one. A
different key later means the agent's log was replaced — history lost — and raises the
alarm, as does an inconsistent checkpoint: the same root at the same size, or an RFC
9162 consistency proof fetched from the agent's own audit service between the kept
(largest verified) checkpoint and the new one, as the agents check the center's. A size
the agent once signed that its log no longer holds is proof it was cut back. A proof
that cannot be fetched is not an alarm (``AgentLogUnverified``: the answer is not used,
and the fan-out retries).

The alarm is persisted with both notes, logged, written to the gateway's audit log as
``AUDIT_KIND_WITNESS_ALARM``, and every later answer of that agent is refused (queries
are not even sent) until an administrator has investigated and calls :meth:`clear`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import (
    Column,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    insert,
    select,
    update,
)

from hedui.audit.checkpoint import Checkpoint, open_checkpoint, parse_vkey
from hedui.audit.entries import AccessRecorder
from hedui.audit.errors import AuditError
from hedui.audit.proof_verify import verify_consistency
from hedui.errors import HeduiError
from hedui.local_tables import create_missing
from hedui.v1 import audit_pb2, query_pb2

log = structlog.get_logger("hedui.gateway")

#: (first_size, second_size) -> consistency proof hashes, from the agent's audit service
ProofFetch = Callable[[int, int], Awaitable[list[bytes]]]

metadata = MetaData()
pinned_keys = Table(
    "agent_log_keys", metadata,
    Column("agent", String, primary_key=True),
    Column("vkey", Text, nullable=False),
    Column("pinned_at", String, nullable=False),
)
kept = Table(  # the largest verified checkpoint, one row per agent
    "agent_checkpoints", metadata,
    Column("agent", String, primary_key=True),
    Column("size", Integer, nullable=False),
    Column("root", LargeBinary, nullable=False),
    Column("note", Text, nullable=False),
)
alarms = Table(
    "agent_log_alarms", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("agent", String, nullable=False, index=True),
    Column("raised_at", String, nullable=False),
    Column("reason", Text, nullable=False),
    Column("first_note", Text, nullable=False),
    Column("second_note", Text, nullable=False),
    Column("cleared_at", String),
    Column("cleared_by", String),
)


class AgentLogAlarm(HeduiError):
    """The agent's log contradicts what it signed before: cut back, forked or replaced."""

    reason = "AGENT_LOG_INCONSISTENT"


class AgentLogUnverified(HeduiError):
    """The agent's checkpoint could not be checked now (its proof was not fetched)."""

    reason = "AGENT_LOG_UNVERIFIED"


class BadAgentCheckpoint(HeduiError):
    """The answer carries no checkpoint, or one that does not verify under its log key."""

    reason = "AGENT_CHECKPOINT_INVALID"


class ProofBeyondLog(HeduiError):
    """The agent says its log holds fewer leaves than a size it asked a proof for."""

    def __init__(self, log_size: int, message: str) -> None:
        self.log_size = log_size
        super().__init__(message)


def log_key_name(agent_id: str) -> str:
    """The signed-note key name of an agent's own log (``hedui.agents.server.build``)."""
    return agent_id.removeprefix("spiffe://")


class AgentWitness:
    """Keeps the largest verified checkpoint of every agent's log and checks new ones.

    ``path`` None keeps everything in memory (tests; a gateway must persist it).
    Thread-compatible; meant for one event loop (one lock per agent).
    """

    def __init__(
        self,
        path: Path | str | None,
        *,
        recorder: AccessRecorder | None,
        required: bool = True,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        url = "sqlite://" if path is None else f"sqlite:///{Path(path)}"
        self._engine = create_engine(url)
        create_missing(self._engine, metadata)
        self._recorder = recorder
        self.required = required
        self._clock = clock
        self._locks: dict[str, asyncio.Lock] = {}
        #: (agent, smaller size, its root, larger size, its root) already proved
        self._proved: set[tuple[str, int, bytes, int, bytes]] = set()
        self._opened: dict[tuple[str, str, str], Checkpoint] = {}
        with self._engine.connect() as conn:
            self.keys: dict[str, str] = dict(conn.execute(
                select(pinned_keys.c.agent, pinned_keys.c.vkey)).all())
            self.alarms: dict[str, str] = {
                row.agent: row.reason for row in conn.execute(
                    select(alarms.c.agent, alarms.c.reason)
                    .where(alarms.c.cleared_at.is_(None)).order_by(alarms.c.id))
            }
            self.latest: dict[str, tuple[Checkpoint, str]] = {}
            for row in conn.execute(select(kept.c.agent, kept.c.size, kept.c.root,
                                           kept.c.note)):
                self.latest[row.agent] = _kept_checkpoint(row.agent, row)

    def close(self) -> None:
        self._engine.dispose()

    def alarm(self, agent_id: str) -> str | None:
        """Why this agent's answers are refused, or None."""
        return self.alarms.get(agent_id)

    def refuse_if_alarmed(self, agent_id: str) -> None:
        reason = self.alarms.get(agent_id)
        if reason is not None and self._cleared_elsewhere(agent_id):
            reason = None  # an administrator cleared it (``hedui witness clear``)
        if reason is not None:
            raise AgentLogAlarm(
                f"the gateway refuses {agent_id}'s answers: its audit log is inconsistent "
                f"({reason}); an administrator must investigate"
            )

    def _cleared_elsewhere(self, agent_id: str) -> bool:
        """Whether the alarm was cleared in the file since (by the CLI, while this gateway
        runs): then what the file now keeps for the agent is taken back in."""
        with self._engine.connect() as conn:
            open_alarm = conn.execute(
                select(alarms.c.id).where(alarms.c.agent == agent_id,
                                          alarms.c.cleared_at.is_(None))).first()
            if open_alarm is not None:
                return False
            key = conn.execute(select(pinned_keys.c.vkey)
                               .where(pinned_keys.c.agent == agent_id)).scalar()
            row = conn.execute(select(kept.c.size, kept.c.root, kept.c.note)
                               .where(kept.c.agent == agent_id)).first()
        self.alarms.pop(agent_id, None)
        if key is None:
            self.keys.pop(agent_id, None)
        else:
            self.keys[agent_id] = key
        if row is None:
            self.latest.pop(agent_id, None)
        else:
            self.latest[agent_id] = _kept_checkpoint(agent_id, row)
        self._opened = {k: v for k, v in self._opened.items() if k[0] != agent_id}
        return True

    def open_alarms(self) -> list[tuple[str, str, str]]:
        """(agent, reason, raised at) of every alarm not cleared, oldest first."""
        with self._engine.connect() as conn:
            return [(r.agent, r.reason, str(r.raised_at)) for r in conn.execute(
                select(alarms.c.agent, alarms.c.reason, alarms.c.raised_at)
                .where(alarms.c.cleared_at.is_(None)).order_by(alarms.c.id))]

    async def observe(self, agent_id: str, department: str, answer: query_pb2.Answer,
                      fetch: ProofFetch) -> None:
        """Check the checkpoint an answer carries; raise on anything but consistency.

        AgentLogAlarm (raised and persisted here), AgentLogUnverified (try again later),
        BadAgentCheckpoint (this answer is unusable, no alarm).
        """
        self.refuse_if_alarmed(agent_id)
        note, vkey = answer.agent_checkpoint, answer.agent_log_key
        if not note:
            if self.required:
                raise BadAgentCheckpoint(
                    f"the answer from {department} carries no checkpoint of the agent's log")
            return
        lock = self._locks.setdefault(agent_id, asyncio.Lock())
        async with lock:
            self.refuse_if_alarmed(agent_id)
            pinned = self.keys.get(agent_id)
            if pinned is not None and not hmac.compare_digest(pinned, vkey):
                old_note = self.latest.get(agent_id, (None, ""))[1]
                await self._raise_alarm(
                    agent_id, department,
                    "the agent's audit log is signed by another key than the one pinned: "
                    "its log was replaced", old_note, note)
            checkpoint = self._open(agent_id, department, note, vkey)
            if pinned is None:
                self._pin(agent_id, vkey)
            previous = self.latest.get(agent_id)
            if previous is None:
                self._keep(agent_id, checkpoint, note)
                return
            old, old_note = previous
            try:
                await self._check_consistent(agent_id, old, checkpoint, fetch)
            except (AuditError, AgentLogAlarm) as exc:
                await self._raise_alarm(agent_id, department, str(exc), old_note, note)
            if checkpoint.size > old.size:
                self._keep(agent_id, checkpoint, note)

    def clear(self, agent_id: str, *, by: str, forget: bool = False) -> None:
        """An administrator's decision after investigating: answers are used again.

        ``forget`` also drops the pinned key and kept checkpoints, for an agent whose log
        was knowingly replaced (a reinstalled department): the next answer pins anew.
        """
        with self._engine.begin() as conn:
            conn.execute(update(alarms).where(alarms.c.agent == agent_id,
                                              alarms.c.cleared_at.is_(None))
                         .values(cleared_at=self._clock().isoformat(), cleared_by=by))
            if forget:
                conn.execute(delete(pinned_keys).where(pinned_keys.c.agent == agent_id))
                conn.execute(delete(kept).where(kept.c.agent == agent_id))
        self.alarms.pop(agent_id, None)
        if forget:
            self.keys.pop(agent_id, None)
            self.latest.pop(agent_id, None)
            self._opened = {k: v for k, v in self._opened.items() if k[0] != agent_id}
        log.warning("agent log alarm cleared", agent=agent_id, by=by, forget=forget)

    # ------------------------------------------------------------------ internals

    def _open(self, agent_id: str, department: str, note: str, vkey: str) -> Checkpoint:
        key = (agent_id, vkey, note)
        found = self._opened.get(key)
        if found is not None:
            return found
        name = log_key_name(agent_id)
        try:
            key_name, verify_key = parse_vkey(vkey)
            if key_name != name:
                raise BadAgentCheckpoint(
                    f"the answer from {department} names log key {key_name[:80]!r}, "
                    f"not {name!r}")
            found = open_checkpoint(note, name, verify_key, origin=f"{name}/audit")
        except AuditError as exc:
            raise BadAgentCheckpoint(
                f"the answer from {department} carries a checkpoint that does not verify "
                f"under the agent's log key: {exc}") from None
        if len(self._opened) > 256:
            self._opened.clear()
        self._opened[key] = found
        return found

    async def _check_consistent(self, agent_id: str, old: Checkpoint, new: Checkpoint,
                                fetch: ProofFetch) -> None:
        if new.size == old.size:
            if not hmac.compare_digest(new.root, old.root):
                raise AgentLogAlarm(f"two different roots for tree size {new.size}")
            return
        small, large = (old, new) if new.size > old.size else (new, old)
        if small.size == 0:
            return
        pair = (agent_id, small.size, small.root, large.size, large.root)
        if pair in self._proved:
            return
        try:
            proof = await fetch(small.size, large.size)
        except ProofBeyondLog as exc:
            if exc.log_size < large.size:  # it signed `large` once: leaves were removed
                raise AgentLogAlarm(
                    f"the agent signed a checkpoint of {large.size} leaves but its log now "
                    f"holds {exc.log_size}: it was cut back") from None
            raise AgentLogUnverified(str(exc)) from None
        except AgentLogUnverified:
            raise
        except Exception:  # a network failure is not an alarm
            log.warning("cannot fetch a consistency proof", agent=agent_id, exc_info=True)
            raise AgentLogUnverified(
                f"cannot fetch a consistency proof of {agent_id}'s log") from None
        verify_consistency(small.size, large.size, proof, small.root, large.root)
        if len(self._proved) > 4096:
            self._proved.clear()
        self._proved.add(pair)

    def _pin(self, agent_id: str, vkey: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(insert(pinned_keys).values(
                agent=agent_id, vkey=vkey, pinned_at=self._clock().isoformat()))
        self.keys[agent_id] = vkey
        log.info("agent log key pinned on first use", agent=agent_id, vkey=vkey)

    def _keep(self, agent_id: str, checkpoint: Checkpoint, note: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(delete(kept).where(kept.c.agent == agent_id))
            conn.execute(insert(kept).values(agent=agent_id, size=checkpoint.size,
                                             root=checkpoint.root, note=note))
        self.latest[agent_id] = (checkpoint, note)

    async def _raise_alarm(self, agent_id: str, department: str, reason: str,
                           first_note: str, second_note: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(insert(alarms).values(
                agent=agent_id, raised_at=self._clock().isoformat(), reason=reason,
                first_note=first_note, second_note=second_note))
        self.alarms[agent_id] = reason
        log.error("agent audit log inconsistent", agent=agent_id, department=department,
                  reason=reason)
        if self._recorder is not None:
            await self._recorder.record_async(
                audit_pb2.AUDIT_KIND_WITNESS_ALARM,
                outcome=audit_pb2.AUDIT_OUTCOME_REFUSED, department=department,
                reason=f"inconsistent audit log of {agent_id}: {reason}",
            )
        raise AgentLogAlarm(
            f"{department}'s audit log is inconsistent ({reason}); the gateway refuses its "
            "answers until an administrator investigates"
        )


def _kept_checkpoint(agent_id: str, row: Any) -> tuple[Checkpoint, str]:
    """A row of the ``kept`` table as the checkpoint it records and its signed note."""
    return Checkpoint(f"{log_key_name(agent_id)}/audit", row.size, bytes(row.root)), row.note
