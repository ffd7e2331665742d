"""A chunk of re-verified households committed at once, and their previous determinations
read at once — the statements of ``RosterStore`` a run's hot loop uses.

Why apart from ``record_decision``: a run decides hundreds of thousands of households,
and one transaction (and one SELECT for the previous determination) per household cost
more than assessing and signing it (profiled: 2/3 of a worker's time). Here a chunk is
one SELECT and one transaction. The compare-and-set is kept: every household of the
chunk must still be CLAIMED by this claimer, or nothing of the chunk is stored
(ClaimLost) — another process took the chunk over after our claim went stale, and it
decides it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    bindparam,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection

from hedui.gateway.sealing import Vault
from hedui.gateway.store import metadata
from hedui.gateway.store_alerts import PendingAlert

#: the signed bulk answer chunks determinations cite (ChunkReference), sealed: the
#: evidence behind every re-verified figure, kept with the run
bulk_chunks = Table(
    "bulk_chunks", metadata,
    Column("chunk_digest", LargeBinary, primary_key=True),
    Column("run_id", String(64), nullable=False),
    Column("department", String(64), nullable=False),
    Column("query_digest", LargeBinary, nullable=False),
    Column("chunk_index", Integer, nullable=False),
    Column("envelope_sealed", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_bulk_chunks_run_id", "run_id"),
)


def _tables() -> Any:
    from hedui.gateway import store_roster  # it imports this module first

    return store_roster


@dataclass(frozen=True)
class Decided:
    """One household's decision as the chunk commits it."""

    roster_id: str
    township: str
    outcome: str
    #: the signed determination's envelope bytes (sealed by the store)
    determination: bytes
    digest: bytes
    alert: PendingAlert | None = None
    previous_digest: bytes | None = None


class DecisionBatches:
    """Chunk-wise statements of ``RosterStore``."""

    sealer: Vault

    if TYPE_CHECKING:
        def tx(self) -> AbstractContextManager[Connection]: ...
        def read(self) -> AbstractContextManager[Connection]: ...
        def _insert_alert(self, conn: Connection, run_id: str, roster_id: str,
                          township: str, alert: PendingAlert, now: dt.datetime) -> str: ...

    def keep_chunks(self, run_id: str, department: str, query_digest: bytes,
                    chunks: Sequence[tuple[bytes, bytes]], *,
                    now: dt.datetime | None = None) -> None:
        """Keep a bulk answer's signed chunks, ``(chunk payload digest, envelope bytes)``
        in order, sealed — before any determination citing them is stored."""
        if not chunks:
            return
        now = now or dt.datetime.now(dt.UTC)
        with self.tx() as conn:
            conn.execute(insert(bulk_chunks), [
                {"chunk_digest": digest, "run_id": run_id, "department": department,
                 "query_digest": query_digest, "chunk_index": i,
                 "envelope_sealed": self.sealer.seal(envelope), "created_at": now}
                for i, (digest, envelope) in enumerate(chunks)])

    def chunk(self, chunk_digest: bytes) -> bytes | None:
        """A kept chunk's signed envelope (bytes), unsealed; None when not kept."""
        with self.read() as conn:
            sealed = conn.execute(select(bulk_chunks.c.envelope_sealed).where(
                bulk_chunks.c.chunk_digest == chunk_digest)).scalar()
        return self.sealer.open(bytes(sealed)) if sealed is not None else None

    def release_claims(self, claimer: str, *, now: dt.datetime | None = None) -> int:
        """Put back to PENDING every household ``claimer`` holds (in any run): what a
        restarted gateway replica (a stable claimer name) does before it works again, so
        its own unfinished households are taken at once rather than after they go
        stale. Returns how many."""
        rh = _tables().run_households
        with self.tx() as conn:
            return conn.execute(update(rh).where(
                rh.c.state == "CLAIMED", rh.c.claimed_by == claimer,
            ).values(state="PENDING", claimed_by="", claimed_at=None)).rowcount

    def previous_determinations(self, roster_ids: Sequence[str], *, before_run: str
                                ) -> dict[str, tuple[str, bytes, bytes]]:
        """Each household's last decided determination of another run than
        ``before_run``: roster id → (run id, digest, determination bytes, unsealed)."""
        rh = _tables().run_households
        found: dict[str, tuple[str, bytes, bytes, dt.datetime]] = {}
        with self.read() as conn:
            for start in range(0, len(roster_ids), 500):
                part = list(roster_ids[start:start + 500])
                rows = conn.execute(select(
                    rh.c.roster_id, rh.c.run_id, rh.c.determination_digest,
                    rh.c.determination_sealed, rh.c.decided_at).where(
                    rh.c.roster_id.in_(part), rh.c.state == "DECIDED",
                    rh.c.run_id != before_run))
                for roster_id, run_id, digest, sealed, at in rows:
                    kept = found.get(roster_id)
                    if kept is None or at > kept[3]:
                        found[roster_id] = (run_id, bytes(digest), bytes(sealed), at)
        return {r: (run, digest, self.sealer.open(sealed))
                for r, (run, digest, sealed, _at) in found.items()}

    def record_decisions(self, run_id: str, claimer: str, decided: Sequence[Decided], *,
                         now: dt.datetime | None = None) -> dict[str, str]:
        """Store a chunk's determinations (sealed) and alerts and count them in the run,
        in one transaction; returns roster id → alert id for the households alerted.

        ClaimLost, storing nothing, unless ``claimer`` holds every one of them."""
        from hedui.gateway.store_roster import ClaimLost

        if not decided:
            return {}
        now = now or dt.datetime.now(dt.UTC)
        t = _tables()
        rh, runs = t.run_households, t.reverification_runs
        stmt = update(rh).where(
            rh.c.run_id == run_id, rh.c.roster_id == bindparam("b_roster"),
            rh.c.state == "CLAIMED", rh.c.claimed_by == claimer,
        ).values(state="DECIDED", outcome=bindparam("b_outcome"),
                 determination_digest=bindparam("b_digest"),
                 determination_sealed=bindparam("b_sealed"),
                 previous_digest=bindparam("b_previous"), decided_at=now)
        params = [{"b_roster": d.roster_id, "b_outcome": d.outcome, "b_digest": d.digest,
                   "b_sealed": self.sealer.seal(d.determination),
                   "b_previous": d.previous_digest} for d in decided]
        alerts: dict[str, str] = {}
        with self.tx() as conn:
            if conn.dialect.supports_sane_multi_rowcount:
                stored = conn.execute(stmt, params).rowcount
            else:  # a driver that cannot count an executemany: one statement a household
                stored = sum(conn.execute(stmt, p).rowcount for p in params)
            if stored != len(decided):
                raise ClaimLost(
                    f"{len(decided) - max(stored, 0)} of {len(decided)} households of "
                    f"run {run_id} are no longer claimed by {claimer} (taken over after the "
                    "claim went stale, or decided already); none of the chunk is stored")
            counts: dict[str, Any] = {"decided": runs.c.decided + len(decided),
                                      "updated_at": now}
            graded: dict[str, int] = {}
            for d in decided:
                if d.alert is None:
                    continue
                alerts[d.roster_id] = self._insert_alert(conn, run_id, d.roster_id,
                                                         d.township, d.alert, now)
                graded[d.alert.grade] = graded.get(d.alert.grade, 0) + 1
            for grade, n in graded.items():
                column = f"alerts_{grade}"
                counts[column] = runs.c[column] + n
            conn.execute(update(runs).where(runs.c.run_id == run_id).values(**counts))
        return alerts
