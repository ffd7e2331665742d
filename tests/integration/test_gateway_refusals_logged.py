"""The gateway's own refusals, for real: a gateway process over mutual TLS refuses each
bad request with a status whose ErrorInfo names the reason, and writes a
REQUEST_REFUSED entry — outcome REFUSED, the reason code, the client certificate, only
claims that pass their grammar, and the subjects it may name. Registering and revoking
an authorization are logged too (AUTHORIZATION_REGISTERED / REVOKED).

Before these, refused openings, reads and verifications left no trace in the log, a
non-numeric page token was INTERNAL and an unparsable request UNKNOWN naming a Python
class; an unknown programme was "not on the staff list"; three applicants were decided.
"""

from __future__ import annotations

import datetime as dt

import grpc
import pytest
from case_site import LOW_INCOME_ONLY, TODAY, Site, authorization, opening, reason

from hedui.gateway import sandbox
from hedui.gateway.masking import UNREADABLE
from hedui.v1 import audit_pb2, case_pb2, records_pb2

REFUSED = audit_pb2.AUDIT_KIND_REQUEST_REFUSED


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):
    s = Site(tmp_path_factory.mktemp("refusals"), persons=80, seed=22)
    try:
        s.start()
        yield s
    finally:
        s.stop()


def refused(site: Site, method: str, request, operator: str = sandbox.VERIFIER, *,
            officer: bool = False):
    """Call ``method``; the refusal's reason and the REQUEST_REFUSED entry it wrote."""
    before = len(site.entries())
    with site.client(operator, officer=officer) as c, pytest.raises(grpc.RpcError) as info:
        getattr(c.cases, method)(request, timeout=30)
    why = reason(info.value)
    assert why.reason, f"{method}: no ErrorInfo reason in {info.value}"
    assert info.value.code() not in (grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL)
    new = [e for e in site.entries()[before:] if e.kind == REFUSED]
    assert len(new) == 1, f"{method} refused ({why.reason}) but wrote {len(new)} entries"
    entry = new[0]
    assert entry.outcome == audit_pb2.AUDIT_OUTCOME_REFUSED
    assert entry.reason_code == why.reason and method in entry.reason
    assert entry.client == site.sb.officer.id if officer else entry.client == site.sb.desk.id
    return why, entry


def secrets_of(*members: case_pb2.Member) -> list[bytes]:
    return [s for m in members for s in (m.id_number.encode(), m.name.encode())]


def assert_no_personal_data(entry: audit_pb2.AuditEntry, *members: case_pb2.Member) -> None:
    raw = entry.SerializeToString()
    assert not [s for s in secrets_of(*members) if s in raw]


# ------------------------------------------------------------------ openings


def test_opening_by_an_operator_not_on_the_staff_list_is_refused_and_logged(site: Site) -> None:
    hh = site.household()
    why, entry = refused(site, "OpenCase", opening(hh, "op-9999"), "op-9999")
    assert why.code == grpc.StatusCode.PERMISSION_DENIED and why.reason == "NOT_ON_STAFF_LIST"
    assert entry.operator == "op-9999" and entry.purpose == "dibao"
    # an authenticated desk named these people: their access reports show the attempt
    assert sorted(entry.subject_pseudonyms) == sorted(site.pseudonym(m.id_number)
                                                      for m in hh.members)
    assert_no_personal_data(entry, *hh.members)


@pytest.mark.parametrize("claimed", ["110101198001010053", "张三", "OP 1001; DROP", "x" * 40])
def test_a_claimed_operator_outside_the_grammar_is_not_logged(site: Site, claimed: str) -> None:
    hh = site.household()
    why, entry = refused(site, "OpenCase", opening(hh, claimed), claimed)
    assert why.reason == "NOT_ON_STAFF_LIST"
    assert entry.operator == UNREADABLE
    assert claimed.encode() not in entry.SerializeToString()
    assert claimed not in why.message


def test_unknown_programme_is_unknown_not_a_staff_matter(site: Site) -> None:
    hh = site.household()
    why, entry = refused(site, "OpenCase", opening(hh, programme="dibaoo"))
    assert why.code == grpc.StatusCode.INVALID_ARGUMENT and why.reason == "UNKNOWN_PROGRAMME"
    assert why.message.startswith("no programme 'dibaoo'; known: ") and "dibao," in why.message
    assert "staff" not in why.message
    assert entry.purpose == "dibaoo"
    auth = authorization("SQ-UNK-1", list(hh.members), programme="dibaoo")
    why, _ = refused(site, "RegisterAuthorization", case_pb2.RegisterAuthorizationRequest(
        authorization=auth, operator=sandbox.VERIFIER))
    assert why.reason == "UNKNOWN_PROGRAMME"


def test_purpose_outside_social_assistance_is_refused_and_logged(site: Site) -> None:
    hh = site.household()
    why, entry = refused(site, "OpenCase", opening(hh, programme="credit-scoring"))
    assert why.code == grpc.StatusCode.PERMISSION_DENIED
    assert why.reason == "NOT_A_SOCIAL_ASSISTANCE_PURPOSE"
    assert entry.purpose == "credit-scoring" and len(entry.subject_pseudonyms) == len(hh.members)


def test_unregistered_authorization_is_refused_and_logged(site: Site) -> None:
    hh = site.household()  # not registered
    why, entry = refused(site, "OpenCase", opening(hh))
    assert why.reason == "AUTHORIZATION_NOT_FOUND"
    assert entry.authorization_number == hh.authorization.number


def test_expired_authorization_is_refused_and_logged(site: Site) -> None:
    hh = site.household()
    old = authorization("SQ-OLD-1", list(hh.members), start=TODAY - dt.timedelta(days=400),
                        end=TODAY - dt.timedelta(days=35))
    with site.client() as c:
        c.call(c.cases.RegisterAuthorization, case_pb2.RegisterAuthorizationRequest(
            authorization=old, operator=sandbox.VERIFIER))
    why, entry = refused(site, "OpenCase", opening(hh, authorization_number="SQ-OLD-1"))
    assert why.reason == "AUTHORIZATION_EXPIRED" and "expired" in why.message
    assert entry.authorization_number == "SQ-OLD-1" and entry.subject_pseudonyms


def test_member_not_covered_is_refused_and_logged(site: Site) -> None:
    hh = site.household()
    for _ in range(200):
        if len(hh.members) >= 2:
            break
        hh = site.household()
    partial = authorization("SQ-PART-1", list(hh.members[:1]))
    with site.client() as c:
        c.call(c.cases.RegisterAuthorization, case_pb2.RegisterAuthorizationRequest(
            authorization=partial, operator=sandbox.VERIFIER))
    why, entry = refused(site, "OpenCase", opening(hh, authorization_number="SQ-PART-1"))
    assert why.reason == "MEMBER_NOT_COVERED" and why.metadata["members"].startswith("2")
    assert len(entry.subject_pseudonyms) == len(hh.members)


def test_a_household_has_exactly_one_applicant(site: Site) -> None:
    hh = site.household()
    members = [case_pb2.Member(id_number=m.id_number, name=m.name,
                               relation=records_pb2.RELATION_SELF) for m in hh.members]
    while len(members) < 3:
        members = [case_pb2.Member(id_number=m.id_number, name=m.name,
                                   relation=records_pb2.RELATION_SELF)
                   for m in site.household().members]
    members = members[:3]  # households of four or more exist: three applicants, exactly
    with site.client() as c:
        c.call(c.cases.RegisterAuthorization, case_pb2.RegisterAuthorizationRequest(
            authorization=authorization("SQ-SELF-3", members), operator=sandbox.VERIFIER))
    why, _ = refused(site, "OpenCase", opening(hh, authorization_number="SQ-SELF-3",
                                               members=members))
    assert why.reason == "ONE_APPLICANT_REQUIRED" and why.metadata["applicants"] == "3"
    none = [case_pb2.Member(id_number=m.id_number, name=m.name,
                            relation=records_pb2.RELATION_CHILD) for m in members]
    why, _ = refused(site, "OpenCase", opening(hh, authorization_number="SQ-SELF-3",
                                               members=none))
    assert why.reason == "ONE_APPLICANT_REQUIRED" and why.metadata["applicants"] == "0"


def test_a_malformed_id_number_is_named_by_position_and_never_logged(site: Site) -> None:
    hh = site.household()
    bad = hh.members[0].id_number[:-1] + ("0" if hh.members[0].id_number[-1] != "0" else "1")
    members = [case_pb2.Member(id_number=bad, name=hh.members[0].name,
                               relation=hh.members[0].relation), *hh.members[1:]]
    why, entry = refused(site, "OpenCase", opening(hh, members=members))
    assert why.reason == "MALFORMED_ID_NUMBER" and why.metadata == {"member": "1"}
    assert bad not in why.message
    assert len(entry.subject_pseudonyms) == len(hh.members) - 1  # the well-formed ones
    assert bad.encode() not in entry.SerializeToString()
    assert_no_personal_data(entry, *hh.members)


# ------------------------------------------------------------------ a case's requests


def test_reads_and_verification_of_a_case_by_a_stranger_are_refused_and_logged(
        site: Site) -> None:
    hh = site.household()
    case = site.open(hh)
    members = {site.pseudonym(m.id_number) for m in hh.members}
    for method, request in (
            ("GetCase", case_pb2.GetCaseRequest(case_id=case.case_id, operator="op-9999")),
            ("VerifyCase", case_pb2.VerifyCaseRequest(case_id=case.case_id,
                                                      operator="op-9999")),
            ("GetReport", case_pb2.GetReportRequest(case_id=case.case_id, operator="op-9999")),
            ("RetryCase", case_pb2.RetryCaseRequest(case_id=case.case_id, operator="op-9999")),
            ("CancelCase", case_pb2.CancelCaseRequest(case_id=case.case_id, reason="no",
                                                      operator="op-9999"))):
        why, entry = refused(site, method, request, "op-9999")
        assert why.reason == "NOT_ON_STAFF_LIST", method
        # the case's own members (from the store): who tried to read their case
        assert set(entry.subject_pseudonyms) == members and entry.case_id == case.case_id
        assert entry.operator == "op-9999" and entry.purpose == "dibao"
    # staff of another programme is a stranger too
    why, _ = refused(site, "GetCase", case_pb2.GetCaseRequest(
        case_id=case.case_id, operator=LOW_INCOME_ONLY), LOW_INCOME_ONLY)
    assert why.reason == "NOT_ON_STAFF_LIST"
    why, entry = refused(site, "GetReport", case_pb2.GetReportRequest(
        case_id=case.case_id, operator=sandbox.VERIFIER))
    assert why.reason == "NO_REPORT_YET" and why.code == grpc.StatusCode.FAILED_PRECONDITION


def test_an_unknown_case_is_not_found_and_logged_without_subjects(site: Site) -> None:
    for case_id in ("case-20260101-000000000000", "110101198001010053"):
        why, entry = refused(site, "GetCase", case_pb2.GetCaseRequest(
            case_id=case_id, operator=sandbox.VERIFIER))
        assert why.code == grpc.StatusCode.NOT_FOUND and why.reason == "CASE_NOT_FOUND"
        assert not entry.subject_pseudonyms
        assert entry.case_id == (case_id if case_id.startswith("case-") else UNREADABLE)
        assert "110101198001010053" not in why.message


def test_a_wrong_state_has_its_reason(site: Site) -> None:
    case = site.open(site.household())
    with site.client() as c:
        c.call(c.cases.CancelCase, case_pb2.CancelCaseRequest(
            case_id=case.case_id, reason="household moved away", operator=sandbox.VERIFIER))
    why, _ = refused(site, "VerifyCase", case_pb2.VerifyCaseRequest(
        case_id=case.case_id, operator=sandbox.VERIFIER))
    assert why.reason == "WRONG_STATE" and "household moved away" in why.message
    why, _ = refused(site, "CancelCase", case_pb2.CancelCaseRequest(
        case_id=case.case_id, reason="again", operator=sandbox.VERIFIER))
    assert why.reason == "WRONG_STATE"
    other = site.open(site.household())
    why, _ = refused(site, "CancelCase", case_pb2.CancelCaseRequest(
        case_id=other.case_id, reason="wrote 110101198001010053 here",
        operator=sandbox.VERIFIER))
    assert why.reason == "REASON_HAS_PERSONAL_DATA"


def test_listing_by_a_non_staff_operator_or_with_a_bad_token_is_refused(site: Site) -> None:
    for operator, officer, want in (("", False, "NO_OPERATOR"),
                                    ("op-9999", False, "NOT_ON_STAFF_LIST"),
                                    (sandbox.OFFICER, True, "NOT_ON_STAFF_LIST")):
        why, entry = refused(site, "ListCases", case_pb2.ListCasesRequest(operator=operator),
                             operator, officer=officer)
        assert why.reason == want and not entry.subject_pseudonyms
    why, _ = refused(site, "ListCases", case_pb2.ListCasesRequest(
        operator=sandbox.VERIFIER, page_token="abc"))
    assert why.code == grpc.StatusCode.INVALID_ARGUMENT and why.reason == "BAD_PAGE_TOKEN"
    why, _ = refused(site, "ListCases", case_pb2.ListCasesRequest(
        operator=sandbox.VERIFIER, page_token="99999999999999999999"))
    assert why.reason == "BAD_PAGE_TOKEN"
    why, _ = refused(site, "ListCases", case_pb2.ListCasesRequest(
        operator=sandbox.VERIFIER, state=99))  # type: ignore[arg-type]
    assert why.reason == "UNKNOWN_STATE"


def test_an_unparsable_request_is_invalid_argument_and_logged(site: Site) -> None:
    before = len(site.entries())
    with site.channel() as channel:
        call = channel.unary_unary("/hedui.v1.CaseService/GetCase")
        with pytest.raises(grpc.RpcError) as info:
            call(b"\x0a\x02\xff\xfe", timeout=10)  # field 1 (case_id) is not UTF-8
    why = reason(info.value)
    assert why.code == grpc.StatusCode.INVALID_ARGUMENT and why.reason == "MALFORMED_REQUEST"
    assert "DecodeError" not in why.message and "class" not in why.message
    entry = site.entries()[before]
    assert entry.kind == REFUSED and entry.reason_code == "MALFORMED_REQUEST"
    assert not entry.operator and not entry.subject_pseudonyms


# ------------------------------------------------------------------ authorizations


def test_registering_and_revoking_an_authorization_are_logged_with_its_members(
        site: Site) -> None:
    hh = site.household()
    covered = sorted(site.pseudonym(m.id_number) for m in hh.members)
    before = len(site.entries())
    with site.client() as c:
        c.call(c.cases.RegisterAuthorization, case_pb2.RegisterAuthorizationRequest(
            authorization=hh.authorization, operator=sandbox.VERIFIER))
        c.call(c.cases.RevokeAuthorization, case_pb2.RevokeAuthorizationRequest(
            number=hh.authorization.number, reason="withdrawn in writing",
            operator=sandbox.VERIFIER))
    new = site.entries()[before:]
    assert [e.kind for e in new] == [audit_pb2.AUDIT_KIND_AUTHORIZATION_REGISTERED,
                                     audit_pb2.AUDIT_KIND_AUTHORIZATION_REVOKED]
    for e in new:
        assert sorted(e.subject_pseudonyms) == covered
        assert e.authorization_number == hh.authorization.number and e.purpose == "dibao"
        assert e.operator == sandbox.VERIFIER and e.client == site.sb.desk.id
        assert_no_personal_data(e, *hh.members)
    assert new[1].reason == "authorization revoked: withdrawn in writing"
    # registered twice: refused with its own reason, which the CLI relies on
    why, _ = refused(site, "RegisterAuthorization", case_pb2.RegisterAuthorizationRequest(
        authorization=hh.authorization, operator=sandbox.VERIFIER))
    assert why.reason == "AUTHORIZATION_ALREADY_REGISTERED"
    # a stranger revoking: refused, and the authorization's members see it
    why, entry = refused(site, "RevokeAuthorization", case_pb2.RevokeAuthorizationRequest(
        number=hh.authorization.number, reason="x", operator="op-9999"), "op-9999")
    assert why.reason == "NOT_ON_STAFF_LIST" and sorted(entry.subject_pseudonyms) == covered


def test_the_gateway_still_serves_and_logs_no_personal_data(site: Site) -> None:
    """Runs last: everything above is in the log; none of it is an ID number or a name."""
    assert site.alive()
    raw = site.raw_log()
    people = [m for h in site.samples for m in h["members"]]
    leaks = [m["id_number"] for m in people if m["id_number"].encode() in raw]
    leaks += [m["name"] for m in people if m["name"].encode() in raw]
    assert not leaks
