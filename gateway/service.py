"""The case service over gRPC: verifiers' requests in, precise statuses out.

Callers are authenticated by their client certificate (SPIFFE id on the gateway's
allow-list) before any method runs; the operator named in each request must be on
the staff list for the case's programme (checked by ``CaseManager``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
import structlog

from hedui.errors import HeduiError
from hedui.gateway.authorizations import AuthorizationError, AuthorizationRegistry
from hedui.gateway.cases import CaseError, CaseManager, NoStandardInForce, NotAllowed, NotFound
from hedui.gateway.planner import NoPolicy
from hedui.gateway.store import Conflict
from hedui.keys import identity
from hedui.keys.errors import KeysError
from hedui.v1 import case_pb2, case_pb2_grpc

log = structlog.get_logger("hedui.gateway")


def _status(exc: Exception) -> grpc.StatusCode:
    if isinstance(exc, NotFound):
        return grpc.StatusCode.NOT_FOUND
    if isinstance(exc, NotAllowed | AuthorizationError):
        return grpc.StatusCode.PERMISSION_DENIED
    if isinstance(exc, Conflict):
        return grpc.StatusCode.ABORTED
    if isinstance(exc, NoPolicy | NoStandardInForce):
        return grpc.StatusCode.FAILED_PRECONDITION
    return grpc.StatusCode.INVALID_ARGUMENT


class CaseService(case_pb2_grpc.CaseServiceServicer):
    """CaseService backed by a CaseManager."""

    def __init__(self, cases: CaseManager, registry: AuthorizationRegistry,
                 allowed_clients: tuple[str, ...]) -> None:
        self.cases = cases
        self.registry = registry
        self.allowed_clients = frozenset(allowed_clients)

    async def _guard(self, context: grpc.aio.ServicerContext,
                     call: Callable[[], Awaitable[Any]]) -> Any:
        try:
            peer = identity.peer_identity(context.auth_context())
        except KeysError as exc:
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, str(exc))
        if peer not in self.allowed_clients:
            await context.abort(
                grpc.StatusCode.PERMISSION_DENIED,
                f"{peer} is not a client allowed to use the case service",
            )
        try:
            return await call()
        except (CaseError, AuthorizationError, Conflict, NoPolicy) as exc:
            await context.abort(_status(exc), str(exc))
        except HeduiError as exc:
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(exc))
        except asyncio.CancelledError:
            raise
        except Exception:
            ref = uuid.uuid4().hex[:12]
            log.exception("case service failed", ref=ref)
            await context.abort(grpc.StatusCode.INTERNAL,
                                f"internal error in the gateway; the administrator finds "
                                f"reference {ref} in the gateway log")

    def _now(self) -> dt.datetime:
        return self.cases.clock()

    async def RegisterAuthorization(self, request, context):
        async def call() -> case_pb2.Authorization:
            self.cases._require_staff(request.operator, request.authorization.programme)
            return await self.cases.step(
                self.registry.register, request.authorization, operator=request.operator,
                now=self._now(),
            )
        return await self._guard(context, call)

    async def RevokeAuthorization(self, request, context):
        async def call() -> case_pb2.Authorization:
            auth = await asyncio.to_thread(self.registry.get, request.number)
            self.cases._require_staff(request.operator, auth.programme)
            return await asyncio.to_thread(
                self.registry.revoke, request.number, reason=request.reason, now=self._now()
            )
        return await self._guard(context, call)

    async def OpenCase(self, request, context):
        return await self._guard(context, lambda: self.cases.open_case(
            request, batch_key=request.request_id or None))

    async def VerifyCase(self, request, context):
        return await self._guard(
            context, lambda: self.cases.verify(request.case_id, request.operator)
        )

    async def RetryCase(self, request, context):
        return await self._guard(
            context, lambda: self.cases.retry(request.case_id, request.operator)
        )

    async def CancelCase(self, request, context):
        return await self._guard(context, lambda: asyncio.to_thread(
            self.cases.cancel, request.case_id, request.reason, request.operator))

    async def GetCase(self, request, context):
        return await self._guard(context, lambda: self.cases.step(
            self.cases.get, request.case_id, request.operator))

    async def ListCases(self, request, context):
        return await self._guard(context, lambda: asyncio.to_thread(self.cases.list, request))

    async def GetReport(self, request, context):
        return await self._guard(context, lambda: asyncio.to_thread(
            self.cases.report, request.case_id, request.operator))
