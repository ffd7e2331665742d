"""No case left stuck: every state, walked on real processes to a decision or a close.

One deployment (a gateway and seven agents over mutual TLS; provident-fund offline,
reached only through sealed bundle files until the administrator brings it online).
Each state's way out is the one ``gateway/case_states.py`` names and ``hedui case get``
prints; the verifier's guide documents the same commands.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from hedui.audit.loop_commit import LoopCommitter
from hedui.gateway import config as gateway_config
from hedui.gateway import household as household_mod
from hedui.gateway import sandbox, server, verifying
from hedui.gateway.case_states import NEXT_STEPS
from hedui.gateway.client import ClientConfig, GatewayClient, GatewayError
from hedui.gateway.demo import write_client_config
from hedui.gateway.standards import StandardsLibrary
from hedui.v1 import audit_pb2, case_pb2

OFFLINE = "provident-fund"
S = case_pb2.CaseState
GUIDE = Path(__file__).resolve().parents[2] / "docs" / "guide-verifier.md"


class Site:
    def __init__(self, root: Path) -> None:
        self.sb = sandbox.provision(root, persons=200, seed=13, offline=[OFFLINE])
        self.material = sandbox.gateway_material(self.sb)
        self.client_file = write_client_config(self.sb, self.sb.desk, sandbox.VERIFIER,
                                               "hedui-client.toml")
        data = json.loads((self.sb.data_dir / "households.json").read_text())["samples"]
        self.samples = [h for g in data.values() for h in g] if isinstance(data, dict) else data
        self.processes: dict[str, subprocess.Popen] = {}
        self._n = 0

    def start(self, name: str) -> None:
        sb = self.sb
        if name == "gateway":
            p = self.processes[name] = sandbox.start_gateway(sb)
            sandbox.wait_healthy(sb.gateway_endpoint, sb.gateway.id, self.material, process=p,
                                 log_file=sb.logs / "gateway.log")
        else:
            p = self.processes[name] = sandbox.start_agent(sb, name)
            sandbox.wait_healthy(sb.endpoints[name], sb.agents[name].id, self.material,
                                 process=p, log_file=sb.logs / f"agent-{name}.log")

    def stop(self, name: str) -> None:
        sandbox.stop_process(self.processes.pop(name))

    def client(self) -> GatewayClient:
        return GatewayClient(ClientConfig.load(self.client_file))

    def opened(self) -> case_pb2.Case:
        """A registered household's case, OPEN."""
        self._n += 1
        h = [s for s in self.samples if s["expected"] == "eligible"][self._n]
        hh = household_mod.load(household_mod.write(
            self.sb.root / f"hh-{self._n}.toml", programme="dibao", region="310000",
            members=h["members"], authorization_number=f"SQ-ST-{self._n:04d}",
            today=dt.date.today()))
        with self.client() as client:
            verifying.register_authorization(client, hh.authorization)
            return client.call(client.cases.OpenCase, case_pb2.OpenCaseRequest(
                programme=hh.programme, region=hh.region, members=hh.members,
                authorization_number=hh.authorization.number,
                operator=client.config.operator))

    def call(self, method: str, request) -> case_pb2.Case:
        with self.client() as client:
            return client.call(getattr(client.cases, method), request, timeout=120)

    def retry(self, case_id: str) -> case_pb2.Case:
        return self.call("RetryCase", case_pb2.RetryCaseRequest(case_id=case_id,
                                                                operator=sandbox.VERIFIER))

    def get(self, case_id: str) -> case_pb2.Case:
        return self.call("GetCase", case_pb2.GetCaseRequest(case_id=case_id,
                                                            operator=sandbox.VERIFIER))

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*sandbox.hedui_command(), *args], capture_output=True,
                              text=True, timeout=180)

    def case_cli(self, *args: str) -> subprocess.CompletedProcess:
        return self.cli("case", "--client", str(self.client_file), *args)

    @property
    def state_dir(self) -> Path:
        return self.sb.gateway_config.parent / "state"

    def audit_entries(self, case_id: str) -> list[audit_pb2.AuditEntry]:
        conn = sqlite3.connect(self.state_dir / "audit.sqlite")
        try:
            rows = conn.execute("SELECT entry FROM audit_leaves ORDER BY idx").fetchall()
        finally:
            conn.close()
        entries = [audit_pb2.AuditEntry.FromString(bytes(r[0])) for r in rows]
        return [e for e in entries if e.case_id == case_id]

    def bundle_round_trip(self, work: Path) -> None:
        """Export the offline department's queries, answer them there, import them back."""
        work.mkdir(parents=True, exist_ok=True)
        config = str(self.sb.gateway_config)
        for args in (("bundle", "export", "--config", config, "--department", OFFLINE,
                      "--out", str(work / "q.bundle")),
                     ("agent", "answer-bundle", "--config", str(self.sb.agent_config(OFFLINE)),
                      "--in", str(work / "q.bundle"), "--out", str(work / "a.bundle")),
                     ("bundle", "import", "--config", config, str(work / "a.bundle"))):
            result = self.cli(*args)
            assert result.returncode == 0, (args, result.stdout, result.stderr)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):
    s = Site(tmp_path_factory.mktemp("states"))
    try:
        s.start("gateway")
        for d in s.sb.agents:
            if d != OFFLINE:
                s.start(d)
        yield s
    finally:
        for p in s.processes.values():
            sandbox.stop_process(p)


def until_decided(site: Site, case_id: str, want=S.CASE_STATE_DECIDED) -> case_pb2.Case:
    """Retry until ``want`` (a department's breaker stays open ~10 s after failures)."""
    deadline = time.monotonic() + 30
    while True:
        case = site.retry(case_id)
        if case.state == want or time.monotonic() > deadline:
            return case
        time.sleep(0.5)


# ------------------------------------------------------------------ the table


def test_every_state_has_a_way_out_in_the_table_and_the_guide() -> None:
    states = {v for v in S.values() if v != S.CASE_STATE_UNSPECIFIED}
    assert set(NEXT_STEPS) == states
    guide = GUIDE.read_text(encoding="utf-8")
    for state, step in NEXT_STEPS.items():
        assert step.zh and step.en and step.commands
        assert step.final == (state in (S.CASE_STATE_DECIDED, S.CASE_STATE_CANCELLED))
        word = S.Name(state).removeprefix("CASE_STATE_").lower()
        assert f"`{word}`" in guide, f"the guide does not document {word}"
        for command in step.commands:
            verb = " ".join(command.split()[:3])  # e.g. "hedui case retry"
            assert verb in guide, f"the guide does not show {verb}"


# ------------------------------------------------------------------ walks


def test_open_is_shown_with_its_way_out_and_can_be_cancelled(site: Site) -> None:
    case = site.opened()
    assert case.state == S.CASE_STATE_OPEN
    shown = site.case_cli("get", case.case_id)
    assert shown.returncode == 0, shown.stderr
    assert "下一步 / Next:" in shown.stdout
    assert f"hedui case retry {case.case_id}" in shown.stdout
    assert f"hedui case cancel {case.case_id}" in shown.stdout
    no_reason = site.case_cli("cancel", case.case_id, "--reason", "  ")
    assert no_reason.returncode != 0 and "needs a reason" in no_reason.stderr
    closed = site.case_cli("cancel", case.case_id, "--reason", "household moved away")
    assert closed.returncode == 0, closed.stderr
    after = site.get(case.case_id)
    assert after.state == S.CASE_STATE_CANCELLED
    assert "household moved away" in after.state_reason
    assert all(d.attempts == 0 for d in after.departments)  # nothing was asked
    logged = site.audit_entries(case.case_id)
    # the reads (case get) and the refused cancel without a reason are logged too
    assert [e.kind for e in logged] == [
        audit_pb2.AUDIT_KIND_CASE_OPENED, audit_pb2.AUDIT_KIND_CASE_VIEWED,
        audit_pb2.AUDIT_KIND_REQUEST_REFUSED, audit_pb2.AUDIT_KIND_CASE_CANCELLED,
        audit_pb2.AUDIT_KIND_CASE_VIEWED]
    assert logged[2].reason_code == "REASON_REQUIRED"
    entries = [e for e in logged if e.kind in (audit_pb2.AUDIT_KIND_CASE_OPENED,
                                               audit_pb2.AUDIT_KIND_CASE_CANCELLED)]
    assert entries[-1].reason == "cancelled without a decision: household moved away"
    assert entries[-1].operator == sandbox.VERIFIER and not entries[-1].report_digest
    again = site.case_cli("retry", case.case_id)
    assert again.returncode != 0 and "household moved away" in again.stderr
    assert again.stderr.count("\n") == 1
    twice = site.case_cli("cancel", case.case_id, "--reason", "again")
    assert twice.returncode != 0 and "cannot be cancelled" in twice.stderr
    final = site.case_cli("get", case.case_id)
    assert "hedui verify --household" in final.stdout


def test_open_to_incomplete_to_awaiting_offline_to_decided(site: Site, tmp_path: Path) -> None:
    case = site.opened()
    site.stop("tax")
    try:
        case = site.retry(case.case_id)
        assert case.state == S.CASE_STATE_INCOMPLETE
        shown = site.case_cli("get", case.case_id)
        assert f"hedui case retry {case.case_id}" in shown.stdout
    finally:
        site.start("tax")
    case = until_decided(site, case.case_id, want=S.CASE_STATE_AWAITING_OFFLINE_ANSWER)
    assert case.state == S.CASE_STATE_AWAITING_OFFLINE_ANSWER
    shown = site.case_cli("get", case.case_id)
    assert f"--department {OFFLINE}" in shown.stdout and "hedui bundle import" in shown.stdout
    # retrying while the department is still offline changes nothing
    assert site.retry(case.case_id).state == S.CASE_STATE_AWAITING_OFFLINE_ANSWER
    site.bundle_round_trip(tmp_path)
    assert site.get(case.case_id).state == S.CASE_STATE_DECIDED


def test_awaiting_offline_can_be_cancelled(site: Site) -> None:
    case = site.retry(site.opened().case_id)
    assert case.state == S.CASE_STATE_AWAITING_OFFLINE_ANSWER
    closed = site.call("CancelCase", case_pb2.CancelCaseRequest(
        case_id=case.case_id, reason="the department cannot answer this year",
        operator=sandbox.VERIFIER))
    assert closed.state == S.CASE_STATE_CANCELLED
    with pytest.raises(GatewayError) as info:  # closed: nothing is asked any more
        site.retry(case.case_id)
    assert "the department cannot answer this year" in str(info.value)


def test_querying_left_by_a_stopped_replica_is_taken_over(site: Site) -> None:
    case = site.opened()
    db = sqlite3.connect(site.state_dir / "cases.sqlite")
    fresh = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    try:
        with db:  # another replica claimed it just now
            db.execute("UPDATE cases SET state = 'CASE_STATE_QUERYING', claimed_by = "
                       "'replica-b', updated_at = ? WHERE case_id = ?",
                       (fresh.isoformat(sep=" "), case.case_id))
        busy = site.case_cli("retry", case.case_id)
        assert busy.returncode != 0 and "being verified by replica-b" in busy.stderr
        shown = site.case_cli("get", case.case_id)
        assert "querying" in shown.stdout and f"hedui case retry {case.case_id}" in shown.stdout
        with db:  # ... and stopped: its claim is long expired
            db.execute("UPDATE cases SET updated_at = ? WHERE case_id = ?",
                       ((fresh - dt.timedelta(hours=1)).isoformat(sep=" "), case.case_id))
    finally:
        db.close()
    taken = site.retry(case.case_id)
    assert taken.state == S.CASE_STATE_AWAITING_OFFLINE_ANSWER


def test_department_back_online_is_asked_by_retry_not_by_bundle(site: Site,
                                                                tmp_path: Path) -> None:
    waiting = site.retry(site.opened().case_id)
    assert waiting.state == S.CASE_STATE_AWAITING_OFFLINE_ANSWER
    # the administrator brings provident-fund online; the gateway restarts on the bundle
    sandbox.mark_online(site.sb, [OFFLINE])
    site.stop("gateway")
    site.start("gateway")
    site.start(OFFLINE)
    export = site.cli("bundle", "export", "--config", str(site.sb.gateway_config),
                      "--department", OFFLINE, "--out", str(tmp_path / "q.bundle"))
    assert export.returncode != 0 and export.stderr.count("\n") == 1
    assert "is online" in export.stderr and "hedui case retry" in export.stderr
    case = until_decided(site, waiting.case_id)
    assert case.state == S.CASE_STATE_DECIDED, verifying.summary(case)
    states = {d.department: d.state for d in case.departments}
    assert states[OFFLINE] == case_pb2.DepartmentStatus.STATE_ANSWERED


def test_assessment_failing_after_the_fan_out_leaves_it_incomplete_then_retry_decides(
        site: Site) -> None:
    """The standard disappears between opening and deciding (runs after every department
    is online): the answers are kept, the case is INCOMPLETE with the reason — never
    QUERYING — and a retry once the standard is back decides it without asking again."""
    case = site.opened()

    async def run() -> tuple[case_pb2.Case, case_pb2.Case]:
        gw = server.build(gateway_config.load(site.sb.gateway_config))
        committer = LoopCommitter(gw.audit_log)
        gw.audit_log.route_appends(committer)
        try:
            m = gw.cases
            published = m.standards
            m.standards = StandardsLibrary()  # withdrawn meanwhile
            held = await m.verify(case.case_id, sandbox.VERIFIER)
            m.standards = published
            return held, await m.retry(case.case_id, sandbox.VERIFIER)
        finally:
            gw.audit_log.route_appends(None)
            committer.close()
            await gw.close()

    held, decided = asyncio.run(run())
    assert held.state == S.CASE_STATE_INCOMPLETE
    assert "assessment could not run" in held.state_reason
    assert "no dibao standard is in force" in held.state_reason
    assert all(d.state == case_pb2.DepartmentStatus.STATE_ANSWERED for d in held.departments)
    assert decided.state == S.CASE_STATE_DECIDED and not decided.state_reason
    assert [d.attempts for d in decided.departments] == [d.attempts for d in held.departments]
