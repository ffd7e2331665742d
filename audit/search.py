"""Privacy officers' questions to the audit log: who touched whose data, when, why.

A search names a subject by ID number; it is turned into the pseudonym here and the
number itself goes no further. Entries are streamed from the log in leaf order and
matched in Python: the log is the single source of truth, with no second index
that could disagree with the Merkle tree. Every search is itself written to the
log (by the caller, see ``AuditQueries``) so watching the watchers is possible.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from hedui.audit.entries import AccessRecorder, decode
from hedui.audit.store import AuditLog
from hedui.timestamps import from_timestamp
from hedui.v1 import audit_pb2

MAX_LIMIT = 10_000

#: the kinds a person's access report lists: every entry that touched their data or was
#: about them — reads of their case included, not only the queries to departments
ACCESS_KINDS = frozenset({
    audit_pb2.AUDIT_KIND_QUERY_SENT, audit_pb2.AUDIT_KIND_QUERY_REFUSED,
    audit_pb2.AUDIT_KIND_QUERY_ANSWERED, audit_pb2.AUDIT_KIND_ANSWER_RECEIVED,
    audit_pb2.AUDIT_KIND_ANSWER_WITHHELD, audit_pb2.AUDIT_KIND_QUERY_FAILED,
    audit_pb2.AUDIT_KIND_CASE_OPENED, audit_pb2.AUDIT_KIND_CASE_DECIDED,
    audit_pb2.AUDIT_KIND_CASE_CANCELLED, audit_pb2.AUDIT_KIND_REPORT_VIEWED,
    audit_pb2.AUDIT_KIND_ANSWER_ERASED,
    audit_pb2.AUDIT_KIND_BUNDLE_EXPORTED, audit_pb2.AUDIT_KIND_BUNDLE_IMPORTED,
    audit_pb2.AUDIT_KIND_CASE_VIEWED, audit_pb2.AUDIT_KIND_CASES_LISTED,
    audit_pb2.AUDIT_KIND_REQUEST_REFUSED,
    audit_pb2.AUDIT_KIND_AUTHORIZATION_REGISTERED, audit_pb2.AUDIT_KIND_AUTHORIZATION_REVOKED,
    # re-verification: one entry per bulk query names every subject it asked about
    audit_pb2.AUDIT_KIND_BULK_QUERY_SENT, audit_pb2.AUDIT_KIND_BULK_QUERY_ANSWERED,
    audit_pb2.AUDIT_KIND_BULK_QUERY_REFUSED, audit_pb2.AUDIT_KIND_BULK_ANSWER_RECEIVED,
    audit_pb2.AUDIT_KIND_REVERIFICATION_DECIDED, audit_pb2.AUDIT_KIND_ALERT_ACTED,
})


@dataclass(frozen=True)
class Criteria:
    """What to look for; every given criterion must match."""

    subject_pseudonym: str | None = None
    operator: str | None = None
    department: str | None = None
    purpose: str | None = None
    case_id: str | None = None
    kinds: frozenset[int] = field(default_factory=frozenset)
    since: dt.datetime | None = None
    until: dt.datetime | None = None

    def matches(self, e: audit_pb2.AuditEntry) -> bool:
        if self.subject_pseudonym and self.subject_pseudonym not in e.subject_pseudonyms:
            return False
        if self.operator and e.operator != self.operator:
            return False
        if self.department and e.department != self.department:
            return False
        if self.purpose and e.purpose != self.purpose:
            return False
        if self.case_id and e.case_id != self.case_id:
            return False
        if self.kinds and e.kind not in self.kinds:
            return False
        if self.since or self.until:
            t = from_timestamp(e.time)
            if self.since and t < self.since:
                return False
            if self.until and t > self.until:
                return False
        return True

    def describe(self) -> str:
        """The criteria in words for the audit entry of the search (never an ID number)."""
        parts = []
        if self.subject_pseudonym:
            parts.append(f"subject {self.subject_pseudonym[:16]}…")
        for name in ("operator", "department", "purpose", "case_id"):
            value = getattr(self, name)
            if value:
                parts.append(f"{name}={value}")
        if self.kinds:
            names = (audit_pb2.AuditKind.Name(k) for k in sorted(self.kinds))
            parts.append("kinds=" + ",".join(names))
        if self.since:
            parts.append(f"since={self.since.isoformat()}")
        if self.until:
            parts.append(f"until={self.until.isoformat()}")
        return "; ".join(parts) or "everything"


@dataclass(frozen=True)
class Hit:
    leaf_index: int
    entry: audit_pb2.AuditEntry


def search(log: AuditLog, criteria: Criteria, limit: int = 100) -> tuple[list[Hit], bool]:
    """Matching entries, oldest first, and whether more matched than ``limit``."""
    limit = max(1, min(limit, MAX_LIMIT))
    hits: list[Hit] = []
    for idx, raw in log.iter_entries():
        entry = decode(raw)
        if criteria.matches(entry):
            if len(hits) == limit:
                return hits, True
            hits.append(Hit(idx, entry))
    return hits, False


class AuditQueries:
    """Searches and subject reports that write themselves into the log."""

    def __init__(self, log: AuditLog, recorder: AccessRecorder) -> None:
        self.log = log
        self.recorder = recorder

    def pseudonym(self, id_number: str) -> str:
        return self.recorder.pseudonymizer.pseudonym(id_number)

    def search(
        self, criteria: Criteria, *, searched_by: str, limit: int = 100
    ) -> tuple[list[Hit], bool]:
        hits, truncated = search(self.log, criteria, limit)
        self.recorder.record(
            audit_pb2.AUDIT_KIND_AUDIT_SEARCHED,
            operator=searched_by,
            reason=f"search: {criteria.describe()}; {len(hits)} hit(s)",
        )
        return hits, truncated

    def subject_report(self, id_number: str, *, requested_by: str) -> list[Hit]:
        """Every access to one person's data (not the officers' own searches): queries
        and answers, who looked at their case or saw it listed, refused requests about
        them, their authorization's registration and revocation."""
        pseudonym = self.pseudonym(id_number)
        hits, _ = search(self.log, Criteria(subject_pseudonym=pseudonym, kinds=ACCESS_KINDS),
                         MAX_LIMIT)
        self.recorder.record(
            audit_pb2.AUDIT_KIND_SUBJECT_REPORT,
            operator=requested_by,
            id_numbers=[id_number],
            reason=f"subject access report; {len(hits)} access(es)",
        )
        return hits
