"""Opening a case: what it is checked for before anything about it is logged or stored.

Split out of ``cases.py`` (``prepare`` and ``insert`` work on a ``CaseManager``, ``m``).
A case that could never be decided must not be opened: its
members' ID numbers are normalised (``hedui.resident_id``) and a bad one refused naming
the member, the household has exactly one applicant (relation SELF), its application
date must be a real one, and a standard must be in force for its programme, region and
application date — all before its CASE_OPENED entry, its row or any query exists. Each
refusal carries a reason (``case_errors.REASONS``) and names a member by its position.

The same household twice: a case of the same programme for the same applicant that is
still under way, or was decided within ``repeat_within``, stops a new one
(SAME_HOUSEHOLD_RECENT, naming that case) unless the request gives ``repeat_reason`` —
otherwise a second click re-asks all eight departments about a household for nothing.
The applicant is matched by their audit pseudonym (``cases.applicant_key``), so members
stay sealed. A repeated request id returns its case before this check, so an
interrupted batch re-runs.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from hedui.china_time import china_date
from hedui.gateway import member_keys
from hedui.gateway.authorizations import AuthorizationError, check_number
from hedui.gateway.case_errors import CaseError, NoStandardInForce
from hedui.gateway.household import member_label
from hedui.gateway.masking import logged_reason
from hedui.gateway.planner import plan
from hedui.gateway.standards import NoStandard, Standard, StandardsLibrary
from hedui.gateway.store import CaseRow
from hedui.keys.errors import BundleExpired
from hedui.resident_id import InvalidIdNumber, normalize
from hedui.v1 import audit_pb2, case_pb2, common_pb2, records_pb2

if TYPE_CHECKING:
    from hedui.gateway.cases import CaseManager

MAX_MEMBERS = 20
#: longest member name kept (names are echoed in refusals and printed on reports)
MAX_NAME = 64
#: longest idempotency key (it is stored prefixed with the operator id)
MAX_REQUEST_ID = 63
_REGION = re.compile(r"[1-9][0-9]{5}")
TOWNSHIP = re.compile(r"[1-9][0-9]{8}")
_REQUEST_ID = re.compile(rf"[\x21-\x7e]{{1,{MAX_REQUEST_ID}}}")
_RELATIONS = frozenset(v for v in records_pb2.Relation.values()
                       if v != records_pb2.RELATION_UNSPECIFIED)

#: how far back an application date may lie: older figures describe another year, and
#: the household applies again
MAX_APPLICATION_AGE = dt.timedelta(days=366)


class IntakeError(CaseError):
    """A case request is malformed (bad member, bad date); INVALID_ARGUMENT."""


@dataclass(frozen=True)
class Opening:
    """A new case checked and sealed, before its entry is logged and its row stored."""

    row: CaseRow
    members: list[case_pb2.Member]
    departments: list[str]
    batch_key: str | None
    #: the CASE_OPENED entry's fields (``AccessRecorder.record``'s arguments)
    entry: dict[str, Any]


def prepare(m: CaseManager, request: case_pb2.OpenCaseRequest, batch_key: str | None
            ) -> case_pb2.Case | Opening:
    """Every check and the sealed row of a new case, or the case a batch row opened
    before (idempotent per ``batch_key``)."""
    m.require_programme(request.programme)
    township = case_township(m.person(request.operator), request.township)
    m._require_staff(request.operator, request.programme, township, what="opening a case")
    if batch_key:
        if not _REQUEST_ID.fullmatch(batch_key):
            raise IntakeError(f"request_id is 1 to {MAX_REQUEST_ID} printable ASCII "
                              "characters without spaces")
        batch_key = f"{request.operator}:{batch_key}"
        existing = m.store.case_by_batch_key(batch_key)
        if existing is not None:
            m._require_staff(request.operator, existing.programme, existing.township)
            return m.describe(existing)
    try:  # no case opens whose queries every department would refuse
        m.bundle().check_current(m.clock())
    except BundleExpired as exc:
        raise IntakeError(str(exc), "BUNDLE_EXPIRED") from None
    if not request.members or len(request.members) > MAX_MEMBERS:
        raise IntakeError(f"a household has 1 to {MAX_MEMBERS} members", "HOUSEHOLD_SIZE")
    if not request.region or not request.authorization_number:
        raise IntakeError("a case needs a region code and an authorization number",
                          "MISSING_FIELD")
    if not _REGION.fullmatch(request.region):
        raise IntakeError("the region is a six-digit region code (GB/T 2260), e.g. 310000",
                          "BAD_REGION")
    try:
        check_number(request.authorization_number)
    except AuthorizationError as exc:
        raise IntakeError(str(exc), exc.reason) from None
    members = normalized_members(request.members)
    now = m.clock()
    applied = application_date(request, china_date(now))
    # a case nothing could be assessed against is refused before any query or row
    standard_in_force(m.standards, request.region, request.programme, applied)
    ids = [mm.id_number for mm in members]
    m.authorizations.require(request.authorization_number, programme=request.programme,
                             id_numbers=ids, today=china_date(now))
    applicant = next(mm for mm in members if mm.relation == records_pb2.RELATION_SELF)
    applicant_key = m.authorizations.pseudonym(applicant.id_number)
    repeat = repeat_reason(m, request, applicant_key, now)
    case_id = f"case-{now:%Y%m%d}-{uuid.uuid4().hex[:12]}"
    sealed = m.vault.seal(case_pb2.OpenCaseRequest(members=members).SerializeToString())
    row = CaseRow(
        case_id=case_id, state=case_pb2.CaseState.Name(case_pb2.CASE_STATE_OPEN),
        programme=request.programme, region=request.region,
        authorization_number=request.authorization_number, operator=request.operator,
        members_sealed=sealed, outcome="", report_digest=b"", created_at=now,
        updated_at=now, version=0, claimed_by="", application_date=applied,
        township=township, applicant_key=applicant_key,
    )
    entry = {
        "kind": audit_pb2.AUDIT_KIND_CASE_OPENED, "operator": request.operator,
        "case_id": case_id, "purpose": request.programme, "id_numbers": ids,
        "authorization_number": request.authorization_number,
    }
    if repeat:
        entry["reason"] = f"verified again: {repeat}"
    departments = [p.department for p in plan(m.bundle(), request.programme)]
    return Opening(row, members, departments, batch_key, entry)


def repeat_reason(m: CaseManager, request: case_pb2.OpenCaseRequest, applicant_key: str,
                  now: dt.datetime) -> str:
    """The request's reason for verifying the household again as the audit log keeps it
    ("" when none is needed), or SAME_HOUSEHOLD_RECENT naming the case that stops it.

    A reason is checked as every logged reason is (one line, at most 500 characters, no
    ID number) whether or not it turns out to be needed.
    """
    given = request.repeat_reason.strip()
    reason = logged_reason(given, "verifying a household again") if given else ""
    if m.repeat_within is None:  # [cases] repeat_within_days = 0
        return reason
    other = m.store.recent_of_applicant(request.programme, applicant_key,
                                        decided_since=now - m.repeat_within)
    if other is None or reason:
        return reason
    word = other.state.removeprefix("CASE_STATE_").lower()
    if other.state == "CASE_STATE_DECIDED":
        when, since = other.updated_at.date().isoformat(), "decided on"
    else:
        when, since = other.created_at.date().isoformat(), f"{word}, opened on"
    raise CaseError(
        f"the applicant already has {request.programme} case {other.case_id} ({since} "
        f"{when}); look at that case, or verify the household again with a reason",
        "SAME_HOUSEHOLD_RECENT",
        metadata={"case_id": other.case_id, "state": word, "date": when})


def insert(m: CaseManager, opening: Opening, leaf: int) -> case_pb2.Case:
    """The case, its departments' parts and its first audit leaf, together. (Its
    CASE_OPENED entry is written first: every step is logged before it acts.)"""
    row = opening.row
    m.store.insert_case({**asdict(row), "batch_key": opening.batch_key},
                        opening.departments, audit_leaves=[leaf],
                        member_keys=member_keys.keys_of(m.recorder.pseudonymizer,
                                                        opening.members))
    return m.describe(row, members=opening.members, departments=[
        {"department": d, "state": "PENDING", "reason": "", "answer_digest": b"",
         "attempts": 0, "updated_at": row.created_at} for d in sorted(opening.departments)
    ])


def case_township(person: Any, given: str) -> str:
    """The township a new case belongs to: the one given (a nine-digit code), else an
    intake clerk's only township; "" for a county application. Scope is checked after."""
    if given:
        if not TOWNSHIP.fullmatch(given):
            raise IntakeError("the township is its nine-digit code (e.g. 310112001)",
                              "BAD_TOWNSHIP")
        return given
    if len(person.townships) == 1:
        return person.townships[0]
    if person.townships:
        raise IntakeError(f"staff member {person.staff_id} works for several townships; the "
                          "request names the one that took the application", "BAD_TOWNSHIP")
    return ""


def normalized_members(members: Sequence[case_pb2.Member]) -> list[case_pb2.Member]:
    """The members with their ID numbers in canonical form (full-width digits, lowercase
    x and spaces normalised), each with a name and a relation, exactly one of them the
    applicant (SELF); raises IntakeError naming the first bad member by position."""
    out = []
    for n, m in enumerate(members, 1):
        if len(m.name) > MAX_NAME or not m.name.isprintable():
            raise IntakeError(f"member {n}: a name is at most {MAX_NAME} printable characters",
                              "BAD_NAME", metadata={"member": str(n)})
        try:
            number = normalize(m.id_number)
        except InvalidIdNumber as exc:
            raise IntakeError(f"{member_label(n, m.name)}: {exc}", "MALFORMED_ID_NUMBER",
                              metadata={"member": str(n)}) from None
        if m.relation not in _RELATIONS:
            known = ", ".join(records_pb2.Relation.Name(v).removeprefix("RELATION_").lower()
                              for v in sorted(_RELATIONS))
            raise IntakeError(f"{member_label(n, m.name)}: the relation to the applicant must "
                              f"be one of {known}", "BAD_RELATION", metadata={"member": str(n)})
        out.append(case_pb2.Member(id_number=number, name=m.name, relation=m.relation))
    if len({m.id_number for m in out}) != len(out):
        raise IntakeError("the same person is listed twice in the household", "DUPLICATE_MEMBER")
    applicants = sum(m.relation == records_pb2.RELATION_SELF for m in out)
    if applicants != 1:
        raise IntakeError(
            f"a household has exactly one applicant (relation self); this one has {applicants}",
            "ONE_APPLICANT_REQUIRED", metadata={"applicants": str(applicants)})
    return out


def to_date(d: common_pb2.Date) -> dt.date:
    """A proto Date as a calendar date; IntakeError when it is not one."""
    try:
        return dt.date(d.year, d.month, d.day)
    except ValueError:
        raise IntakeError(
            f"the application date {d.year:04d}-{d.month:02d}-{d.day:02d} is not a real date",
            "BAD_APPLICATION_DATE") from None


def to_pb(d: dt.date) -> common_pb2.Date:
    return common_pb2.Date(year=d.year, month=d.month, day=d.day)


def application_date(request: case_pb2.OpenCaseRequest, today: dt.date) -> dt.date:
    """The request's application date (申请日期), today when unset.

    Refused in the future (nothing can be assessed for a month not yet over) and more
    than :data:`MAX_APPLICATION_AGE` ago. It may precede the authorization's signing —
    households often apply first and sign at the follow-up visit — because it never
    widens consent: the authorization is checked on the day each query leaves.
    """
    if not request.HasField("application_date"):
        return today
    when = to_date(request.application_date)
    if when > today:
        raise IntakeError(f"the application date {when.isoformat()} is in the future "
                          f"(today is {today.isoformat()})", "BAD_APPLICATION_DATE")
    if today - when > MAX_APPLICATION_AGE:
        raise IntakeError(
            f"the application date {when.isoformat()} is more than a year ago; the household "
            "applies again with a new application date", "BAD_APPLICATION_DATE")
    return when


def standard_in_force(standards: StandardsLibrary, region: str, programme: str,
                      on: dt.date) -> Standard:
    """The standard the case will be assessed with, or NoStandardInForce naming the
    programme, region and date, for the administrator to act on."""
    try:
        return standards.select(region, programme, on)
    except NoStandard:
        raise NoStandardInForce(
            f"no {programme} standard is in force for region {region} on {on.isoformat()}, "
            "so no case can be assessed; the administrator must publish one in the "
            "standards directory before such cases are opened"
        ) from None
