"""The audit log's typed errors, one family under :class:`AuditError`.

Verification in hedui returns nothing or raises; callers catch the narrowest class they
can act on. Every message is one sentence that names the leaf, size or key at fault, so a
privacy officer can act on ``str(err)`` without reading code.
"""

from __future__ import annotations

from hedui.errors import HeduiError


class AuditError(HeduiError):
    """Base of every failure raised by :mod:`hedui.audit`."""


class ProofError(AuditError):
    """An inclusion or consistency proof is malformed or does not verify."""


class RootMismatchError(ProofError):
    """A well-formed proof leads to a root other than the one it was checked against."""

    def __init__(self, message: str, *, size: int, computed: bytes, expected: bytes) -> None:
        super().__init__(message)
        self.size = size
        self.computed = computed
        self.expected = expected


class CheckpointError(AuditError):
    """A signed checkpoint note is malformed, unsigned by the expected key or forged."""


class TamperError(AuditError):
    """The stored log differs from what was appended.

    ``leaf_index`` is the first leaf known to be bad (``None`` when the fault is not in a
    leaf), ``checkpoint_size`` the size of the bad checkpoint, ``node`` the ``(level,
    index)`` of a bad stored subtree hash.
    """

    exit_code = 3

    def __init__(
        self,
        message: str,
        *,
        leaf_index: int | None = None,
        checkpoint_size: int | None = None,
        node: tuple[int, int] | None = None,
    ) -> None:
        super().__init__(message)
        self.leaf_index = leaf_index
        self.checkpoint_size = checkpoint_size
        self.node = node


class LogRangeError(AuditError, ValueError):
    """A request names a leaf index or tree size the log does not have (yet)."""


class StoreError(AuditError):
    """The log's database cannot be used: wrong log, missing tables, closed log."""


class PseudonymError(AuditError, ValueError):
    """An ID number cannot be pseudonymized (it is not a well-formed resident ID number)."""


class EntryError(AuditError, ValueError):
    """An entry cannot be appended: not bytes, or larger than the log accepts."""
