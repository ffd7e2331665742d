"""The center witnesses the departments: a department's log cut back to an earlier
checkpoint passes ``hedui audit verify`` on its own, but not the gateway's witness.

First the witness alone (real audit logs, proofs served from them), then for real: a
public-security agent process over mutual TLS, asked by the gateway's fan-out, whose
log is restored from a copy taken at an earlier checkpoint while the agent was stopped.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import nacl.signing
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hedui.audit.entries import AccessRecorder, decode
from hedui.audit.pseudonym import Pseudonymizer
from hedui.audit.store import AuditLog
from hedui.gateway import sandbox
from hedui.gateway.agent_client import AgentClient
from hedui.gateway.agent_witness import (
    AgentLogAlarm,
    AgentLogUnverified,
    AgentWitness,
    BadAgentCheckpoint,
    ProofBeyondLog,
)
from hedui.gateway.fanout import CaseRequest, DepartmentResult, FanOut
from hedui.gateway.planner import DepartmentPlan
from hedui.gateway.queries import SubjectRef
from hedui.keys import keyfile, signing
from hedui.keys.bundle import TrustStore
from hedui.keys.secrets import load_secret
from hedui.v1 import audit_pb2, query_pb2

AGENT = "spiffe://county.example/agent/banks"
NAME = AGENT.removeprefix("spiffe://")


@dataclass
class Recorder:
    kinds: list[int] = field(default_factory=list)

    async def record_async(self, kind: int, **_kw: object) -> int:
        self.kinds.append(kind)
        return len(self.kinds) - 1


def agent_log(path: Path, key: nacl.signing.SigningKey, entries: list[bytes]) -> AuditLog:
    log = AuditLog.create(f"sqlite:///{path}", origin=f"{NAME}/audit", key_name=NAME,
                          signing_key=key)
    for e in entries:
        log.append(e)
    return log


def answer_from(log: AuditLog) -> query_pb2.Answer:
    return query_pb2.Answer(agent_checkpoint=log.checkpoint(), agent_log_key=log.vkey)


def proofs(log: AuditLog):
    """What AgentClient.consistency_proof gives, served from ``log``."""

    async def fetch(first: int, second: int) -> list[bytes]:
        if second > log.size():
            raise ProofBeyondLog(log.size(), f"the log holds {log.size()} leaves")
        return log.consistency_proof(first, second)

    return fetch


def observe(witness: AgentWitness, answer: query_pb2.Answer, fetch) -> None:
    asyncio.run(witness.observe(AGENT, "banks", answer, fetch))


# ------------------------------------------------------------- the witness alone


def test_growth_is_accepted_and_the_key_pinned_across_restarts(tmp_path: Path) -> None:
    key = signing.generate_signing_key()
    log = agent_log(tmp_path / "a.sqlite", key, [b"a", b"b"])
    witness = AgentWitness(tmp_path / "w.sqlite", recorder=None)
    observe(witness, answer_from(log), proofs(log))
    log.append(b"c")
    observe(witness, answer_from(log), proofs(log))
    witness.close()
    again = AgentWitness(tmp_path / "w.sqlite", recorder=None)
    assert again.latest[AGENT][0].size == 3 and again.keys[AGENT] == log.vkey
    log.append(b"d")
    observe(again, answer_from(log), proofs(log))
    assert again.alarm(AGENT) is None


def test_a_log_cut_back_to_an_earlier_checkpoint_raises_the_alarm(tmp_path: Path) -> None:
    key = signing.generate_signing_key()
    honest = agent_log(tmp_path / "honest.sqlite", key, [b"a", b"b", b"c", b"d", b"e"])
    cut = agent_log(tmp_path / "cut.sqlite", key, [b"a", b"b", b"c"])
    cut.verify_all()  # on its own the cut log verifies (raises otherwise): that is the attack
    recorder = Recorder()
    witness = AgentWitness(tmp_path / "w.sqlite", recorder=recorder)  # type: ignore[arg-type]
    observe(witness, answer_from(honest), proofs(honest))
    with pytest.raises(AgentLogAlarm, match="cut back"):
        observe(witness, answer_from(cut), proofs(cut))
    assert recorder.kinds == [audit_pb2.AUDIT_KIND_WITNESS_ALARM]
    # persisted: a restarted gateway still refuses this agent, before any proof
    restarted = AgentWitness(tmp_path / "w.sqlite", recorder=None)
    with pytest.raises(AgentLogAlarm):
        observe(restarted, answer_from(honest), proofs(honest))
    restarted.clear(AGENT, by="admin-1")
    observe(restarted, answer_from(honest), proofs(honest))
    assert AgentWitness(tmp_path / "w.sqlite", recorder=None).alarm(AGENT) is None


def test_a_cut_log_that_grew_again_is_a_fork(tmp_path: Path) -> None:
    key = signing.generate_signing_key()
    honest = agent_log(tmp_path / "honest.sqlite", key, [b"a", b"b", b"c", b"d"])
    regrown = agent_log(tmp_path / "regrown.sqlite", key, [b"a", b"b", b"X", b"Y", b"Z"])
    witness = AgentWitness(None, recorder=None)
    observe(witness, answer_from(honest), proofs(honest))
    with pytest.raises(AgentLogAlarm):
        observe(witness, answer_from(regrown), proofs(regrown))


def test_two_roots_for_one_size_and_a_replaced_log_raise_the_alarm(tmp_path: Path) -> None:
    key = signing.generate_signing_key()
    one = agent_log(tmp_path / "one.sqlite", key, [b"a", b"b"])
    other = agent_log(tmp_path / "other.sqlite", key, [b"a", b"B"])
    witness = AgentWitness(None, recorder=None)
    observe(witness, answer_from(one), proofs(one))
    with pytest.raises(AgentLogAlarm, match="two different roots"):
        observe(witness, answer_from(other), proofs(other))

    replaced = agent_log(tmp_path / "new.sqlite", signing.generate_signing_key(), [b"a"])
    witness = AgentWitness(None, recorder=None)
    observe(witness, answer_from(one), proofs(one))
    with pytest.raises(AgentLogAlarm, match="another key"):
        observe(witness, answer_from(replaced), proofs(replaced))
    witness.clear(AGENT, by="admin-1", forget=True)  # a knowingly reinstalled department
    observe(witness, answer_from(replaced), proofs(replaced))
    assert witness.keys[AGENT] == replaced.vkey


def test_a_proof_that_cannot_be_fetched_is_not_an_alarm(tmp_path: Path) -> None:
    key = signing.generate_signing_key()
    log = agent_log(tmp_path / "a.sqlite", key, [b"a", b"b"])
    witness = AgentWitness(None, recorder=None)
    observe(witness, answer_from(log), proofs(log))
    log.append(b"c")

    async def unreachable(first: int, second: int) -> list[bytes]:
        raise ConnectionError("network down")

    with pytest.raises(AgentLogUnverified):
        observe(witness, answer_from(log), unreachable)
    assert witness.alarm(AGENT) is None and witness.latest[AGENT][0].size == 2
    observe(witness, answer_from(log), proofs(log))  # later, with the proof: accepted
    assert witness.latest[AGENT][0].size == 3


def test_a_missing_or_forged_checkpoint_is_rejected_without_an_alarm(tmp_path: Path) -> None:
    key = signing.generate_signing_key()
    log = agent_log(tmp_path / "a.sqlite", key, [b"a"])
    witness = AgentWitness(None, recorder=None)
    with pytest.raises(BadAgentCheckpoint):
        observe(witness, query_pb2.Answer(), proofs(log))
    forger = agent_log(tmp_path / "f.sqlite", signing.generate_signing_key(), [b"a"])
    forged = query_pb2.Answer(agent_checkpoint=forger.checkpoint(), agent_log_key=log.vkey)
    with pytest.raises(BadAgentCheckpoint):
        observe(witness, forged, proofs(log))
    other = query_pb2.Answer(agent_checkpoint=log.checkpoint(),
                             agent_log_key=log.vkey.replace(NAME, "county.example/agent/tax"))
    with pytest.raises(BadAgentCheckpoint):
        observe(witness, other, proofs(log))
    assert witness.alarm(AGENT) is None and AGENT not in witness.keys


@settings(max_examples=25, deadline=None)
@given(sizes=st.lists(st.integers(1, 12), min_size=2, max_size=5), fork=st.integers(0, 11),
       rnd=st.randoms(use_true_random=False))
def test_any_order_of_one_logs_checkpoints_passes_and_any_fork_fails(
    sizes: list[int], fork: int, rnd, tmp_path_factory: pytest.TempPathFactory,
) -> None:
    where = tmp_path_factory.mktemp("prop")
    key = signing.generate_signing_key()
    log = agent_log(where / "a.sqlite", key, [])
    notes = {}
    for n in range(1, max(sizes) + 1):
        log.append(b"e%d" % n)
        notes[n] = log.checkpoint()
    witness = AgentWitness(None, recorder=None)
    order = list(sizes)
    rnd.shuffle(order)
    for n in order:  # answers overtake each other: smaller ones are checked as prefixes
        observe(witness, query_pb2.Answer(agent_checkpoint=notes[n], agent_log_key=log.vkey),
                proofs(log))
    top = witness.latest[AGENT][0].size
    assert top == max(sizes)
    fork = min(fork, top - 1)
    forked = agent_log(where / "f.sqlite", key,
                       [b"e%d" % n for n in range(1, fork + 1)] + [b"forged"] * (top + 1 - fork))
    with pytest.raises(AgentLogAlarm):
        observe(witness, answer_from(forked), proofs(forked))


# ------------------------------------------------------------------------ for real

DEPT = "public-security"


@dataclass
class Site:
    sb: sandbox.Sandbox
    log: AuditLog
    checkpoint: str
    person: str
    trust: TrustStore
    witness_db: Path

    @property
    def state(self) -> Path:
        return self.sb.agent_config(DEPT).parent / "state"

    async def run(self, n: int, witness: AgentWitness) -> DepartmentResult:
        material = sandbox.gateway_material(self.sb)
        clients: list[AgentClient] = []

        def client_for(plan: DepartmentPlan) -> AgentClient:
            if not clients:
                clients.append(AgentClient(plan.department, plan.agent.id,
                                           plan.agent.endpoint, material,
                                           lambda: self.trust.current))
            return clients[0]

        recorder = AccessRecorder(self.log, actor=self.sb.gateway.id,
                                  pseudonymizer=Pseudonymizer(load_secret(self.sb.pseudonym_key)))
        fan = FanOut(gateway_id=self.sb.gateway.id,
                     signing_key=keyfile.load_signing_key(self.sb.gateway.signing_key),
                     bundle=lambda: self.trust.current, client_for=client_for,
                     recorder=recorder, checkpoint=lambda: self.checkpoint,
                     checkpoint_blocks=False, retries=0, agent_witness=witness)
        try:
            case = CaseRequest(case_id=f"case-w{n}", purpose="dibao", operator=sandbox.VERIFIER,
                               subjects=(SubjectRef(self.person),),
                               authorization_number=f"SQ-W-{n}", consent_digest="ab" * 32)
            return (await fan.run(case, only={DEPT}))[DEPT]
        finally:
            for client in clients:
                await client.close()

    def answered(self, n: int) -> DepartmentResult:
        """One case through a gateway witness restarted from its file, as after a reboot."""
        witness = AgentWitness(self.witness_db, recorder=AccessRecorder(
            self.log, actor=self.sb.gateway.id,
            pseudonymizer=Pseudonymizer(load_secret(self.sb.pseudonym_key))))
        try:
            return asyncio.run(self.run(n, witness))
        finally:
            witness.close()


def start(site: Site):
    process = sandbox.start_agent(site.sb, DEPT)
    sandbox.wait_healthy(site.sb.endpoints[DEPT], site.sb.agents[DEPT].id,
                         sandbox.gateway_material(site.sb), process=process,
                         log_file=site.sb.logs / f"agent-{DEPT}.log")
    return process


def agent_log_size(site: Site) -> int:
    key = keyfile.load_signing_key(site.state / "audit-log.key")
    name = site.sb.agents[DEPT].id.removeprefix("spiffe://")
    log = AuditLog.open(f"sqlite:///{site.state / 'audit.sqlite'}", origin=f"{name}/audit",
                        key_name=name, verify_key=key.verify_key)
    try:
        log.verify_all()  # what `hedui audit verify --vkey` checks: it passes
        return log.size()
    finally:
        log.close()


@pytest.mark.slow
def test_a_departments_log_restored_to_an_earlier_checkpoint_is_caught(
    tmp_path: Path,
) -> None:
    sb = sandbox.provision(tmp_path / "site", persons=30, departments=[DEPT])
    log = AuditLog.create(
        f"sqlite:///{tmp_path / 'gateway-audit.sqlite'}", origin="county.example/gateway/audit",
        key_name=sb.gateway.id.removeprefix("spiffe://"),
        signing_key=keyfile.load_signing_key(sb.gateway.signing_key))
    log.append(b"first entry")
    people = json.loads((sb.data_dir / "households.json").read_text())["samples"]
    if isinstance(people, dict):
        people = [h for group in people.values() for h in group]
    trust = TrustStore(signing.read_public_key(sb.root_public_key))
    trust.load(sb.bundle, dt.datetime.now(dt.UTC))
    site = Site(sb, log, log.checkpoint(), people[0]["members"][0]["id_number"], trust,
                tmp_path / "gateway-state" / "agent-witness.sqlite")
    site.witness_db.parent.mkdir()
    backup = tmp_path / "backup"
    process = None
    try:
        process = start(site)
        assert site.answered(1).answered
        sandbox.stop_process(process)  # signs a checkpoint over everything on the way out
        shutil.copytree(site.state, backup)  # the insider's copy at this checkpoint
        earlier = agent_log_size(site)

        process = start(site)
        for n in (2, 3, 4):
            result = site.answered(n)
            assert result.answered, result.failure
        sandbox.stop_process(process)
        process = start(site)
        result = site.answered(5)  # carries the larger checkpoint: proved consistent
        assert result.answered, result.failure
        sandbox.stop_process(process)
        assert agent_log_size(site) > earlier + 2

        shutil.rmtree(site.state)
        shutil.copytree(backup, site.state)  # cut back; `hedui audit verify` still passes
        assert agent_log_size(site) == earlier
        process = start(site)
        result = site.answered(6)
        assert not result.answered
        assert result.refusal == "AGENT_LOG_INCONSISTENT", result.failure
        assert "cut back" in (result.failure or "")

        before = agent_log_size(site)
        result = site.answered(7)  # refused at once after a restart: not even asked
        assert result.refusal == "AGENT_LOG_INCONSISTENT" and result.attempts == 0
        sandbox.stop_process(process)
        assert agent_log_size(site) == before
    finally:
        if process is not None:
            sandbox.stop_process(process)
    kinds = [decode(log.leaf(i)).kind for i in range(1, log.size())]
    assert kinds.count(audit_pb2.AUDIT_KIND_WITNESS_ALARM) == 1
    log.close()


def test_an_alarm_cleared_with_the_cli_takes_effect_in_a_running_gateway(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """`hedui witness alarms` lists it (exit 1), `hedui witness clear` clears it in the
    file, and the witness a gateway holds in memory uses the agent's answers again."""
    from hedui.cli import main
    from hedui.gateway import witness_cli

    key = signing.generate_signing_key()
    honest = agent_log(tmp_path / "honest.sqlite", key, [b"a", b"b", b"c", b"d", b"e"])
    cut = agent_log(tmp_path / "cut.sqlite", key, [b"a", b"b", b"c"])
    running = AgentWitness(tmp_path / "agent-witness.sqlite", recorder=Recorder())  # type: ignore[arg-type]
    observe(running, answer_from(honest), proofs(honest))
    with pytest.raises(AgentLogAlarm):
        observe(running, answer_from(cut), proofs(cut))
    monkeypatch.setattr(witness_cli, "_witness",
                        lambda _cfg: AgentWitness(tmp_path / "agent-witness.sqlite",
                                                  recorder=None))
    assert main(["witness", "alarms", "--config", "gateway.toml"]) == 1
    assert AGENT in capsys.readouterr().out
    assert main(["witness", "clear", AGENT, "--config", "gateway.toml", "--by", "admin-1"]) == 0
    observe(running, answer_from(honest), proofs(honest))  # no restart needed
    assert main(["witness", "alarms", "--config", "gateway.toml"]) == 0
    assert main(["witness", "clear", AGENT, "--config", "gateway.toml", "--by", "a"]) == 1
