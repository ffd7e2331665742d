"""SearchCases and GetCaseHistory against a real gateway with people: found by ID number
(any spelling), by name, by case id and dates; never outside the searcher's scope; every
search in the audit log naming the person searched for, never the number or the name."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from people_site import PeopleSite

from hedui import china_time
from hedui.gateway import sandbox
from hedui.gateway.client import GatewayError
from hedui.v1 import audit_pb2, case_pb2, common_pb2


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PeopleSite]:
    s = PeopleSite(Path(tmp_path_factory.mktemp("search")))
    s.start()
    try:
        yield s
    finally:
        s.stop()


def _search(site: PeopleSite, staff: str, **filters) -> case_pb2.ListCasesResponse:
    with site.person(staff) as c:
        return c.call(c.cases.SearchCases, case_pb2.SearchCasesRequest(**filters))


def _pb(day: dt.date) -> common_pb2.Date:
    return common_pb2.Date(year=day.year, month=day.month, day=day.day)


def test_a_person_s_case_is_found_by_any_spelling_of_their_id_number(site: PeopleSite
                                                                      ) -> None:
    hh = site.household()
    case = site.open_as(sandbox.VERIFIER, hh)
    member = hh.members[-1]
    full_width = member.id_number[:17].translate(
        {ord(c): 0xFF10 + int(c) for c in "0123456789"}) + member.id_number[17].lower()
    for spelling in (member.id_number, full_width):
        found = _search(site, sandbox.VERIFIER, id_number=spelling)
        assert [c.case_id for c in found.cases] == [case.case_id]
    shown = found.cases[0].members
    assert all("*" in m.id_number and m.id_number != member.id_number for m in shown)
    by_name = _search(site, sandbox.VERIFIER, name=" ".join(member.name))  # spaces ignored
    assert case.case_id in [c.case_id for c in by_name.cases]
    both = _search(site, sandbox.VERIFIER, id_number=member.id_number, name="别人")
    assert not both.cases  # the name must agree with the number
    by_id = _search(site, sandbox.REVIEWER, case_id=case.case_id)
    assert [c.case_id for c in by_id.cases] == [case.case_id]
    today = china_time.today()
    dated = _search(site, sandbox.VERIFIER, opened_from=_pb(today - dt.timedelta(days=1)),
                    opened_until=_pb(today + dt.timedelta(days=1)))
    assert case.case_id in [c.case_id for c in dated.cases]
    earlier = _search(site, sandbox.VERIFIER, opened_until=_pb(today - dt.timedelta(days=2)))
    assert case.case_id not in [c.case_id for c in earlier.cases]


def test_every_search_is_logged_with_the_person_searched_for_and_never_the_number(
        site: PeopleSite) -> None:
    hh = site.household()
    nobody = hh.members[0].id_number  # not opened: nothing to find
    before = len(site.entries())
    assert not _search(site, sandbox.VERIFIER, id_number=nobody).cases
    assert not _search(site, sandbox.VERIFIER, name=hh.members[0].name + "无此人").cases
    new = site.entries()[before:]
    searched = [e for e in new if e.kind == audit_pb2.AUDIT_KIND_CASES_SEARCHED]
    assert len(searched) == 2
    assert list(searched[0].subject_pseudonyms) == [site.pseudonym(nobody)]
    assert searched[0].operator == sandbox.VERIFIER and searched[0].role == "verifier"
    assert "id_number" in searched[0].reason and "name" in searched[1].reason
    assert not searched[1].subject_pseudonyms
    raw = site.raw_log()
    assert nobody.encode() not in raw
    assert hh.members[0].name.encode("utf-8") not in raw


def test_a_clerk_finds_only_their_township_s_cases(site: PeopleSite) -> None:
    county = site.open_as(sandbox.VERIFIER, site.household())
    theirs = site.open_as(sandbox.CLERK, site.household(), township=sandbox.TOWNSHIP)
    found = _search(site, sandbox.CLERK, state=case_pb2.CASE_STATE_OPEN)
    ids = [c.case_id for c in found.cases]
    assert theirs.case_id in ids and county.case_id not in ids
    assert not _search(site, sandbox.CLERK, case_id=county.case_id).cases
    with pytest.raises(GatewayError) as info:
        _search(site, sandbox.CLERK, township="310112002")
    assert info.value.code == grpc.StatusCode.PERMISSION_DENIED
    assert info.value.reason == "OUTSIDE_SCOPE"


@pytest.mark.parametrize(("filters", "reason"), [
    ({}, "SEARCH_WITHOUT_FILTER"),
    ({"id_number": "110101199003071234"}, "MALFORMED_ID_NUMBER"),
    ({"case_id": "case-1; DROP TABLE cases"}, "MALFORMED_CASE_ID"),
    ({"opened_from": common_pb2.Date(year=2026, month=2, day=30)}, "BAD_DATE_RANGE"),
    ({"opened_from": common_pb2.Date(year=2026, month=5, day=2),
      "opened_until": common_pb2.Date(year=2026, month=5, day=1)}, "BAD_DATE_RANGE"),
    ({"township": "31011200"}, "BAD_TOWNSHIP"),
])
def test_a_bad_search_is_refused_with_its_reason(site: PeopleSite, filters: dict,
                                                 reason: str) -> None:
    with pytest.raises(GatewayError) as info:
        _search(site, sandbox.VERIFIER, **filters)
    assert info.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert info.value.reason == reason


def test_roles_without_case_work_cannot_search(site: PeopleSite) -> None:
    for staff in (sandbox.OFFICER, sandbox.ADMIN):
        with pytest.raises(GatewayError) as info:
            _search(site, staff, state=case_pb2.CASE_STATE_OPEN)
        assert info.value.reason == "ROLE_NOT_ALLOWED"


def test_a_case_s_history_says_who_did_what_and_is_logged(site: PeopleSite) -> None:
    case = site.open_as(sandbox.VERIFIER, site.household())
    with site.person(sandbox.VERIFIER) as c:
        c.call(c.cases.CancelCase, case_pb2.CancelCaseRequest(
            case_id=case.case_id, reason="the household withdrew its application"))
    before = len(site.entries())
    with site.person(sandbox.REVIEWER) as c:
        history = c.call(c.cases.GetCaseHistory,
                         case_pb2.GetCaseHistoryRequest(case_id=case.case_id))
    kinds = [e.kind for e in history.events]
    assert kinds[0] == "case_opened" and kinds[-1] == "case_cancelled"
    opened = history.events[0]
    assert opened.staff_id == sandbox.VERIFIER and opened.staff_name == "核对员丙"
    assert opened.role == "verifier" and opened.at.seconds > 0
    viewed = [e for e in site.entries()[before:]
              if e.kind == audit_pb2.AUDIT_KIND_CASE_HISTORY_VIEWED]
    assert len(viewed) == 1 and viewed[0].case_id == case.case_id
    assert viewed[0].operator == sandbox.REVIEWER and viewed[0].subject_pseudonyms
    with pytest.raises(GatewayError) as info, site.person(sandbox.CLERK) as c:
        c.call(c.cases.GetCaseHistory, case_pb2.GetCaseHistoryRequest(case_id=case.case_id))
    assert info.value.reason == "OUTSIDE_SCOPE"
