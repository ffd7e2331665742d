"""Building ``AuditEntry`` leaves: the one place personal data is turned into pseudonyms.

Callers hand over ID numbers; what reaches the log is their keyed pseudonyms, never
the numbers or names. ``AccessRecorder`` is what the gateway and the agents hold:
one actor, one log, one pseudonym key, an injectable clock.

``ACTING_ROLE`` is the role the operator of the call being served acts in (set by the
gateway's guard for the call): every entry of the call records it unless given one.
"""

from __future__ import annotations

import asyncio
import contextvars
import datetime as dt
from collections.abc import Callable, Iterable
from typing import Protocol

from hedui.audit.pseudonym import Pseudonymizer
from hedui.timestamps import to_timestamp
from hedui.v1 import audit_pb2

Kind = audit_pb2.AuditKind
Outcome = audit_pb2.AuditOutcome

#: longest reason text kept; reasons are sentences, never dumps
MAX_REASON = 1000

#: the role the current call's operator acts in (intake-clerk, verifier, …); "" outside one
ACTING_ROLE: contextvars.ContextVar[str] = contextvars.ContextVar("hedui_acting_role",
                                                                  default="")


class Appender(Protocol):
    """What the recorder needs of a log: durable ``append`` returning the leaf index."""

    def append(self, entry: bytes) -> int: ...


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def decode(entry: bytes) -> audit_pb2.AuditEntry:
    """Parse a stored leaf back into an AuditEntry."""
    message = audit_pb2.AuditEntry()
    message.ParseFromString(entry)
    return message


class AccessRecorder:
    """Writes audit entries for one actor (a gateway or an agent)."""

    def __init__(
        self,
        log: Appender,
        *,
        actor: str,
        pseudonymizer: Pseudonymizer,
        clock: Callable[[], dt.datetime] = _now,
    ) -> None:
        self.log = log
        self.actor = actor
        self.pseudonymizer = pseudonymizer
        self._clock = clock

    def entry(
        self,
        kind: int,
        *,
        outcome: int = audit_pb2.AUDIT_OUTCOME_OK,
        operator: str = "",
        case_id: str = "",
        purpose: str = "",
        department: str = "",
        field_paths: Iterable[str] = (),
        id_numbers: Iterable[str] = (),
        query_id: str = "",
        query_digest: bytes = b"",
        answer_digest: bytes = b"",
        reason: str = "",
        authorization_number: str = "",
        report_digest: bytes = b"",
        pseudonyms: Iterable[str] = (),
        reason_code: str = "",
        client: str = "",
        role: str | None = None,
    ) -> audit_pb2.AuditEntry:
        """Build (but do not write) an entry; ID numbers become pseudonyms here.

        ``pseudonyms`` are subjects already known only by pseudonym (an authorization's
        covered members, as the registry keeps them); they follow the ID numbers'.
        """
        return audit_pb2.AuditEntry(
            time=to_timestamp(self._clock()),
            actor=self.actor,
            operator=operator,
            kind=kind,
            case_id=case_id,
            purpose=purpose,
            department=department,
            field_paths=list(field_paths),
            subject_pseudonyms=[*(self.pseudonymizer.pseudonym(i) for i in id_numbers),
                                *pseudonyms],
            query_id=query_id,
            query_digest=query_digest,
            answer_digest=answer_digest,
            outcome=outcome,
            reason=reason[:MAX_REASON],
            authorization_number=authorization_number,
            report_digest=report_digest,
            reason_code=reason_code,
            client=client,
            role=ACTING_ROLE.get() if role is None else role,
        )

    def record(self, kind: int, **fields: object) -> int:
        """Build an entry and append it durably; returns its leaf index."""
        entry = self.entry(kind, **fields)  # type: ignore[arg-type]
        return self.log.append(entry.SerializeToString())

    async def record_async(self, kind: int, **fields: object) -> int:
        """``record`` for asyncio servers: awaits the group commit, parks no thread."""
        entry = self.entry(kind, **fields)  # type: ignore[arg-type]
        append_async = getattr(self.log, "append_async", None)
        if append_async is None:
            return await asyncio.to_thread(self.log.append, entry.SerializeToString())
        return await append_async(entry.SerializeToString())
