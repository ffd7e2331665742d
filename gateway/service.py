"""The case service over gRPC: verifiers' requests in, precise statuses out, every
refusal in the audit log.

The person acting is established by the guard (``guard.Guard``: a personal certificate,
an allowed console's assertion or, transitionally, a desk's declaration; then an active
registry member in a role that may call the method), which the office service shares;
refusals are logged there. Here: each method's claim (what its refusal's entry may
name) and the case step it runs.
"""

from __future__ import annotations

import asyncio

import grpc

from hedui.gateway import authorizations as authorizations_mod
from hedui.gateway import case_reads, case_search
from hedui.gateway.authorizations import AuthorizationRegistry
from hedui.gateway.cases import CaseManager
from hedui.gateway.guard import MAX_SUBJECTS, Claim, Guard, add_guarded
from hedui.v1 import case_pb2

SERVICE = "hedui.v1.CaseService"
__all__ = ["MAX_SUBJECTS", "SERVICE", "CaseService", "Claim", "add_to_server"]


class CaseService(Guard):
    """CaseService backed by a CaseManager."""

    def __init__(self, cases: CaseManager, registry: AuthorizationRegistry,
                 allowed_clients: tuple[str, ...], *, consoles: tuple[str, ...] = (),
                 declared_operators: bool = False, trust_domain: str = "") -> None:
        super().__init__(cases, allowed_clients, consoles=consoles,
                         declared_operators=declared_operators, trust_domain=trust_domain,
                         authorizations=registry)

    # ------------------------------------------------------------ the methods

    async def RegisterAuthorization(self, request, context):
        auth = request.authorization
        return await self._run(context, "RegisterAuthorization", Claim(
            operator=request.operator, purpose=auth.programme,
            authorization_number=auth.number, id_numbers=auth.covered_id_numbers,
        ), lambda client: authorizations_mod.register(self.cases, auth, request.operator,
                                                      client=client), request)

    async def RevokeAuthorization(self, request, context):
        return await self._run(context, "RevokeAuthorization", Claim(
            operator=request.operator, authorization_number=request.number,
            covered_by_authorization=True,
        ), lambda client: authorizations_mod.revoke(self.cases, request.number, request.reason,
                                                    request.operator, client=client), request)

    async def OpenCase(self, request, context):
        return await self._run(context, "OpenCase", Claim(
            operator=request.operator, purpose=request.programme,
            authorization_number=request.authorization_number,
            id_numbers=[x.id_number for x in request.members],
        ), lambda client: self.cases.open_case(request, batch_key=request.request_id or None,
                                               client=client), request)

    async def VerifyCase(self, request, context):
        return await self._run(
            context, "VerifyCase", Claim(operator=request.operator, case_id=request.case_id),
            lambda client: self.cases.verify(request.case_id, request.operator, client=client),
            request)

    async def RetryCase(self, request, context):
        return await self._run(
            context, "RetryCase", Claim(operator=request.operator, case_id=request.case_id),
            lambda client: self.cases.retry(request.case_id, request.operator, client=client),
            request)

    async def CancelCase(self, request, context):
        return await self._run(
            context, "CancelCase", Claim(operator=request.operator, case_id=request.case_id),
            lambda client: asyncio.to_thread(self.cases.cancel, request.case_id,
                                             request.reason, request.operator), request)

    async def GetCase(self, request, context):
        return await self._run(
            context, "GetCase", Claim(operator=request.operator, case_id=request.case_id),
            lambda client: case_reads.view(self.cases, request.case_id, request.operator,
                                           client=client), request)

    async def ListCases(self, request, context):
        return await self._run(
            context, "ListCases", Claim(operator=request.operator, purpose=request.programme),
            lambda client: case_reads.list_cases(self.cases, request, client=client), request)

    async def GetReport(self, request, context):
        return await self._run(
            context, "GetReport", Claim(operator=request.operator, case_id=request.case_id),
            lambda client: asyncio.to_thread(case_reads.report, self.cases, request.case_id,
                                             request.operator, client=client), request)

    async def ReviewCase(self, request, context):
        return await self._run(
            context, "ReviewCase", Claim(operator=request.operator, case_id=request.case_id),
            lambda client: asyncio.to_thread(self.cases.review, request.case_id,
                                             request.verdict, request.reason, request.operator,
                                             client=client), request)

    async def SearchCases(self, request, context):
        return await self._run(
            context, "SearchCases", Claim(operator=request.operator, case_id=request.case_id,
                                          purpose=request.programme),
            lambda client: case_search.search(self.cases, request, client=client), request)

    async def GetCaseHistory(self, request, context):
        return await self._run(
            context, "GetCaseHistory", Claim(operator=request.operator, case_id=request.case_id),
            lambda client: case_search.history(self.cases, request.case_id, request.operator,
                                               client=client), request)


def add_to_server(service: CaseService, server: grpc.aio.Server) -> None:
    """Register the case service (requests that cannot be parsed refused, logged)."""
    add_guarded(service, server, case_pb2.DESCRIPTOR.services_by_name["CaseService"])
