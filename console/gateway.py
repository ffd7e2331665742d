"""The console's connection to the gateway: one mutual-TLS channel under the console's
own identity, every call made for the person signed in.

The console is a gRPC client like any desk (DESIGN.md, "The console is a client"): it
holds no case logic. The gateway trusts a console on ``[clients] consoles`` to assert
which staff member it signed in (``operator``), establishes that person in the registry
on every call and enforces their role and scope itself; the log names both the console
and the person. A refusal comes back as :class:`Refused` with the gateway's reason, for
the page to put in words (``reasons.words``).
"""

from __future__ import annotations

from typing import Any

import grpc

from hedui import status
from hedui.console.config import ConsoleConfig
from hedui.gateway.client import ClientConfig, GatewayClient


class Refused(Exception):
    """The gateway refused a call (or could not be reached)."""

    def __init__(self, code: grpc.StatusCode, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.code = code
        self.reason = reason
        self.detail = detail


class ConsoleGateway:
    """Blocking stubs of the case, office and re-verification services, shared by every
    request."""

    def __init__(self, config: ConsoleConfig) -> None:
        self.client = GatewayClient(ClientConfig(
            gateway=config.gateway_endpoint, gateway_id=config.gateway_id, operator="",
            certificate=config.certificate, key=config.key, ca=config.ca))
        self.cases = self.client.cases
        self.office = self.client.office
        #: a ``reverification_pb2_grpc.ReverificationServiceStub``
        self.reverify = self.client.reverify

    def call(self, method: Any, request: Any, *, staff_id: str, timeout: float = 30.0) -> Any:
        """``method(request)`` for ``staff_id``: the request's ``operator`` is set to the
        person signed in, whatever the page put there."""
        if hasattr(request, "operator"):
            request.operator = staff_id
        try:
            return method(request, timeout=timeout)
        except grpc.RpcError as exc:
            why = status.reason_of(exc)
            reason = why.reason or ("UNAVAILABLE" if why.code in (
                grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED) else "")
            raise Refused(why.code, reason, why.message or "") from None

    def close(self) -> None:
        self.client.close()
