"""The office service: who is signed in, the console's sign-in events, the staff
registry, the departments and standards directories, and the statistics.

It stands behind the same guard as the case service (``guard.Guard``): the person is
established from a personal certificate or an allowed console's assertion, an active
registry member in a role ``access.METHOD_ACTION`` allows; refusals are logged there.
``RecordSignIn`` establishes nobody (the person is not signed in yet): only a console
on ``[clients] consoles`` may report its sessions, and the entry it causes names the
console as ``client``, a staff id only when the registry knows it (a mistyped one may
be a password typed into the wrong field), a reason code of a strict grammar and a
sentence checked for ID numbers — never a password, a code or an address.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from typing import TYPE_CHECKING

import grpc
from google.protobuf.message import DecodeError

from hedui.china_time import today
from hedui.gateway import access, statistics
from hedui.gateway import report as report_mod
from hedui.gateway.case_errors import CaseError, NotAllowed
from hedui.gateway.guard import Claim, Guard, add_guarded
from hedui.gateway.masking import logged_reason, safe_client
from hedui.gateway.staff import StaffRegistry, check_staff_id
from hedui.keys.identity import DEPARTMENTS
from hedui.v1 import audit_pb2, case_pb2, common_pb2, envelope_pb2, office_pb2, trust_pb2

if TYPE_CHECKING:
    from hedui.gateway.cases import CaseManager
    from hedui.gateway.deadlines import FeedbackDeadlines
    from hedui.gateway.standards import StandardsLibrary

SERVICE = "hedui.v1.OfficeService"
Kind = office_pb2.SignInEvent

#: sign-in event → the audit kind its entry has
EVENT_KIND = {
    Kind.KIND_SIGNED_IN: audit_pb2.AUDIT_KIND_STAFF_SIGNED_IN,
    Kind.KIND_SIGN_IN_FAILED: audit_pb2.AUDIT_KIND_STAFF_SIGN_IN_FAILED,
    Kind.KIND_SIGNED_OUT: audit_pb2.AUDIT_KIND_STAFF_SIGNED_OUT,
    Kind.KIND_SESSIONS_ENDED: audit_pb2.AUDIT_KIND_STAFF_SIGNED_OUT,
    Kind.KIND_TOTP_RESET: audit_pb2.AUDIT_KIND_STAFF_CHANGED,
    Kind.KIND_PASSWORD_SET: audit_pb2.AUDIT_KIND_STAFF_CHANGED,
}
#: what the entry's sentence says happened (the console's own sentence follows)
EVENT_WORDS = {
    Kind.KIND_SIGNED_IN: "signed in to the console",
    Kind.KIND_SIGN_IN_FAILED: "console sign-in refused",
    Kind.KIND_SIGNED_OUT: "console session ended",
    Kind.KIND_SESSIONS_ENDED: "console sessions ended by an administrator",
    Kind.KIND_TOTP_RESET: "console TOTP reset",
    Kind.KIND_PASSWORD_SET: "console password set",
}
#: kinds an administrator may cause for someone else (``SignInEvent.operator``)
BY_ADMINISTRATOR = frozenset({Kind.KIND_SESSIONS_ENDED, Kind.KIND_TOTP_RESET,
                              Kind.KIND_PASSWORD_SET})
#: a reason code as the entry keeps it: BAD_PASSWORD, ENDED_BY_ADMINISTRATOR, …
REASON_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,39}")


def member(person: access.Person) -> office_pb2.StaffMember:
    return office_pb2.StaffMember(
        staff_id=person.staff_id, name=person.name, roles=list(person.roles),
        townships=list(person.townships), programmes=list(person.programmes),
        phone=person.phone, active=person.active)


class OfficeService(Guard):
    """OfficeService backed by the case manager (its registry, store, recorder)."""

    service_words = "the office service"

    def __init__(self, cases: CaseManager, allowed_clients: tuple[str, ...], *,
                 consoles: tuple[str, ...] = (), declared_operators: bool = False,
                 trust_domain: str = "", deadlines: FeedbackDeadlines | None = None) -> None:
        super().__init__(cases, allowed_clients, consoles=consoles,
                         declared_operators=declared_operators, trust_domain=trust_domain)
        #: ``[deadlines]`` and the working-day calendar (the case manager's by default)
        self.deadlines = deadlines if deadlines is not None else cases.deadlines
        #: figures of the last minute, served again
        self.figures = statistics.Recent()

    @property
    def staff(self) -> StaffRegistry:
        return self.cases.registry

    # ------------------------------------------------------------ who is acting

    async def WhoAmI(self, request, context):
        async def call(client: str) -> office_pb2.StaffMember:
            return member(access.acting().person)
        return await self._run(context, "WhoAmI", Claim(operator=request.operator), call,
                               request)

    async def RecordSignIn(self, request, context):
        async def call(client: str) -> office_pb2.SignInEventAck:
            entry = await self.cases.step(self._sign_in_entry, request, client)
            leaf = await self.cases.recorder.record_async(EVENT_KIND[request.kind], **entry)
            return office_pb2.SignInEventAck(leaf_index=leaf)
        return await self._run(context, "RecordSignIn", Claim(operator=request.operator),
                               call, request, person=False)

    def _sign_in_entry(self, event: office_pb2.SignInEvent, client: str) -> dict:
        """The entry's fields for a console's sign-in event (checked, see the top)."""
        if event.kind not in EVENT_KIND:
            raise CaseError("a sign-in event names what happened (kind)", "MALFORMED_REQUEST")
        code = event.reason_code
        if code and not REASON_CODE.fullmatch(code):
            raise CaseError("a sign-in event's reason code is an uppercase word "
                            "(BAD_PASSWORD, IDLE, …)", "MALFORMED_REQUEST")
        known = self.staff.get(event.staff_id) if event.staff_id else None
        if event.kind == Kind.KIND_SIGNED_IN:  # the console asked WhoAmI just before
            self.staff.require_active(check_staff_id(event.staff_id))
        elif event.kind != Kind.KIND_SIGN_IN_FAILED and known is None:
            # a session or a change of someone the registry holds (disabled or not)
            self.staff.require_active(check_staff_id(event.staff_id))  # NOT_ON_STAFF_LIST
        role = ""
        operator = known.staff_id if known is not None else ""
        if event.operator and event.operator != operator:
            if event.kind not in BY_ADMINISTRATOR:
                raise NotAllowed("only ending sessions, resetting a TOTP or setting a "
                                 "password is done by an administrator for someone else",
                                 "OPERATOR_MISMATCH")
            admin = self.staff.require_active(event.operator)
            role = access.require_role(admin, access.Action.MANAGE_STAFF)
            operator = admin.staff_id
        who = f"staff {known.staff_id}" if known is not None else (
            "an unknown staff id" if event.staff_id else "no staff id")
        words = EVENT_WORDS[event.kind]
        if event.reason:
            words += f": {logged_reason(event.reason, 'a sign-in event')}"
        return {
            "outcome": (audit_pb2.AUDIT_OUTCOME_REFUSED if event.kind == Kind.KIND_SIGN_IN_FAILED
                        else audit_pb2.AUDIT_OUTCOME_OK),
            "operator": operator, "role": role, "client": safe_client(client),
            "reason_code": code, "reason": f"{who}: {words}",
        }


    # ------------------------------------------------------------ the registry

    async def ListStaff(self, request, context):
        async def call(client: str) -> office_pb2.ListStaffResponse:
            people = await self.cases.step(self.staff.list)
            return office_pb2.ListStaffResponse(staff=[member(p) for p in people])
        return await self._run(context, "ListStaff", Claim(operator=request.operator), call,
                               request)

    async def AddStaff(self, request, context):
        m = request.member

        def add() -> office_pb2.StaffMember:
            return member(self.staff.add(
                m.staff_id, name=m.name, roles=m.roles, by=access.acting().person.staff_id,
                townships=m.townships, programmes=m.programmes, phone=m.phone))
        return await self._run(context, "AddStaff", Claim(operator=request.operator),
                               lambda client: asyncio.to_thread(add), request)

    async def ChangeStaff(self, request, context):
        return await self._run(context, "ChangeStaff", Claim(operator=request.operator),
                               lambda client: asyncio.to_thread(self._change, request),
                               request)

    def _change(self, request: office_pb2.ChangeStaffRequest) -> office_pb2.StaffMember:
        """Roles and scope, then the activity, as the request asks (each change logged
        by the registry naming the administrator)."""
        by = access.acting().person.staff_id
        Activity = office_pb2.ChangeStaffRequest
        if not request.set_roles and request.activity == Activity.ACTIVITY_UNCHANGED:
            raise CaseError("the change sets roles or enables or disables the member; "
                            "this one does neither", "MALFORMED_REQUEST")
        if request.activity not in (Activity.ACTIVITY_UNCHANGED, Activity.ACTIVITY_ENABLE,
                                    Activity.ACTIVITY_DISABLE):
            raise CaseError("activity is ENABLE, DISABLE or unchanged", "MALFORMED_REQUEST")
        check_staff_id(request.staff_id)
        if request.set_roles:
            self.staff.set_roles(request.staff_id, roles=request.roles, by=by,
                                 townships=request.townships, programmes=request.programmes)
        if request.activity == Activity.ACTIVITY_DISABLE:
            self.staff.disable(request.staff_id, by=by, reason=request.reason)
        elif request.activity == Activity.ACTIVITY_ENABLE:
            self.staff.enable(request.staff_id, by=by)
        person = self.staff.get(request.staff_id)
        assert person is not None  # the registry never deletes
        return member(person)

    # ------------------------------------------------------------ directories

    async def ListDepartments(self, request, context):
        async def call(client: str) -> office_pb2.ListDepartmentsResponse:
            return self._departments()
        return await self._run(context, "ListDepartments", Claim(operator=request.operator),
                               call, request)

    def _departments(self) -> office_pb2.ListDepartmentsResponse:
        """The eight departments as the signed trust bundle has them now (name, online or
        offline, leader and liaison: the administrator publishes them there), with their
        ``[deadlines]`` and whether their breaker is open."""
        agents = {p.department: p
                  for p in self.cases.bundle().participants_by_role(trust_pb2.ROLE_AGENT)}
        breakers = self.cases.fanout.breakers
        out = []
        for d in [*DEPARTMENTS, *sorted(set(agents) - set(DEPARTMENTS))]:
            agent = agents.get(d)
            info = office_pb2.DepartmentInfo(
                department=d, display_name=(agent.display_name if agent else "") or d,
                online=agent is not None and not agent.offline and bool(agent.endpoint),
                feedback_working_days=self.deadlines.working_days(d),
                unavailable=d in breakers and breakers[d].is_open)
            for which in ("liaison", "leader"):
                if agent is not None and agent.HasField(which):
                    getattr(info, which).CopyFrom(getattr(agent, which))
            out.append(info)
        calendar = self.deadlines.calendar
        return office_pb2.ListDepartmentsResponse(
            departments=out, calendar_source=calendar.source, calendar_years=calendar.years())

    async def ListStandards(self, request, context):
        async def call(client: str) -> office_pb2.ListStandardsResponse:
            return standards_directory(self.cases.standards, request.as_of)
        return await self._run(context, "ListStandards", Claim(operator=request.operator),
                               call, request)

    # ------------------------------------------------------------ statistics

    async def GetStatistics(self, request, context):
        return await self._run(
            context, "GetStatistics", Claim(operator=request.operator),
            lambda client: asyncio.to_thread(self.figures.figures, self.cases, request,
                                             access.acting().person), request)


    # ------------------------------------------------------------ a report's check

    async def CheckReport(self, request, context):
        return await self._run(
            context, "CheckReport", Claim(operator=request.operator),
            lambda client: asyncio.to_thread(check_report, self.cases, request.envelope),
            request)


#: what went wrong with a report, by the check's exception
PROBLEM_KINDS = (
    (report_mod.ReportSignatureInvalid, "SIGNATURE"),
    (report_mod.AnswerEvidenceInvalid, "ANSWERS"),
    (report_mod.AuditEvidenceInvalid, "AUDIT"),
    (report_mod.AssessmentMismatch, "ASSESSMENT"),
    (report_mod.ReportInvalid, "MALFORMED"),
)


def check_report(cases: CaseManager, envelope: bytes) -> office_pb2.ReportCheck:
    """``hedui report verify`` for a file handed to the console: the gateway's own
    bundle and standards, now. Nothing is stored or logged: the file is the uploader's,
    and the answer names no person."""
    try:
        parsed = envelope_pb2.Envelope.FromString(envelope)
    except DecodeError:
        parsed = None
    if parsed is None or not parsed.payload or not parsed.signatures:
        return office_pb2.ReportCheck(
            genuine=False, problem_kind="MALFORMED",
            problem="the file is not a signed hedui report (a DSSE envelope)")
    try:
        report = report_mod.verify_report(parsed, cases.bundle(),
                                          now=dt.datetime.now(dt.UTC),
                                          standards=cases.standards)
    except report_mod.ReportInvalid as exc:
        kind = next(k for cls, k in PROBLEM_KINDS if isinstance(exc, cls))
        return office_pb2.ReportCheck(genuine=False, problem=str(exc), problem_kind=kind)
    return office_pb2.ReportCheck(
        genuine=True, report_id=report.report_id, case_id=report.case_id,
        programme=report.programme, outcome=case_pb2.Outcome.Name(report.outcome),
        issued_at=report.issued_at, answers=len(report.answers),
        audit_entries=len(report.audit_evidence))


def _pb_date(day: dt.date) -> common_pb2.Date:
    return common_pb2.Date(year=day.year, month=day.month, day=day.day)


def standards_directory(library: StandardsLibrary, as_of: common_pb2.Date
                        ) -> office_pb2.ListStandardsResponse:
    """Every standard, ordered by programme, region and start; ``in_force`` is whether
    it is the one applied on ``as_of`` (China's today when unset): in its dates and not
    superseded by a later-starting one of the same programme and region."""
    on = statistics._day(as_of, "as_of") or today()
    ordered = sorted(library, key=lambda s: (s.programme, s.region, s.effective_from))
    applied = {}
    for s in ordered:
        if s.in_force(on):
            applied[s.programme, s.region] = s.standard_id  # the latest start wins
    out = []
    for s in ordered:
        info = office_pb2.StandardInfo(
            standard_id=s.standard_id, title=s.title, programme=s.programme, region=s.region,
            effective_from=_pb_date(s.effective_from),
            monthly_income_limit_fen=s.monthly_income_limit_fen,
            asset_limit_per_person_fen=s.asset_limit_per_person_fen,
            asset_limit_household_fen=s.household_assets_limit_fen or 0, source=s.source,
            in_force=applied.get((s.programme, s.region)) == s.standard_id)
        if s.effective_until is not None:
            info.effective_until.CopyFrom(_pb_date(s.effective_until))
        out.append(info)
    return office_pb2.ListStandardsResponse(standards=out)


def add_to_server(service: OfficeService, server: grpc.aio.Server) -> None:
    """Register the office service (requests that cannot be parsed refused, logged)."""
    add_guarded(service, server, office_pb2.DESCRIPTOR.services_by_name["OfficeService"])


__all__ = ["SERVICE", "OfficeService", "add_to_server", "member", "standards_directory"]
