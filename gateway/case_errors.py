"""The case service's errors, apart so every case module raises the same ones
(``hedui.gateway.cases`` re-exports them)."""

from __future__ import annotations

from hedui.errors import HeduiError


class CaseError(HeduiError):
    """A case request cannot be carried out (bad input, wrong state, not allowed)."""


class NotFound(CaseError):
    """No such case."""


class NotAllowed(CaseError):
    """The operator may not do this."""


class NoStandardInForce(CaseError):
    """No standard is in force for the case's programme, region and application date:
    nothing could be assessed, so the case is not opened (FAILED_PRECONDITION)."""
