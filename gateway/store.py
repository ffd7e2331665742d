"""The case database: cases, departments' parts, sealed answers, reports, authorizations.

SQLite (embedded default) or PostgreSQL (shared by replicas), the same code: tables
and engine from SQLAlchemy, the case steps' statements prebuilt and run on the driver's
cursor (see ``_SQL``). Personal data (members, answers, reports) is stored sealed (see
``hedui.gateway.sealing``). Case state moves by compare-and-set on a version
number, so two replicas can never both take or decide the same case.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    and_,
    create_engine,
    event,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine

from hedui.errors import HeduiError
from hedui.gateway.store_queries import CaseQueries

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
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False, default=0),
    # who holds the case right now (replica id) while QUERYING
    Column("claimed_by", String(128), nullable=False, default=""),
    Column("batch_key", String(128), nullable=True, unique=True),
    # 申请日期 (ISO date): the case is assessed as of it. Revision 0003; NULL only in rows
    # written by a release before it during a rolling update (read as created_at's date)
    Column("application_date", String(10), nullable=True),
    # why the case is CANCELLED, or INCOMPLETE with every department answered (0003)
    Column("state_reason", Text, nullable=True),
    # the township office that took the application; who assessed it; who approved (0004)
    Column("township", String(16), nullable=True),
    Column("verifier", String(64), nullable=True),
    Column("reviewer", String(64), nullable=True),
    # the applicant's audit pseudonym (0005), to find the same household's recent cases
    # without unsealing members; NULL in rows older than it
    Column("applicant_key", String(64), nullable=True, index=True),
    Index("ix_cases_state_created_at", "state", "created_at"),  # 0006
)

#: the staff registry (0004): who may act, in which roles, within which scope
#: (``hedui.gateway.staff`` reads and changes it)
staff = Table(
    "staff", metadata,
    Column("staff_id", String(64), primary_key=True),
    Column("name", String(64), nullable=False),
    Column("roles", Text, nullable=False),
    Column("townships", Text, nullable=False),
    Column("programmes", Text, nullable=False),
    Column("phone", String(32), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("changed_by", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
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
    # when the department was last asked for this case (0006), for answer times
    Column("queried_at", DateTime(timezone=True), nullable=True),
    Index("ix_case_departments_state", "state", "department"),  # 0006
)

#: keyed digests of each case's members (0006): "id" the audit pseudonym of an ID number,
#: "name" an HMAC of a name without spaces; SearchCases looks people up here
case_member_keys = Table(
    "case_member_keys", metadata,
    Column("key", String(64), primary_key=True),
    Column("case_id", String(64), primary_key=True),
    Column("kind", String(8), nullable=False),
    Index("ix_case_member_keys_case_id", "case_id"),
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
    # comma-separated programmes the form names (0005); NULL: only ``programme``
    Column("programmes", Text, nullable=True),
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
    #: 申请日期: the date the case is assessed as of (standard, income window)
    application_date: dt.date
    #: why the case is CANCELLED, or INCOMPLETE although every department answered
    state_reason: str = ""
    #: the township office that took the application ("" at the county center)
    township: str = ""
    #: who assessed it (AWAITING_REVIEW on), who approved it (DECIDED after review)
    verifier: str = ""
    reviewer: str = ""
    #: the applicant's audit pseudonym ("" in rows written before revision 0005)
    applicant_key: str = ""


@dataclass(frozen=True, slots=True)
class DepartmentPart:
    """How one department's part of a case ends a fan-out (``attempts`` adds up)."""

    case_id: str
    department: str
    state: str
    reason: str
    answer_digest: bytes
    attempts: int
    now: dt.datetime


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands back naive datetimes; everything here is UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def _same(value: Any) -> Any:
    return value


def _day(value: Any) -> Any:
    """Dates are kept as ISO text (``YYYY-MM-DD``), as the authorizations' are."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.isoformat()
    return value


_CASE_COLUMNS = tuple(f.name for f in fields(CaseRow))
_DEPARTMENT_COLUMNS = ("case_id", "department", "state", "reason", "answer_digest", "attempts",
                       "updated_at")
_ANSWER_COLUMNS = tuple(c.name for c in answers.c)
_AUTHORIZATION_COLUMNS = tuple(c.name for c in authorizations.c)
#: (column, is a timestamp) of the tables rows are inserted into whole
_LAYOUT = {t.name: tuple((c.name, isinstance(c.type, DateTime)) for c in t.c)
           for t in (cases, answers)}


def _columns(names: Sequence[str]) -> str:
    return ", ".join(names)


def _marks(n: int) -> str:
    return ", ".join("?" * n)


#: The case steps' statements as driver SQL with ``?`` placeholders (rewritten for drivers
#: of another paramstyle), run on the driver's own cursor: SQLAlchemy's per-call statement
#: building, compiling and result machinery cost more than these small statements.
_SQL = {
    "insert_case": f"INSERT INTO cases ({_columns([c.name for c in cases.c])}) "
                   f"VALUES ({_marks(len(cases.c))})",
    "insert_department": f"INSERT INTO case_departments ({_columns(_DEPARTMENT_COLUMNS)}) "
                         f"VALUES ({_marks(len(_DEPARTMENT_COLUMNS))})",
    "case": f"SELECT {_columns(_CASE_COLUMNS)} FROM cases WHERE case_id = ?",
    "case_by_batch_key": f"SELECT {_columns(_CASE_COLUMNS)} FROM cases WHERE batch_key = ?",
    "departments": f"SELECT {_columns(_DEPARTMENT_COLUMNS)} FROM case_departments "
                   "WHERE case_id = ? ORDER BY department",
    "set_department": "UPDATE case_departments SET state = ?, reason = ?, answer_digest = ?, "
                      "attempts = attempts + ?, updated_at = ? "
                      "WHERE case_id = ? AND department = ?",
    "delete_answer": "DELETE FROM answers WHERE case_id = ? AND department = ?",
    "insert_answer": f"INSERT INTO answers ({_columns(_ANSWER_COLUMNS)}) "
                     f"VALUES ({_marks(len(_ANSWER_COLUMNS))})",
    "answers": f"SELECT {_columns(_ANSWER_COLUMNS)} FROM answers WHERE case_id = ? "
               "ORDER BY department",
    "insert_member_key": 'INSERT INTO case_member_keys ("key", case_id, kind) VALUES (?, ?, ?)',
    "insert_leaf": "INSERT INTO case_audit_leaves (case_id, leaf_index) VALUES (?, ?)",
    "leaves": "SELECT leaf_index FROM case_audit_leaves WHERE case_id = ? ORDER BY leaf_index",
    "decide": "UPDATE cases SET state = ?, version = ?, updated_at = ?, claimed_by = '', "
              "outcome = ?, report_digest = ?, state_reason = NULL, verifier = ?, reviewer = ? "
              "WHERE case_id = ? AND version = ? AND state = ?",
    "assessed": "UPDATE cases SET state = ?, version = ?, updated_at = ?, claimed_by = '', "
                "outcome = ?, state_reason = NULL, verifier = ?, reviewer = NULL "
                "WHERE case_id = ? AND version = ? AND state = ?",
    "insert_report": "INSERT INTO reports (case_id, digest, envelope_sealed, issued_at) "
                     "VALUES (?, ?, ?, ?)",
    "report": "SELECT envelope_sealed FROM reports WHERE case_id = ?",
    "authorization": f"SELECT {_columns(_AUTHORIZATION_COLUMNS)} FROM authorizations "
                     "WHERE number = ?",
}


class CaseStore(CaseQueries):
    """Data access for cases.

    Methods that take a ``conn`` run in the caller's transaction (``tx()``), so a case
    step writes and reads what it needs in one; the others are one short transaction.
    The tables come from the migrations (``hedui gateway migrate``; the gateway runs
    them at start-up), never from ``create_all``.
    """

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        dialect = self.engine.dialect
        # SQLite has one writer at a time and makes waiting writers sleep and retry;
        # under many threads that collapsed throughput. One process lock queues them
        # without sleeping. (PostgreSQL locks rows itself.)
        self._serial = (threading.Lock() if dialect.name == "sqlite"
                        else contextlib.nullcontext())
        #: a file on this machine (SQLite): statements take microseconds, never a
        #: network round trip, so callers may run them on their event loop
        self.local = dialect.name == "sqlite"
        self._mark = "?" if dialect.paramstyle == "qmark" else "%s"
        self._sql = {name: sql.replace("?", self._mark) for name, sql in _SQL.items()}
        # The driver cursor skips SQLAlchemy's type processing: timestamps are converted
        # here exactly as SQLAlchemy does (SQLite keeps them as text).
        instant = DateTime(timezone=True).dialect_impl(dialect)
        self._to_db: Callable[[Any], Any] = instant.bind_processor(dialect) or _same
        self._from_db: Callable[[Any], Any] = instant.result_processor(dialect, None) or _same

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

    @contextmanager
    def _cursor(self, conn: Connection | None) -> Iterator[Any]:
        """A driver cursor in ``conn``'s transaction, or on a read connection of its own."""
        if conn is None:
            with self.read() as own, self._cursor(own) as cur:
                yield cur
            return
        cur = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            yield cur
        finally:
            cur.close()

    def _instant(self, value: Any) -> dt.datetime | None:
        return _utc(self._from_db(value))

    def _values(self, table: Table, row: dict[str, Any]) -> list[Any]:
        """``row``'s values in ``table``'s column order, timestamps as the database keeps them."""
        return [self._to_db(row[name]) if instant else _day(row.get(name))
                for name, instant in _LAYOUT[table.name]]

    # ------------------------------------------------------------------ cases

    def insert_case(self, row: dict[str, Any], departments: Sequence[str],
                    audit_leaves: Sequence[int] = (),
                    member_keys: Sequence[tuple[str, str]] = ()) -> None:
        """A new case, its departments' parts (PENDING), its first audit leaves and its
        members' keyed digests (``member_keys``: (key, kind))."""
        now = self._to_db(row["created_at"])
        with self.tx() as conn, self._cursor(conn) as cur:
            cur.execute(self._sql["insert_case"], self._values(cases, row))
            if departments:
                cur.executemany(self._sql["insert_department"], [
                    (row["case_id"], d, "PENDING", "", b"", 0, now) for d in departments
                ])
            if audit_leaves:
                cur.executemany(self._sql["insert_leaf"],
                                [(row["case_id"], i) for i in audit_leaves])
            if member_keys:
                cur.executemany(self._sql["insert_member_key"],
                                [(k, row["case_id"], kind) for k, kind in member_keys])

    def case_by_batch_key(self, batch_key: str) -> CaseRow | None:
        with self._cursor(None) as cur:
            cur.execute(self._sql["case_by_batch_key"], (batch_key,))
            r = cur.fetchone()
        return self._row(r) if r else None

    def recent_of_applicant(self, programme: str, applicant_key: str, *,
                            decided_since: dt.datetime) -> CaseRow | None:
        """The newest case of ``programme`` for this applicant that is still under way
        (neither DECIDED nor CANCELLED), or was decided since ``decided_since``; None.

        Matched on the stored pseudonym, so members are never unsealed to look."""
        m = self._mark
        sql = (f"SELECT {_columns(_CASE_COLUMNS)} FROM cases WHERE programme = {m} "
               f"AND applicant_key = {m} AND (state NOT IN ({m}, {m}) OR "
               f"(state = {m} AND updated_at >= {m})) ORDER BY created_at DESC LIMIT 1")
        with self._cursor(None) as cur:
            cur.execute(sql, (programme, applicant_key, "CASE_STATE_DECIDED",
                              "CASE_STATE_CANCELLED", "CASE_STATE_DECIDED",
                              self._to_db(decided_since)))
            r = cur.fetchone()
        return self._row(r) if r else None

    def get(self, case_id: str) -> CaseRow | None:
        with self._cursor(None) as cur:
            cur.execute(self._sql["case"], (case_id,))
            r = cur.fetchone()
        return self._row(r) if r else None

    def _row(self, r: Sequence[Any]) -> CaseRow:
        """A CaseRow from a row of ``_CASE_COLUMNS``."""
        (case_id, state, programme, region, authorization_number, operator, members_sealed,
         outcome, report_digest, created_at, updated_at, version, claimed_by, application_date,
         state_reason, township, verifier, reviewer, applicant_key) = r
        created = self._instant(created_at)
        return CaseRow(
            case_id=case_id, state=state, programme=programme, region=region,
            authorization_number=authorization_number, operator=operator,
            members_sealed=bytes(members_sealed), outcome=outcome or "",
            report_digest=bytes(report_digest or b""), created_at=created,
            updated_at=self._instant(updated_at), version=version, claimed_by=claimed_by or "",
            application_date=(dt.date.fromisoformat(application_date) if application_date
                              else created.date()),  # type: ignore[union-attr]
            state_reason=state_reason or "", township=township or "",
            verifier=verifier or "", reviewer=reviewer or "",
            applicant_key=applicant_key or "",
        )

    def list(self, *, state: str | None, programme: str | None, limit: int,
             offset: int, programmes: Sequence[str] | None = None,
             townships: Sequence[str] | None = None) -> list[CaseRow]:
        """Cases newest first; ``programmes`` (``townships``) limits them to those
        programmes (townships): a reader sees only their scope (empty: none)."""
        where = [(name, value) for name, value in (("state", state), ("programme", programme))
                 if value]
        clauses = [f"{name} = {self._mark}" for name, _ in where]
        params: list[Any] = [value for _, value in where]
        if programmes is not None:
            if not programmes:
                return []
            clauses.append(f"programme IN ({', '.join([self._mark] * len(programmes))})")
            params.extend(programmes)
        if townships is not None:
            if not townships:
                return []
            clauses.append(f"township IN ({', '.join([self._mark] * len(townships))})")
            params.extend(townships)
        sql = f"SELECT {_columns(_CASE_COLUMNS)} FROM cases"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        sql += f" ORDER BY created_at DESC, case_id LIMIT {self._mark} OFFSET {self._mark}"
        with self.tx() as conn, self._cursor(conn) as cur:
            cur.execute(sql, [*params, limit, offset])
            rows = cur.fetchall()
        return [self._row(r) for r in rows]

    def transition(self, conn: Connection, case_id: str, *, from_states: Sequence[str],
                   expect_version: int, to_state: str, now: dt.datetime,
                   claimed_by: str = "", reason: str = "") -> bool:
        """Compare-and-set the case's state (version + 1) and its ``state_reason``; False
        when someone was first.

        The caller raises Conflict; it decides what of its transaction still commits.
        """
        states = ", ".join([self._mark] * len(from_states))
        with self._cursor(conn) as cur:
            cur.execute(
                f"UPDATE cases SET state = {self._mark}, version = {self._mark}, "
                f"updated_at = {self._mark}, claimed_by = {self._mark}, state_reason = "
                f"{self._mark} WHERE case_id = {self._mark} AND version = {self._mark} "
                f"AND state IN ({states})",
                [to_state, expect_version + 1, self._to_db(now), claimed_by, reason or None,
                 case_id, expect_version, *from_states],
            )
            return cur.rowcount == 1

    # ------------------------------------------------------------ departments

    def departments(self, case_id: str, conn: Connection | None = None) -> list[dict[str, Any]]:
        """The case's departments' parts, by department (in ``conn``'s transaction if given)."""
        with self._cursor(conn) as cur:
            cur.execute(self._sql["departments"], (case_id,))
            rows = cur.fetchall()
        return [{"case_id": c, "department": d, "state": s, "reason": r,
                 "answer_digest": bytes(a or b""), "attempts": n, "updated_at": self._instant(u)}
                for c, d, s, r, a, n, u in rows]

    def set_departments(self, conn: Connection, parts: Sequence[DepartmentPart]) -> None:
        """Update several departments' parts in one statement."""
        if parts:
            with self._cursor(conn) as cur:
                cur.executemany(self._sql["set_department"], [
                    (p.state, p.reason, p.answer_digest, p.attempts, self._to_db(p.now),
                     p.case_id, p.department) for p in parts
                ])

    def save_answers(self, conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
        """Replace the stored answers of several departments of cases, in two statements."""
        if rows:
            with self._cursor(conn) as cur:
                cur.executemany(self._sql["delete_answer"],
                                [(r["case_id"], r["department"]) for r in rows])
                cur.executemany(self._sql["insert_answer"],
                                [self._values(answers, r) for r in rows])

    def answers_of(self, case_id: str, conn: Connection | None = None) -> list[dict[str, Any]]:
        """The case's stored answers, by department (in ``conn``'s transaction if given)."""
        with self._cursor(conn) as cur:
            cur.execute(self._sql["answers"], (case_id,))
            rows = cur.fetchall()
        return [dict(zip(_ANSWER_COLUMNS, r, strict=True)) for r in rows]

    def add_audit_leaves(self, conn: Connection, case_id: str, leaves: Sequence[int]) -> None:
        if leaves:
            with self._cursor(conn) as cur:
                cur.executemany(self._sql["insert_leaf"], [(case_id, i) for i in leaves])

    def audit_leaves(self, case_id: str, conn: Connection | None = None) -> list[int]:
        """The case's audit-log leaf indexes, ascending (in ``conn``'s transaction if given)."""
        with self._cursor(conn) as cur:
            cur.execute(self._sql["leaves"], (case_id,))
            return [r[0] for r in cur.fetchall()]

    def decide(self, conn: Connection, case_id: str, *, expect_version: int, outcome: str,
               digest: bytes, sealed_report: bytes, now: dt.datetime, verifier: str = "",
               reviewer: str = "", from_state: str = "CASE_STATE_QUERYING") -> bool:
        """Mark the case DECIDED and store its report (CAS on the version and
        ``from_state``); False, storing nothing, when another request changed it first."""
        with self._cursor(conn) as cur:
            cur.execute(self._sql["decide"], (
                "CASE_STATE_DECIDED", expect_version + 1, self._to_db(now), outcome, digest,
                verifier or None, reviewer or None, case_id, expect_version, from_state,
            ))
            if cur.rowcount != 1:
                return False
            cur.execute(self._sql["insert_report"],
                        (case_id, digest, sealed_report, self._to_db(now)))
        return True

    def assessed(self, conn: Connection, case_id: str, *, expect_version: int, outcome: str,
                 verifier: str, now: dt.datetime) -> bool:
        """QUERYING → AWAITING_REVIEW with the proposed outcome and its verifier (CAS)."""
        with self._cursor(conn) as cur:
            cur.execute(self._sql["assessed"], (
                "CASE_STATE_AWAITING_REVIEW", expect_version + 1, self._to_db(now), outcome,
                verifier, case_id, expect_version, "CASE_STATE_QUERYING",
            ))
            return cur.rowcount == 1

    # ----------------------------------------------------------------- reports

    def report(self, case_id: str) -> bytes | None:
        with self._cursor(None) as cur:
            cur.execute(self._sql["report"], (case_id,))
            r = cur.fetchone()
        return bytes(r[0]) if r is not None else None

    # ---------------------------------------------------------- authorizations

    def authorization(self, number: str) -> dict[str, Any] | None:
        """The registered authorization ``number`` (timestamps as UTC), or None."""
        with self._cursor(None) as cur:
            cur.execute(self._sql["authorization"], (number,))
            r = cur.fetchone()
        if r is None:
            return None
        out = dict(zip(_AUTHORIZATION_COLUMNS, r, strict=True))
        out["revoked_at"] = self._instant(out["revoked_at"])
        out["registered_at"] = self._instant(out["registered_at"])
        return out

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


from hedui.gateway import store_roster as _store_roster  # noqa: E402, F401  (its tables, 0007)
