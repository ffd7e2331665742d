"""The re-verification service over gRPC (runs and change alerts), behind the guard the
case and office services share: the person is established there, their role checked
against ``access.METHOD_ACTION``; scope and the log are the desk's
(``hedui.gateway.reverify_desk``)."""

from __future__ import annotations

import grpc

from hedui.gateway.guard import Claim, Guard, add_guarded
from hedui.gateway.reverify_desk import ReverificationDesk
from hedui.v1 import reverification_pb2

SERVICE = "hedui.v1.ReverificationService"


class ReverificationService(Guard):
    """ReverificationService backed by a ReverificationDesk."""

    def __init__(self, desk: ReverificationDesk, allowed_clients: tuple[str, ...], *,
                 consoles: tuple[str, ...] = (), declared_operators: bool = False,
                 trust_domain: str = "") -> None:
        super().__init__(desk.cases, allowed_clients, consoles=consoles,  # type: ignore[arg-type]
                         declared_operators=declared_operators, trust_domain=trust_domain)
        self.desk = desk

    async def StartRun(self, request, context):
        return await self._run(context, "StartRun", Claim(
            operator=request.operator, purpose=request.programme),
            lambda client: self.desk.start_run(request), request)

    async def GetRun(self, request, context):
        return await self._run(context, "GetRun", Claim(operator=request.operator),
                               lambda client: self.desk.get_run(request), request)

    async def ListRuns(self, request, context):
        return await self._run(context, "ListRuns", Claim(
            operator=request.operator, purpose=request.programme),
            lambda client: self.desk.list_runs(request), request)

    async def ListAlerts(self, request, context):
        return await self._run(context, "ListAlerts", Claim(operator=request.operator),
                               lambda client: self.desk.list_alerts(request, client=client),
                               request)

    async def GetAlert(self, request, context):
        return await self._run(context, "GetAlert", Claim(operator=request.operator),
                               lambda client: self.desk.get_alert(request, client=client),
                               request)

    async def ActOnAlert(self, request, context):
        return await self._run(context, "ActOnAlert", Claim(operator=request.operator),
                               lambda client: self.desk.act(request, client=client), request)

    async def CountAlerts(self, request, context):
        return await self._run(context, "CountAlerts", Claim(operator=request.operator),
                               lambda client: self.desk.count_alerts(request), request)


def add_to_server(service: ReverificationService, server: grpc.aio.Server) -> None:
    """Register the service (requests that cannot be parsed refused, logged)."""
    add_guarded(service, server,
                reverification_pb2.DESCRIPTOR.services_by_name["ReverificationService"])
