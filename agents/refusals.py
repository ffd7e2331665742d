"""Why an agent refuses a query, and the gRPC status each refusal travels as.

One exception class per rule, named after what it refuses, so tests name the attack
and the server maps every refusal in one place. ``reason`` is a stable code that
travels as ``google.rpc.ErrorInfo.reason`` (``hedui.status``) and is the only part of a
refusal that goes into the audit log; ``str()`` is the sentence a department's IT person
reads (bounded on the wire, never stored: a refused query's words may be the sender's).
``metadata`` is machine-readable detail for the peer (short, never personal data).
"""

from __future__ import annotations

from collections.abc import Mapping

import grpc

from hedui.errors import HeduiError
from hedui.keys import errors as key_errors
from hedui.v1 import query_pb2


class QueryRefused(HeduiError):
    """The agent will not answer this query."""

    code: grpc.StatusCode = grpc.StatusCode.PERMISSION_DENIED
    reason: str = "REFUSED"
    #: ErrorInfo metadata for the peer: short codes and counts only
    metadata: Mapping[str, str] = {}
    #: the query, when its signature verified before this refusal (None otherwise):
    #: only then may its fields (grammar-checked) go into the audit log
    verified_query: query_pb2.Query | None = None


class PeerNotAllowed(QueryRefused):
    code = grpc.StatusCode.PERMISSION_DENIED
    reason = "PEER_NOT_ALLOWED"


class PeerUnauthenticated(QueryRefused):
    code = grpc.StatusCode.UNAUTHENTICATED
    reason = "PEER_UNAUTHENTICATED"


class SignerIsNotPeer(QueryRefused):
    code = grpc.StatusCode.PERMISSION_DENIED
    reason = "SIGNER_IS_NOT_PEER"


class MalformedEnvelope(QueryRefused):
    """The request bytes are not a hedui.v1.Envelope (a DecodeError, not a Python class
    name, is what the sender used to get back)."""

    code = grpc.StatusCode.INVALID_ARGUMENT
    reason = "MALFORMED_ENVELOPE"


class MalformedQuery(QueryRefused):
    code = grpc.StatusCode.INVALID_ARGUMENT
    reason = "MALFORMED_QUERY"


class MalformedTimestamp(QueryRefused):
    """issued_at/expires_at outside what a timestamp may hold (years 1 to 9999)."""

    code = grpc.StatusCode.INVALID_ARGUMENT
    reason = "MALFORMED_TIMESTAMP"


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


class NothingReleasable(QueryRefused):
    """Every requested path names a field the department's record lacks, does not hold or
    has narrowed away: an answer could only be a signed "holds nothing about this
    person" — false for the persons it does hold — so the query is refused instead."""

    code = grpc.StatusCode.FAILED_PRECONDITION
    reason = "NOTHING_RELEASABLE"


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


class AgentFailed(QueryRefused):
    """A fault in the agent itself (a bug): logged with its traceback locally, the peer
    learns only that it happened — never a Python class name or message."""

    code = grpc.StatusCode.INTERNAL
    reason = "AGENT_FAILED"


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
_expired = getattr(key_errors, "BundleExpired", None)  # a bundle past its valid_until
if _expired is not None:
    _ENVELOPE_CODES[_expired] = grpc.StatusCode.FAILED_PRECONDITION


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
