"""Change alerts in the case database: raised with a re-verification decision, then acted on.

Mixed into ``RosterStore`` (apart so store_roster.py keeps the roster and runs). An
alert's changed figures and the caseworker's note are sealed: both may name amounts and
circumstances of a household. An alert leaves OPEN once, by compare-and-set, so two
caseworkers acting together cannot both succeed (``hedui.gateway.worklist`` holds the
rules of what each action needs).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import case, func, insert, select, update

from hedui.errors import HeduiError

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from hedui.gateway.sealing import Vault

GRADES = ("red", "orange", "yellow")
ALERT_STATES = ("OPEN", "CONFIRMED", "REVIEW_OPENED", "DISMISSED")
#: the states an OPEN alert may move to (and only an OPEN one)
ACTED_STATES = ("CONFIRMED", "REVIEW_OPENED", "DISMISSED")


class AlertConflict(HeduiError):
    """The alert is not OPEN any more (someone acted first) or does not exist.

    (A HeduiError, not a ``store.StoreError``: this module is imported by the case
    store's own module chain, so it cannot import the store.)"""


@dataclass(frozen=True)
class PendingAlert:
    """An alert to store with a decision: grade, due date, the changes as bytes (JSON)."""

    grade: str
    due_on: dt.date
    changes: bytes

    def __post_init__(self) -> None:
        if self.grade not in GRADES:
            raise ValueError(f"an alert's grade is one of {', '.join(GRADES)}")


@dataclass(frozen=True)
class AlertRow:
    alert_id: str
    run_id: str
    roster_id: str
    grade: str
    township: str
    created_at: dt.datetime
    due_on: dt.date
    state: str
    changes_sealed: bytes
    acted_by: str
    acted_at: dt.datetime | None
    note_sealed: bytes | None
    review_case_id: str
    #: from the roster row: for the audit entry and the review case
    programme: str
    applicant_pseudonym: str


def _tables() -> Any:
    from hedui.gateway import store_roster  # it imports this module first

    return store_roster


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


class AlertQueries:
    """The alert statements of ``RosterStore``."""

    sealer: Vault

    if TYPE_CHECKING:
        def tx(self) -> AbstractContextManager[Connection]: ...
        def read(self) -> AbstractContextManager[Connection]: ...

    def _insert_alert(self, conn: Connection, run_id: str, roster_id: str, township: str,
                      alert: PendingAlert, now: dt.datetime) -> str:
        alert_id = "al-" + secrets.token_hex(10)
        conn.execute(insert(_tables().alerts).values(
            alert_id=alert_id, run_id=run_id, roster_id=roster_id, grade=alert.grade,
            township=township, created_at=now, due_on=alert.due_on, state="OPEN",
            changes_sealed=self.sealer.seal(alert.changes)))
        return alert_id

    def _alert_query(self) -> Any:
        t = _tables()
        a, r = t.alerts, t.roster
        return select(a, r.c.programme, r.c.applicant_pseudonym).join(
            r, r.c.roster_id == a.c.roster_id)

    def alert(self, alert_id: str) -> AlertRow | None:
        a = _tables().alerts
        with self.read() as conn:
            row = conn.execute(self._alert_query().where(a.c.alert_id == alert_id)).first()
        return _alert_row(row) if row is not None else None

    def list_alerts(self, *, state: str | None = "OPEN", township: str | None = None,
                    grade: str | None = None, townships: Sequence[str] | None = None,
                    run_id: str | None = None, limit: int = 200,
                    offset: int = 0) -> list[AlertRow]:
        """Alerts soonest due first (red before orange before yellow on one day);
        ``townships`` limits them to a caseworker's scope (empty: none)."""
        a = _tables().alerts
        query = self._alert_query()
        for column, value in (("state", state), ("township", township), ("grade", grade),
                              ("run_id", run_id)):
            if value:
                query = query.where(a.c[column] == value)
        if townships is not None:
            if not townships:
                return []
            query = query.where(a.c.township.in_(list(townships)))
        query = query.order_by(a.c.due_on, _grade_order(a), a.c.created_at, a.c.alert_id)
        with self.read() as conn:
            rows = conn.execute(query.limit(limit).offset(offset)).all()
        return [_alert_row(r) for r in rows]

    def act_on_alert(self, alert_id: str, action: str, staff: str, note: str = "",
                     review_case_id: str = "", *, now: dt.datetime | None = None) -> AlertRow:
        """OPEN → ``action`` (CONFIRMED, REVIEW_OPENED or DISMISSED), by ``staff``, with
        the note sealed; AlertConflict when it is not OPEN (someone acted first)."""
        if action not in ACTED_STATES:
            raise ValueError(f"an alert can only be moved to {', '.join(ACTED_STATES)}")
        a = _tables().alerts
        with self.tx() as conn:
            done = conn.execute(update(a).where(a.c.alert_id == alert_id, a.c.state == "OPEN")
                                .values(state=action, acted_by=staff,
                                        acted_at=now or dt.datetime.now(dt.UTC),
                                        note_sealed=self.sealer.seal(note.encode())
                                        if note else None,
                                        review_case_id=review_case_id or None))
            if done.rowcount != 1:
                raise AlertConflict(f"alert {alert_id} is not open (acted on already, or "
                                    "no such alert)")
            row = conn.execute(self._alert_query().where(a.c.alert_id == alert_id)).one()
        return _alert_row(row)

    def alert_changes(self, row: AlertRow) -> bytes:
        """The alert's changes as stored with the decision (unsealed)."""
        return self.sealer.open(row.changes_sealed)

    def alert_note(self, row: AlertRow) -> str:
        return self.sealer.open(row.note_sealed).decode() if row.note_sealed else ""

    def counts_by_grade_and_township(self, *, state: str | None = "OPEN",
                                     overdue_on: dt.date | None = None
                                     ) -> dict[tuple[str, str], int]:
        """(grade, township) → alerts (of ``state``; due before ``overdue_on`` if given)."""
        a = _tables().alerts
        query = select(a.c.grade, a.c.township, func.count()).group_by(a.c.grade,
                                                                       a.c.township)
        if state:
            query = query.where(a.c.state == state)
        if overdue_on is not None:
            query = query.where(a.c.due_on < overdue_on)
        with self.read() as conn:
            return {(g, t): int(n) for g, t, n in conn.execute(query)}

    def iter_alerts_of_run(self, run_id: str) -> Iterator[AlertRow]:
        yield from self.list_alerts(state=None, run_id=run_id, limit=1_000_000)


def _grade_order(a: Any) -> Any:
    return case({"red": 0, "orange": 1}, value=a.c.grade, else_=2)


def _alert_row(r: Any) -> AlertRow:
    m = r._mapping
    return AlertRow(
        alert_id=m["alert_id"], run_id=m["run_id"], roster_id=m["roster_id"],
        grade=m["grade"], township=m["township"],
        created_at=_utc(m["created_at"]),  # type: ignore[arg-type]
        due_on=m["due_on"], state=m["state"], changes_sealed=bytes(m["changes_sealed"]),
        acted_by=m["acted_by"] or "", acted_at=_utc(m["acted_at"]),
        note_sealed=bytes(m["note_sealed"]) if m["note_sealed"] is not None else None,
        review_case_id=m["review_case_id"] or "", programme=m["programme"],
        applicant_pseudonym=m["applicant_pseudonym"],
    )
