"""The case service's errors, apart so every case module raises the same ones
(``hedui.gateway.cases`` re-exports them).

Each error carries its gRPC status code and a stable reason (``google.rpc.ErrorInfo``,
``hedui.status``): clients branch on the reason and the audit log records it, so
neither ever parses the sentence, which is for people. Reasons are part of the
contract — add new ones, never rename one.
"""

from __future__ import annotations

from collections.abc import Mapping

import grpc

from hedui.errors import HeduiError

#: every reason the case service gives, with its status code (docs and tests read it)
REASONS: dict[str, grpc.StatusCode] = {
    # who may ask
    "CLIENT_NOT_ALLOWED": grpc.StatusCode.PERMISSION_DENIED,
    "UNAUTHENTICATED": grpc.StatusCode.UNAUTHENTICATED,
    "NO_OPERATOR": grpc.StatusCode.PERMISSION_DENIED,
    "NOT_ON_STAFF_LIST": grpc.StatusCode.PERMISSION_DENIED,
    "NOT_A_CONSOLE": grpc.StatusCode.PERMISSION_DENIED,
    # the person acting (staff registry, roles, scope, separation of duties)
    "OPERATOR_MISMATCH": grpc.StatusCode.PERMISSION_DENIED,
    "OPERATOR_NOT_AUTHENTICATED": grpc.StatusCode.PERMISSION_DENIED,
    "STAFF_DISABLED": grpc.StatusCode.PERMISSION_DENIED,
    "ROLE_NOT_ALLOWED": grpc.StatusCode.PERMISSION_DENIED,
    "OUTSIDE_SCOPE": grpc.StatusCode.PERMISSION_DENIED,
    "SAME_PERSON": grpc.StatusCode.PERMISSION_DENIED,
    "BAD_TOWNSHIP": grpc.StatusCode.INVALID_ARGUMENT,
    "BAD_VERDICT": grpc.StatusCode.INVALID_ARGUMENT,
    # what is asked for
    "UNKNOWN_PROGRAMME": grpc.StatusCode.INVALID_ARGUMENT,
    "NOT_A_SOCIAL_ASSISTANCE_PURPOSE": grpc.StatusCode.PERMISSION_DENIED,
    "MALFORMED_REQUEST": grpc.StatusCode.INVALID_ARGUMENT,
    "BAD_PAGE_TOKEN": grpc.StatusCode.INVALID_ARGUMENT,
    "UNKNOWN_STATE": grpc.StatusCode.INVALID_ARGUMENT,
    "MALFORMED_CASE_ID": grpc.StatusCode.INVALID_ARGUMENT,
    "SEARCH_WITHOUT_FILTER": grpc.StatusCode.INVALID_ARGUMENT,
    "BAD_DATE_RANGE": grpc.StatusCode.INVALID_ARGUMENT,
    # a household at opening
    "HOUSEHOLD_SIZE": grpc.StatusCode.INVALID_ARGUMENT,
    "MISSING_FIELD": grpc.StatusCode.INVALID_ARGUMENT,
    "BAD_REGION": grpc.StatusCode.INVALID_ARGUMENT,
    "MALFORMED_ID_NUMBER": grpc.StatusCode.INVALID_ARGUMENT,
    "BAD_NAME": grpc.StatusCode.INVALID_ARGUMENT,
    "BAD_RELATION": grpc.StatusCode.INVALID_ARGUMENT,
    "DUPLICATE_MEMBER": grpc.StatusCode.INVALID_ARGUMENT,
    "ONE_APPLICANT_REQUIRED": grpc.StatusCode.INVALID_ARGUMENT,
    "BAD_APPLICATION_DATE": grpc.StatusCode.INVALID_ARGUMENT,
    "NO_STANDARD_IN_FORCE": grpc.StatusCode.FAILED_PRECONDITION,
    "NO_EXCHANGE_POLICY": grpc.StatusCode.FAILED_PRECONDITION,
    "BUNDLE_EXPIRED": grpc.StatusCode.FAILED_PRECONDITION,
    "SAME_HOUSEHOLD_RECENT": grpc.StatusCode.FAILED_PRECONDITION,
    # authorizations
    "BAD_AUTHORIZATION": grpc.StatusCode.INVALID_ARGUMENT,
    "BAD_AUTHORIZATION_NUMBER": grpc.StatusCode.INVALID_ARGUMENT,
    "AUTHORIZATION_NOT_FOUND": grpc.StatusCode.PERMISSION_DENIED,
    "AUTHORIZATION_ALREADY_REGISTERED": grpc.StatusCode.ALREADY_EXISTS,
    "AUTHORIZATION_REVOKED": grpc.StatusCode.PERMISSION_DENIED,
    "AUTHORIZATION_EXPIRED": grpc.StatusCode.PERMISSION_DENIED,
    "AUTHORIZATION_NOT_YET_VALID": grpc.StatusCode.PERMISSION_DENIED,
    "AUTHORIZATION_WRONG_PROGRAMME": grpc.StatusCode.PERMISSION_DENIED,
    "MEMBER_NOT_COVERED": grpc.StatusCode.PERMISSION_DENIED,
    # a case's life
    "CASE_NOT_FOUND": grpc.StatusCode.NOT_FOUND,
    "WRONG_STATE": grpc.StatusCode.FAILED_PRECONDITION,
    "CASE_BEING_VERIFIED": grpc.StatusCode.ABORTED,
    "CONCURRENT_CHANGE": grpc.StatusCode.ABORTED,
    "REASON_REQUIRED": grpc.StatusCode.INVALID_ARGUMENT,
    "REASON_HAS_PERSONAL_DATA": grpc.StatusCode.INVALID_ARGUMENT,
    "NO_REPORT_YET": grpc.StatusCode.FAILED_PRECONDITION,
    "REPORT_ERASED": grpc.StatusCode.NOT_FOUND,
    "GATEWAY_NOT_READY": grpc.StatusCode.FAILED_PRECONDITION,
    # re-verification runs and their alerts
    "RUN_NOT_FOUND": grpc.StatusCode.NOT_FOUND,
    "ALERT_NOT_FOUND": grpc.StatusCode.NOT_FOUND,
    "ALERT_NOT_OPEN": grpc.StatusCode.FAILED_PRECONDITION,
    "NOTE_REQUIRED": grpc.StatusCode.INVALID_ARGUMENT,
    "NOTE_TOO_LONG": grpc.StatusCode.INVALID_ARGUMENT,
    "BAD_ALERT_ACTION": grpc.StatusCode.INVALID_ARGUMENT,
    "REVIEW_CASE_REQUIRED": grpc.StatusCode.INVALID_ARGUMENT,
    "BAD_GRADE": grpc.StatusCode.INVALID_ARGUMENT,
    "INTERNAL_ERROR": grpc.StatusCode.INTERNAL,
}


class CaseError(HeduiError):
    """A case request cannot be carried out; ``reason`` says why, machine-readably.

    The code follows from the reason (:data:`REASONS`); ``metadata`` adds short safe
    details (a member's position, a date) — never an ID number or a name.
    """

    reason: str = "MALFORMED_REQUEST"
    #: already in the audit log (the service writes no second REQUEST_REFUSED entry)
    logged: bool = False

    def __init__(self, message: str, reason: str | None = None, *,
                 metadata: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        if reason is not None:
            if reason not in REASONS:
                raise ValueError(f"undeclared case-service reason {reason}")
            self.reason = reason
        self.metadata: dict[str, str] = dict(metadata or {})

    @property
    def code(self) -> grpc.StatusCode:
        return REASONS[self.reason]


class NotFound(CaseError):
    """No such case."""

    reason = "CASE_NOT_FOUND"


class NotAllowed(CaseError):
    """The operator (or the client) may not do this."""

    reason = "NOT_ON_STAFF_LIST"


class WrongState(CaseError):
    """The case is not in a state this request applies to (FAILED_PRECONDITION)."""

    reason = "WRONG_STATE"


class NoStandardInForce(CaseError):
    """No standard is in force for the case's programme, region and application date:
    nothing could be assessed, so the case is not opened (FAILED_PRECONDITION)."""

    reason = "NO_STANDARD_IN_FORCE"
