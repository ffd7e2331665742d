"""Reading cases: who may, what they see, and the audit entry every read leaves.

A case holds a household's ID numbers and names, so reading one is an access to
personal data like a query to a department: only staff of the case's programme may,
and each read is logged (operator, case, the members' pseudonyms) *before* the data
leaves, so a person's access report shows who looked at their case, not only which
departments were asked.

* ``GetCase`` returns the members in full (CASE_VIEWED).
* ``ListCases`` returns only cases within the operator's scope (their programmes and
  townships, ``access.require_scope``), members masked (张**, 3101**********0012), and
  writes one CASES_LISTED entry per listed case: an entry names one case
  (``AuditEntry.case_id``), so a search by case and a subject's report find the listing,
  and a 500-case page does not become one leaf of thousands of pseudonyms.
  ``overdue_only`` keeps the cases a department owes past its feedback deadline today
  (``deadlines``), as the same scope sees them.
* ``GetReport`` returns the signed report, members in full (REPORT_VIEWED).
"""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING

from hedui.gateway import access, deadlines
from hedui.gateway.case_errors import CaseError, NotAllowed, NotFound, WrongState
from hedui.gateway.masking import mask_member
from hedui.v1 import audit_pb2, case_pb2, envelope_pb2

if TYPE_CHECKING:
    from hedui.gateway.cases import CaseManager

State = case_pb2.CaseState

#: cases per page: asked for 0 → the default, above the most → the most (AIP-158)
DEFAULT_PAGE, MAX_PAGE = 50, 500
#: a page token is the offset of the page's first case, in decimal
_TOKEN = re.compile(r"0|[1-9][0-9]{0,8}")


async def view(m: CaseManager, case_id: str, operator: str, *, client: str = ""
               ) -> case_pb2.Case:
    """One case in full, for staff of its programme; logged before it is returned."""
    row = await m.step(m._load, case_id)
    m._require_staff(operator, row.programme, row.township)
    case = await m.step(m.describe, row)
    await m.recorder.record_async(**m.viewed_entry(case, operator, "GetCase", client))
    return case


def page_offset(token: str) -> int:
    """The offset a page token stands for; BAD_PAGE_TOKEN unless it is one we issued."""
    if not token:
        return 0
    if not _TOKEN.fullmatch(token):
        raise CaseError("the page token is not one this gateway issued; start again without "
                        "one (next_page_token of the previous page)", "BAD_PAGE_TOKEN")
    return int(token)


def _state_filter(state: int) -> str | None:
    if not state:
        return None
    if state not in State.values():
        known = ", ".join(n.removeprefix("CASE_STATE_").lower() for n in State.keys()[1:])
        raise CaseError(f"no case state {state}; known: {known}", "UNKNOWN_STATE")
    return State.Name(state)


async def list_cases(m: CaseManager, request: case_pb2.ListCasesRequest, *,
                     client: str = "") -> case_pb2.ListCasesResponse:
    """A page of cases, newest first, of the programmes the operator is staff for, with
    members masked; one CASES_LISTED entry per listed case, written before the page
    is returned."""
    operator = request.operator
    if not operator:
        raise NotAllowed("the request names no operator (verifier staff id)", "NO_OPERATOR")
    person = m.person(operator)
    programmes: list[str] | None = list(person.programmes) or None
    if request.programme:
        m.require_programme(request.programme)
        if programmes is not None and request.programme not in programmes:
            access.require_scope(person, request.programme, what="listing cases")
        programmes = [request.programme]
    townships = list(person.townships) or None
    state = _state_filter(request.state)
    offset = page_offset(request.page_token)
    size = min(request.page_size or DEFAULT_PAGE, MAX_PAGE)
    if request.overdue_only:
        cutoffs = m.deadlines.cutoffs(deadlines.today_in_china(m.clock()))
        rows = await m.step(m.store.list_overdue, cutoffs=cutoffs, state=state,
                            programmes=programmes, townships=townships, limit=size + 1,
                            offset=offset)
    else:
        rows = await m.step(m.store.list, state=state, programme=None, programmes=programmes,
                            townships=townships, limit=size + 1, offset=offset)
    cases, entries = [], []
    where = f"listing {', '.join(programmes or ['every programme'])}" + (
        f", townships {', '.join(townships)}" if townships else "") + (
        f", {state}" if state else "") + (
        ", overdue only" if request.overdue_only else "") + f", from {offset}"
    for row in rows[:size]:
        members = await m.step(m.members, row)
        cases.append(await m.step(m.describe, row, members=[mask_member(x) for x in members]))
        entries.append({
            "kind": audit_pb2.AUDIT_KIND_CASES_LISTED, "operator": operator,
            "case_id": row.case_id, "purpose": row.programme,
            "id_numbers": [x.id_number for x in members],
            "authorization_number": row.authorization_number, "client": client,
            "reason": f"case listed, members masked ({where})",
        })
    await asyncio.gather(*(m.recorder.record_async(**e) for e in entries))
    out = case_pb2.ListCasesResponse(cases=cases)
    if len(rows) > size:
        out.next_page_token = str(offset + size)
    return out


def report(m: CaseManager, case_id: str, operator: str, *, client: str = ""
           ) -> envelope_pb2.Envelope:
    """A decided case's signed report, for staff of its programme (REPORT_VIEWED)."""
    row = m._load(case_id)
    m._require_staff(operator, row.programme, row.township)
    sealed = m.store.report(case_id)
    if sealed is None and row.state == State.Name(State.CASE_STATE_DECIDED):
        raise NotFound(
            f"case {case_id}'s report was erased with its answers after the programme's "
            f"retention period; the case keeps its outcome ({row.outcome}) and the "
            f"report digest {row.report_digest.hex()[:16]}…", "REPORT_ERASED")
    if sealed is None:
        raise WrongState(f"case {case_id} has no report yet (it is {row.state})",
                         "NO_REPORT_YET")
    envelope = envelope_pb2.Envelope()
    envelope.ParseFromString(m.vault.open(sealed))
    m.recorder.record(
        audit_pb2.AUDIT_KIND_REPORT_VIEWED, operator=operator, case_id=case_id,
        purpose=row.programme, authorization_number=row.authorization_number,
        id_numbers=[x.id_number for x in m.members(row)], client=client,
        reason="determination report read (members in full)",
    )
    return envelope
