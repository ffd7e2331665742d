"""Every role × every action against a real gateway over mutual TLS, each person with
their own certificate: allowed, or refused PERMISSION_DENIED ROLE_NOT_ALLOWED.

The table below is the specification (issue 15), written out apart from
``gateway/access.py`` so that a change to the code's table shows up here. Before the
registry, any desk could do anything as any declared operator.
"""

from __future__ import annotations

import grpc
import pytest
from people_site import PeopleSite, refusal

from hedui.gateway import access, sandbox
from hedui.v1 import audit_pb2, case_pb2

PEOPLE = {"intake-clerk": sandbox.CLERK, "verifier": sandbox.VERIFIER,
          "reviewer": sandbox.REVIEWER, "privacy-officer": sandbox.OFFICER,
          "administrator": sandbox.ADMIN}
ACTIONS = ("register-authorization", "revoke-authorization", "open-case", "verify-case",
           "cancel-case", "review-case", "get-case", "list-cases", "get-report",
           "search-audit", "manage-staff")
Y, N = True, False
#: role → allowed per action, in ACTIONS order
MATRIX = {
    "intake-clerk":    (Y, Y, Y, N, Y, N, Y, Y, Y, N, N),
    "verifier":        (Y, Y, Y, Y, Y, N, Y, Y, Y, N, N),
    "reviewer":        (N, N, N, N, N, Y, Y, Y, Y, N, N),
    "privacy-officer": (N, N, N, N, N, N, N, N, N, Y, N),
    "administrator":   (N, N, N, N, N, N, N, N, N, N, Y),
}
CASE_REFUSALS = {"ROLE_NOT_ALLOWED"}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):
    s = PeopleSite(tmp_path_factory.mktemp("roles"), seed=33)
    try:
        s.start(agents=True)
        yield s
    finally:
        s.stop()


def test_the_code_table_is_the_specification() -> None:
    for role, row in MATRIX.items():
        allowed = {a for a, ok in zip(ACTIONS, row, strict=True) if ok}
        assert {a.value for a in access.ALLOWED[role]} == allowed, role


def _case(site: PeopleSite, *, assessed: bool) -> case_pb2.Case:
    """A case of the clerk's township opened (and verified) by op-1002: nobody in
    PEOPLE opened or verified it, so separation of duties refuses none of them."""
    case = site.open_as("op-1002", site.household(), township=sandbox.TOWNSHIP)
    if assessed:
        with site.person("op-1002") as c:
            case = c.call(c.cases.VerifyCase, case_pb2.VerifyCaseRequest(
                case_id=case.case_id), timeout=90)
        assert case.state == case_pb2.CASE_STATE_AWAITING_REVIEW
    return case


def _act(site: PeopleSite, staff_id: str, action: str) -> str:
    """Do ``action`` as ``staff_id``: "" when it went through, else the refusal reason."""
    if action == "manage-staff":
        result = site.staff_cli("add", f"new-{staff_id}", "--name", "新同事",
                                "--roles", "verifier", "--by", staff_id)
        return "" if result.returncode == 0 else (
            "ROLE_NOT_ALLOWED" if "ROLE_NOT_ALLOWED" in result.stderr + result.stdout
            or "may not manage staff" in result.stderr else result.stderr)
    hh = site.household()
    with site.person(staff_id) as c:
        calls = {
            "register-authorization": lambda: c.cases.RegisterAuthorization(
                case_pb2.RegisterAuthorizationRequest(authorization=hh.authorization)),
            "revoke-authorization": lambda: c.cases.RevokeAuthorization(
                case_pb2.RevokeAuthorizationRequest(number=_registered(site),
                                                    reason="household withdrew")),
            "open-case": lambda: c.cases.OpenCase(_opening(site, hh)),
            "verify-case": lambda: c.cases.VerifyCase(case_pb2.VerifyCaseRequest(
                case_id=_case(site, assessed=False).case_id), timeout=90),
            "cancel-case": lambda: c.cases.CancelCase(case_pb2.CancelCaseRequest(
                case_id=_case(site, assessed=False).case_id, reason="application withdrawn")),
            "review-case": lambda: c.cases.ReviewCase(case_pb2.ReviewCaseRequest(
                case_id=_case(site, assessed=True).case_id,
                verdict=case_pb2.ReviewCaseRequest.VERDICT_APPROVE), timeout=90),
            "get-case": lambda: c.cases.GetCase(case_pb2.GetCaseRequest(
                case_id=_case(site, assessed=False).case_id)),
            "list-cases": lambda: c.cases.ListCases(case_pb2.ListCasesRequest()),
            "get-report": lambda: c.cases.GetReport(case_pb2.GetReportRequest(
                case_id=_case(site, assessed=False).case_id)),
            "search-audit": lambda: c.audit.Search(audit_pb2.SearchRequest(
                kinds=[audit_pb2.AUDIT_KIND_CASE_OPENED], limit=5)),
        }
        try:
            calls[action]()
        except grpc.RpcError as exc:
            why = refusal(exc)
            if exc.code() == grpc.StatusCode.PERMISSION_DENIED and action == "search-audit":
                return "ROLE_NOT_ALLOWED"
            return why.reason or exc.code().name
    return ""


def _registered(site: PeopleSite) -> str:
    hh = site.household()
    with site.person(sandbox.VERIFIER) as c:
        c.call(c.cases.RegisterAuthorization, case_pb2.RegisterAuthorizationRequest(
            authorization=hh.authorization))
    return hh.authorization.number


def _opening(site: PeopleSite, hh) -> case_pb2.OpenCaseRequest:
    with site.person(sandbox.VERIFIER) as c:
        c.call(c.cases.RegisterAuthorization, case_pb2.RegisterAuthorizationRequest(
            authorization=hh.authorization))
    from people_site import opening
    return opening(hh, "", township=sandbox.TOWNSHIP)


@pytest.mark.parametrize("role", list(MATRIX))
def test_role_matrix(site: PeopleSite, role: str) -> None:
    staff_id = PEOPLE[role]
    wrong = []
    for action, allowed in zip(ACTIONS, MATRIX[role], strict=True):
        reason = _act(site, staff_id, action)
        if allowed and reason in CASE_REFUSALS | {"OUTSIDE_SCOPE", "SAME_PERSON"}:
            wrong.append(f"{action}: refused {reason}, should be allowed")
        elif allowed and reason not in ("", "NO_REPORT_YET"):
            wrong.append(f"{action}: failed {reason}")
        elif not allowed and reason != "ROLE_NOT_ALLOWED":
            wrong.append(f"{action}: {reason or 'went through'}, should be ROLE_NOT_ALLOWED")
    assert not wrong, f"{role} ({staff_id}): " + "; ".join(wrong)


def test_refusals_of_a_role_are_logged_with_the_person(site: PeopleSite) -> None:
    case = _case(site, assessed=False)
    with site.person(sandbox.OFFICER) as c, pytest.raises(grpc.RpcError):
        c.cases.GetCase(case_pb2.GetCaseRequest(case_id=case.case_id), timeout=30)
    entry = site.entries()[-1]
    assert entry.kind == audit_pb2.AUDIT_KIND_REQUEST_REFUSED
    assert entry.reason_code == "ROLE_NOT_ALLOWED" and entry.operator == sandbox.OFFICER
    assert entry.client.endswith(f"/staff/{sandbox.OFFICER}")
