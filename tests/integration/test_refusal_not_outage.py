"""A refusal is not an outage, for real: a public-security agent process on loopback with
mutual TLS, asked by the gateway's fan-out (its real AgentClient, signing key, trust
bundle and audit log). The agent refuses many more queries than the breaker's threshold
permanently; each refused case fails at once for that department with the reason, and
the next good case is still answered. The same agent answers for a member whose ID
number was issued by a district created after the member's birth."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from dataclasses import dataclass

import pytest

from hedui.audit.entries import AccessRecorder, decode
from hedui.audit.pseudonym import Pseudonymizer
from hedui.audit.store import AuditLog
from hedui.gateway import sandbox
from hedui.gateway.agent_client import AgentClient
from hedui.gateway.fanout import CaseRequest, DepartmentResult, FanOut
from hedui.gateway.planner import DepartmentPlan
from hedui.gateway.queries import SubjectRef
from hedui.keys import keyfile, signing
from hedui.keys.bundle import TrustStore
from hedui.keys.secrets import load_secret
from hedui.resident_id import check_digit
from hedui.v1 import audit_pb2

DEPT = "public-security"
THRESHOLD = 3


@dataclass
class Site:
    sb: sandbox.Sandbox
    log: AuditLog
    person: str
    checkpoint: str
    trust: TrustStore

    def fanout(self, clients: list[AgentClient]) -> FanOut:
        """A fan-out as the gateway builds it (gateway/server.py), asking only DEPT."""
        material = sandbox.gateway_material(self.sb)

        def client_for(plan: DepartmentPlan) -> AgentClient:
            if not clients:  # one channel, created on the running loop
                clients.append(AgentClient(plan.department, plan.agent.id,
                                           plan.agent.endpoint, material,
                                           lambda: self.trust.current))
            return clients[0]

        recorder = AccessRecorder(self.log, actor=self.sb.gateway.id,
                                  pseudonymizer=Pseudonymizer(load_secret(self.sb.pseudonym_key)))
        return FanOut(
            gateway_id=self.sb.gateway.id,
            signing_key=keyfile.load_signing_key(self.sb.gateway.signing_key),
            bundle=lambda: self.trust.current, client_for=client_for, recorder=recorder,
            checkpoint=lambda: self.checkpoint, checkpoint_blocks=False,
            deadline=5.0, retries=2, backoff=0.01,
            breaker_threshold=THRESHOLD, breaker_cooldown=60.0,
        )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("refusal")
    sb = sandbox.provision(root / "site", persons=60, departments=[DEPT])
    log = AuditLog.create(
        f"sqlite:///{root / 'gateway-audit.sqlite'}", origin="county.example/gateway/audit",
        key_name=sb.gateway.id.removeprefix("spiffe://"),
        signing_key=keyfile.load_signing_key(sb.gateway.signing_key),
    )
    log.append(b"first entry")
    checkpoint = log.checkpoint()  # every query carries this one: the agent witnesses it
    people = json.loads((sb.data_dir / "households.json").read_text())["samples"]
    if isinstance(people, dict):
        people = [h for group in people.values() for h in group]
    trust = TrustStore(signing.read_public_key(sb.root_public_key))
    trust.load(sb.bundle, dt.datetime.now(dt.UTC))
    process = sandbox.start_agent(sb, DEPT)
    try:
        sandbox.wait_healthy(sb.endpoints[DEPT], sb.agents[DEPT].id,
                             sandbox.gateway_material(sb), process=process,
                             log_file=sb.logs / f"agent-{DEPT}.log")
        yield Site(sb, log, people[0]["members"][0]["id_number"], checkpoint, trust)
    finally:
        sandbox.stop_process(process)
        log.close()


def case(n: int, subjects: tuple[SubjectRef, ...], *, consent: bool = True) -> CaseRequest:
    return CaseRequest(
        case_id=f"case-{n}", purpose="dibao", operator=sandbox.VERIFIER, subjects=subjects,
        authorization_number=f"SQ-R-{n:05d}" if consent else "",
        consent_digest="ab" * 32 if consent else "",
    )


async def _run(site: Site, cases: list[CaseRequest]) -> list[DepartmentResult]:
    clients: list[AgentClient] = []
    fan = site.fanout(clients)
    try:
        out = []
        for c in cases:
            out.append((await fan.run(c, only={DEPT}))[DEPT])
        assert not fan.breaker(DEPT).is_open
        return out
    finally:
        for client in clients:
            await client.close()


def test_permanent_refusals_leave_the_department_answering(site: Site) -> None:
    person = (SubjectRef(site.person, "测试"),)
    refused = [case(i, person, consent=False) for i in range(THRESHOLD + 2)]  # CONSENT_MISSING
    refused += [case(10 + i, person * 21) for i in range(THRESHOLD)]  # TOO_MANY_SUBJECTS
    good = case(99, person)
    *bad_results, last = asyncio.run(_run(site, [*refused, good]))

    for r in bad_results:  # each failed at once for this department, with its reason
        assert not r.answered and r.attempts == 1, r.failure
        assert r.refusal in ("CONSENT_MISSING", "TOO_MANY_SUBJECTS")
        assert r.failure is not None and f"{DEPT} refused: {r.refusal} — " in r.failure
        assert "circuit open" not in r.failure
        assert site.person not in r.failure
    assert "register the applicant's signed authorization" in (bad_results[0].failure or "")
    assert last.answered, last.failure  # the breaker stayed closed

    entries = [decode(site.log.leaf(i)) for i in range(1, site.log.size())]
    refusals = [e for e in entries if e.kind == audit_pb2.AUDIT_KIND_QUERY_REFUSED]
    assert len(refusals) == len(refused)
    assert all("refused: " in e.reason for e in refusals)
    raw = b"".join(e.SerializeToString() for e in entries)
    assert site.person.encode() not in raw


def test_an_id_issued_by_a_district_created_after_birth_is_answered(site: Site) -> None:
    """110112 (Beijing Tongzhou district) exists since 1997; a holder born in 1963 has one.

    Before hedui.resident_id the agent refused it as MALFORMED_ID_NUMBER (stdnum checks
    the region against the birth year); now agent and gateway accept it alike.
    """
    body = "11011219630707001"
    reissued = body + check_digit(body)
    [result] = asyncio.run(_run(site, [case(200, (SubjectRef(site.person, "测试"),
                                                  SubjectRef(reissued, "测试")))]))
    assert result.answered, result.failure
    assert result.refusal is None
