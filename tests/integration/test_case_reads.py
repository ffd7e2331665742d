"""Reading cases, for real: a gateway and eight agents over mutual TLS.

Every read of a case is for staff of its programme and leaves an audit entry naming
the operator, the case and its members' pseudonyms, so a person's access report shows
who *looked at* their case. Listings show only the operator's programmes, members
masked. Before: ListCases had no staff check and no entry — any allowed client, with
operator '' or one on no list, got every case's members in plaintext — and GetCase
and the report fetch left no trace in anybody's access report.
"""

from __future__ import annotations

import json

import grpc
import pytest
from case_site import LOW_INCOME_ONLY, Site, reason

from hedui.gateway import sandbox, verifying
from hedui.gateway.masking import mask_id_number, mask_name
from hedui.v1 import audit_pb2, case_pb2

K = audit_pb2


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):
    s = Site(tmp_path_factory.mktemp("reads"), persons=200, seed=23)
    try:
        s.start(agents=True)
        yield s
    finally:
        s.stop()


@pytest.fixture(scope="module")
def cases(site: Site) -> dict[str, tuple[case_pb2.Case, list[case_pb2.Member]]]:
    """A dibao case and a low-income case, open; by programme."""
    out = {}
    for programme in ("dibao", "low-income"):
        hh = site.household(programme)
        out[programme] = (site.open(hh), list(hh.members))
    return out


def new_entries(site: Site, before: int) -> list[audit_pb2.AuditEntry]:
    return site.entries()[before:]


def test_get_case_is_for_staff_and_logged_with_the_members(site: Site, cases) -> None:
    case, members = cases["dibao"]
    before = len(site.entries())
    with site.client() as c:
        got = c.call(c.cases.GetCase, case_pb2.GetCaseRequest(case_id=case.case_id,
                                                              operator=sandbox.VERIFIER))
    assert [m.id_number for m in got.members] == [m.id_number for m in members]  # in full
    [entry] = new_entries(site, before)
    assert entry.kind == K.AUDIT_KIND_CASE_VIEWED and entry.case_id == case.case_id
    assert entry.operator == sandbox.VERIFIER and entry.client == site.sb.desk.id
    assert sorted(entry.subject_pseudonyms) == sorted(site.pseudonym(m.id_number)
                                                      for m in members)


def test_list_cases_shows_masked_members_and_logs_each_listed_case(site: Site, cases) -> None:
    before = len(site.entries())
    with site.client() as c:
        reply = c.call(c.cases.ListCases, case_pb2.ListCasesRequest(operator=sandbox.VERIFIER))
    listed = {x.case_id: x for x in reply.cases}
    raw = reply.SerializeToString()
    for case, members in cases.values():
        shown = listed[case.case_id]
        assert [m.id_number for m in shown.members] == [mask_id_number(m.id_number)
                                                        for m in members]
        assert [m.name for m in shown.members] == [mask_name(m.name) for m in members]
        assert [m.relation for m in shown.members] == [m.relation for m in members]
        for m in members:
            assert m.id_number.encode() not in raw and m.name.encode() not in raw
    entries = new_entries(site, before)
    assert {e.kind for e in entries} == {K.AUDIT_KIND_CASES_LISTED}
    assert sorted(e.case_id for e in entries) == sorted(listed)  # one entry per listed case
    for case, members in cases.values():
        [e] = [e for e in entries if e.case_id == case.case_id]
        assert sorted(e.subject_pseudonyms) == sorted(site.pseudonym(m.id_number)
                                                      for m in members)
        assert e.operator == sandbox.VERIFIER and e.purpose == case.programme


def test_list_cases_shows_only_the_operators_programmes(site: Site, cases) -> None:
    with site.client(LOW_INCOME_ONLY) as c:
        reply = c.call(c.cases.ListCases, case_pb2.ListCasesRequest(operator=LOW_INCOME_ONLY))
        assert {x.programme for x in reply.cases} == {"low-income"}
        assert cases["low-income"][0].case_id in {x.case_id for x in reply.cases}
        with pytest.raises(grpc.RpcError) as info:
            c.cases.ListCases(case_pb2.ListCasesRequest(operator=LOW_INCOME_ONLY,
                                                        programme="dibao"))
    assert reason(info.value).reason == "NOT_ON_STAFF_LIST"


def test_pages_cover_every_case_once(site: Site, cases) -> None:
    seen: list[str] = []
    token = ""
    with site.client() as c:
        while True:
            page = c.call(c.cases.ListCases, case_pb2.ListCasesRequest(
                operator=sandbox.VERIFIER, page_size=1, page_token=token))
            seen += [x.case_id for x in page.cases]
            token = page.next_page_token
            if not token:
                break
            assert token.isdigit()
    assert len(seen) == len(set(seen)) and {c.case_id for c, _ in cases.values()} <= set(seen)


def test_the_report_fetch_names_its_subjects(site: Site) -> None:
    hh = site.household(label="eligible")
    with site.client() as c:
        case = verifying.decide(c, hh)
        assert case.state == case_pb2.CASE_STATE_DECIDED, verifying.summary(case)
        before = len(site.entries())
        c.call(c.cases.GetReport, case_pb2.GetReportRequest(case_id=case.case_id,
                                                            operator=sandbox.VERIFIER))
        [viewed] = new_entries(site, before)
        again = c.call(c.cases.VerifyCase, case_pb2.VerifyCaseRequest(
            case_id=case.case_id, operator=sandbox.VERIFIER))
    assert viewed.kind == K.AUDIT_KIND_REPORT_VIEWED
    assert sorted(viewed.subject_pseudonyms) == sorted(site.pseudonym(m.id_number)
                                                       for m in hh.members)
    # verifying a decided case asks nobody and returns it: a read, logged as one
    assert again.state == case_pb2.CASE_STATE_DECIDED
    last = site.entries()[-1]
    assert last.kind == K.AUDIT_KIND_CASE_VIEWED and last.case_id == case.case_id


def test_a_persons_access_report_shows_who_looked_and_who_was_refused(site: Site,
                                                                      cases) -> None:
    case, members = cases["dibao"]
    with site.client("op-9999") as c, pytest.raises(grpc.RpcError):
        c.cases.GetCase(case_pb2.GetCaseRequest(case_id=case.case_id, operator="op-9999"))
    result = site.cli("audit", "subject-report", "--db",
                      f"sqlite:///{site.sb.gateway_config.parent / 'state' / 'audit.sqlite'}",
                      "--officer", sandbox.OFFICER, "--pseudonym-key", str(site.sb.pseudonym_key),
                      "--id", members[0].id_number, "--json")
    assert result.returncode == 0, result.stderr
    accesses = [a for a in json.loads(result.stdout)["accesses"] if a["case"] == case.case_id]
    kinds = {a["kind"] for a in accesses}
    assert {"case_opened", "case_viewed", "cases_listed", "request_refused"} <= kinds
    refusal = next(a for a in accesses if a["kind"] == "request_refused")
    assert refusal["operator"] == "op-9999" and refusal["reason_code"] == "NOT_ON_STAFF_LIST"
    assert refusal["what"].startswith("refused")
    viewers = {a["operator"] for a in accesses if a["kind"] == "case_viewed"}
    assert viewers == {sandbox.VERIFIER}
    table = site.cli("audit", "subject-report", "--db",
                     f"sqlite:///{site.sb.gateway_config.parent / 'state' / 'audit.sqlite'}",
                     "--officer", sandbox.OFFICER, "--pseudonym-key", str(site.sb.pseudonym_key),
                     "--id", members[0].id_number)
    assert "looked at the case" in table.stdout and "NOT_ON_STAFF_LIST" in table.stdout


def test_the_cli_lists_and_shows_cases_as_before(site: Site, cases) -> None:
    case, _ = cases["low-income"]
    listed = site.cli("case", "--client", str(site.desk_file), "list", "--program",
                      "low-income")
    assert listed.returncode == 0, listed.stderr
    assert case.case_id in listed.stdout
    shown = site.cli("case", "--client", str(site.desk_file), "get", case.case_id)
    assert shown.returncode == 0 and "下一步 / Next:" in shown.stdout
    path = site.sb.root / "stranger.toml"  # the same desk, an operator on no list
    path.write_text(site.desk_file.read_text().replace(f'"{sandbox.VERIFIER}"', '"op-9999"'))
    refused = site.cli("case", "--client", str(path), "list")
    assert refused.returncode != 0 and refused.stderr.count("\n") == 1
    assert "NOT_ON_STAFF_LIST" in refused.stderr and "Traceback" not in refused.stderr
