"""The whole offline round trip as the staff run it, through the CLI.

A dibao case whose provident-fund part waits for the USB drive: `hedui bundle export`
at the center, `hedui agent answer-bundle` at the department (no network), `hedui bundle
import` back at the center — the case is decided and `hedui report verify` accepts its
report. Importing the same file again is refused and changes nothing.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from offline_testlib import OFFLINE, Site

from hedui.gateway import sandbox
from hedui.v1 import audit_pb2, case_pb2

Kind = audit_pb2.AuditKind


@pytest.fixture(scope="module")
def trip(site: Site, tmp_path_factory: pytest.TempPathFactory):
    work = tmp_path_factory.mktemp("trip")
    case = site.new_case("eligible")
    start = site.audit_size()
    exported = site.export(work / "queries.bundle")
    answered = site.answer(work / "queries.bundle", work / "answers.bundle")
    imported = site.import_(work / "answers.bundle")
    return {"work": work, "case": case, "start": start, "export": exported,
            "answer": answered, "import": imported}


def test_export_seals_the_waiting_query(trip) -> None:
    result = trip["export"]
    assert result.returncode == 0, result.stderr
    assert "for provident-fund sealed into" in result.stdout
    path: Path = trip["work"] / "queries.bundle"
    assert path.read_bytes().startswith(b"HEDUIBND\x01")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_department_answers_without_network(trip) -> None:
    result = trip["answer"]
    assert result.returncode == 0, result.stderr
    assert "1 answered, 0 refused" in result.stdout


def test_import_decides_the_case(site: Site, trip) -> None:
    result = trip["import"]
    assert result.returncode == 0, result.stderr
    assert "imported: 1 answered, 0 refused" in result.stdout
    case = site.get_case(trip["case"].case_id)
    assert case.state == case_pb2.CASE_STATE_DECIDED
    assert case.outcome == case_pb2.OUTCOME_ELIGIBLE
    states = {d.department: d.state for d in case.departments}
    assert states[OFFLINE] == case_pb2.DepartmentStatus.STATE_ANSWERED
    assert set(states.values()) == {case_pb2.DepartmentStatus.STATE_ANSWERED}


def test_report_of_the_offline_case_verifies(site: Site, trip) -> None:
    from hedui.gateway import verifying

    with site.client() as client:
        path = verifying.write_report(client, trip["case"].case_id, trip["work"] / "reports")
    result = site.cli("report", "verify", str(path), "--bundle", str(site.sb.bundle),
                      "--root-pub", str(site.sb.root_public_key),
                      "--standards", str(sandbox.STANDARDS_DIR))
    assert result.returncode == 0, result.stderr
    assert "genuine" in result.stdout and "8 signed answers" in result.stdout


def test_every_step_is_in_both_audit_logs(site: Site, trip) -> None:
    case_id = trip["case"].case_id
    entries = site.audit_entries(trip["start"])
    kinds = [(e.kind, e.case_id) for e in entries]
    assert (Kind.AUDIT_KIND_QUERY_SENT, case_id) in kinds
    assert (Kind.AUDIT_KIND_ANSWER_RECEIVED, case_id) in kinds
    assert (Kind.AUDIT_KIND_CASE_DECIDED, case_id) in kinds
    exported = [e for e in entries if e.kind == Kind.AUDIT_KIND_BUNDLE_EXPORTED]
    imported = [e for e in entries if e.kind == Kind.AUDIT_KIND_BUNDLE_IMPORTED]
    assert exported and exported[0].department == OFFLINE
    assert imported and imported[0].department == OFFLINE
    sent = next(e for e in entries if e.kind == Kind.AUDIT_KIND_QUERY_SENT
                and e.case_id == case_id)
    assert "offline bundle" in sent.reason and sent.subject_pseudonyms
    # the department's own log: the bundle in, the query answered, the answers out
    agent_db = site.sb.agent_config(OFFLINE).parent / "state" / "audit.sqlite"
    agent_kinds = [e.kind for e in site.audit_entries(0, agent_db)]
    for kind in (Kind.AUDIT_KIND_BUNDLE_IMPORTED, Kind.AUDIT_KIND_QUERY_ANSWERED,
                 Kind.AUDIT_KIND_BUNDLE_EXPORTED):
        assert kind in agent_kinds
    verified = site.cli("audit", "verify", "--db", f"sqlite:///{site.state / 'audit.sqlite'}")
    assert verified.returncode == 0, verified.stderr


def test_importing_the_same_file_again_is_refused_and_changes_nothing(site: Site, trip) -> None:
    before = site.snapshot()
    result = site.import_(trip["work"] / "answers.bundle")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "imported before" in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    site.assert_only_refusal_logged(before, "BUNDLE_ALREADY_IMPORTED")


def test_answering_the_same_queries_bundle_again_is_refused(site: Site, trip) -> None:
    out = trip["work"] / "answers-again.bundle"
    result = site.answer(trip["work"] / "queries.bundle", out)
    assert result.returncode == 1
    assert "imported before" in result.stderr and "Traceback" not in result.stderr
    assert not out.exists()

