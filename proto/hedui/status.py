"""Machine-readable refusals: ``google.rpc.Status`` with an ``ErrorInfo`` on every error.

A peer must not parse ``"REASON: text"`` out of a status message to learn why it was
refused; the reason travels as ``google.rpc.ErrorInfo`` (AIP-193) in the status
details (``grpc-status-details-bin``), through grpcio-status. The message stays a
sentence for people. Everything echoed back is bounded: a status is metadata, and a
100 KB key id once overflowed it.

Servers: ``await abort(context, code, reason, message)`` (grpc.aio) or
``abort_sync(...)``. Clients: ``reason_of(rpc_error)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

#: ErrorInfo.domain of every hedui error
DOMAIN = "hedui.example"
#: longest status message and metadata value sent (characters)
MAX_MESSAGE = 400
MAX_METADATA = 120


def bounded(text: str, limit: int = MAX_MESSAGE) -> str:
    """``text`` cut to ``limit`` characters, marked when cut; control characters dropped."""
    clean = "".join(ch if ch.isprintable() else " " for ch in str(text))
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


def to_status(code: grpc.StatusCode, reason: str, message: str,
              metadata: Mapping[str, str] | None = None) -> grpc.Status:
    """A grpc status carrying ``ErrorInfo(reason, domain, metadata)``."""
    info = error_details_pb2.ErrorInfo(
        reason=bounded(reason, 64), domain=DOMAIN,
        metadata={bounded(k, 64): bounded(v, MAX_METADATA) for k, v in (metadata or {}).items()},
    )
    detail = any_pb2.Any()
    detail.Pack(info)
    status = status_pb2.Status(code=getattr(code_pb2, code.name), message=bounded(message),
                               details=[detail])
    return rpc_status.to_status(status)


async def abort(context: grpc.aio.ServicerContext, code: grpc.StatusCode, reason: str,
                message: str, metadata: Mapping[str, str] | None = None) -> None:
    """End an asyncio RPC with ``code`` and a machine-readable ``reason``."""
    await context.abort_with_status(to_status(code, reason, message, metadata))


def abort_sync(context: grpc.ServicerContext, code: grpc.StatusCode, reason: str,
               message: str, metadata: Mapping[str, str] | None = None) -> None:
    """End a synchronous RPC with ``code`` and a machine-readable ``reason``."""
    context.abort_with_status(to_status(code, reason, message, metadata))


@dataclass(frozen=True)
class Reason:
    """What a peer's error says: the status code, its ErrorInfo reason (or ""), its text."""

    code: grpc.StatusCode
    reason: str
    message: str
    metadata: Mapping[str, str]


def reason_of(error: grpc.RpcError) -> Reason:
    """The reason a peer gave, read from the status details (never from the text)."""
    code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
    message = (error.details() if hasattr(error, "details") else "") or ""
    try:
        status = rpc_status.from_call(error)  # type: ignore[arg-type]
    except (ValueError, AttributeError, TypeError):
        status = None
    if status is not None:
        for detail in status.details:
            info = error_details_pb2.ErrorInfo()
            if detail.Is(info.DESCRIPTOR) and detail.Unpack(info) and info.domain == DOMAIN:
                return Reason(code, info.reason, status.message, dict(info.metadata))
    return Reason(code, "", message, {})
