"""The guard every gateway service a person calls stands behind (case and office).

**Who is acting is established here, never taken from the request** (``_establish``):
a personal staff certificate (``spiffe://<domain>/staff/op-1001``) is that person, and a
request's ``operator``, when set, must equal it (OPERATOR_MISMATCH); a console on
``[clients] consoles`` signed the person in and asserts their staff id in ``operator``
(entries name the console as ``client`` and the person as ``operator``); a desk on
``[clients] allowed`` may name its operator only in the transitional mode
``declared_operators`` (else OPERATOR_NOT_AUTHENTICATED). The person must then be an
active member of the staff registry (read for this request: a disabled member is
refused from the moment of disabling) in a role that may call the method
(``access.METHOD_ACTION``; a method mapped to None only needs an active member); case
steps check their scope. The person and role are set in ``access.ACTING`` /
``entries.ACTING_ROLE`` for the call, so every entry records the role. A method run
with ``person=False`` (a console reporting a sign-in) establishes nobody: only a console
may call it (NOT_A_CONSOLE). Every error is ``google.rpc.Status`` with an ``ErrorInfo``
reason (``case_errors.REASONS``); a request that cannot even be parsed is
INVALID_ARGUMENT, never grpc's UNKNOWN naming a Python class.

**Refusals are logged** (AUDIT_KIND_REQUEST_REFUSED, outcome REFUSED, ``reason_code``).
What a request claims is not verified, so the entry keeps a claim only when it passes a
strict grammar (``masking.safe_*``) and never the refusal's sentence (it may name a
member). Subjects: a refused read or change of an existing case names the case's own
members — data the gateway holds, not the caller's. A refused opening or authorization
names the members the caller listed (well-formed ID numbers only). Unlike a department
refusing a forged query (logged without pseudonyms, ``docs/architecture.md``), this
caller is an authenticated client desk: the entry carries its certificate id, so an
entry it "plants" in someone's access report is a true record of that desk asking about
that person — exactly what the person is entitled to see. A client not on the
allow-list, or a request that cannot be parsed, is logged with no claim and no subject.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import grpc
import structlog
from google.protobuf import descriptor as descriptor_mod
from google.protobuf import message_factory

from hedui import status
from hedui.audit.entries import ACTING_ROLE
from hedui.errors import HeduiError
from hedui.gateway import access
from hedui.gateway.case_errors import CaseError, NotAllowed
from hedui.gateway.masking import (
    safe_authorization_number,
    safe_case_id,
    safe_client,
    safe_operator,
    safe_purpose,
)
from hedui.gateway.planner import NoPolicy
from hedui.gateway.store import Conflict
from hedui.keys import identity
from hedui.keys.errors import KeysError
from hedui.resident_id import InvalidIdNumber, normalize
from hedui.v1 import audit_pb2

if TYPE_CHECKING:
    from hedui.gateway.authorizations import AuthorizationRegistry
    from hedui.gateway.cases import CaseManager

log = structlog.get_logger("hedui.gateway")

#: most subjects a refusal's entry names (a household has at most 20 members)
MAX_SUBJECTS = 50


@dataclass(frozen=True)
class Claim:
    """What a request says about itself, for the entry of its refusal (checked there)."""

    operator: str = ""
    case_id: str = ""
    purpose: str = ""
    authorization_number: str = ""
    #: members an authenticated desk named (an opening, an authorization)
    id_numbers: Sequence[str] = ()
    #: a registered authorization's members are the subjects (revocation)
    covered_by_authorization: bool = False


def as_case_error(exc: Exception) -> CaseError | None:
    """The service error an exception stands for; None for an unexpected one."""
    if isinstance(exc, CaseError):
        return exc
    if isinstance(exc, Conflict):
        return CaseError(str(exc), "CONCURRENT_CHANGE")
    if isinstance(exc, NoPolicy):
        return CaseError(str(exc), "NO_EXCHANGE_POLICY")
    if isinstance(exc, HeduiError):
        return CaseError(str(exc), "GATEWAY_NOT_READY")
    return None


def well_formed(id_numbers: Sequence[str]) -> list[str]:
    """The well-formed ID numbers among ``id_numbers``, normalised, without repeats."""
    out = []
    for number in id_numbers:
        try:
            out.append(normalize(number))
        except (InvalidIdNumber, TypeError):
            continue
    return list(dict.fromkeys(out))


class Guard:
    """Authenticates the client and establishes the person for each call of a service."""

    #: how refusals name the service ("not a client allowed to use …")
    service_words = "the case service"

    def __init__(self, cases: CaseManager, allowed_clients: tuple[str, ...], *,
                 consoles: tuple[str, ...] = (), declared_operators: bool = False,
                 trust_domain: str = "", authorizations: AuthorizationRegistry | None = None
                 ) -> None:
        self.cases = cases
        #: the authorization registry (a refused revocation names its covered members)
        self.registry = authorizations
        self.allowed_clients = frozenset(allowed_clients)
        self.consoles = frozenset(consoles)
        self.declared_operators = declared_operators
        #: personal certificates are accepted from this trust domain only
        self.trust_domain = trust_domain

    def action_of(self, method: str) -> access.Action | None:
        """The action ``method`` takes; None: any active member may call it."""
        return access.METHOD_ACTION[method]

    async def _run(self, context: grpc.aio.ServicerContext, method: str, claim: Claim,
                   call: Callable[[str], Awaitable[Any]], request: Any = None, *,
                   person: bool = True) -> Any:
        """Authenticate the client, establish the person acting (their id replaces the
        request's ``operator``), run ``call(client_id)``, and turn every failure into a
        logged refusal with a reason (or, for a bug, INTERNAL with a reference).
        ``person=False``: nobody is established, the client must be a console."""
        client = await self._client(context, method)
        staff = self._staff_of(client)
        if staff:  # the certificate names the person: their refusals name them too
            claim = replace(claim, operator=staff)
        tokens: tuple[Any, Any] | None = None
        try:
            refused: CaseError | None = None
            try:
                if not person:
                    self._require_console(client, method)
                    return await call(client)
                acting = await self.cases.step(self._establish, client, method,
                                               getattr(request, "operator", ""))
                tokens = access.ACTING.set(acting), ACTING_ROLE.set(acting.role)
                claim = replace(claim, operator=acting.person.staff_id)
                if request is not None:
                    request.operator = acting.person.staff_id
                return await call(client)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                refused = as_case_error(exc)
                if refused is None:
                    ref = uuid.uuid4().hex[:12]
                    log.exception("gateway service failed", ref=ref, method=method)
                    await status.abort(context, grpc.StatusCode.INTERNAL, "INTERNAL_ERROR",
                                       "internal error in the gateway; the administrator "
                                       f"finds reference {ref} in the gateway log",
                                       {"ref": ref})
            assert refused is not None
            await self._refuse(context, method, refused, claim, client)
        finally:
            if tokens is not None:  # the call's person does not outlive it
                access.ACTING.reset(tokens[0])
                ACTING_ROLE.reset(tokens[1])

    def _staff_of(self, client: str) -> str:
        """The staff id a personal certificate names; "" for any other identity."""
        parsed = identity.parse_id(client)
        return parsed.name if parsed.kind == "staff" else ""

    def _require_console(self, client: str, method: str) -> None:
        if client not in self.consoles:
            raise NotAllowed(f"{safe_client(client) or 'this client'} is not a console on "
                             f"[clients] consoles; only a console may call {method}",
                             "NOT_A_CONSOLE")

    def _establish(self, client: str, method: str, declared: str) -> access.Acting:
        """Who acts: from the certificate, a console's assertion or (transitional) a desk's
        declaration; then an active registry member in a role that may call ``method``."""
        staff = self._staff_of(client)
        if staff:
            if declared and declared != staff:
                raise NotAllowed(f"the certificate is staff member {staff}'s; it cannot act "
                                 "as another operator", "OPERATOR_MISMATCH")
            operator = staff
        elif client in self.consoles or (client in self.allowed_clients
                                         and self.declared_operators):
            operator = declared
        else:
            raise NotAllowed(
                f"{safe_client(client) or 'this client'} is a desk certificate, which cannot "
                "say who is acting; call with your personal staff certificate (hedui keys "
                "issue --id spiffe://…/staff/<staff-id>) or through the console",
                "OPERATOR_NOT_AUTHENTICATED")
        person = self.cases.registry.require_active(operator)
        action = self.action_of(method)
        if action is None:  # any active member: they act in their first role
            role = next((r for r in access.ROLES if r in person.roles), "")
        else:
            role = access.require_role(person, action)
        return access.Acting(person=person, role=role, client=client)

    async def _client(self, context: grpc.aio.ServicerContext, method: str) -> str:
        try:
            client = identity.peer_identity(context.auth_context())
        except KeysError:
            await self._refuse(context, method, CaseError(
                "the client presented no valid certificate identity", "UNAUTHENTICATED"))
            raise AssertionError("unreachable") from None
        parsed = identity.parse_id(client)
        personal = parsed.kind == "staff" and (not self.trust_domain
                                               or parsed.domain == self.trust_domain)
        if not personal and client not in self.allowed_clients | self.consoles:
            await self._refuse(context, method, CaseError(
                f"{safe_client(client) or 'this client'} is not a client allowed to use "
                f"{self.service_words}", "CLIENT_NOT_ALLOWED"), client=client)
        return client

    async def _refuse(self, context: grpc.aio.ServicerContext, method: str, err: CaseError,
                      claim: Claim | None = None, client: str = "") -> None:
        """Log the refusal (unless its step logged it already), then end the call."""
        if not err.logged:
            try:
                entry = await self.cases.step(self._refusal_entry, method, err, claim, client)
                await self.cases.recorder.record_async(audit_pb2.AUDIT_KIND_REQUEST_REFUSED,
                                                       **entry)
            except Exception:  # the refusal stands; the log failure is the operator's to see
                log.exception("refusal not written to the audit log", method=method,
                              reason=err.reason)
        await status.abort(context, err.code, err.reason, str(err), err.metadata)

    def _refusal_entry(self, method: str, err: CaseError, claim: Claim | None,
                       client: str) -> dict[str, Any]:
        """The REQUEST_REFUSED entry's fields: grammar-checked claims, known subjects."""
        details = "".join(f"; {k} {v}" for k, v in sorted(err.metadata.items()))
        entry: dict[str, Any] = {
            "outcome": audit_pb2.AUDIT_OUTCOME_REFUSED, "reason_code": err.reason,
            "reason": f"{method} refused: {err.reason}{details}", "client": safe_client(client),
        }
        if claim is None:
            return entry
        m = self.cases
        case_id = safe_case_id(claim.case_id)
        entry.update(operator=safe_operator(claim.operator, m.known_operators()),
                     case_id=case_id, purpose=safe_purpose(claim.purpose),
                     authorization_number=safe_authorization_number(claim.authorization_number))
        row = m.store.get(case_id) if case_id.startswith("case-") else None
        if row is not None:  # the case's own members and programme, as the store has them
            entry.update(purpose=row.programme, authorization_number=row.authorization_number,
                         id_numbers=[x.id_number for x in m.members(row)])
        elif claim.covered_by_authorization:
            number = claim.authorization_number
            if (self.registry is not None and entry["authorization_number"] == number
                    and self.registry.exists(number)):
                entry["pseudonyms"] = self.registry.covered(number)
        else:
            named = well_formed(claim.id_numbers)
            if len(named) > MAX_SUBJECTS:
                entry["reason"] += f"; first {MAX_SUBJECTS} of {len(named)} members named"
            entry["id_numbers"] = named[:MAX_SUBJECTS]
        return entry

    async def refuse_malformed(self, context: grpc.aio.ServicerContext, method: str) -> None:
        """A request whose bytes are not its message: refused, logged with no claim."""
        client = await self._client(context, method)
        await self._refuse(context, method, CaseError(
            f"the {method} request is not a valid message of its type", "MALFORMED_REQUEST"),
            client=client)


class _Malformed:
    """What a request deserializes to when its bytes are not its message."""


MALFORMED = _Malformed()


def _parser(cls: Any) -> Callable[[bytes], Any]:
    def parse(data: bytes) -> Any:
        try:
            return cls.FromString(data)
        except Exception:  # DecodeError, bad UTF-8, recursion: all one refusal
            return MALFORMED
    return parse


def _tolerant(service: Guard, name: str,
              behaviour: Callable[[Any, grpc.aio.ServicerContext], Awaitable[Any]]
              ) -> Callable[[Any, grpc.aio.ServicerContext], Awaitable[Any]]:
    async def handle(request: Any, context: grpc.aio.ServicerContext) -> Any:
        if request is MALFORMED:
            return await service.refuse_malformed(context, name)
        return await behaviour(request, context)
    return handle


def add_guarded(service: Guard, server: grpc.aio.Server,
                described: descriptor_mod.ServiceDescriptor) -> None:
    """Register ``service`` (the gRPC service ``described``) with request parsers that
    never raise: grpc's own answer an unparsable request with UNKNOWN and the Python
    exception's class name."""
    handlers = {}
    for method in described.methods:
        request_cls = message_factory.GetMessageClass(method.input_type)
        handlers[method.name] = grpc.unary_unary_rpc_method_handler(
            _tolerant(service, method.name, getattr(service, method.name)),
            request_deserializer=_parser(request_cls),
            response_serializer=lambda message: message.SerializeToString(),
        )
    name = described.full_name
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(name, handlers),))
    server.add_registered_method_handlers(name, handlers)
