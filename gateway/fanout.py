"""Fan-out: ask every department a case needs at once, each with its own deadline.

A case takes as long as its slowest department, not the sum. Each department gets
retries with backoff on transient failures and a circuit breaker, so one dead agent
costs the others nothing. A department's refusal of one query (``breaker.classify``) is
neither retried nor counted by the breaker: it is an answer about that query, not an
outage. Every query is written to the audit log before it is
sent, every answer or failure when it arrives. A retry is a new query (new id, new
nonce): the agent rightly refuses to answer the same signed query twice.

Every answer's checkpoint of the agent's own log is witnessed (``agent_witness``)
before the answer is used: an agent whose log was cut back or rewritten is refused —
not even asked — until an administrator clears the alarm.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import grpc
import nacl.signing
from prometheus_client import Histogram

from hedui.audit.entries import AccessRecorder
from hedui.gateway.agent_client import AgentCallFailed, AgentClient
from hedui.gateway.agent_witness import (
    AgentLogAlarm,
    AgentLogUnverified,
    AgentWitness,
    BadAgentCheckpoint,
)
from hedui.gateway.answers import AnswerRejected, VerifiedAnswer
from hedui.gateway.breaker import CircuitBreaker, Outcome, classify, refusal_text
from hedui.gateway.planner import DepartmentPlan, plan
from hedui.gateway.queries import SignedQuery, SubjectRef, build_query, sign_query
from hedui.keys.bundle import Bundle
from hedui.v1 import audit_pb2

DEPARTMENT_SECONDS = Histogram(
    "hedui_gateway_department_seconds", "Time for one department's part of a case",
    ["department", "result"], buckets=(0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10))


@dataclass(frozen=True)
class CaseRequest:
    """What the fan-out needs to know of a case."""

    case_id: str
    purpose: str
    operator: str
    subjects: tuple[SubjectRef, ...]
    authorization_number: str = ""
    consent_digest: str = ""


@dataclass
class DepartmentResult:
    """How one department's part of a case ended."""

    department: str
    answer: VerifiedAnswer | None = None
    failure: str | None = None
    #: the agent's reason code when it refused the query for good (not an outage)
    refusal: str | None = None
    attempts: int = 0
    query_digests: list[bytes] = field(default_factory=list)
    #: the last signed query (kept with the answer for the report)
    query: SignedQuery | None = None
    #: audit-log leaf indexes of this department's entries for the case
    audit_leaves: list[int] = field(default_factory=list)

    @property
    def answered(self) -> bool:
        return self.answer is not None


class FanOut:
    """Sends a case's queries to its departments concurrently."""

    def __init__(
        self,
        *,
        gateway_id: str,
        signing_key: nacl.signing.SigningKey,
        bundle: Callable[[], Bundle],
        client_for: Callable[[DepartmentPlan], AgentClient],
        recorder: AccessRecorder,
        checkpoint: Callable[[], str],
        checkpoint_blocks: bool = True,
        deadline: float = 5.0,
        retries: int = 2,
        backoff: float = 0.05,
        breaker_threshold: int = 3,
        breaker_cooldown: float = 10.0,
        agent_witness: AgentWitness | None = None,
    ) -> None:
        """``agent_witness``: where the agents' log checkpoints are kept; a gateway passes
        one persisted beside its state (``state/agent-witness.sqlite``). Without it they
        are kept in memory, so a restart pins the agents' log keys anew."""
        self.gateway_id = gateway_id
        self.signing_key = signing_key
        self.bundle = bundle
        self.client_for = client_for
        self.recorder = recorder
        self.checkpoint = checkpoint
        #: whether fetching the checkpoint may wait on a network database (PostgreSQL):
        #: then it runs in a thread; a local log answers from memory, re-signing about
        #: once a second, and a thread hop per case would cost more than that
        self.checkpoint_blocks = checkpoint_blocks
        self.deadline = deadline
        self.retries = retries
        self.backoff = backoff
        self._breaker_args = (breaker_threshold, breaker_cooldown)
        self.breakers: dict[str, CircuitBreaker] = {}
        self.agent_witness = agent_witness or AgentWitness(None, recorder=recorder)

    def breaker(self, department: str) -> CircuitBreaker:
        if department not in self.breakers:
            threshold, cooldown = self._breaker_args
            self.breakers[department] = CircuitBreaker(threshold=threshold, cooldown=cooldown)
        return self.breakers[department]

    async def run(
        self, case: CaseRequest, only: set[str] | None = None
    ) -> dict[str, DepartmentResult]:
        """Ask every (or only some) online department of the case's purpose."""
        plans = [p for p in plan(self.bundle(), case.purpose, only) if not p.offline]
        checkpoint = (  # one per case, not per query
            await asyncio.to_thread(self.checkpoint) if self.checkpoint_blocks
            else self.checkpoint()
        )
        results = await asyncio.gather(*(self._ask_timed(case, p, checkpoint) for p in plans))
        return {r.department: r for r in results}

    async def _ask_timed(self, case: CaseRequest, dept: DepartmentPlan,
                         checkpoint: str) -> DepartmentResult:
        started = time.perf_counter()
        result = await self._ask(case, dept, checkpoint)
        DEPARTMENT_SECONDS.labels(dept.department, "answered" if result.answered
                                  else "failed").observe(time.perf_counter() - started)
        return result

    async def _ask(self, case: CaseRequest, dept: DepartmentPlan,
                   checkpoint: str) -> DepartmentResult:
        result = DepartmentResult(dept.department)
        breaker = self.breaker(dept.department)
        for attempt in range(self.retries + 1):
            if self.agent_witness.alarm(dept.agent.id) is not None:
                classified = classify(grpc.StatusCode.FAILED_PRECONDITION,
                                      AgentLogAlarm.reason)
                result.refusal = classified.reason
                result.failure = refusal_text(dept.department, classified,
                                              "not asked: its log alarm is not cleared")
                result.audit_leaves.append(await self._record_failure(
                    case, dept, None, result.failure, refused=True))
                return result
            if not breaker.allow():
                result.failure = (
                    f"{dept.department} is not answering (circuit open after "
                    f"{breaker.failures} failures); retry the case later"
                )
                result.audit_leaves.append(
                    await self._record_failure(case, dept, None, result.failure))
                return result
            signed = sign_query(build_query(
                issuer=self.gateway_id,
                audience=dept.agent.id,
                case_id=case.case_id,
                purpose=case.purpose,
                operator=case.operator,
                subjects=case.subjects,
                field_paths=dept.field_paths,
                authorization_number=case.authorization_number,
                consent_digest=case.consent_digest,
                audit_checkpoint=checkpoint,
            ), self.signing_key)
            result.attempts += 1
            result.query = signed
            result.query_digests.append(signed.digest)
            sent_leaf = await self.recorder.record_async(
                audit_pb2.AUDIT_KIND_QUERY_SENT,
                operator=case.operator, case_id=case.case_id, purpose=case.purpose,
                department=dept.department, field_paths=dept.field_paths,
                id_numbers=[s.id_number for s in case.subjects],
                query_id=signed.query.query_id, query_digest=signed.digest,
                authorization_number=case.authorization_number,
            )
            result.audit_leaves.append(sent_leaf)
            try:
                answer = await self._ask_witnessed(dept, signed)
            except AgentCallFailed as exc:
                classified = exc.classified
                breaker.record(classified)  # only an outage counts
                refused = classified.outcome is Outcome.REFUSED
                if refused:
                    result.refusal = classified.reason
                    result.failure = refusal_text(dept.department, classified, exc.detail)
                else:
                    result.failure = str(exc)
                result.audit_leaves.append(await self._record_failure(
                    case, dept, signed, result.failure, refused=refused))
                if not classified.retry or attempt == self.retries:
                    return result
                await asyncio.sleep(self.backoff * (2**attempt) * (1 + random.random()))
                continue
            except AnswerRejected as exc:
                # the agent replied: not an outage, and a retry would be rejected alike
                breaker.success()
                result.failure = f"{dept.department}: answer rejected: {exc}"
                result.audit_leaves.append(
                    await self._record_failure(case, dept, signed, result.failure))
                return result
            breaker.success()
            result.answer = answer
            result.failure = None
            result.audit_leaves.append(await self._record_answer(case, dept, signed, answer))
            return result
        return result

    async def _ask_witnessed(self, dept: DepartmentPlan, signed: SignedQuery) -> VerifiedAnswer:
        """Ask, verify, and witness the agent's log checkpoint the answer carries."""
        client = self.client_for(dept)
        answer = await client.ask(signed, timeout=self.deadline)
        try:
            await self.agent_witness.observe(dept.agent.id, dept.department, answer.answer,
                                             client.consistency_proof)
        except AgentLogAlarm as exc:
            raise AgentCallFailed(dept.department, grpc.StatusCode.FAILED_PRECONDITION,
                                  str(exc), exc.reason) from None
        except AgentLogUnverified as exc:
            raise AgentCallFailed(dept.department, grpc.StatusCode.UNAVAILABLE,
                                  str(exc), exc.reason) from None
        except BadAgentCheckpoint as exc:
            raise AnswerRejected(str(exc)) from None
        return answer

    async def _record_answer(
        self, case: CaseRequest, dept: DepartmentPlan, signed: SignedQuery, answer: VerifiedAnswer
    ) -> int:
        withheld = [w.path for w in answer.answer.withheld]
        return await self.recorder.record_async(
            audit_pb2.AUDIT_KIND_ANSWER_RECEIVED,
            outcome=audit_pb2.AUDIT_OUTCOME_PARTIAL if withheld else audit_pb2.AUDIT_OUTCOME_OK,
            operator=case.operator, case_id=case.case_id, purpose=case.purpose,
            department=dept.department, field_paths=dept.field_paths,
            id_numbers=[s.id_number for s in case.subjects],
            query_id=signed.query.query_id, query_digest=signed.digest,
            answer_digest=answer.digest,
            reason=f"withheld: {', '.join(withheld)}" if withheld else "",
            authorization_number=case.authorization_number,
        )

    async def _record_failure(
        self,
        case: CaseRequest,
        dept: DepartmentPlan,
        signed: SignedQuery | None,
        reason: str,
        *,
        refused: bool = False,
    ) -> int:
        return await self.recorder.record_async(
            audit_pb2.AUDIT_KIND_QUERY_REFUSED if refused else audit_pb2.AUDIT_KIND_QUERY_FAILED,
            outcome=audit_pb2.AUDIT_OUTCOME_REFUSED if refused else audit_pb2.AUDIT_OUTCOME_FAILED,
            operator=case.operator, case_id=case.case_id, purpose=case.purpose,
            department=dept.department,
            id_numbers=[s.id_number for s in case.subjects],
            query_id=signed.query.query_id if signed else "",
            query_digest=signed.digest if signed else b"",
            reason=reason,
            authorization_number=case.authorization_number,
        )

