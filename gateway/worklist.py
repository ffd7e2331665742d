"""The caseworker's worklist of change alerts: due dates, overdue, and the three actions.

An alert is due so many working days (official calendar, ``working_days``) after the
day it was raised, in China's time: red 5, orange 10, yellow 15 unless configured. Each
OPEN alert is acted on once:

* **confirm** — the change is real and handled in the ordinary way; a note is required
  (what was checked), so the next reader knows why nothing else happened;
* **open_review** — the household is re-assessed in a review case. The worklist opens no
  case itself: called without a case id it returns what the caller needs to open one
  (:class:`ReviewNeeded`); called with the id of the case opened, it records it;
* **dismiss** — the change is not real or not relevant; a reason is required.

Each action returns the AUDIT_KIND_ALERT_ACTED entry's fields for the caller to log
(``Recorder.record(kind, **fields)``): the reason names the action and the alert, never
the note's text (a note may describe a family's circumstances; it is stored sealed).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hedui.china_time import china_date
from hedui.errors import HeduiError
from hedui.gateway.store_alerts import AlertConflict, AlertRow, PendingAlert
from hedui.v1 import audit_pb2

if TYPE_CHECKING:
    from hedui.gateway.alerts import Alert
    from hedui.gateway.store_roster import RosterStore
    from hedui.gateway.working_days import WorkCalendar

__all__ = [
    "DEFAULT_DAYS",
    "Acted",
    "ReviewNeeded",
    "WorklistError",
    "confirm",
    "dismiss",
    "due_on",
    "is_overdue",
    "open_review",
    "pending_alert",
    "working_days_left",
]

#: working days to act on an alert, by grade
DEFAULT_DAYS: Mapping[str, int] = {"red": 5, "orange": 10, "yellow": 15}
#: the longest note kept (a note is words, not a file)
MAX_NOTE = 2000


class WorklistError(HeduiError):
    """An action refused; ``code`` is stable (NO_SUCH_ALERT, NOT_OPEN, NOTE_REQUIRED,
    REASON_REQUIRED, NOTE_TOO_LONG)."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


@dataclass(frozen=True)
class Acted:
    """The alert after the action, and the audit entry's fields to log."""

    alert: AlertRow
    audit: dict[str, Any]


@dataclass(frozen=True)
class ReviewNeeded:
    """What the caller needs to open the review case (then call open_review again)."""

    alert_id: str
    roster_id: str
    programme: str
    township: str
    #: the case's repeat reason (the same household was verified recently: the run)
    repeat_reason: str


# ------------------------------------------------------------------ deadlines


def due_on(grade: str, raised_on: dt.date, calendar: WorkCalendar,
           days: Mapping[str, int] = DEFAULT_DAYS) -> dt.date:
    """The day an alert raised on ``raised_on`` must be acted on by."""
    if grade not in days:
        raise ValueError(f"no working days configured for alerts of grade {grade!r}")
    return calendar.add_working_days(raised_on, days[grade])


def pending_alert(alert: Alert, *, raised_at: dt.datetime, calendar: WorkCalendar,
                  days: Mapping[str, int] = DEFAULT_DAYS) -> PendingAlert:
    """The alert as the store keeps it with the decision, due ``days`` working days on
    from the day (China's) it is raised."""
    return PendingAlert(alert.grade, due_on(alert.grade, china_date(raised_at), calendar, days),
                        alert.to_json())


def is_overdue(alert: AlertRow, today: dt.date) -> bool:
    """Still OPEN on a day after its due date."""
    return alert.state == "OPEN" and today > alert.due_on


def working_days_left(alert: AlertRow, today: dt.date, calendar: WorkCalendar) -> int:
    """Working days from ``today`` to the due date (0 on it, negative once overdue)."""
    return calendar.working_days_between(today, alert.due_on)


# ------------------------------------------------------------------ actions


def _open(store: RosterStore, alert_id: str) -> AlertRow:
    row = store.alert(alert_id)
    if row is None:
        raise WorklistError("NO_SUCH_ALERT", f"no alert {alert_id}")
    if row.state != "OPEN":
        raise WorklistError("NOT_OPEN", f"alert {alert_id} was acted on already "
                                        f"({row.state.lower()} by {row.acted_by})")
    return row


def _words(text: str, code: str, what: str) -> str:
    text = text.strip()
    if not text:
        raise WorklistError(code, f"{what} is required")
    if len(text) > MAX_NOTE:
        raise WorklistError("NOTE_TOO_LONG", f"{what} has more than {MAX_NOTE} characters")
    return text


def _act(store: RosterStore, row: AlertRow, state: str, staff: str, note: str,
         review_case_id: str, reason: str, now: dt.datetime | None) -> Acted:
    try:
        acted = store.act_on_alert(row.alert_id, state, staff, note, review_case_id, now=now)
    except AlertConflict as exc:
        raise WorklistError("NOT_OPEN", str(exc)) from None
    return Acted(acted, audit_entry(acted, staff, reason))


def audit_entry(alert: AlertRow, staff: str, reason: str) -> dict[str, Any]:
    """The AUDIT_KIND_ALERT_ACTED entry's fields (``case_id`` the run, the household
    by its pseudonym only)."""
    return {"kind": audit_pb2.AUDIT_KIND_ALERT_ACTED, "operator": staff,
            "case_id": alert.run_id, "purpose": alert.programme,
            "pseudonyms": [alert.applicant_pseudonym], "reason": reason}


def confirm(store: RosterStore, alert_id: str, staff: str, note: str, *,
            now: dt.datetime | None = None) -> Acted:
    """The change is confirmed as real; ``note`` (required) says what was checked."""
    row = _open(store, alert_id)
    text = _words(note, "NOTE_REQUIRED", "a note")
    return _act(store, row, "CONFIRMED", staff, text, "",
                f"alert {alert_id} ({row.grade}) confirmed", now)


def dismiss(store: RosterStore, alert_id: str, staff: str, reason: str, *,
            now: dt.datetime | None = None) -> Acted:
    """The change is not real or not relevant; ``reason`` (required) says why."""
    row = _open(store, alert_id)
    text = _words(reason, "REASON_REQUIRED", "a reason")
    return _act(store, row, "DISMISSED", staff, text, "",
                f"alert {alert_id} ({row.grade}) dismissed", now)


def open_review(store: RosterStore, alert_id: str, staff: str, review_case_id: str = "",
                note: str = "", *, now: dt.datetime | None = None) -> Acted | ReviewNeeded:
    """Without ``review_case_id``: what the caller needs to open the review case (the
    alert stays OPEN). With it: the alert is REVIEW_OPENED, naming that case."""
    row = _open(store, alert_id)
    if not review_case_id.strip():
        return ReviewNeeded(row.alert_id, row.roster_id, row.programme, row.township,
                            f"re-verification run {row.run_id}: {row.grade} alert {alert_id}")
    text = note.strip()
    if len(text) > MAX_NOTE:
        raise WorklistError("NOTE_TOO_LONG", f"a note has more than {MAX_NOTE} characters")
    case_id = review_case_id.strip()
    return _act(store, row, "REVIEW_OPENED", staff, text, case_id,
                f"alert {alert_id} ({row.grade}) review opened as case {case_id}", now)
