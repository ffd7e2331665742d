"""The level-by-level flow over real processes: a township clerk takes the application
(受理), a verifier verifies (核对), another person reviews (审核), and only then is the
report issued (出具报告) — the report and the audit log name each of them, in their role.

Before this, the operator was whatever a desk declared, any desk could act as op-1001,
a disabled person did not exist, and a report was issued by whoever verified.
"""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from people_site import PeopleSite, kinds, refusal

from hedui.gateway import report as report_mod
from hedui.gateway import sandbox
from hedui.v1 import case_pb2

Verdict = case_pb2.ReviewCaseRequest.Verdict


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):
    s = PeopleSite(tmp_path_factory.mktemp("review"))
    try:
        s.start(agents=True)
        yield s
    finally:
        s.stop()


def verify(site: PeopleSite, staff_id: str, case_id: str) -> case_pb2.Case:
    with site.person(staff_id) as c:
        return c.call(c.cases.VerifyCase, case_pb2.VerifyCaseRequest(case_id=case_id),
                      timeout=90)


def review(site: PeopleSite, staff_id: str, case_id: str, verdict=Verdict.VERDICT_APPROVE,
           reason: str = "") -> case_pb2.Case:
    with site.person(staff_id) as c:
        return c.call(c.cases.ReviewCase, case_pb2.ReviewCaseRequest(
            case_id=case_id, verdict=verdict, reason=reason), timeout=90)


def test_intake_verification_review_report_each_by_another_person(site: PeopleSite) -> None:
    hh = site.household()
    case = site.open_as(sandbox.CLERK, hh)
    assert case.operator == sandbox.CLERK and case.township == sandbox.TOWNSHIP
    case = verify(site, sandbox.VERIFIER, case.case_id)
    assert case.state == case_pb2.CASE_STATE_AWAITING_REVIEW
    assert case.verifier == sandbox.VERIFIER and case.outcome
    with site.person(sandbox.VERIFIER) as c, pytest.raises(grpc.RpcError) as info:
        c.cases.GetReport(case_pb2.GetReportRequest(case_id=case.case_id), timeout=30)
    assert refusal(info.value).reason == "NO_REPORT_YET"  # no report before review
    decided = review(site, sandbox.REVIEWER, case.case_id)
    assert decided.state == case_pb2.CASE_STATE_DECIDED and decided.reviewer == sandbox.REVIEWER
    with site.person(sandbox.REVIEWER) as c:
        envelope = c.call(c.cases.GetReport, case_pb2.GetReportRequest(case_id=case.case_id))
    report = case_pb2.DeterminationReport.FromString(envelope.payload)
    assert [(s.step, s.staff_id) for s in report.steps] == [
        ("intake", sandbox.CLERK), ("verification", sandbox.VERIFIER),
        ("review", sandbox.REVIEWER)]
    assert report.steps[0].name == "乡镇经办乙"
    path = site.sb.root / "flow.report"
    path.write_bytes(envelope.SerializeToString())
    result = site.cli("report", "verify", str(path), "--bundle", str(site.sb.bundle),
                      "--root-pub", str(site.sb.root_public_key))
    assert result.returncode == 0, result.stdout + result.stderr
    trail = kinds(site.entries(), case.case_id)
    assert ("CASE_OPENED", sandbox.CLERK, "intake-clerk") in trail
    assert ("CASE_ASSESSED", sandbox.VERIFIER, "verifier") in trail
    assert ("CASE_REVIEWED", sandbox.REVIEWER, "reviewer") in trail
    assert ("CASE_DECIDED", sandbox.REVIEWER, "reviewer") in trail
    assert ("REPORT_VIEWED", sandbox.REVIEWER, "reviewer") in trail
    assert any(k == "QUERY_SENT" and op == sandbox.VERIFIER and role == "verifier"
               for k, op, role in trail)


def test_a_reviewer_who_verified_the_case_cannot_approve_it(site: PeopleSite) -> None:
    case = site.open_as(sandbox.VERIFIER, site.household())
    # rv-4002 is both reviewer and verifier: they verify it ...
    case = verify(site, "rv-4002", case.case_id)
    assert case.state == case_pb2.CASE_STATE_AWAITING_REVIEW
    with pytest.raises(Exception) as info:
        review(site, "rv-4002", case.case_id)
    assert "SAME_PERSON" in str(info.value)
    # ... and one who opened a case cannot review it either
    opened = site.open_as("rv-4002", site.household())
    verify(site, sandbox.VERIFIER, opened.case_id)
    with pytest.raises(Exception) as info:
        review(site, "rv-4002", opened.case_id)
    assert "SAME_PERSON" in str(info.value)
    assert review(site, sandbox.REVIEWER, opened.case_id).state == case_pb2.CASE_STATE_DECIDED


def test_a_returned_case_is_retried_and_reviewed_again(site: PeopleSite) -> None:
    case = site.open_as(sandbox.CLERK, site.household())
    verify(site, sandbox.VERIFIER, case.case_id)
    with pytest.raises(Exception) as info:
        review(site, sandbox.REVIEWER, case.case_id, Verdict.VERDICT_RETURN)
    assert "REASON_REQUIRED" in str(info.value)
    back = review(site, sandbox.REVIEWER, case.case_id, Verdict.VERDICT_RETURN,
                  "income of the spouse to be checked again")
    assert back.state == case_pb2.CASE_STATE_RETURNED and "rv-4001" in back.state_reason
    again = verify(site, "op-1002", case.case_id)
    assert again.state == case_pb2.CASE_STATE_AWAITING_REVIEW and again.verifier == "op-1002"
    done = review(site, sandbox.REVIEWER, case.case_id)
    assert done.state == case_pb2.CASE_STATE_DECIDED and done.verifier == "op-1002"


def test_hedui_review_command_approves_with_the_reviewers_certificate(site: PeopleSite) -> None:
    case = site.open_as(sandbox.CLERK, site.household())
    verify(site, sandbox.VERIFIER, case.case_id)
    result = site.cli("review", case.case_id, "--approve",
                      "--client", str(site.files[sandbox.REVIEWER]))
    assert result.returncode == 0, result.stderr
    assert f"approved by {sandbox.REVIEWER}" in result.stdout


def test_a_certificate_cannot_act_as_another_operator(site: PeopleSite) -> None:
    case = site.open_as(sandbox.CLERK, site.household())
    verify(site, sandbox.VERIFIER, case.case_id)
    # op-1001's own certificate, declaring the reviewer: refused, and logged as op-1001
    with site.person(sandbox.VERIFIER, declares=sandbox.REVIEWER) as c, \
            pytest.raises(grpc.RpcError) as info:
        c.cases.ReviewCase(case_pb2.ReviewCaseRequest(
            case_id=case.case_id, verdict=Verdict.VERDICT_APPROVE,
            operator=sandbox.REVIEWER), timeout=30)
    assert refusal(info.value).reason == "OPERATOR_MISMATCH"
    entry = site.entries()[-1]
    assert entry.reason_code == "OPERATOR_MISMATCH" and entry.operator == sandbox.VERIFIER
    # a desk certificate may no longer declare an operator at all
    with site.client(sandbox.REVIEWER) as c, pytest.raises(grpc.RpcError) as info:
        c.cases.GetCase(case_pb2.GetCaseRequest(case_id=case.case_id,
                                                operator=sandbox.REVIEWER), timeout=30)
    assert refusal(info.value).reason == "OPERATOR_NOT_AUTHENTICATED"


def test_a_disabled_member_is_refused_at_once(site: PeopleSite) -> None:
    case = site.open_as("op-1002", site.household())
    result = site.staff_cli("disable", "op-1002", "--by", sandbox.ADMIN,
                            "--reason", "left the center")
    assert result.returncode == 0, result.stderr
    with site.person("op-1002") as c, pytest.raises(grpc.RpcError) as info:
        c.cases.GetCase(case_pb2.GetCaseRequest(case_id=case.case_id), timeout=30)
    assert refusal(info.value).reason == "STAFF_DISABLED"
    changed = [e for e in site.entries() if e.reason_code == "" and
               e.kind == 25 and "op-1002" in e.reason]
    assert changed and changed[-1].operator == sandbox.ADMIN
    assert site.staff_cli("enable", "op-1002", "--by", sandbox.ADMIN).returncode == 0
    with site.person("op-1002") as c:
        c.call(c.cases.GetCase, case_pb2.GetCaseRequest(case_id=case.case_id))


def test_a_township_clerk_sees_only_their_townships_cases(site: PeopleSite) -> None:
    county = site.open_as(sandbox.VERIFIER, site.household())
    mine = site.open_as(sandbox.CLERK, site.household())
    with site.person(sandbox.CLERK) as c:
        with pytest.raises(grpc.RpcError) as info:
            c.cases.GetCase(case_pb2.GetCaseRequest(case_id=county.case_id), timeout=30)
        assert refusal(info.value).reason == "OUTSIDE_SCOPE"
        listed = c.call(c.cases.ListCases, case_pb2.ListCasesRequest(page_size=500)).cases
        assert mine.case_id in {x.case_id for x in listed}
        assert {x.township for x in listed} == {sandbox.TOWNSHIP}
        with pytest.raises(grpc.RpcError) as info:
            c.cases.OpenCase(case_pb2.OpenCaseRequest(
                programme="dibao", region="310000", township="310112002"), timeout=30)
        assert refusal(info.value).reason == "OUTSIDE_SCOPE"


def test_report_verification_refuses_a_reviewer_who_verified(site: PeopleSite) -> None:
    """The offline check holds separation of duties too (a forged report would need the
    gateway's key; this is the rule as code)."""
    steps = [case_pb2.CaseStep(step="intake", staff_id="a"),
             case_pb2.CaseStep(step="verification", staff_id="b"),
             case_pb2.CaseStep(step="review", staff_id="b")]
    with pytest.raises(ValueError, match="also opened or verified"):
        report_mod._check_step_list(steps, ValueError)


def test_hedui_verify_stops_at_review_and_says_who_is_next(site: PeopleSite,
                                                           tmp_path: Path) -> None:
    """A verifier's `hedui verify --household` ends at 审核: exit 0 and the next step, not
    "retry later"; the reviewer's `hedui review` then issues the report."""
    site.household()
    path = site.sb.root / f"hh-{site._n}.toml"  # the file household() just wrote
    out = tmp_path / "reports"
    result = site.cli("verify", "--client", str(site.files[sandbox.VERIFIER]),
                      "--household", str(path), "--out", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "retry" not in result.stdout and "review" in result.stdout.lower()
    case_id = next(w for w in result.stdout.split() if w.startswith("case-")).rstrip(":")
    approved = site.cli("review", case_id, "--approve",
                        "--client", str(site.files[sandbox.REVIEWER]))
    assert approved.returncode == 0, approved.stderr
