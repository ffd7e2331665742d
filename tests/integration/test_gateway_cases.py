"""The verifier's side, for real: a gateway process and eight agent processes on
loopback, each agent on its own synthetic department database through its example
mapping. Households go in through the case service; decided cases come out with signed
reports that verify offline. Ends with the privacy scan: no ID number and no name in
any audit log, log file or case database."""

from __future__ import annotations

import datetime as dt
import json
import signal
import subprocess
import time
from pathlib import Path

import grpc
import pytest

from hedui.gateway import household as household_mod
from hedui.gateway import sandbox, verifying
from hedui.gateway.client import ClientConfig, GatewayClient, GatewayError
from hedui.gateway.demo import write_client_config
from hedui.v1 import case_pb2, envelope_pb2

RULE_OF = {
    "ineligible-income": "income",
    "ineligible-assets": "money-assets",
    "ineligible-vehicle": "vehicle",
    "ineligible-property": "non-residential-property",
    "ineligible-business": "business-capital",
}


class System:
    def __init__(self, root: Path) -> None:
        self.sb = sandbox.provision(root, persons=500, seed=11)
        self.material = sandbox.gateway_material(self.sb)
        self.processes: dict[str, subprocess.Popen] = {}
        self.client_file = write_client_config(self.sb, self.sb.desk, sandbox.VERIFIER,
                                               "hedui-client.toml")
        data = json.loads((self.sb.data_dir / "households.json").read_text())
        samples = data["samples"]
        if isinstance(samples, dict):
            samples = [h for group in samples.values() for h in group]
        self.samples = samples
        self.used: list[dict] = []
        self._n = 0

    def start(self, name: str) -> None:
        sb = self.sb
        if name == "gateway":
            self.processes[name] = sandbox.start_gateway(sb)
            sandbox.wait_healthy(sb.gateway_endpoint, sb.gateway.id, self.material,
                                 process=self.processes[name], log_file=sb.logs / "gateway.log")
        else:
            self.processes[name] = sandbox.start_agent(sb, name)
            sandbox.wait_healthy(sb.endpoints[name], sb.agents[name].id, self.material,
                                 process=self.processes[name],
                                 log_file=sb.logs / f"agent-{name}.log")

    def client(self, operator: str | None = None) -> GatewayClient:
        config = ClientConfig.load(self.client_file)
        if operator is not None:
            config = ClientConfig(config.gateway, config.gateway_id, operator,
                                  config.certificate, config.key, config.ca)
        return GatewayClient(config)

    def household(self, label: str, *, programme: str = "dibao",
                  skip: int = 0) -> household_mod.Household:
        h = [s for s in self.samples if s["expected"] == label][skip]
        self.used.append(h)
        self._n += 1
        path = household_mod.write(
            self.sb.root / f"hh-{self._n}.toml", programme=programme, region="310000",
            members=h["members"], authorization_number=f"SQ-T-{self._n:05d}",
            today=dt.date.today(),
        )
        return household_mod.load(path)

    def stop_all(self) -> None:
        for p in self.processes.values():
            sandbox.stop_process(p)


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory):
    s = System(tmp_path_factory.mktemp("cases"))
    try:
        s.start("gateway")
        for d in s.sb.agents:
            s.start(d)
        yield s
    finally:
        s.stop_all()


def decided(system: System, label: str, skip: int = 0) -> case_pb2.Case:
    with system.client() as client:
        case = verifying.decide(client, system.household(label, skip=skip))
    assert case.state == case_pb2.CASE_STATE_DECIDED, verifying.summary(case)
    return case


def report_of(system: System, case_id: str) -> tuple[Path, case_pb2.DeterminationReport]:
    with system.client() as client:
        path = verifying.write_report(client, case_id, system.sb.root / "reports")
    env = envelope_pb2.Envelope()
    env.ParseFromString(path.read_bytes())
    report = case_pb2.DeterminationReport()
    report.ParseFromString(env.payload)
    return path, report


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*sandbox.hedui_command(), *args], capture_output=True, text=True)


# ------------------------------------------------------------------ decisions


def test_eligible_household_is_decided_eligible_with_a_genuine_report(system: System) -> None:
    case = decided(system, "eligible")
    assert case.outcome == case_pb2.OUTCOME_ELIGIBLE
    assert all(d.state == case_pb2.DepartmentStatus.STATE_ANSWERED for d in case.departments)
    assert len(case.departments) == 8
    path, report = report_of(system, case.case_id)
    assert len(report.answers) == 8
    result = run_cli("report", "verify", str(path), "--bundle", str(system.sb.bundle),
                     "--root-pub", str(system.sb.root_public_key),
                     "--standards", str(sandbox.STANDARDS_DIR))
    assert result.returncode == 0, result.stderr
    assert "genuine" in result.stdout


def test_report_with_a_changed_figure_or_digest_is_rejected(system: System) -> None:
    case = decided(system, "eligible", skip=1)
    path, report = report_of(system, case.case_id)
    env = envelope_pb2.Envelope()
    env.ParseFromString(path.read_bytes())
    changed_figure = case_pb2.DeterminationReport()
    changed_figure.CopyFrom(report)
    changed_figure.rules[0].figure_fen += 1
    changed_digest = case_pb2.DeterminationReport()
    changed_digest.CopyFrom(report)
    changed_digest.answers[0].answer_digest = bytes(32)
    for n, forged in enumerate((changed_figure, changed_digest)):
        bad = envelope_pb2.Envelope()
        bad.CopyFrom(env)
        bad.payload = forged.SerializeToString()
        bad_path = path.with_name(f"forged-{n}.dsse")
        bad_path.write_bytes(bad.SerializeToString())
        result = run_cli("report", "verify", str(bad_path), "--bundle", str(system.sb.bundle),
                         "--root-pub", str(system.sb.root_public_key))
        assert result.returncode != 0
        assert "Traceback" not in result.stderr
        assert result.stderr.count("\n") == 1  # one line for the user


@pytest.mark.parametrize("label", sorted(RULE_OF))
def test_ineligible_household_fails_the_rule_of_its_family(system: System, label: str) -> None:
    case = decided(system, label)
    assert case.outcome == case_pb2.OUTCOME_INELIGIBLE
    _, report = report_of(system, case.case_id)
    failed = {r.rule_id for r in report.rules if r.verdict == case_pb2.RuleResult.VERDICT_FAIL}
    assert RULE_OF[label] in failed, (label, failed)
    assert report.reasons_en and report.reasons_zh


# ------------------------------------------------------------------ refusals


def test_operator_not_on_the_staff_list_is_refused(system: System) -> None:
    hh = system.household("eligible", skip=2)
    with system.client(operator="op-9999") as client, pytest.raises(GatewayError) as info:
        verifying.decide(client, hh)
    assert info.value.code == grpc.StatusCode.PERMISSION_DENIED
    assert "staff list" in str(info.value)


def test_purpose_outside_social_assistance_is_refused(system: System) -> None:
    hh = system.household("eligible", skip=3)
    with system.client() as client, pytest.raises(GatewayError) as info:
        client.call(client.cases.OpenCase, case_pb2.OpenCaseRequest(
            programme="credit-scoring", region="310000", members=hh.members,
            authorization_number=hh.authorization.number,
            operator=client.config.operator))
    assert info.value.code == grpc.StatusCode.PERMISSION_DENIED
    assert "social-assistance" in str(info.value)


def test_revoked_authorization_stops_every_new_query(system: System) -> None:
    hh = system.household("eligible", skip=4)
    with system.client() as client:
        verifying.register_authorization(client, hh.authorization)
        case = client.call(client.cases.OpenCase, case_pb2.OpenCaseRequest(
            programme=hh.programme, region=hh.region, members=hh.members,
            authorization_number=hh.authorization.number, operator=client.config.operator))
        client.call(client.cases.RevokeAuthorization, case_pb2.RevokeAuthorizationRequest(
            number=hh.authorization.number, reason="applicant withdrew consent",
            operator=client.config.operator))
        with pytest.raises(GatewayError) as info:
            client.call(client.cases.VerifyCase, case_pb2.VerifyCaseRequest(
                case_id=case.case_id, operator=client.config.operator))
        assert info.value.code == grpc.StatusCode.PERMISSION_DENIED
        assert "revoked" in str(info.value)
        after = client.call(client.cases.GetCase, case_pb2.GetCaseRequest(
            case_id=case.case_id, operator=client.config.operator))
        # no department was asked
        assert all(d.attempts == 0 for d in after.departments)
        with pytest.raises(GatewayError):
            client.call(client.cases.OpenCase, case_pb2.OpenCaseRequest(
                programme=hh.programme, region=hh.region, members=hh.members,
                authorization_number=hh.authorization.number,
                operator=client.config.operator))


def test_authorization_must_cover_every_member(system: System) -> None:
    hh = system.household("ineligible-income", skip=1)
    if len(hh.members) < 2:
        pytest.skip("needs a household of two or more")
    partial = case_pb2.Authorization()
    partial.CopyFrom(hh.authorization)
    del partial.covered_id_numbers[1:]
    with system.client() as client:
        verifying.register_authorization(client, partial)
        with pytest.raises(GatewayError) as info:
            client.call(client.cases.OpenCase, case_pb2.OpenCaseRequest(
                programme=hh.programme, region=hh.region, members=hh.members,
                authorization_number=partial.number, operator=client.config.operator))
    assert info.value.code == grpc.StatusCode.PERMISSION_DENIED
    assert "does not cover" in str(info.value)


# ------------------------------------------------------------ incomplete, retry


def test_dead_agent_leaves_the_case_incomplete_and_retry_completes_it(system: System) -> None:
    sandbox.stop_process(system.processes.pop("housing"))
    try:
        with system.client() as client:
            case = verifying.decide(client, system.household("eligible", skip=5))
        assert case.state == case_pb2.CASE_STATE_INCOMPLETE
        failed = [d for d in case.departments
                  if d.state == case_pb2.DepartmentStatus.STATE_FAILED]
        assert [d.department for d in failed] == ["housing"]
        assert "UNAVAILABLE" in failed[0].reason
    finally:
        system.start("housing")
    # housing's circuit breaker stays open for 10 s after the failures: retry until
    # well past that, by the clock rather than by a count of (ever faster) retries
    deadline = time.monotonic() + 30
    with system.client() as client:
        while True:
            case = client.call(client.cases.RetryCase, case_pb2.RetryCaseRequest(
                case_id=case.case_id, operator=client.config.operator), timeout=60)
            if case.state == case_pb2.CASE_STATE_DECIDED or time.monotonic() > deadline:
                break
            time.sleep(0.5)
    assert case.state == case_pb2.CASE_STATE_DECIDED
    assert case.outcome == case_pb2.OUTCOME_ELIGIBLE


def test_agent_killed_during_a_batch_leaves_cases_incomplete_never_lost(system: System) -> None:
    rows = []
    labels = ["eligible", "ineligible-income", "ineligible-assets", "ineligible-vehicle"]
    for i in range(12):
        hh_label = labels[i % len(labels)]
        h = [s for s in system.samples if s["expected"] == hh_label][6 + i // len(labels)]
        system.used.append(h)
        path = household_mod.write(
            system.sb.root / f"batch-{i}.toml", programme="dibao", region="310000",
            members=h["members"], authorization_number=f"SQ-B-{i:05d}", today=dt.date.today())
        rows.append(path.name)
    csv_path = system.sb.root / "batch.csv"
    csv_path.write_text("household,previous_outcome\n" + "".join(f"{r},eligible\n" for r in rows))
    out = system.sb.root / "batch-out"
    system.processes.pop("tax").send_signal(signal.SIGKILL)
    first = run_cli("verify", "--client", str(system.client_file), "--batch", str(csv_path),
                    "--out", str(out), "--concurrency", "4")
    assert first.returncode == 3, first.stdout + first.stderr  # finished, some incomplete
    assert "incomplete" in first.stdout
    progress = [json.loads(x) for x in (out / "batch.progress.jsonl").read_text().splitlines()]
    assert len(progress) == 12 and all(p["state"] == "incomplete" for p in progress)
    system.start("tax")
    for _ in range(20):
        again = run_cli("verify", "--client", str(system.client_file), "--batch", str(csv_path),
                        "--out", str(out), "--concurrency", "4")
        if again.returncode == 0:
            break
        time.sleep(1)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "12 decided" in again.stdout
    assert "changed since last verification" in again.stdout
    # resuming opened no second case for any row
    final = [json.loads(x) for x in (out / "batch.progress.jsonl").read_text().splitlines()]
    first_ids = {p["row"]: p["case_id"] for p in progress}
    assert all(p["case_id"] == first_ids[p["row"]] for p in final)
    assert len(set(first_ids.values())) == 12


def test_agent_sigkilled_mid_batch_leaves_cases_incomplete_then_retry_completes(
    system: System,
) -> None:
    eligible = [s for s in system.samples if s["expected"] == "eligible"]
    rows = []
    for i in range(30):
        h = eligible[i % len(eligible)]
        system.used.append(h)
        path = household_mod.write(
            system.sb.root / f"mid-{i}.toml", programme="dibao", region="310000",
            members=h["members"], authorization_number=f"SQ-M-{i:05d}", today=dt.date.today())
        rows.append(path.name)
    csv_path = system.sb.root / "mid.csv"
    csv_path.write_text("household\n" + "".join(f"{r}\n" for r in rows))
    out = system.sb.root / "mid-out"
    progress_file = out / "mid.progress.jsonl"
    batch = subprocess.Popen(
        [*sandbox.hedui_command(), "verify", "--client", str(system.client_file), "--batch",
         str(csv_path), "--out", str(out), "--concurrency", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if progress_file.exists() and len(progress_file.read_text().splitlines()) >= 3:
            break
        time.sleep(0.02)
    system.processes.pop("civil-affairs").send_signal(signal.SIGKILL)  # mid-query
    stdout, stderr = batch.communicate(timeout=300)
    assert batch.returncode == 3, stdout + stderr
    first = [json.loads(x) for x in progress_file.read_text().splitlines()]
    assert len(first) == 30 and all(p.get("case_id") for p in first)  # none lost
    states = {p["state"] for p in first}
    assert "incomplete" in states
    system.start("civil-affairs")
    for _ in range(20):
        again = run_cli("verify", "--client", str(system.client_file), "--batch", str(csv_path),
                        "--out", str(out))
        if again.returncode == 0:
            break
        time.sleep(1)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "30 decided" in again.stdout
    final = {}
    for line in progress_file.read_text().splitlines():
        rec = json.loads(line)
        final[rec["row"]] = rec
    assert {r: p["case_id"] for r, p in final.items()} == {p["row"]: p["case_id"] for p in first}


# ------------------------------------------------------------- audit service


def test_officers_search_the_audit_service_and_desks_cannot(system: System) -> None:
    from hedui.v1 import audit_pb2

    person = system.used[0]["members"][0]["id_number"]
    officer_file = write_client_config(system.sb, system.sb.officer, sandbox.OFFICER,
                                       "officer.toml")
    with GatewayClient(ClientConfig.load(officer_file)) as officer:
        reply = officer.call(officer.audit.Search, audit_pb2.SearchRequest(
            subject_id_number=person, searched_by=sandbox.OFFICER, limit=1000))
        assert reply.hits
        kinds = {h.entry.kind for h in reply.hits}
        assert audit_pb2.AUDIT_KIND_ANSWER_RECEIVED in kinds
        proof = officer.call(officer.audit.GetInclusionProof, audit_pb2.GetInclusionProofRequest(
            leaf_index=reply.hits[0].leaf_index))
        assert proof.proof.hashes
    with system.client() as desk, pytest.raises(GatewayError) as info:
        desk.call(desk.audit.Search, audit_pb2.SearchRequest(
            subject_id_number=person, searched_by="op-1001"))
    assert info.value.code == grpc.StatusCode.PERMISSION_DENIED


def test_answers_are_erased_after_retention_and_the_audit_entries_stay(system: System) -> None:
    """Runs late: it erases every answer of this module's cases (as of the year 2100)."""
    from hedui.v1 import audit_pb2

    case = decided(system, "eligible", skip=7)
    result = run_cli("gateway", "erase-expired", "--config", str(system.sb.gateway_config),
                     "--as-of", "2100-01-01T00:00:00")
    assert result.returncode == 0, result.stderr
    assert "answer(s) erased" in result.stdout
    with system.client() as client:
        kept = client.call(client.cases.GetCase, case_pb2.GetCaseRequest(
            case_id=case.case_id, operator=client.config.operator))
        assert kept.state == case_pb2.CASE_STATE_DECIDED and kept.outcome == case.outcome
        with pytest.raises(GatewayError) as info:
            client.call(client.cases.GetReport, case_pb2.GetReportRequest(
                case_id=case.case_id, operator=client.config.operator))
        assert info.value.code == grpc.StatusCode.NOT_FOUND
        assert "retention" in str(info.value)
    officer_file = write_client_config(system.sb, system.sb.officer, sandbox.OFFICER,
                                       "officer-erase.toml")
    with GatewayClient(ClientConfig.load(officer_file)) as officer:
        hits = officer.call(officer.audit.Search, audit_pb2.SearchRequest(
            case_id=case.case_id, searched_by=sandbox.OFFICER, limit=1000)).hits
    kinds = [h.entry.kind for h in hits]
    assert kinds.count(audit_pb2.AUDIT_KIND_ANSWER_ERASED) == 8
    assert audit_pb2.AUDIT_KIND_ANSWER_RECEIVED in kinds  # the trail of the access stays


# ------------------------------------------------------------------ privacy


def test_no_id_number_or_name_in_any_audit_log_log_file_or_case_database(
    system: System,
) -> None:
    """Runs last: everything this module did is on disk now."""
    secrets: set[bytes] = set()
    for h in system.used:
        for m in h["members"]:
            secrets.add(m["id_number"].encode())
            secrets.add(m["name"].encode("utf-8"))
    assert secrets
    root = system.sb.root
    scanned = [
        *root.glob("gateway/state/*.sqlite*"),
        *root.glob("agents/*/state/*.sqlite*"),
        *root.glob("logs/*.log"),
    ]
    assert any("audit" in p.name for p in scanned)
    assert any(p.suffix == ".log" for p in scanned)
    leaks = [(p.name, s.decode()) for p in scanned for s in secrets if s in p.read_bytes()]
    assert not leaks, f"personal data found in {sorted({p for p, _ in leaks})}"
