"""Asking one department about many households at once, and believing only what verifies.

A re-verification run sends ONE signed ``BulkQuery`` per department instead of a query
per household (``build_bulk_query``, ``sign_bulk_query``); the agent streams signed
``BulkAnswerChunk`` envelopes back (``ask_bulk``). Every chunk is checked as a single
answer is (``hedui.gateway.answers``): signed by a key the trust bundle gives to the
agent asked, bound to the digest of the query sent, each household's Answer naming the
household's subjects in order and no field that was not asked for. The stream itself
must be whole: chunk indexes 0..n in order, exactly one last chunk, every household
answered or refused exactly once. Anything else raises ``BulkAnswerRejected``; a refusal
of the whole query raises ``AgentCallFailed`` as ``AgentClient.ask`` does.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import grpc
import nacl.signing

from hedui import status
from hedui.agents import fieldmask
from hedui.agents.departments import unwrap
from hedui.errors import HeduiError
from hedui.gateway.agent_client import AgentCallFailed, AgentClient
from hedui.gateway.answers import AnswerRejected, _requested_leaves
from hedui.gateway.queries import DEFAULT_LIFETIME, SubjectRef
from hedui.keys import dsse
from hedui.keys.bundle import Bundle
from hedui.keys.errors import KeysError
from hedui.timestamps import to_timestamp
from hedui.v1 import bulk_pb2, envelope_pb2, query_pb2


class BulkAnswerRejected(AnswerRejected):
    """A bulk answer (one of its chunks, or the stream as a whole) failed verification;
    none of it may be used."""


@dataclass(frozen=True)
class HouseholdRequest:
    """One household to ask about: an opaque ref (no personal data), its
    authorization and its subjects."""

    household_ref: str
    subjects: Sequence[SubjectRef]
    authorization_number: str = ""
    consent_digest: str = ""


@dataclass(frozen=True)
class SignedBulkQuery:
    """A bulk query, its signed envelope and the digest every chunk must be bound to."""

    query: bulk_pb2.BulkQuery
    envelope: envelope_pb2.Envelope
    digest: bytes


@dataclass(frozen=True)
class HouseholdAnswer:
    """A household's verified Answer and the SHA-256 of the signed chunk payload that
    carried it (what a determination and audit entries cite)."""

    answer: query_pb2.Answer
    chunk_digest: bytes


@dataclass(frozen=True)
class HouseholdRefusal:
    """The agent refused this household alone: a stable code and a sentence."""

    reason: str
    detail: str


@dataclass(frozen=True)
class BulkReply:
    """Every household of a bulk query, answered or refused, after full verification."""

    query_id: str
    signer: str
    households: dict[str, HouseholdAnswer | HouseholdRefusal]
    withheld: tuple[query_pb2.Withheld, ...]
    #: SHA-256 of each chunk's signed payload, in chunk order
    chunk_digests: tuple[bytes, ...]
    #: the agent's log checkpoint and key, as the last chunk carries them (to witness)
    agent_checkpoint: str = ""
    agent_log_key: str = ""
    chunks: tuple[envelope_pb2.Envelope, ...] = field(default=(), repr=False)

    @property
    def answers(self) -> dict[str, HouseholdAnswer]:
        return {r: o for r, o in self.households.items() if isinstance(o, HouseholdAnswer)}

    @property
    def refusals(self) -> dict[str, HouseholdRefusal]:
        return {r: o for r, o in self.households.items() if isinstance(o, HouseholdRefusal)}


def build_bulk_query(
    *,
    issuer: str,
    audience: str,
    run_id: str,
    purpose: str,
    operator: str,
    households: Sequence[HouseholdRequest],
    field_paths: Iterable[str],
    audit_checkpoint: str = "",
    now: dt.datetime | None = None,
    lifetime: dt.timedelta = DEFAULT_LIFETIME,
    nonce: bytes | None = None,
    query_id: str | None = None,
) -> bulk_pb2.BulkQuery:
    """A BulkQuery message (unsigned), like ``build_query`` for many households."""
    now = now or dt.datetime.now(dt.UTC)
    return bulk_pb2.BulkQuery(
        query_id=query_id or str(uuid.uuid4()),
        run_id=run_id,
        issuer=issuer,
        audience=audience,
        issued_at=to_timestamp(now),
        expires_at=to_timestamp(now + lifetime),
        nonce=nonce if nonce is not None else os.urandom(16),
        operator=operator,
        purpose=purpose,
        households=[
            bulk_pb2.BulkHousehold(
                household_ref=h.household_ref,
                authorization_number=h.authorization_number,
                consent_digest=h.consent_digest,
                subjects=[query_pb2.Subject(id_number=s.id_number, name=s.name,
                                            relation=s.relation) for s in h.subjects],
            )
            for h in households
        ],
        field_paths=list(field_paths),
        audit_checkpoint=audit_checkpoint,
    )


def sign_bulk_query(query: bulk_pb2.BulkQuery,
                    signing_key: nacl.signing.SigningKey) -> SignedBulkQuery:
    """Serialize once, sign those bytes, and remember their digest."""
    payload = query.SerializeToString()
    envelope = dsse.sign(payload, dsse.BULK_QUERY_TYPE, signing_key)
    return SignedBulkQuery(query, envelope, hashlib.sha256(payload).digest())


class BulkVerifier:
    """Verifies a bulk answer chunk by chunk, as the stream arrives."""

    def __init__(self, signed: SignedBulkQuery, *, department: str, bundle: Bundle,
                 now: dt.datetime) -> None:
        self.signed = signed
        self.department = department
        self.bundle = bundle
        self.now = now
        query = signed.query
        self._asked = {h.household_ref: [s.id_number for s in h.subjects]
                       for h in query.households}
        try:
            self._requested = _requested_leaves(department, tuple(query.field_paths))
        except HeduiError as exc:
            raise BulkAnswerRejected(str(exc)) from None
        self._got: dict[str, HouseholdAnswer | HouseholdRefusal] = {}
        self._digests: list[bytes] = []
        self._envelopes: list[envelope_pb2.Envelope] = []
        self._withheld: list[query_pb2.Withheld] | None = None
        self._last: bulk_pb2.BulkAnswerChunk | None = None
        self._signer = ""

    def _reject(self, why: str) -> BulkAnswerRejected:
        return BulkAnswerRejected(f"bulk answer from {self.department}: {why}")

    def add(self, envelope: envelope_pb2.Envelope) -> None:
        """Verify one chunk; raises BulkAnswerRejected."""
        audience = self.signed.query.audience
        try:
            verified = dsse.verify(envelope, self.bundle, payload_type=dsse.BULK_CHUNK_TYPE,
                                   now=self.now)
        except KeysError as exc:
            raise self._reject(f"chunk #{len(self._digests)} has a bad signature: {exc}"
                               ) from None
        if verified.signer != audience:
            raise self._reject(f"a chunk is signed by {verified.signer}, not by {audience}")
        chunk = bulk_pb2.BulkAnswerChunk()
        try:
            chunk.ParseFromString(verified.payload)
        except Exception:
            raise self._reject("a chunk is not a hedui.v1.BulkAnswerChunk") from None
        if chunk.query_digest != self.signed.digest:
            raise self._reject("a chunk is bound to another query")
        if chunk.agent != audience or chunk.query_id != self.signed.query.query_id:
            raise self._reject("a chunk names another agent or query id")
        if self._last is not None:
            raise self._reject("a chunk arrived after the last one")
        if chunk.chunk_index != len(self._digests):
            raise self._reject(f"chunk #{chunk.chunk_index} arrived where "
                               f"#{len(self._digests)} was due")
        withheld = list(chunk.withheld)
        if self._withheld is None:
            self._withheld = withheld
        elif withheld != self._withheld:
            raise self._reject("chunks disagree on the withheld paths")
        digest = hashlib.sha256(verified.payload).digest()
        for item in chunk.households:
            self._household(item, digest, withheld)
        self._digests.append(digest)
        self._envelopes.append(envelope)
        self._signer = verified.signer
        if chunk.last:
            self._last = chunk

    def _household(self, item: bulk_pb2.BulkHouseholdAnswer, digest: bytes,
                   withheld: list[query_pb2.Withheld]) -> None:
        ref = item.household_ref
        if ref not in self._asked:
            raise self._reject("a chunk answers a household that was not asked about")
        if ref in self._got:
            raise self._reject("a household is answered twice")
        which = item.WhichOneof("outcome")
        if which == "refusal":
            if not item.refusal.reason:
                raise self._reject("a household refusal carries no reason")
            self._got[ref] = HouseholdRefusal(item.refusal.reason,
                                              status.bounded(item.refusal.detail))
            return
        if which != "answer":
            raise self._reject("a household carries neither an answer nor a refusal")
        answer = item.answer
        query = self.signed.query
        if (answer.query_digest != self.signed.digest or answer.query_id != query.query_id
                or answer.agent != query.audience):
            raise self._reject("a household's answer is bound to another query or agent")
        if [s.id_number for s in answer.subjects] != self._asked[ref]:
            raise self._reject("a household's answer does not cover the subjects asked about")
        if list(answer.withheld) != withheld:
            raise self._reject("a household's answer disagrees on the withheld paths")
        for subject in answer.subjects:
            unwrapped = unwrap(subject.record)
            if unwrapped is None:
                continue
            record_department, record = unwrapped
            if record_department != self.department:
                raise self._reject(f"an answer carries a {record_department} record")
            extra = fieldmask.extra_leaves(record, self._requested)
            if extra:
                raise self._reject("an answer carries fields that were not asked for: "
                                   + ", ".join(sorted(extra)[:5]))
        self._got[ref] = HouseholdAnswer(answer, digest)

    def finish(self) -> BulkReply:
        """The reply, once the stream ended; raises when it is incomplete."""
        if self._last is None:
            raise self._reject("the stream ended without its last chunk")
        missing = len(self._asked) - len(self._got)
        if missing:
            raise self._reject(f"{missing} household(s) asked about were not answered")
        return BulkReply(
            query_id=self.signed.query.query_id,
            signer=self._signer,
            households={ref: self._got[ref] for ref in self._asked},
            withheld=tuple(self._withheld or ()),
            chunk_digests=tuple(self._digests),
            agent_checkpoint=self._last.agent_checkpoint,
            agent_log_key=self._last.agent_log_key,
            chunks=tuple(self._envelopes),
        )


def verify_bulk_chunks(envelopes: Iterable[envelope_pb2.Envelope], *,
                       signed: SignedBulkQuery, department: str, bundle: Bundle,
                       now: dt.datetime) -> BulkReply:
    """Verify a whole bulk answer at once (chunks as received, in order)."""
    verifier = BulkVerifier(signed, department=department, bundle=bundle, now=now)
    for envelope in envelopes:
        verifier.add(envelope)
    return verifier.finish()


async def ask_bulk(client: AgentClient, signed: SignedBulkQuery, *,
                   timeout: float) -> BulkReply:
    """Send one signed bulk query and verify every chunk as it arrives.

    Raises AgentCallFailed when the agent refuses the whole query or cannot be reached
    (also mid-stream), BulkAnswerRejected when what it sent does not verify.
    """
    verifier = BulkVerifier(signed, department=client.department, bundle=client.bundle(),
                            now=dt.datetime.now(dt.UTC))
    call = client.answer_bulk_call(signed.envelope, timeout=timeout)
    try:
        async for envelope in call:
            verifier.add(envelope)
    except grpc.aio.AioRpcError as exc:
        said = status.reason_of(exc)
        raise AgentCallFailed(client.department, said.code, said.message,
                              said.reason) from None
    except BulkAnswerRejected:
        call.cancel()
        raise
    return verifier.finish()
