"""Finding cases and telling their history: ``SearchCases`` and ``GetCaseHistory``.

A search looks people up by a keyed digest of their ID number or name
(``member_keys``), never by unsealing cases; it sees only the searcher's scope, as a
listing does, and returns members masked. Every search is an audit entry
(CASES_SEARCHED) written before the answer leaves: one per case found, naming the case
and its members (a person's access report shows who found their case), and, when an ID
number was searched, one naming the person searched for even when nothing was found —
asking about someone is an access to them. The entry says which filters were used, never
their values (a name is personal data; an ID number goes in only as its pseudonym).

A case's history is the case's own audit entries (``case_audit_leaves``: opening,
queries, answers, decision, review, cancellation), oldest first, with the staff
member's name from the registry; reading it is itself an entry (CASE_HISTORY_VIEWED).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from typing import TYPE_CHECKING, Any

from hedui.audit.entries import decode
from hedui.china_time import CHINA
from hedui.gateway import access, member_keys
from hedui.gateway.case_errors import CaseError, NotAllowed
from hedui.gateway.case_reads import DEFAULT_PAGE, MAX_PAGE, _state_filter, page_offset
from hedui.gateway.intake import TOWNSHIP, to_date
from hedui.gateway.masking import mask_member, safe_case_id
from hedui.resident_id import InvalidIdNumber, normalize
from hedui.v1 import audit_pb2, case_pb2

if TYPE_CHECKING:
    from hedui.gateway.cases import CaseManager

#: the longest name searched for (a household member's name is far shorter)
MAX_NAME = 64
_OUTCOME_WORDS = {v: k.removeprefix("AUDIT_OUTCOME_").lower()
                  for k, v in audit_pb2.AuditOutcome.items()}


def _day_start(day: dt.date) -> dt.datetime:
    """Midnight in China of ``day``, as a UTC instant (cases are stored in UTC)."""
    return dt.datetime.combine(day, dt.time(), CHINA).astimezone(dt.UTC)


def _date_or_none(value: Any, what: str) -> dt.date | None:
    if not value.year:
        return None
    try:
        return to_date(value)
    except (ValueError, CaseError):
        raise CaseError(f"the {what} date is not a real date", "BAD_DATE_RANGE") from None


def _filters_used(request: case_pb2.SearchCasesRequest) -> list[str]:
    names = ("id_number", "name", "case_id", "state", "programme", "township")
    used = [n for n in names if getattr(request, n)]
    if request.opened_from.year or request.opened_until.year:
        used.append("opening dates")
    return used


async def search(m: CaseManager, request: case_pb2.SearchCasesRequest, *, client: str = ""
                 ) -> case_pb2.ListCasesResponse:
    """A page of the cases matching every filter, within the searcher's scope, newest
    first, members masked; logged before it is returned."""
    operator = request.operator
    person = access.acting().person
    used = _filters_used(request)
    if not used:
        raise CaseError("a search needs at least one filter: an ID number, a name, a case "
                        "id, opening dates, a state, a programme or a township",
                        "SEARCH_WITHOUT_FILTER")
    pseudonymizer = m.recorder.pseudonymizer
    searched_id, key = "", None
    if request.id_number:
        try:
            searched_id = normalize(request.id_number)
        except InvalidIdNumber as exc:
            raise CaseError(f"the ID number searched for is not valid: {exc}",
                            "MALFORMED_ID_NUMBER") from None
        key = (pseudonymizer.pseudonym(searched_id), member_keys.ID)
    if request.name:
        if len(request.name) > MAX_NAME or not request.name.strip():
            raise CaseError(f"a name searched for has 1 to {MAX_NAME} characters", "BAD_NAME")
        name_key = (pseudonymizer.name_key(request.name), member_keys.NAME)
        if key is not None:  # both: the ID number finds the cases, the name must agree
            named = set(await m.step(member_keys.cases_with, m.store, *name_key))
        else:
            key, named = name_key, None
    else:
        named = None
    case_id = ""
    if request.case_id:
        case_id = request.case_id.strip().lower()
        if safe_case_id(case_id) != case_id:
            raise CaseError("a case id looks like case-20261203-0123456789ab",
                            "MALFORMED_CASE_ID")
    opened_from = _date_or_none(request.opened_from, "first")
    opened_until = _date_or_none(request.opened_until, "last")
    if opened_from and opened_until and opened_until < opened_from:
        raise CaseError("the last opening date is before the first", "BAD_DATE_RANGE")
    programmes: list[str] | None = list(person.programmes) or None
    if request.programme:
        m.require_programme(request.programme)
        if programmes is not None and request.programme not in programmes:
            access.require_scope(person, request.programme, what="searching cases")
        programmes = [request.programme]
    townships: list[str] | None = list(person.townships) or None
    if request.township:
        if not TOWNSHIP.fullmatch(request.township):
            raise CaseError("the township is its nine-digit code (e.g. 310112001)",
                            "BAD_TOWNSHIP")
        if townships is not None and request.township not in townships:
            raise NotAllowed(f"staff member {person.staff_id} works for townships "
                             f"{', '.join(townships)} only", "OUTSIDE_SCOPE")
        townships = [request.township]
    state = _state_filter(request.state)
    offset = page_offset(request.page_token)
    size = min(request.page_size or DEFAULT_PAGE, MAX_PAGE)
    rows = await m.step(
        m.store.search, member_key=key, case_id=case_id,
        opened_from=_day_start(opened_from) if opened_from else None,
        opened_before=(_day_start(opened_until + dt.timedelta(days=1))
                       if opened_until else None),
        state=state, programmes=programmes, townships=townships,
        limit=size + 1, offset=offset)
    if named is not None:
        rows = [r for r in rows if r.case_id in named]
    how = f"search by {', '.join(used)}"
    cases, entries = [], []
    for row in rows[:size]:
        members = await m.step(m.members, row)
        cases.append(await m.step(m.describe, row, members=[mask_member(x) for x in members]))
        entries.append({
            "kind": audit_pb2.AUDIT_KIND_CASES_SEARCHED, "operator": operator,
            "case_id": row.case_id, "purpose": row.programme,
            "id_numbers": [x.id_number for x in members],
            "authorization_number": row.authorization_number, "client": client,
            "reason": f"case found, members masked ({how})",
        })
    if searched_id and not cases:  # asked about someone: their report shows it
        entries.append({
            "kind": audit_pb2.AUDIT_KIND_CASES_SEARCHED, "operator": operator,
            "id_numbers": [searched_id], "client": client,
            "reason": f"no case found ({how})",
        })
    elif not entries:
        entries.append({"kind": audit_pb2.AUDIT_KIND_CASES_SEARCHED, "operator": operator,
                        "client": client, "reason": f"no case found ({how})"})
    await asyncio.gather(*(m.recorder.record_async(**e) for e in entries))
    out = case_pb2.ListCasesResponse(cases=cases)
    if len(rows) > size:
        out.next_page_token = str(offset + size)
    return out


def _kind_word(kind: int) -> str:
    return audit_pb2.AuditKind.Name(kind).removeprefix("AUDIT_KIND_").lower()


_ROLE = re.compile(r"[a-z-]{1,40}")


async def history(m: CaseManager, case_id: str, operator: str, *, client: str = ""
                  ) -> case_pb2.CaseHistory:
    """The case's events, oldest first, for staff who may read the case; logged."""
    row = await m.step(m._load, case_id)
    m._require_staff(operator, row.programme, row.township)
    leaves = await m.step(m.store.audit_leaves, case_id)
    out = case_pb2.CaseHistory(case_id=case_id)
    names: dict[str, str] = {}
    for index in leaves:
        entry = decode(await m.step(m.audit_log.leaf, index))
        staff = entry.operator
        if staff and staff not in names:
            person = m.registry.get(staff)
            names[staff] = person.name if person is not None else ""
        out.events.append(case_pb2.CaseEvent(
            at=entry.time, kind=_kind_word(entry.kind), staff_id=staff,
            staff_name=names.get(staff, ""),
            role=entry.role if _ROLE.fullmatch(entry.role or "") else "",
            department=entry.department, outcome=_OUTCOME_WORDS.get(entry.outcome, ""),
            reason=entry.reason, leaf_index=index))
    members = await m.step(m.members, row)
    await m.recorder.record_async(
        audit_pb2.AUDIT_KIND_CASE_HISTORY_VIEWED, operator=operator, case_id=case_id,
        purpose=row.programme, authorization_number=row.authorization_number,
        id_numbers=[x.id_number for x in members], client=client,
        reason=f"case history read ({len(out.events)} events)")
    return out



