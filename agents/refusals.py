"""Why an agent refuses a query, and the gRPC status each refusal travels as.

One exception class per rule, named after what it refuses, so tests name the attack
and the server maps every refusal in one place. ``reason`` is a stable code that
goes into the audit log and the gRPC status message; ``str()`` is the sentence a
department's IT person reads.
"""

from __future__ import annotations

import grpc

from hedui.errors import HeduiError
from hedui.keys import errors as key_errors


class QueryRefused(HeduiError):
    """The agent will not answer this query."""

    code: grpc.StatusCode = grpc.StatusCode.PERMISSION_DENIED
    reason: str = "REFUSED"


class PeerNotAllowed(QueryRefused):
    code = grpc.StatusCode.PERMISSION_DENIED
    reason = "PEER_NOT_ALLOWED"


class PeerUnauthenticated(QueryRefused):
    code = grpc.StatusCode.UNAUTHENTICATED
    reason = "PEER_UNAUTHENTICATED"


class SignerIsNotPeer(QueryRefused):
    code = grpc.StatusCode.PERMISSION_DENIED
    reason = "SIGNER_IS_NOT_PEER"


class MalformedQuery(QueryRefused):
    code = grpc.StatusCode.INVALID_ARGUMENT
    reason = "MALFORMED_QUERY"


class WrongAudience(QueryRefused):
    code = grpc.StatusCode.PERMISSION_DENIED
    reason = "WRONG_AUDIENCE"


class QueryExpired(QueryRefused):
    code = grpc.StatusCode.DEADLINE_EXCEEDED
    reason = "QUERY_EXPIRED"


class QueryNotYetValid(QueryRefused):
    code = grpc.StatusCode.INVALID_ARGUMENT
    reason = "QUERY_NOT_YET_VALID"


class ReplayedNonce(QueryRefused):
    code = grpc.StatusCode.ALREADY_EXISTS
    reason = "REPLAYED_NONCE"


class PurposeNotAllowed(QueryRefused):
    code = grpc.StatusCode.PERMISSION_DENIED
    reason = "PURPOSE_NOT_IN_POLICY"


class FieldOutsidePolicy(QueryRefused):
    code = grpc.StatusCode.PERMISSION_DENIED
    reason = "FIELD_OUTSIDE_POLICY"


class MalformedFieldPath(QueryRefused):
    code = grpc.StatusCode.INVALID_ARGUMENT
    reason = "MALFORMED_FIELD_PATH"


class MalformedIdNumber(QueryRefused):
    code = grpc.StatusCode.INVALID_ARGUMENT
    reason = "MALFORMED_ID_NUMBER"


class TooManySubjects(QueryRefused):
    code = grpc.StatusCode.INVALID_ARGUMENT
    reason = "TOO_MANY_SUBJECTS"


class ConsentMissing(QueryRefused):
    code = grpc.StatusCode.PERMISSION_DENIED
    reason = "CONSENT_MISSING"


class WitnessAlarm(QueryRefused):
    """The center's audit checkpoints contradict each other: history was rewritten."""

    code = grpc.StatusCode.FAILED_PRECONDITION
    reason = "CHECKPOINT_INCONSISTENT"


class DataUnavailable(QueryRefused):
    code = grpc.StatusCode.UNAVAILABLE
    reason = "DATA_UNAVAILABLE"


#: how the keys package's envelope errors travel
_ENVELOPE_CODES: dict[type[key_errors.KeysError], grpc.StatusCode] = {
    key_errors.UnsignedEnvelope: grpc.StatusCode.UNAUTHENTICATED,
    key_errors.UnknownKey: grpc.StatusCode.UNAUTHENTICATED,
    key_errors.BadSignature: grpc.StatusCode.UNAUTHENTICATED,
    key_errors.RevokedKey: grpc.StatusCode.PERMISSION_DENIED,
    key_errors.KeyNotValid: grpc.StatusCode.PERMISSION_DENIED,
    key_errors.WrongPayloadType: grpc.StatusCode.INVALID_ARGUMENT,
    key_errors.TooManySignatures: grpc.StatusCode.INVALID_ARGUMENT,
    key_errors.MalformedEnvelope: grpc.StatusCode.INVALID_ARGUMENT,
}


def from_envelope_error(exc: key_errors.KeysError) -> QueryRefused:
    """Turn a signature-check failure into the refusal a peer receives."""
    code = grpc.StatusCode.UNAUTHENTICATED
    for kind, mapped in _ENVELOPE_CODES.items():
        if isinstance(exc, kind):
            code = mapped
            break
    refused = QueryRefused(str(exc))
    refused.code = code
    refused.reason = getattr(exc, "reason", "BAD_ENVELOPE")
    return refused
