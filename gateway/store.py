"""The case database: cases, departments' parts, sealed answers, reports, authorizations.

SQLAlchemy Core over SQLite (embedded default) or PostgreSQL (shared by replicas),
the same code. Personal data (members, answers, reports) is stored sealed (see
``hedui.gateway.sealing``). Case state moves by compare-and-set on a version
number, so two replicas can never both take or decide the same case.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    and_,
    bindparam,
    create_engine,
    event,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine

from hedui.errors import HeduiError

metadata = MetaData()

cases = Table(
    "cases", metadata,
    Column("case_id", String(64), primary_key=True),
    Column("state", String(40), nullable=False, index=True),
    Column("programme", String(64), nullable=False),
    Column("region", String(16), nullable=False),
    Column("authorization_number", String(64), nullable=False),
    Column("operator", String(64), nullable=False),
    # serialized OpenCaseRequest(members=...), sealed
    Column("members_sealed", LargeBinary, nullable=False),
    Column("outcome", String(40), nullable=False, default=""),
    Column("report_digest", LargeBinary, nullable=False, default=b""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False, default=0),
    # who holds the case right now (replica id) while QUERYING
    Column("claimed_by", String(128), nullable=False, default=""),
    Column("batch_key", String(128), nullable=True, unique=True),
)

case_departments = Table(
    "case_departments", metadata,
    Column("case_id", String(64), primary_key=True),
    Column("department", String(40), primary_key=True),
    Column("state", String(40), nullable=False),
    Column("reason", Text, nullable=False, default=""),
    Column("answer_digest", LargeBinary, nullable=False, default=b""),
    Column("attempts", Integer, nullable=False, default=0),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

answers = Table(
    "answers", metadata,
    Column("case_id", String(64), primary_key=True),
    Column("department", String(40), primary_key=True),
    Column("agent", String(255), nullable=False),
    Column("query_digest", LargeBinary, nullable=False),
    Column("answer_digest", LargeBinary, nullable=False),
    # the signed Answer envelope, sealed; NULL once erased after retention
    Column("answer_sealed", LargeBinary, nullable=True),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("erase_after", DateTime(timezone=True), nullable=False, index=True),
    Column("erased_at", DateTime(timezone=True), nullable=True),
)

reports = Table(
    "reports", metadata,
    Column("case_id", String(64), primary_key=True),
    Column("digest", LargeBinary, nullable=False),
    Column("envelope_sealed", LargeBinary, nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
)

case_audit_leaves = Table(
    "case_audit_leaves", metadata,
    Column("case_id", String(64), primary_key=True),
    Column("leaf_index", Integer, primary_key=True),
)

authorizations = Table(
    "authorizations", metadata,
    Column("number", String(64), primary_key=True),
    Column("programme", String(64), nullable=False),
    # comma-separated audit pseudonyms of the covered ID numbers
    Column("covered", Text, nullable=False),
    Column("signed_on", String(10), nullable=False),
    Column("valid_from", String(10), nullable=False),
    Column("valid_until", String(10), nullable=False),
    Column("document_sha256", String(64), nullable=False),
    Column("revoked", Boolean, nullable=False, default=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Column("revocation_reason", Text, nullable=False, default=""),
    Column("registered_by", String(64), nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False),
)


# Built once: constructing SQLAlchemy statements per call cost more than running them
# (several milliseconds per case for the eight departments).
_SET_DEPARTMENT = (
    update(case_departments)
    .where(and_(case_departments.c.case_id == bindparam("b_case"),
                case_departments.c.department == bindparam("b_department")))
    .values(state=bindparam("b_state"), reason=bindparam("b_reason"),
            answer_digest=bindparam("b_digest"),
            attempts=case_departments.c.attempts + bindparam("b_attempts"),
            updated_at=bindparam("b_now"))
)
_DELETE_ANSWER = answers.delete().where(and_(answers.c.case_id == bindparam("b_case"),
                                             answers.c.department == bindparam("b_department")))


class StoreError(HeduiError):
    """The case database refused an operation."""


class Conflict(StoreError):
    """Another replica changed the case first."""


def make_engine(url: str) -> Engine:
    """An engine with SQLite set up for concurrent use (WAL, busy timeout)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(conn: Any, _record: Any) -> None:
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


@dataclass
class CaseRow:
    case_id: str
    state: str
    programme: str
    region: str
    authorization_number: str
    operator: str
    members_sealed: bytes
    outcome: str
    report_digest: bytes
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int
    claimed_by: str


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands back naive datetimes; everything here is UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


class CaseStore:
    """Data access for cases; every method is one short transaction.

    The tables come from the migrations (``hedui gateway migrate``; the gateway runs
    them at start-up), never from ``create_all``.
    """

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        # SQLite has one writer at a time and makes waiting writers sleep and retry;
        # under many threads that collapsed throughput. One process lock queues them
        # without sleeping. (PostgreSQL locks rows itself.)
        self._serial = (threading.Lock() if self.engine.dialect.name == "sqlite"
                        else contextlib.nullcontext())

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def tx(self) -> Iterator[Connection]:
        """A write transaction (queued behind the other writers of this process)."""
        with self._serial, self.engine.begin() as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read: WAL readers need no writer's lock, so reads do not queue."""
        with self.engine.connect() as conn:
            yield conn

    # ------------------------------------------------------------------ cases

    def insert_case(self, row: dict[str, Any], departments: Sequence[str]) -> None:
        now = row["created_at"]
        with self.tx() as conn:
            conn.execute(insert(cases).values(**row))
            if departments:
                conn.execute(insert(case_departments), [
                    {"case_id": row["case_id"], "department": d, "state": "PENDING",
                     "reason": "", "answer_digest": b"", "attempts": 0, "updated_at": now}
                    for d in departments
                ])

    def case_by_batch_key(self, batch_key: str) -> CaseRow | None:
        with self.read() as conn:
            r = conn.execute(select(cases).where(cases.c.batch_key == batch_key)).mappings().first()
        return self._row(r) if r else None

    def get(self, case_id: str) -> CaseRow | None:
        with self.read() as conn:
            r = conn.execute(select(cases).where(cases.c.case_id == case_id)).mappings().first()
        return self._row(r) if r else None

    @staticmethod
    def _row(r: Any) -> CaseRow:
        return CaseRow(
            case_id=r["case_id"], state=r["state"], programme=r["programme"],
            region=r["region"], authorization_number=r["authorization_number"],
            operator=r["operator"], members_sealed=bytes(r["members_sealed"]),
            outcome=r["outcome"] or "", report_digest=bytes(r["report_digest"] or b""),
            created_at=_utc(r["created_at"]), updated_at=_utc(r["updated_at"]),
            version=r["version"], claimed_by=r["claimed_by"] or "",
        )

    def list(self, *, state: str | None, programme: str | None, limit: int,
             offset: int) -> list[CaseRow]:
        q = select(cases).order_by(cases.c.created_at.desc(), cases.c.case_id)
        if state:
            q = q.where(cases.c.state == state)
        if programme:
            q = q.where(cases.c.programme == programme)
        with self.tx() as conn:
            rows = conn.execute(q.limit(limit).offset(offset)).mappings().all()
        return [self._row(r) for r in rows]

    def transition(self, case_id: str, *, from_states: Sequence[str], expect_version: int,
                   to_state: str, now: dt.datetime, claimed_by: str = "",
                   **values: Any) -> int:
        """Compare-and-set the case's state; raises Conflict when someone was first."""
        with self.tx() as conn:
            result = conn.execute(
                update(cases)
                .where(and_(cases.c.case_id == case_id, cases.c.version == expect_version,
                            cases.c.state.in_(list(from_states))))
                .values(state=to_state, version=expect_version + 1, updated_at=now,
                        claimed_by=claimed_by, **values)
            )
            if result.rowcount != 1:
                raise Conflict(f"case {case_id} was changed by another request; reload it")
        return expect_version + 1

    # ------------------------------------------------------------ departments

    def departments(self, case_id: str) -> list[dict[str, Any]]:
        with self.read() as conn:
            rows = conn.execute(
                select(case_departments).where(case_departments.c.case_id == case_id)
                .order_by(case_departments.c.department)
            ).mappings().all()
        return [dict(r) | {"updated_at": _utc(r["updated_at"])} for r in rows]

    def set_department(self, conn: Connection, case_id: str, department: str, *, state: str,
                       reason: str, answer_digest: bytes, attempts: int,
                       now: dt.datetime) -> None:
        self.set_departments(conn, [{
            "b_case": case_id, "b_department": department, "b_state": state,
            "b_reason": reason, "b_digest": answer_digest, "b_attempts": attempts,
            "b_now": now,
        }])

    def set_departments(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        """Update several departments' parts in one statement (keys as _SET_DEPARTMENT)."""
        if rows:
            conn.execute(_SET_DEPARTMENT, rows)

    def save_answers(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        """Replace the stored answers of several departments of cases, in two statements."""
        if rows:
            conn.execute(_DELETE_ANSWER, [{"b_case": r["case_id"], "b_department": r["department"]}
                                          for r in rows])
            conn.execute(insert(answers), rows)

    def answers_of(self, case_id: str) -> list[dict[str, Any]]:
        with self.read() as conn:
            rows = conn.execute(
                select(answers).where(answers.c.case_id == case_id).order_by(answers.c.department)
            ).mappings().all()
        return [dict(r) for r in rows]

    def add_audit_leaves(self, conn: Connection, case_id: str, leaves: Sequence[int]) -> None:
        if leaves:
            conn.execute(insert(case_audit_leaves),
                         [{"case_id": case_id, "leaf_index": i} for i in leaves])

    def audit_leaves(self, case_id: str) -> list[int]:
        with self.read() as conn:
            return list(conn.execute(
                select(case_audit_leaves.c.leaf_index)
                .where(case_audit_leaves.c.case_id == case_id)
                .order_by(case_audit_leaves.c.leaf_index)
            ).scalars())

    def decide(self, case_id: str, *, expect_version: int, outcome: str, digest: bytes,
               sealed_report: bytes, now: dt.datetime) -> None:
        """Store the report and mark the case DECIDED in one transaction (CAS)."""
        with self.tx() as conn:
            result = conn.execute(
                update(cases)
                .where(and_(cases.c.case_id == case_id, cases.c.version == expect_version,
                            cases.c.state == "CASE_STATE_QUERYING"))
                .values(state="CASE_STATE_DECIDED", version=expect_version + 1, updated_at=now,
                        claimed_by="", outcome=outcome, report_digest=digest)
            )
            if result.rowcount != 1:
                raise Conflict(f"case {case_id} was decided by another request")
            conn.execute(insert(reports).values(case_id=case_id, digest=digest,
                                                envelope_sealed=sealed_report, issued_at=now))

    # ----------------------------------------------------------------- reports

    def report(self, case_id: str) -> bytes | None:
        with self.read() as conn:
            v = conn.execute(select(reports.c.envelope_sealed)
                             .where(reports.c.case_id == case_id)).scalar()
        return bytes(v) if v is not None else None

    # ---------------------------------------------------------------- retention

    def erase_expired_answers(self, now: dt.datetime) -> list[tuple[str, str]]:
        """Erase answer data past its retention; returns (case id, department) erased."""
        c = answers.c
        with self.tx() as conn:
            due = conn.execute(
                select(c.case_id, c.department)
                .where(and_(c.erase_after <= now, c.erased_at.is_(None)))
            ).all()
            if due:
                conn.execute(update(answers)
                             .where(and_(c.erase_after <= now, c.erased_at.is_(None)))
                             .values(answer_sealed=None, erased_at=now))
                # the stored report embeds the signed answers: it goes with them (the
                # case keeps its outcome and the report's digest)
                conn.execute(reports.delete().where(
                    reports.c.case_id.in_(sorted({r[0] for r in due}))))
        return [(r[0], r[1]) for r in due]
