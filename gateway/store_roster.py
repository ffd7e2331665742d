"""The beneficiary roster and re-verification runs (revision 0007), on SQLite or PostgreSQL.

A programme's roster is the households it pays; a run re-verifies every active one as of
a date. Several gateway processes may work one run: each *claims* a chunk of households
by compare-and-set (one UPDATE … RETURNING, rows locked with SKIP LOCKED on PostgreSQL),
so no household is decided twice, and a claim older than ``stale_after`` is taken over —
a process that died leaves nothing stuck. A decision is stored only by its claimer, from
CLAIMED, and commits with its change alert and the run's totals in one transaction.

Members are sealed (``hedui.gateway.sealing``) as a case's are; the applicant's audit
pseudonym is the only clear key (one row per programme and applicant). The tables join
the case store's ``metadata`` so the migrations' drift test covers them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import secrets
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine

from hedui.gateway.sealing import Vault
from hedui.gateway.store import StoreError, metadata
from hedui.gateway.store_alerts import AlertQueries, PendingAlert, _utc
from hedui.gateway.store_decisions import DecisionBatches
from hedui.v1 import case_pb2, records_pb2

if TYPE_CHECKING:
    from hedui.gateway.store import CaseRow

__all__ = [
    "ClaimLost",
    "ImportResult",
    "RosterEntry",
    "RosterRow",
    "RosterStore",
    "RunProgress",
    "alerts",
    "reverification_runs",
    "roster",
    "run_households",
]

roster = Table(
    "roster", metadata,
    Column("roster_id", String(64), primary_key=True),
    Column("programme", String(64), nullable=False),
    Column("region", String(16), nullable=False),
    Column("township", String(16), nullable=False),
    Column("household_ref", String(128), nullable=False),
    # serialized OpenCaseRequest(members=...), sealed: ID numbers never in clear
    Column("members_sealed", LargeBinary, nullable=False),
    Column("applicant_pseudonym", String(64), nullable=False),
    Column("enrolled_on", Date, nullable=False),
    Column("authorization_number", String(64), nullable=False),
    Column("consent_digest", String(128), nullable=False),
    Column("authorization_valid_until", Date, nullable=True),
    # "case:<case_id>" or "import:<file sha256 prefix>"
    Column("source", String(128), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("programme", "applicant_pseudonym", name="uq_roster_programme_applicant"),
    Index("ix_roster_programme_active", "programme", "active"),
)

reverification_runs = Table(
    "reverification_runs", metadata,
    Column("run_id", String(64), primary_key=True),
    Column("programme", String(64), nullable=False),
    Column("as_of", Date, nullable=False),
    Column("state", String(16), nullable=False, index=True),
    Column("started_by", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("households", Integer, nullable=False),
    Column("decided", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
    Column("alerts_red", Integer, nullable=False),
    Column("alerts_orange", Integer, nullable=False),
    Column("alerts_yellow", Integer, nullable=False),
)

run_households = Table(
    "run_households", metadata,
    Column("run_id", String(64), primary_key=True),
    Column("roster_id", String(64), primary_key=True),
    Column("state", String(16), nullable=False),
    Column("claimed_by", String(128), nullable=False),
    Column("claimed_at", DateTime(timezone=True), nullable=True),
    Column("outcome", String(40), nullable=False),
    Column("determination_digest", LargeBinary, nullable=True),
    Column("determination_sealed", LargeBinary, nullable=True),
    Column("previous_digest", LargeBinary, nullable=True),
    Column("decided_at", DateTime(timezone=True), nullable=True),
    Column("failure_reason", Text, nullable=True),
    Index("ix_run_households_run_state", "run_id", "state"),
    Index("ix_run_households_roster_decided", "roster_id", "decided_at"),
)

alerts = Table(
    "alerts", metadata,
    Column("alert_id", String(64), primary_key=True),
    Column("run_id", String(64), nullable=False, index=True),
    Column("roster_id", String(64), nullable=False),
    Column("grade", String(8), nullable=False),
    Column("township", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("due_on", Date, nullable=False),
    Column("state", String(16), nullable=False),
    Column("changes_sealed", LargeBinary, nullable=False),
    Column("acted_by", String(64), nullable=True),
    Column("acted_at", DateTime(timezone=True), nullable=True),
    Column("note_sealed", LargeBinary, nullable=True),
    Column("review_case_id", String(64), nullable=True),
    Index("ix_alerts_state_township_due_on", "state", "township", "due_on"),
)

RUN_STATES = ("PENDING", "RUNNING", "FINISHED", "CANCELLED")
HOUSEHOLD_STATES = ("PENDING", "CLAIMED", "DECIDED", "FAILED")
_OPEN_RUN = ("PENDING", "RUNNING")


class ClaimLost(StoreError):
    """The household is not (any more) claimed by this claimer, or already decided."""


@dataclass(frozen=True)
class RosterEntry:
    """One household to put on the roster (from a decided case or an imported list)."""

    household_ref: str
    members: Sequence[case_pb2.Member]
    region: str
    township: str
    enrolled_on: dt.date
    authorization_number: str
    consent_digest: str = ""
    authorization_valid_until: dt.date | None = None


@dataclass(frozen=True)
class RosterRow:
    roster_id: str
    programme: str
    region: str
    township: str
    household_ref: str
    members_sealed: bytes
    applicant_pseudonym: str
    enrolled_on: dt.date
    authorization_number: str
    consent_digest: str
    authorization_valid_until: dt.date | None
    source: str
    active: bool
    created_at: dt.datetime


@dataclass(frozen=True)
class ImportResult:
    added: tuple[str, ...]
    #: applicants already on the programme's roster (the import is idempotent)
    skipped: int


@dataclass(frozen=True)
class RunProgress:
    run_id: str
    programme: str
    as_of: dt.date
    state: str
    started_by: str
    households: int
    #: household state → count (every state of HOUSEHOLD_STATES)
    by_state: Mapping[str, int]
    #: grade → alerts raised so far
    alerts: Mapping[str, int]

    @property
    def done(self) -> bool:
        return self.by_state["PENDING"] == 0 and self.by_state["CLAIMED"] == 0


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or dt.datetime.now(dt.UTC)


def applicant_of(members: Sequence[case_pb2.Member]) -> case_pb2.Member:
    """The applicant (RELATION_SELF), else the first member listed."""
    return next((m for m in members if m.relation == records_pb2.RELATION_SELF), members[0])


class RosterStore(AlertQueries, DecisionBatches):
    """Roster, runs and alerts in the case database (tables from the migrations).

    ``pseudonym`` is the audit pseudonym of an ID number (``Pseudonymizer.pseudonym``):
    the roster's only clear key for a person.
    """

    def __init__(self, engine: Engine, sealer: Vault, *,
                 pseudonym: Callable[[str], str] | None = None) -> None:
        self.engine = engine
        self.sealer = sealer
        self._pseudonym = pseudonym
        # one writer at a time on SQLite: queue this process's writers instead of
        # letting them sleep on the busy timeout (PostgreSQL locks rows itself)
        self._pg = engine.dialect.name == "postgresql"
        self._serial = contextlib.nullcontext() if self._pg else threading.Lock()

    @contextmanager
    def tx(self) -> Iterator[Connection]:
        with self._serial, self.engine.begin() as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    # ------------------------------------------------------------------ roster

    def _seal_members(self, members: Sequence[case_pb2.Member]) -> bytes:
        return self.sealer.seal(case_pb2.OpenCaseRequest(members=members).SerializeToString())

    def members(self, row: RosterRow) -> list[case_pb2.Member]:
        holder = case_pb2.OpenCaseRequest()
        holder.ParseFromString(self.sealer.open(row.members_sealed))
        return list(holder.members)

    def _pseudonym_of(self, members: Sequence[case_pb2.Member]) -> str:
        if self._pseudonym is None:
            raise StoreError("this RosterStore was made without a pseudonym function")
        return self._pseudonym(applicant_of(members).id_number)

    def enroll(self, programme: str, entry: RosterEntry, *, source: str,
               applicant_pseudonym: str | None = None, now: dt.datetime | None = None) -> str:
        """Put a household on the roster; returns its roster id.

        The same applicant enrolled again in the programme (a newer decided case)
        refreshes the row — members, authorization, township — and reactivates it."""
        if not entry.members:
            raise StoreError("a roster household has at least one member")
        key = applicant_pseudonym or self._pseudonym_of(entry.members)
        values = self._values(entry)
        with self.tx() as conn:
            existing = conn.execute(select(roster.c.roster_id).where(
                roster.c.programme == programme,
                roster.c.applicant_pseudonym == key)).scalar()
            if existing is not None:
                conn.execute(update(roster).where(roster.c.roster_id == existing)
                             .values(**values, source=source, active=True))
                return str(existing)
            roster_id = "r-" + secrets.token_hex(10)
            conn.execute(insert(roster).values(
                roster_id=roster_id, programme=programme, applicant_pseudonym=key,
                source=source, active=True, created_at=_now(now), **values))
        return roster_id

    def enroll_case(self, case: CaseRow, members: Sequence[case_pb2.Member], *,
                    authorization: Mapping[str, Any] | None = None,
                    enrolled_on: dt.date | None = None, now: dt.datetime | None = None) -> str:
        """Enroll the household of a decided case (``authorization``: the store's record
        of its authorization number, for the consent digest and its validity)."""
        valid_until = (dt.date.fromisoformat(authorization["valid_until"])
                       if authorization and authorization.get("valid_until") else None)
        entry = RosterEntry(
            household_ref=case.case_id, members=members, region=case.region,
            township=case.township, enrolled_on=enrolled_on or case.application_date,
            authorization_number=case.authorization_number,
            consent_digest=str((authorization or {}).get("document_sha256", "")),
            authorization_valid_until=valid_until)
        return self.enroll(case.programme, entry, source=f"case:{case.case_id}",
                           applicant_pseudonym=case.applicant_key or None, now=now)

    def _values(self, entry: RosterEntry) -> dict[str, Any]:
        return {
            "region": entry.region, "township": entry.township,
            "household_ref": entry.household_ref,
            "members_sealed": self._seal_members(entry.members),
            "enrolled_on": entry.enrolled_on,
            "authorization_number": entry.authorization_number,
            "consent_digest": entry.consent_digest,
            "authorization_valid_until": entry.authorization_valid_until,
        }

    def import_rows(self, programme: str, entries: Sequence[RosterEntry], *, source: str,
                    now: dt.datetime | None = None) -> ImportResult:
        """Add a list's households in one transaction; applicants already on the
        programme's roster are skipped, so importing the same file twice adds nothing."""
        keyed = [(self._pseudonym_of(e.members), e) for e in entries if e.members]
        added: list[str] = []
        skipped = 0
        with self.tx() as conn:
            have = {r[0] for r in conn.execute(select(roster.c.applicant_pseudonym).where(
                roster.c.programme == programme))}
            rows = []
            for key, entry in keyed:
                if key in have:
                    skipped += 1
                    continue
                have.add(key)
                roster_id = "r-" + secrets.token_hex(10)
                added.append(roster_id)
                rows.append({"roster_id": roster_id, "programme": programme,
                             "applicant_pseudonym": key, "source": source, "active": True,
                             "created_at": _now(now), **self._values(entry)})
            if rows:
                conn.execute(insert(roster), rows)
        return ImportResult(tuple(added), skipped)

    def deactivate(self, roster_id: str) -> bool:
        """The household leaves the roster (no longer paid); later runs skip it."""
        with self.tx() as conn:
            return conn.execute(update(roster).where(roster.c.roster_id == roster_id)
                                .values(active=False)).rowcount == 1

    def roster_row(self, roster_id: str) -> RosterRow | None:
        with self.read() as conn:
            r = conn.execute(select(roster).where(roster.c.roster_id == roster_id)).first()
        return _roster_row(r) if r is not None else None

    def list_active(self, programme: str) -> list[RosterRow]:
        with self.read() as conn:
            rows = conn.execute(select(roster).where(
                roster.c.programme == programme, roster.c.active.is_(True))
                .order_by(roster.c.roster_id)).all()
        return [_roster_row(r) for r in rows]

    # -------------------------------------------------------------------- runs

    def create_run(self, programme: str, as_of: dt.date, started_by: str, *,
                   now: dt.datetime | None = None) -> str:
        """A run over every active household of the programme (each PENDING)."""
        now = _now(now)
        run_id = "run-" + secrets.token_hex(8)
        rh = run_households
        with self.tx() as conn:
            conn.execute(insert(reverification_runs).values(
                run_id=run_id, programme=programme, as_of=as_of, state="PENDING",
                started_by=started_by, created_at=now, updated_at=now, households=0,
                decided=0, failed=0, alerts_red=0, alerts_orange=0, alerts_yellow=0))
            conn.execute(insert(rh).from_select(
                ["run_id", "roster_id", "state", "claimed_by", "outcome"],
                select(literal(run_id), roster.c.roster_id, literal("PENDING"), literal(""),
                       literal("")).where(roster.c.programme == programme,
                                          roster.c.active.is_(True))))
            n = conn.execute(select(func.count()).select_from(rh)
                             .where(rh.c.run_id == run_id)).scalar_one()
            conn.execute(update(reverification_runs)
                         .where(reverification_runs.c.run_id == run_id)
                         .values(households=n))
        return run_id

    def claim(self, run_id: str, claimer: str, limit: int, stale_after: dt.timedelta, *,
              now: dt.datetime | None = None) -> list[RosterRow]:
        """Take up to ``limit`` PENDING households of the run (or CLAIMED ones whose
        claim is older than ``stale_after``: their claimer died) for ``claimer``."""
        now = _now(now)
        rh = run_households
        runs = reverification_runs
        takeable = and_(rh.c.run_id == run_id, or_(
            rh.c.state == "PENDING",
            and_(rh.c.state == "CLAIMED", rh.c.claimed_at < now - stale_after)))
        pick = select(rh.c.roster_id).where(takeable).order_by(rh.c.roster_id).limit(limit)
        with self.tx() as conn:
            run_state = conn.execute(select(runs.c.state)
                                     .where(runs.c.run_id == run_id)).scalar()
            if run_state not in _OPEN_RUN:
                return []
            if self._pg:
                # lock the chunk first, skipping rows another claimer holds; a LIMIT
                # subquery inside the UPDATE may be evaluated more than once
                chosen: Any = conn.execute(pick.with_for_update(skip_locked=True)
                                           ).scalars().all()
            else:
                chosen = pick.scalar_subquery()  # one statement under the write lock
            taken = conn.execute(
                update(rh).where(takeable, rh.c.roster_id.in_(chosen))
                .values(state="CLAIMED", claimed_by=claimer, claimed_at=now)
                .returning(rh.c.roster_id)).scalars().all()
            if run_state == "PENDING" and taken:
                conn.execute(update(runs).where(runs.c.run_id == run_id, runs.c.state ==
                                                "PENDING").values(state="RUNNING",
                                                                  updated_at=now))
            if not taken:
                return []
            rows = conn.execute(select(roster).where(roster.c.roster_id.in_(taken))
                                .order_by(roster.c.roster_id)).all()
        return [_roster_row(r) for r in rows]

    def record_decision(self, run_id: str, roster_id: str, claimer: str, outcome: str,
                        determination: bytes, digest: bytes, alert: PendingAlert | None,
                        *, now: dt.datetime | None = None) -> str | None:
        """Store the household's signed determination (sealed) and its alert, and count
        them in the run, in one transaction; returns the alert's id (None: no alert).

        ClaimLost, storing nothing, unless ``claimer`` holds the household's claim."""
        now = _now(now)
        rh = run_households
        runs = reverification_runs
        with self.tx() as conn:
            previous = self._previous(conn, roster_id, run_id)
            done = conn.execute(update(rh).where(
                rh.c.run_id == run_id, rh.c.roster_id == roster_id, rh.c.state == "CLAIMED",
                rh.c.claimed_by == claimer).values(
                state="DECIDED", outcome=outcome, determination_digest=digest,
                determination_sealed=self.sealer.seal(determination),
                previous_digest=previous[0] if previous else None, decided_at=now))
            if done.rowcount != 1:
                raise ClaimLost(f"household {roster_id} of run {run_id} is not claimed by "
                                f"{claimer} (taken over, or decided already)")
            alert_id = None
            counts: dict[str, Any] = {"decided": runs.c.decided + 1, "updated_at": now}
            if alert is not None:
                township = conn.execute(select(roster.c.township)
                                        .where(roster.c.roster_id == roster_id)).scalar_one()
                alert_id = self._insert_alert(conn, run_id, roster_id, township, alert, now)
                column = f"alerts_{alert.grade}"
                counts[column] = runs.c[column] + 1
            conn.execute(update(runs).where(runs.c.run_id == run_id).values(**counts))
        return alert_id

    def record_failure(self, run_id: str, roster_id: str, claimer: str, reason: str, *,
                       now: dt.datetime | None = None) -> None:
        """The household could not be decided in this run (reason: words, never personal
        data); ClaimLost unless ``claimer`` holds it."""
        now = _now(now)
        rh = run_households
        runs = reverification_runs
        with self.tx() as conn:
            done = conn.execute(update(rh).where(
                rh.c.run_id == run_id, rh.c.roster_id == roster_id, rh.c.state == "CLAIMED",
                rh.c.claimed_by == claimer).values(state="FAILED", failure_reason=reason,
                                                   decided_at=now))
            if done.rowcount != 1:
                raise ClaimLost(f"household {roster_id} of run {run_id} is not claimed by "
                                f"{claimer}")
            conn.execute(update(runs).where(runs.c.run_id == run_id)
                         .values(failed=runs.c.failed + 1, updated_at=now))

    def finish_run(self, run_id: str, *, now: dt.datetime | None = None) -> bool:
        """RUNNING/PENDING → FINISHED once no household is pending or claimed."""
        rh = run_households
        runs = reverification_runs
        with self.tx() as conn:
            left = conn.execute(select(func.count()).select_from(rh).where(
                rh.c.run_id == run_id, rh.c.state.in_(("PENDING", "CLAIMED")))).scalar_one()
            if left:
                return False
            return conn.execute(update(runs).where(
                runs.c.run_id == run_id, runs.c.state.in_(_OPEN_RUN))
                .values(state="FINISHED", updated_at=_now(now))).rowcount == 1

    def cancel_run(self, run_id: str, *, now: dt.datetime | None = None) -> bool:
        runs = reverification_runs
        with self.tx() as conn:
            return conn.execute(update(runs).where(
                runs.c.run_id == run_id, runs.c.state.in_(_OPEN_RUN))
                .values(state="CANCELLED", updated_at=_now(now))).rowcount == 1

    def progress(self, run_id: str) -> RunProgress | None:
        rh = run_households
        runs = reverification_runs
        with self.read() as conn:
            run = conn.execute(select(runs).where(runs.c.run_id == run_id)).first()
            if run is None:
                return None
            counted = dict(conn.execute(select(rh.c.state, func.count()).where(
                rh.c.run_id == run_id).group_by(rh.c.state)).all())
        return _progress(run, counted)

    def resumable_runs(self) -> list[RunProgress]:
        """Runs not finished nor cancelled, oldest first: what a restarted process resumes."""
        runs = reverification_runs
        with self.read() as conn:
            ids = conn.execute(select(runs.c.run_id).where(runs.c.state.in_(_OPEN_RUN))
                               .order_by(runs.c.created_at)).scalars().all()
        return [p for p in (self.progress(i) for i in ids) if p is not None]

    def _previous(self, conn: Connection, roster_id: str,
                  before_run: str | None) -> tuple[bytes, bytes, dt.datetime, str] | None:
        rh = run_households
        query = select(rh.c.determination_digest, rh.c.determination_sealed, rh.c.decided_at,
                       rh.c.run_id).where(rh.c.roster_id == roster_id, rh.c.state == "DECIDED")
        if before_run is not None:
            query = query.where(rh.c.run_id != before_run)
        r = conn.execute(query.order_by(rh.c.decided_at.desc()).limit(1)).first()
        if r is None:
            return None
        return bytes(r[0]), bytes(r[1]), _utc(r[2]), r[3]  # type: ignore[return-value]

    def previous_determination(self, roster_id: str, *, before_run: str | None = None
                               ) -> tuple[str, bytes, bytes] | None:
        """The household's last decided determination of another run than
        ``before_run``: (run id, digest, determination bytes, unsealed); None."""
        with self.read() as conn:
            found = self._previous(conn, roster_id, before_run)
        if found is None:
            return None
        digest, sealed, _at, run_id = found
        return run_id, digest, self.sealer.open(sealed)


def _roster_row(r: Any) -> RosterRow:
    m = r._mapping
    return RosterRow(
        roster_id=m["roster_id"], programme=m["programme"], region=m["region"],
        township=m["township"], household_ref=m["household_ref"],
        members_sealed=bytes(m["members_sealed"]), applicant_pseudonym=m["applicant_pseudonym"],
        enrolled_on=m["enrolled_on"], authorization_number=m["authorization_number"],
        consent_digest=m["consent_digest"],
        authorization_valid_until=m["authorization_valid_until"], source=m["source"],
        active=bool(m["active"]), created_at=_utc(m["created_at"]),  # type: ignore[arg-type]
    )


def _progress(run: Any, counted: Mapping[str, int]) -> RunProgress:
    m = run._mapping
    return RunProgress(
        run_id=m["run_id"], programme=m["programme"], as_of=m["as_of"], state=m["state"],
        started_by=m["started_by"], households=m["households"],
        by_state={s: int(counted.get(s, 0)) for s in HOUSEHOLD_STATES},
        alerts={g: m[f"alerts_{g}"] for g in ("red", "orange", "yellow")},
    )
