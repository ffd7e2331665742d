"""Building and signing the queries the gateway sends to department agents.

A query names exactly one agent, the subjects, the purpose and authorization it
rests on, the field paths the policy allows, a fresh nonce and a short validity
window, and the gateway's latest audit checkpoint (for the departments to witness).
Time and randomness are injectable so tests can forge expiry and replay precisely.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import nacl.signing

from hedui.keys import dsse
from hedui.timestamps import to_timestamp
from hedui.v1 import envelope_pb2, query_pb2, records_pb2

#: how long an online query stays valid; agents accept at most 10 minutes
DEFAULT_LIFETIME = dt.timedelta(minutes=2)


@dataclass(frozen=True)
class SubjectRef:
    """A person to ask about: ID number, declared name, relation to the applicant."""

    id_number: str
    name: str = ""
    relation: int = records_pb2.RELATION_UNSPECIFIED


@dataclass(frozen=True)
class SignedQuery:
    """A query, its signed envelope and the digest its answer must be bound to."""

    query: query_pb2.Query
    envelope: envelope_pb2.Envelope
    digest: bytes


def build_query(
    *,
    issuer: str,
    audience: str,
    case_id: str,
    purpose: str,
    operator: str,
    subjects: Sequence[SubjectRef],
    field_paths: Iterable[str],
    authorization_number: str = "",
    consent_digest: str = "",
    audit_checkpoint: str = "",
    now: dt.datetime | None = None,
    lifetime: dt.timedelta = DEFAULT_LIFETIME,
    nonce: bytes | None = None,
    query_id: str | None = None,
) -> query_pb2.Query:
    """A Query message (unsigned). ``now`` and ``nonce`` default to the clock and 16
    random bytes."""
    now = now or dt.datetime.now(dt.UTC)
    return query_pb2.Query(
        query_id=query_id or str(uuid.uuid4()),
        case_id=case_id,
        issuer=issuer,
        audience=audience,
        issued_at=to_timestamp(now),
        expires_at=to_timestamp(now + lifetime),
        nonce=nonce if nonce is not None else os.urandom(16),
        operator=operator,
        purpose=purpose,
        authorization_number=authorization_number,
        consent_digest=consent_digest,
        subjects=[
            query_pb2.Subject(id_number=s.id_number, name=s.name, relation=s.relation)
            for s in subjects
        ],
        field_paths=list(field_paths),
        audit_checkpoint=audit_checkpoint,
    )


def sign_query(
    query: query_pb2.Query, signing_key: nacl.signing.SigningKey
) -> SignedQuery:
    """Serialize once, sign those bytes, and remember their digest."""
    payload = query.SerializeToString()
    envelope = dsse.sign(payload, dsse.QUERY_TYPE, signing_key)
    return SignedQuery(query, envelope, hashlib.sha256(payload).digest())

