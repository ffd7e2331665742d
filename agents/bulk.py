"""A bulk query: many households' subjects asked of this department at once.

Re-verifying a whole beneficiary roster must not cost one query per household: one
signed ``BulkQuery`` is checked once with the very checks of a single query
(``QueryChecker``: peer, signature, issuer, audience, time, purpose, field restriction,
witness, nonce), the records of every subject are read in one pass of the source,
and ONE audit entry naming every subject's pseudonym is made durable before the
answer leaves, as signed ``BulkAnswerChunk`` envelopes. What is wrong with one household
(a malformed ID number, no authorization, too many subjects) refuses that household
alone; what is wrong with the query refuses it whole, with the same status codes and
reasons as a single query, logged as one ``AUDIT_KIND_BULK_QUERY_REFUSED`` entry.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import Counter
from dataclasses import dataclass

import grpc
import structlog
from google.protobuf.message import DecodeError

from hedui import resident_id
from hedui.agents import fieldmask, refusals
from hedui.agents.answering import _WITHHELD_REASON, Answerer, loggable
from hedui.agents.checks import consent_given, shown, validate_id_number
from hedui.agents.source import SourceUnavailable
from hedui.keys import dsse
from hedui.timestamps import to_timestamp
from hedui.v1 import audit_pb2, bulk_pb2, common_pb2, envelope_pb2, trust_pb2

log = structlog.get_logger("hedui.agent")

BULK_QUERY_TYPE = dsse.BULK_QUERY_TYPE
BULK_CHUNK_TYPE = dsse.BULK_CHUNK_TYPE

#: households one bulk query may name, and how many go into one signed chunk
MAX_HOUSEHOLDS = 1000
CHUNK_HOUSEHOLDS = 200

#: a household_ref: short opaque ASCII (it is never logged, only sent back)
_REF = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class TooManyHouseholds(refusals.QueryRefused):
    code = grpc.StatusCode.INVALID_ARGUMENT
    reason = "TOO_MANY_HOUSEHOLDS"


@dataclass(frozen=True)
class CheckedHousehold:
    """One household after its own checks: its ID numbers, or why it is refused."""

    ref: str
    #: normalized ID numbers in the household's order (every one that parses)
    id_numbers: tuple[str, ...]
    #: (reason code, sentence) when this household alone is refused
    refusal: tuple[str, str] | None = None


@dataclass(frozen=True)
class CheckedBulk:
    """A bulk query that passed every whole-query check."""

    query: bulk_pb2.BulkQuery
    digest: bytes
    signer: str
    households: tuple[CheckedHousehold, ...]
    release: fieldmask.Release


@dataclass(frozen=True)
class BulkPrepared:
    """A bulk query's outcome before release: its one audit entry, then the chunk
    payloads to sign or the refusal to raise."""

    entry: bytes
    chunks: tuple[bytes, ...] = ()
    refusal: refusals.QueryRefused | None = None


def _parse(payload: bytes, min_nonce: int) -> bulk_pb2.BulkQuery:
    query = bulk_pb2.BulkQuery()
    try:
        query.ParseFromString(payload)
    except DecodeError:
        raise refusals.MalformedQuery(
            "the signed payload is not a hedui.v1.BulkQuery") from None
    missing = [n for n in ("query_id", "run_id", "issuer", "audience", "purpose")
               if not getattr(query, n)]
    if not query.HasField("issued_at") or not query.HasField("expires_at"):
        missing.append("issued_at/expires_at")
    if missing:
        raise refusals.MalformedQuery(f"the bulk query lacks {', '.join(missing)}")
    if len(query.nonce) < min_nonce:
        raise refusals.MalformedQuery(
            f"the bulk query nonce has {len(query.nonce)} bytes; at least {min_nonce} "
            "are required")
    return query


def check_household(index: int, household: bulk_pb2.BulkHousehold, *, max_subjects: int,
                    policy: trust_pb2.PurposePolicy) -> CheckedHousehold:
    """The checks a single query makes on its subjects and authorization, for one
    household; a failure refuses only it. Sentences name positions, never numbers."""
    where = f"household #{index + 1}"
    ids: list[str] = []
    bad: str | None = None
    for i, subject in enumerate(household.subjects):
        try:
            ids.append(validate_id_number(subject.id_number))
        except resident_id.InvalidIdNumber as exc:
            bad = bad or (f"subject #{i + 1} of {where} has a malformed resident ID number "
                          f"({exc.reason})")
    ref, count = household.household_ref, len(household.subjects)
    if count == 0:
        return CheckedHousehold(ref, (), ("NO_SUBJECT", f"{where} names no subject"))
    if count > max_subjects:
        return CheckedHousehold(ref, tuple(ids), (
            "TOO_MANY_SUBJECTS",
            f"{where} names {count} subjects; this agent answers at most {max_subjects}"))
    if bad is not None:
        return CheckedHousehold(ref, tuple(ids), ("MALFORMED_ID_NUMBER", bad))
    if policy.consent_required and not consent_given(household.authorization_number,
                                                     household.consent_digest):
        return CheckedHousehold(ref, tuple(ids), (
            "AUTHORIZATION_MISSING",
            f"purpose {shown(policy.purpose)} requires the household's authorization; "
            f"{where} carries no authorization number and document digest"))
    return CheckedHousehold(ref, tuple(ids))


class BulkAnswerer:
    """Checks, answers and logs bulk queries on top of one agent's ``Answerer``."""

    def __init__(self, answerer: Answerer, *, max_households: int = MAX_HOUSEHOLDS,
                 chunk_households: int = CHUNK_HOUSEHOLDS) -> None:
        self.answerer = answerer
        self.checker = answerer.checker
        self.max_households = max_households
        self.chunk_households = max(1, chunk_households)

    # ------------------------------------------------------------------ checks

    def check(self, envelope: envelope_pb2.Envelope, *, peer_id: str | None,
              now: dt.datetime, peer_cert_sha256: str | None = None) -> CheckedBulk:
        """The whole-query checks, in a single query's order; raises QueryRefused
        (with ``verified_bulk`` set once the signature verified)."""
        checker = self.checker
        bundle, verified = checker.verify_sender(
            envelope, peer_id=peer_id, now=now, peer_cert_sha256=peer_cert_sha256,
            payload_type=BULK_QUERY_TYPE)
        query = _parse(verified.payload, checker.limits.min_nonce_bytes)
        try:
            if query.issuer != verified.signer:
                raise refusals.SignerIsNotPeer(
                    f"the query names issuer {shown(query.issuer)} but is signed by "
                    f"{verified.signer}")
            if query.audience != checker.agent_id:
                raise refusals.WrongAudience(
                    f"the query is addressed to {shown(query.audience)}, not to this agent "
                    f"({checker.agent_id})")
            checker.check_time(query, now)
            self._check_refs(query)
            policy = checker.purpose_policy(bundle, query)
            release = checker.check_fields(query, policy, bundle.payload_sha256)
            households = tuple(
                check_household(i, h, max_subjects=checker.limits.max_subjects, policy=policy)
                for i, h in enumerate(query.households))
            checker.witness_and_claim(query, now)
        except refusals.QueryRefused as exc:
            exc.verified_bulk = query  # type: ignore[attr-defined]
            raise
        return CheckedBulk(query, hashlib.sha256(verified.payload).digest(),
                           verified.signer, households, release)

    def _check_refs(self, query: bulk_pb2.BulkQuery) -> None:
        count = len(query.households)
        if count == 0:
            raise refusals.MalformedQuery("the bulk query names no household")
        if count > self.max_households:
            raise TooManyHouseholds(
                f"the bulk query names {count} households; this agent answers at most "
                f"{self.max_households} per bulk query")
        seen: set[str] = set()
        for i, h in enumerate(query.households):
            if not _REF.fullmatch(h.household_ref) or h.household_ref in seen:
                raise refusals.MalformedQuery(
                    f"household #{i + 1} has a missing, malformed or repeated household_ref "
                    "(1 to 64 of A-Z a-z 0-9 . _ : -, unique in the query)")
            seen.add(h.household_ref)

    # ------------------------------------------------------------------ answering

    def prepare_request(self, request: bytes | envelope_pb2.Envelope, *,
                        peer_id: str | None, peer_cert_sha256: str | None) -> BulkPrepared:
        """The request's outcome and audit entry; never raises (a fault is refused as
        AGENT_FAILED, its traceback in the agent's log)."""
        envelope = request if isinstance(request, envelope_pb2.Envelope) \
            else envelope_pb2.Envelope()
        try:
            if envelope is not request:
                envelope.ParseFromString(request)
        except Exception:  # whatever bytes from a peer may provoke
            return self.refuse(bytes(request), peer_id, refusals.MalformedEnvelope(
                "the request is not a hedui.v1.Envelope"))
        try:
            return self.prepare(envelope, peer_id=peer_id, peer_cert_sha256=peer_cert_sha256)
        except Exception:
            log.exception("the agent failed on a bulk query", peer=peer_id)
            return self.refuse(envelope.payload, peer_id, refusals.AgentFailed(
                "the agent failed on this query; its operator finds the fault in its log"))

    def prepare(self, envelope: envelope_pb2.Envelope, *, peer_id: str | None,
                peer_cert_sha256: str | None = None) -> BulkPrepared:
        """Check, read every record in one pass, build the chunk payloads and the one
        audit entry. The caller makes ``entry`` durable, then calls ``release``."""
        now = self.answerer.now()
        try:
            checked = self.check(envelope, peer_id=peer_id, now=now,
                                 peer_cert_sha256=peer_cert_sha256)
        except refusals.QueryRefused as exc:
            return self.refuse(envelope.payload, peer_id, exc)
        try:
            chunks = self._chunks(checked, now)
        except SourceUnavailable as exc:
            log.error("department database failed", department=self.checker.department,
                      block=exc.block, error=exc.cause or str(exc),
                      query_id=checked.query.query_id, run_id=checked.query.run_id)
            entry = self._entry(checked, audit_pb2.AUDIT_KIND_BULK_QUERY_REFUSED,
                                audit_pb2.AUDIT_OUTCOME_FAILED,
                                f"department database unavailable: {exc}", b"")
            refusal = refusals.DataUnavailable(
                f"the {self.checker.department} database cannot be read right now; "
                "try again later")
            return BulkPrepared(entry, refusal=refusal)
        refused = Counter(h.refusal[0] for h in checked.households if h.refusal)
        withheld = _withheld_words(checked.release)
        words = []
        if refused:
            words.append(f"{sum(refused.values())} of {len(checked.households)} households "
                         "refused: " + ", ".join(f"{n} {r}" for r, n in sorted(refused.items())))
        if withheld:
            words.append(f"withheld: {withheld}")
        # one digest over the chunks, in order: the entry is bound to all that is released
        digest = hashlib.sha256(b"".join(hashlib.sha256(c).digest() for c in chunks)).digest()
        entry = self._entry(
            checked, audit_pb2.AUDIT_KIND_BULK_QUERY_ANSWERED,
            audit_pb2.AUDIT_OUTCOME_PARTIAL if words else audit_pb2.AUDIT_OUTCOME_OK,
            "; ".join(words), digest)
        return BulkPrepared(entry, chunks=chunks)

    def release(self, prepared: BulkPrepared) -> list[envelope_pb2.Envelope]:
        """After the entry is durable: the signed chunks, or raise the refusal."""
        if prepared.refusal is not None:
            raise prepared.refusal
        key = self.answerer.signing_key
        return [dsse.sign(c, BULK_CHUNK_TYPE, key) for c in prepared.chunks]

    def _chunks(self, checked: CheckedBulk, now: dt.datetime) -> tuple[bytes, ...]:
        answerer, release = self.answerer, checked.release
        wanted = list(dict.fromkeys(
            i for h in checked.households if h.refusal is None for i in h.id_numbers))
        records = (answerer.source.fetch(wanted, release.released)
                   if wanted and release.released else {})
        as_of = answerer.source.data_as_of()
        checkpoint = answerer.log_checkpoint() if answerer.log_checkpoint else ""
        q = checked.query
        template = bulk_pb2.BulkAnswerChunk(
            query_digest=checked.digest, query_id=q.query_id, agent=self.checker.agent_id,
            answered_at=to_timestamp(now),
            data_as_of=common_pb2.Date(year=as_of.year, month=as_of.month, day=as_of.day),
            agent_checkpoint=checkpoint, agent_log_key=answerer.log_key if checkpoint else "",
        )
        for w in release.withheld:
            template.withheld.add(path=w.path, reason=_WITHHELD_REASON[w.reason], detail=w.detail)
        out: list[bytes] = []
        size = self.chunk_households
        groups = [checked.households[i:i + size]
                  for i in range(0, len(checked.households), size)]
        for index, group in enumerate(groups):
            chunk = bulk_pb2.BulkAnswerChunk()
            chunk.CopyFrom(template)
            chunk.chunk_index = index
            chunk.last = index == len(groups) - 1
            for h in group:
                item = chunk.households.add(household_ref=h.ref)
                if h.refusal is not None:
                    item.refusal.reason, item.refusal.detail = h.refusal
                    continue
                item.answer.CopyFrom(answerer.build_answer(
                    digest=checked.digest, query_id=q.query_id, id_numbers=h.id_numbers,
                    records=records, release=release, as_of=as_of, now=now,
                    checkpoint=False))
            out.append(chunk.SerializeToString())
        return tuple(out)

    # ------------------------------------------------------------------ the log

    def _entry(self, checked: CheckedBulk, kind: int, outcome: int, reason: str,
               answer_digest: bytes) -> bytes:
        """ONE entry for the whole bulk query, naming every subject whose number parses
        (refused households too: they were asked about), each once."""
        q = checked.query
        subjects = dict.fromkeys(i for h in checked.households for i in h.id_numbers)
        return self.answerer.recorder.entry(
            kind, outcome=outcome, operator=q.operator, case_id=q.run_id, purpose=q.purpose,
            department=self.checker.department, field_paths=sorted(checked.release.released),
            id_numbers=list(subjects), query_id=q.query_id, query_digest=checked.digest,
            answer_digest=answer_digest, reason=reason,
        ).SerializeToString()

    def refuse(self, payload: bytes, peer_id: str | None,
               exc: refusals.QueryRefused) -> BulkPrepared:
        """A whole-query refusal's entry: as a single query's (``Answerer.refuse``), only
        what was verified and passes its grammar; never subjects nor sentences."""
        query: bulk_pb2.BulkQuery = getattr(exc, "verified_bulk", None) or bulk_pb2.BulkQuery()
        run_id = query.run_id
        run_id = run_id if _UUID.fullmatch(run_id) else loggable("case_id", run_id)
        purpose = query.purpose if self.checker.has_policy(query.purpose) else ""
        entry = self.answerer.recorder.entry(
            audit_pb2.AUDIT_KIND_BULK_QUERY_REFUSED, outcome=audit_pb2.AUDIT_OUTCOME_REFUSED,
            operator=loggable("operator", query.operator), case_id=run_id, purpose=purpose,
            department=self.checker.department, query_id=loggable("query_id", query.query_id),
            query_digest=hashlib.sha256(payload).digest(),
            reason=f"{exc.reason} (peer {peer_id or 'unauthenticated'})",
            reason_code=exc.reason,
        ).SerializeToString()
        return BulkPrepared(entry, refusal=exc)


def _withheld_words(release: fieldmask.Release) -> str:
    """What was withheld, as a single answer's entry says it (paths naming no field are
    the sender's words: counted, not repeated)."""
    named = [w for w in release.withheld if w.reason != "NO_SUCH_FIELD"]
    nameless = len(release.withheld) - len(named)
    return "; ".join([f"{w.path} ({w.reason})" for w in named]
                     + ([f"{nameless} path(s) naming no field (NO_SUCH_FIELD)"]
                        if nameless else []))
