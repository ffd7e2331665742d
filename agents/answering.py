"""From a checked query to a signed answer: read, mask, log, sign.

The order is the guarantee: the department's records are read, masked down to
what may be released, the access is written to the agent's audit log, and only then
is the answer signed and handed back. A refusal or a failed read is logged too — with
only what was verified (the TLS peer, the payload digest, the reason code) and, from a
query whose signature verified, the fields that pass a strict grammar (``loggable``):
whoever holds a certificate must not be able to write words into a department's log.
Every answer carries the agent's latest log checkpoint, for the gateway to witness.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import nacl.signing
import structlog
from google.protobuf.message import Message

from hedui.agents import fieldmask, refusals
from hedui.agents.checks import CheckedQuery, QueryChecker
from hedui.agents.departments import department
from hedui.agents.source import RecordSource, SourceUnavailable
from hedui.audit.entries import AccessRecorder
from hedui.keys import dsse
from hedui.timestamps import to_timestamp
from hedui.v1 import audit_pb2, common_pb2, envelope_pb2, query_pb2

log = structlog.get_logger("hedui.agent")

_WITHHELD_REASON = {
    "NOT_IN_POLICY": query_pb2.Withheld.REASON_NOT_IN_POLICY,
    "NARROWED_LOCALLY": query_pb2.Withheld.REASON_NARROWED_LOCALLY,
    "NO_SUCH_FIELD": query_pb2.Withheld.REASON_NO_SUCH_FIELD,
    "NOT_HELD": query_pb2.Withheld.REASON_NOT_HELD,
}


#: the grammar a refused query's field must pass to be logged. None may hold a resident
#: ID number (18 characters) or a name: ASCII only, and too short or too constrained
_LOGGABLE = {
    "query_id": re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"),
    "case_id": re.compile(r"case-20[0-9]{6}-[0-9a-f]{12}|[a-z][a-z0-9-]{0,15}"),
    "operator": re.compile(r"[a-z]{1,8}-[0-9a-z]{1,8}"),
}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def loggable(name: str, value: str) -> str:
    """``value`` when it passes the grammar of field ``name``, else "" (not logged)."""
    return value if _LOGGABLE[name].fullmatch(value) else ""


@dataclass(frozen=True)
class Prepared:
    """A query's outcome before release: its audit entry, then an answer or a refusal."""

    entry: bytes
    payload: bytes | None = None
    refusal: refusals.QueryRefused | None = None


class Answerer:
    """One department's answering pipeline; thread-safe, shared by all requests."""

    def __init__(
        self,
        *,
        checker: QueryChecker,
        source: RecordSource,
        recorder: AccessRecorder,
        signing_key: nacl.signing.SigningKey,
        clock: Callable[[], dt.datetime] = _now,
        log_checkpoint: Callable[[], str] | None = None,
        log_key: str = "",
    ) -> None:
        self.checker = checker
        self.source = source
        self.recorder = recorder
        self.signing_key = signing_key
        self._clock = clock
        #: the latest signed checkpoint of the agent's own log and its vkey, put into
        #: every answer (the gateway witnesses the agent's log; None: offline answers)
        self.log_checkpoint = log_checkpoint
        self.log_key = log_key

    def answer(
        self,
        envelope: envelope_pb2.Envelope,
        *,
        peer_id: str | None,
        peer_cert_sha256: str | None = None,
    ) -> envelope_pb2.Envelope:
        """Check, answer and sign; raises QueryRefused (already logged) on refusal."""
        outcome = self.prepare(envelope, peer_id=peer_id, peer_cert_sha256=peer_cert_sha256)
        self.recorder.log.append(outcome.entry)
        return self.release(outcome)

    def prepare(
        self,
        envelope: envelope_pb2.Envelope,
        *,
        peer_id: str | None,
        peer_cert_sha256: str | None = None,
    ) -> Prepared:
        """Everything up to the audit entry, without waiting for the log.

        The caller must make ``entry`` durable in the audit log and only then call
        ``release`` (or raise ``refusal``): this split lets the asyncio server await
        the log's group commit instead of parking a thread per query.
        """
        now = self._clock()
        try:
            checked = self.checker.check(
                envelope, peer_id=peer_id, now=now, peer_cert_sha256=peer_cert_sha256
            )
        except refusals.QueryRefused as exc:
            return self.refuse(envelope.payload, peer_id, exc)
        try:
            answer = self._build(checked, now)
        except SourceUnavailable as exc:
            # what department IT must fix: the block and the database's own words
            # (scrubbed by the source), never the SQL text or the ID numbers bound to it
            log.error("department database failed", department=self.checker.department,
                      block=exc.block, error=exc.cause or str(exc),
                      query_id=checked.query.query_id, case_id=checked.query.case_id)
            entry = self._entry(checked, audit_pb2.AUDIT_KIND_QUERY_FAILED,
                                audit_pb2.AUDIT_OUTCOME_FAILED,
                                f"department database unavailable: {exc}")
            return Prepared(entry, refusal=refusals.DataUnavailable(
                f"the {self.checker.department} database cannot be read right now; try again later"
            ))
        payload = answer.SerializeToString()
        # paths naming no field are the sender's words, not the department's: counted
        named = [w for w in checked.release.withheld if w.reason != "NO_SUCH_FIELD"]
        nameless = len(checked.release.withheld) - len(named)
        withheld = "; ".join(
            [f"{w.path} ({w.reason})" for w in named]
            + ([f"{nameless} path(s) naming no field (NO_SUCH_FIELD)"] if nameless else [])
        )
        entry = self._entry(
            checked,
            audit_pb2.AUDIT_KIND_QUERY_ANSWERED,
            audit_pb2.AUDIT_OUTCOME_PARTIAL if withheld else audit_pb2.AUDIT_OUTCOME_OK,
            f"withheld: {withheld}" if withheld else "",
            answer_digest=hashlib.sha256(payload).digest(),
        )
        return Prepared(entry, payload=payload)

    def release(self, prepared: Prepared) -> envelope_pb2.Envelope:
        """After the entry is durable: sign the answer, or raise the refusal."""
        if prepared.refusal is not None:
            raise prepared.refusal
        assert prepared.payload is not None
        return dsse.sign(prepared.payload, dsse.ANSWER_TYPE, self.signing_key)

    def now(self) -> dt.datetime:
        """The answering clock (injectable), shared with bulk answers."""
        return self._clock()

    def _build(self, checked: CheckedQuery, now: dt.datetime) -> query_pb2.Answer:
        released = checked.release.released
        records = self.source.fetch(checked.id_numbers, released) if released else {}
        as_of = self.source.data_as_of()
        return self.build_answer(
            digest=checked.digest, query_id=checked.query.query_id,
            id_numbers=checked.id_numbers, records=records, release=checked.release,
            as_of=as_of, now=now, checkpoint=True,
        )

    def build_answer(
        self,
        *,
        digest: bytes,
        query_id: str,
        id_numbers: Sequence[str],
        records: Mapping[str, Message],
        release: fieldmask.Release,
        as_of: dt.date,
        now: dt.datetime,
        checkpoint: bool,
    ) -> query_pb2.Answer:
        """One Answer from records already read (masked here to ``release``); also
        what each household of a bulk query gets (``hedui.agents.bulk``), which carries
        the log checkpoint once per chunk instead (``checkpoint`` False)."""
        released = release.released
        with_checkpoint = checkpoint and self.log_checkpoint is not None
        answer = query_pb2.Answer(
            query_digest=digest,
            query_id=query_id,
            agent=self.checker.agent_id,
            answered_at=to_timestamp(now),
            data_as_of=common_pb2.Date(year=as_of.year, month=as_of.month, day=as_of.day),
            agent_checkpoint=self.log_checkpoint() if with_checkpoint else "",
            agent_log_key=self.log_key if with_checkpoint else "",
        )
        record_field = department(self.checker.department).record_field
        for id_number in id_numbers:
            found = records.get(id_number)
            subject = answer.subjects.add(
                id_number=id_number,
                status=(query_pb2.SubjectAnswer.STATUS_FOUND if found is not None
                        else query_pb2.SubjectAnswer.STATUS_NOT_FOUND),
            )
            # the department's record goes straight into the answer's oneof (one copy),
            # masked there; a person not found gets an empty record of the department
            record = getattr(subject.record, record_field)
            record.SetInParent()
            if found is not None:
                record.CopyFrom(found)
                fieldmask.mask(record, released)
        for w in release.withheld:
            answer.withheld.add(path=w.path, reason=_WITHHELD_REASON[w.reason], detail=w.detail)
        return answer

    def _entry(
        self,
        checked: CheckedQuery,
        kind: int,
        outcome: int,
        reason: str,
        *,
        answer_digest: bytes = b"",
    ) -> bytes:
        q = checked.query
        return self.recorder.entry(
            kind,
            outcome=outcome,
            operator=q.operator,
            case_id=q.case_id,
            purpose=q.purpose,
            department=self.checker.department,
            field_paths=sorted(checked.release.released),
            id_numbers=checked.id_numbers,
            query_id=q.query_id,
            query_digest=checked.digest,
            answer_digest=answer_digest,
            reason=reason,
            authorization_number=q.authorization_number,
        ).SerializeToString()

    def refuse(self, payload: bytes, peer_id: str | None,
               exc: refusals.QueryRefused) -> Prepared:
        """The audit entry of a refused request (``payload``: the signed bytes, or the
        whole request when it did not parse), and the refusal to raise once it is
        durable."""
        return Prepared(self._refusal_entry(payload, peer_id, exc), refusal=exc)

    def _refusal_entry(
        self, payload: bytes, peer_id: str | None, exc: refusals.QueryRefused
    ) -> bytes:
        """Log a refused query with what can be said about it without trusting it.

        The TLS peer, the payload digest and the reason code, always; the query's ids,
        operator and purpose only when its signature verified (``exc.verified_query``)
        and each passes its grammar (a purpose: one the exchange policy names). Never
        its subjects (a forger could plant pseudonyms) nor any sentence: the refusal's
        words go to the peer and the program log, not into the department's log.
        """
        query = exc.verified_query or query_pb2.Query()
        purpose = query.purpose if self.checker.has_policy(query.purpose) else ""
        return self.recorder.entry(
            audit_pb2.AUDIT_KIND_QUERY_REFUSED,
            outcome=audit_pb2.AUDIT_OUTCOME_REFUSED,
            operator=loggable("operator", query.operator),
            case_id=loggable("case_id", query.case_id),
            purpose=purpose,
            department=self.checker.department,
            query_id=loggable("query_id", query.query_id),
            query_digest=hashlib.sha256(payload).digest(),
            reason=f"{exc.reason} (peer {peer_id or 'unauthenticated'})",
        ).SerializeToString()
