"""Verifying what an agent answers before the gateway believes a word of it.

An answer is accepted only when it is signed by a key the trust bundle gives to
the very agent the query was addressed to, is bound to the digest of the query
that was sent, names the same subjects in the same order, and carries no field
the query did not ask for. Anything else raises ``AnswerRejected``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from functools import lru_cache

from hedui.agents import fieldmask
from hedui.agents.departments import DEPARTMENTS, unwrap
from hedui.errors import HeduiError
from hedui.keys import dsse
from hedui.keys.bundle import Bundle
from hedui.keys.errors import KeysError
from hedui.v1 import envelope_pb2, query_pb2


class AnswerRejected(HeduiError):
    """An agent's answer failed verification; the case must not use it."""


@dataclass(frozen=True)
class VerifiedAnswer:
    """An answer whose signature, binding and contents were checked."""

    answer: query_pb2.Answer
    envelope: envelope_pb2.Envelope
    #: SHA-256 of the signed answer payload (what reports and audit entries cite)
    digest: bytes
    signer: str


def verify_answer(
    envelope: envelope_pb2.Envelope,
    *,
    query: query_pb2.Query,
    query_digest: bytes,
    department: str,
    bundle: Bundle,
    now: dt.datetime,
) -> VerifiedAnswer:
    """Check an answer envelope against the query it answers; raise AnswerRejected."""
    try:
        verified = dsse.verify(envelope, bundle, payload_type=dsse.ANSWER_TYPE, now=now)
    except KeysError as exc:
        raise AnswerRejected(f"answer from {department} has a bad signature: {exc}") from None
    if verified.signer != query.audience:
        raise AnswerRejected(
            f"answer is signed by {verified.signer}, not by the agent asked ({query.audience})"
        )
    answer = query_pb2.Answer()
    try:
        answer.ParseFromString(verified.payload)
    except Exception:
        raise AnswerRejected(f"answer from {department} is not a hedui.v1.Answer") from None
    if answer.query_digest != query_digest:
        raise AnswerRejected(f"answer from {department} is bound to another query")
    if answer.agent != query.audience or answer.query_id != query.query_id:
        raise AnswerRejected(f"answer from {department} names another agent or query id")
    asked = [s.id_number for s in query.subjects]
    got = [s.id_number for s in answer.subjects]
    if got != asked:
        raise AnswerRejected(
            f"answer from {department} covers {len(got)} subjects that do not match the "
            f"{len(asked)} asked about"
        )
    try:
        requested = _requested_leaves(department, tuple(query.field_paths))
    except HeduiError as exc:
        raise AnswerRejected(str(exc)) from None
    for subject in answer.subjects:
        unwrapped = unwrap(subject.record)
        if unwrapped is None:
            continue
        record_department, record = unwrapped
        if record_department != department:
            raise AnswerRejected(f"answer from {department} carries a {record_department} record")
        extra = fieldmask.extra_leaves(record, requested)
        if extra:
            raise AnswerRejected(
                f"answer from {department} carries fields that were not asked for: "
                f"{', '.join(sorted(extra)[:5])}"
            )
    return VerifiedAnswer(
        answer=answer,
        envelope=envelope,
        digest=hashlib.sha256(verified.payload).digest(),
        signer=verified.signer,
    )


@lru_cache(maxsize=256)
def _requested_leaves(department: str, paths: tuple[str, ...]) -> frozenset[str]:
    """The leaf paths a query asked of a department (the policy repeats them)."""
    descriptor = DEPARTMENTS[department].record_type.DESCRIPTOR
    return fieldmask.expand_all(descriptor, _valid_paths(descriptor, paths))


def _valid_paths(descriptor, paths) -> list[str]:
    """The requested paths that name real fields (others are withheld by the agent)."""
    out = []
    for p in paths:
        try:
            fieldmask.expand(descriptor, p)
        except fieldmask.NoSuchField:
            continue
        out.append(p)
    return out
