"""A re-verified household's determination: built from an assessment, signed, checked.

Why not the case's :class:`~hedui.v1.case_pb2.DeterminationReport`: a report carries
every signed answer it rests on, so anyone can check it alone. A bulk answer is signed
once per chunk of a few hundred households, and a chunk copied into one household's
report would hand it every other household's records. A determination therefore cites
each department's chunk by digest (:class:`~hedui.v1.reverification_pb2.ChunkReference`),
and the gateway keeps the chunks sealed beside the run (``bulk_chunks``), so every
figure traces to a signed answer it can produce; a household's change alert that leads
to a review case is verified the case way, with answers of its own. (A Merkle root per
chunk, so each household's part verifies alone, would let the household's own part be
handed over without the others: docs/architecture.md.)

It names its members by audit pseudonym only: determinations are kept for comparison
with the next run, and nothing in them needs the ID numbers.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

import nacl.signing

from hedui.errors import HeduiError
from hedui.gateway.assessment import Assessment
from hedui.gateway.report import _all_evidence  # the report's own: one list of evidence
from hedui.gateway.standards import Standard
from hedui.keys import dsse
from hedui.keys.bundle import Bundle
from hedui.timestamps import to_timestamp
from hedui.v1 import case_pb2, common_pb2, envelope_pb2, reverification_pb2

DETERMINATION_TYPE = "application/vnd.hedui.determination+protobuf"


class DeterminationInvalid(HeduiError):
    """A determination envelope that is not one the gateway signed, or is inconsistent."""


@dataclass(frozen=True, slots=True)
class ChunkAnswer:
    """Where one department's answer about the household was: its signed chunk."""

    department: str
    agent: str
    query_digest: bytes
    chunk_digest: bytes
    chunk_index: int
    household_ref: str


def build_determination(
    *,
    run_id: str,
    roster_id: str,
    issuer: str,
    issued_at: datetime,
    programme: str,
    region: str,
    assessment: Assessment,
    standard: Standard,
    answers: Sequence[ChunkAnswer],
    member_pseudonyms: Sequence[str],
    previous_digest: bytes = b"",
) -> reverification_pb2.Determination:
    """Assemble the determination of one household (ValueError on inconsistent input:
    an assessment with another standard, two chunks for a department, evidence citing
    a chunk it does not list)."""
    if assessment.standard_id != standard.standard_id:
        raise ValueError(
            f"the assessment used standard {assessment.standard_id}, not {standard.standard_id}"
        )
    departments = [a.department for a in answers]
    if len(set(departments)) != len(departments):
        raise ValueError("a determination cites one chunk per department")
    profile = assessment.profile.to_proto()
    cited = {a.chunk_digest for a in answers}
    for ev in _all_evidence(profile, assessment.rules):
        if ev.answer_digest not in cited:
            raise ValueError(f"evidence from {ev.department} cites a chunk the determination lacks")
    out = reverification_pb2.Determination(
        determination_id=str(uuid.uuid4()),
        run_id=run_id,
        roster_id=roster_id,
        issuer=issuer,
        programme=programme,
        region=region,
        as_of=_pb_date(assessment.as_of),
        standard=standard.applied(),
        profile=profile,
        rules=assessment.rules,
        outcome=assessment.outcome,  # type: ignore[arg-type]
        reasons_zh=assessment.reasons_zh,
        reasons_en=assessment.reasons_en,
        answers=[
            reverification_pb2.ChunkReference(
                department=a.department, agent=a.agent, query_digest=a.query_digest,
                chunk_digest=a.chunk_digest, chunk_index=a.chunk_index,
                household_ref=a.household_ref,
            )
            for a in answers
        ],
        missing=[
            case_pb2.DepartmentStatus(
                department=department, state=case_pb2.DepartmentStatus.STATE_FAILED,
                reason=reason,
            )
            for department, reason in assessment.missing
        ],
        member_pseudonyms=list(member_pseudonyms),
        previous_digest=previous_digest,
    )
    to_timestamp(issued_at.astimezone(UTC), out.issued_at)
    return out


def sign_determination(
    determination: reverification_pb2.Determination, signing_key: nacl.signing.SigningKey
) -> tuple[envelope_pb2.Envelope, bytes]:
    """The DSSE envelope and the SHA-256 of its payload (what alerts and runs cite)."""
    payload = determination.SerializeToString(deterministic=True)
    return dsse.sign(payload, DETERMINATION_TYPE, signing_key), hashlib.sha256(payload).digest()


def verify_determination(
    envelope: envelope_pb2.Envelope | bytes, bundle: Bundle, *, now: datetime
) -> reverification_pb2.Determination:
    """Check the gateway's signature and the determination's own consistency."""
    try:
        verified = dsse.verify(envelope, bundle, payload_type=DETERMINATION_TYPE, now=now)
    except dsse.EnvelopeError as exc:
        raise DeterminationInvalid(f"determination signature: {exc}") from exc
    out = reverification_pb2.Determination()
    try:
        out.ParseFromString(verified.payload)
    except Exception as exc:  # protobuf's DecodeError
        raise DeterminationInvalid(f"determination payload does not parse: {exc}") from exc
    if out.issuer != verified.signer:
        raise DeterminationInvalid(
            f"signed by {verified.signer}, but names {out.issuer} as its issuer")
    cited = {a.chunk_digest for a in out.answers}
    for ev in _all_evidence(out.profile, out.rules):
        if ev.answer_digest not in cited:
            raise DeterminationInvalid(f"evidence from {ev.department} cites no listed chunk")
    return out


def as_of_date(determination: reverification_pb2.Determination) -> date:
    d = determination.as_of
    return date(d.year, d.month, d.day)


def _pb_date(d: date) -> common_pb2.Date:
    return common_pb2.Date(year=d.year, month=d.month, day=d.day)
