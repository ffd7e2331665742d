"""A refusal is not an outage: the breaker's classification, and the fan-out that uses it.

Only an agent that cannot be reached or does not reply in time counts towards its
department's circuit breaker; a permanent refusal of one query is reported with its
reason, and neither counted nor retried.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import grpc
import nacl.signing
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedui.gateway import fanout as fanout_mod
from hedui.gateway.agent_client import AgentCallFailed
from hedui.gateway.breaker import CircuitBreaker, Outcome, classify, refusal_text
from hedui.gateway.fanout import CaseRequest, FanOut
from hedui.gateway.planner import DepartmentPlan
from hedui.gateway.queries import SignedQuery, SubjectRef
from hedui.v1 import audit_pb2, trust_pb2

S = grpc.StatusCode
DEPT = "public-security"
#: a synthetic number (GB 11643 example), never a real person's
ID = "11010519491231002X"

AGENT_REFUSALS = [  # (status, reason) as agents/refusals.py sends them
    (S.INVALID_ARGUMENT, "MALFORMED_ID_NUMBER"), (S.INVALID_ARGUMENT, "MALFORMED_QUERY"),
    (S.INVALID_ARGUMENT, "TOO_MANY_SUBJECTS"), (S.INVALID_ARGUMENT, "MALFORMED_FIELD_PATH"),
    (S.INVALID_ARGUMENT, "QUERY_NOT_YET_VALID"), (S.PERMISSION_DENIED, "PURPOSE_NOT_IN_POLICY"),
    (S.PERMISSION_DENIED, "FIELD_OUTSIDE_POLICY"), (S.PERMISSION_DENIED, "CONSENT_MISSING"),
    (S.PERMISSION_DENIED, "PEER_NOT_ALLOWED"), (S.PERMISSION_DENIED, "WRONG_AUDIENCE"),
    (S.PERMISSION_DENIED, "REVOKED_KEY"), (S.UNAUTHENTICATED, "BAD_SIGNATURE"),
    (S.FAILED_PRECONDITION, "CHECKPOINT_INCONSISTENT"), (S.ALREADY_EXISTS, "REPLAYED_NONCE"),
]


# ------------------------------------------------------------------ the table


@pytest.mark.parametrize(("code", "reason"), AGENT_REFUSALS)
def test_an_agents_refusal_is_permanent_and_not_an_outage(code: S, reason: str) -> None:
    c = classify(code, reason)
    assert c.outcome is Outcome.REFUSED and c.reason == reason
    assert not c.counts and not c.retry


@pytest.mark.parametrize(("code", "reason"), [
    (S.UNAVAILABLE, ""),  # a transport failure: no ErrorInfo
    (S.DEADLINE_EXCEEDED, ""),
    (S.UNAVAILABLE, "DATA_UNAVAILABLE"),
    (S.UNAVAILABLE, "AGENT_LOG_UNVERIFIED"),  # the gateway could not fetch a log proof
])
def test_transport_failures_and_timeouts_are_outages(code: S, reason: str) -> None:
    c = classify(code, reason)
    assert c.outcome is Outcome.OUTAGE and c.counts and c.retry


@pytest.mark.parametrize(("code", "reason"), [
    (S.RESOURCE_EXHAUSTED, ""), (S.ABORTED, ""), (S.DEADLINE_EXCEEDED, "QUERY_EXPIRED"),
])
def test_a_busy_agent_is_retried_but_not_counted(code: S, reason: str) -> None:
    c = classify(code, reason)
    assert c.outcome is Outcome.BUSY and not c.counts and c.retry


def test_the_reason_is_never_parsed_from_the_message() -> None:
    """The old "REASON: text" is only words now: a sender cannot steer the breaker by them."""
    c = classify(S.UNAVAILABLE, "")
    assert c.outcome is Outcome.OUTAGE and c.reason == "UNAVAILABLE" and not c.given
    forged = AgentCallFailed(DEPT, S.PERMISSION_DENIED, "DATA_UNAVAILABLE: down")
    assert forged.classified.outcome is Outcome.REFUSED
    assert forged.classified.reason == "PERMISSION_DENIED"


@given(st.sampled_from(list(S)), st.from_regex(r"[A-Z]{2,8}(_[A-Z]{2,8}){0,3}", fullmatch=True))
def test_only_unreachable_or_timed_out_calls_count(code: S, reason: str) -> None:
    c = classify(code, reason)
    expected = (reason in ("DATA_UNAVAILABLE", "AGENT_LOG_UNVERIFIED") or (
        code in (S.UNAVAILABLE, S.DEADLINE_EXCEEDED) and reason != "QUERY_EXPIRED"))
    assert c.counts == expected
    assert c.retry == (c.counts or c.outcome is Outcome.BUSY)
    if c.outcome is Outcome.REFUSED:
        assert c.reason == reason


def test_refusal_text_says_what_to_do_and_never_repeats_an_id_number() -> None:
    detail = f"subject #2 of query q-1 has a malformed number {ID}"
    c = classify(S.INVALID_ARGUMENT, "MALFORMED_ID_NUMBER")
    text = refusal_text(DEPT, c, detail)
    assert text.startswith(f"{DEPT} refused: MALFORMED_ID_NUMBER — correct the member's ID")
    assert "subject #2" in text
    assert ID not in text and ID[:17] not in text


# ------------------------------------------------------------------ the breaker


def test_refusals_never_open_the_breaker_and_outages_do() -> None:
    breaker = CircuitBreaker(threshold=3, cooldown=10, clock=lambda: 0.0)
    refused = classify(S.INVALID_ARGUMENT, "MALFORMED_ID_NUMBER")
    outage = classify(S.UNAVAILABLE, "")
    for _ in range(10):
        breaker.record(refused)
    assert breaker.allow() and not breaker.is_open
    for _ in range(3):
        breaker.record(outage)
    assert breaker.is_open and not breaker.allow()


def test_a_refusal_on_the_half_open_trial_closes_the_breaker() -> None:
    now = [0.0]
    breaker = CircuitBreaker(threshold=1, cooldown=10, clock=lambda: now[0])
    breaker.record(classify(S.DEADLINE_EXCEEDED, ""))
    assert not breaker.allow()
    now[0] = 11.0
    assert breaker.allow()  # the one trial
    breaker.record(classify(S.PERMISSION_DENIED, "CONSENT_MISSING"))
    assert breaker.allow() and breaker.allow()  # the agent replied: closed, not stuck


# ------------------------------------------------------------------ the fan-out


@dataclass
class FakeRecorder:
    kinds: list[int] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    async def record_async(self, kind: int, **kw: object) -> int:
        self.kinds.append(kind)
        self.reasons.append(str(kw.get("reason", "")))
        return len(self.kinds) - 1


class FakeClient:
    """Fails every call with the given status, counting the calls."""

    def __init__(self, code: S, detail: str, reason: str = "") -> None:
        self.code, self.detail, self.reason, self.calls = code, detail, reason, 0

    async def ask(self, signed: SignedQuery, *, timeout: float) -> object:
        self.calls += 1
        raise AgentCallFailed(DEPT, self.code, self.detail, self.reason)


def _fanout(client: FakeClient, recorder: FakeRecorder,
            monkeypatch: pytest.MonkeyPatch) -> FanOut:
    agent = trust_pb2.Participant(id=f"spiffe://county.example/agent/{DEPT}", department=DEPT)
    monkeypatch.setattr(fanout_mod, "plan", lambda bundle, purpose, only: [
        DepartmentPlan(DEPT, agent, ("household_registration.region_code",))])
    return FanOut(
        gateway_id="spiffe://county.example/gateway/center",
        signing_key=nacl.signing.SigningKey.generate(), bundle=lambda: None,  # type: ignore
        client_for=lambda plan: client, recorder=recorder,  # type: ignore[arg-type]
        checkpoint=lambda: "", checkpoint_blocks=False, backoff=0.0,
        retries=2, breaker_threshold=3,
    )


CASE = CaseRequest(case_id="case-1", purpose="dibao", operator="op-1001",
                   subjects=(SubjectRef(ID),))


def test_refused_cases_are_failed_once_each_and_leave_the_breaker_closed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = FakeClient(S.PERMISSION_DENIED, "not for dibao (local)", "PURPOSE_NOT_IN_POLICY")
    recorder = FakeRecorder()
    fan = _fanout(client, recorder, monkeypatch)
    for _ in range(6):  # twice the threshold
        result = asyncio.run(fan.run(CASE))[DEPT]
        assert not result.answered and result.attempts == 1
        assert result.refusal == "PURPOSE_NOT_IN_POLICY"
        assert result.failure is not None
        assert result.failure.startswith(f"{DEPT} refused: PURPOSE_NOT_IN_POLICY — ")
        assert "circuit open" not in result.failure
    assert client.calls == 6
    assert not fan.breaker(DEPT).is_open and fan.breaker(DEPT).failures == 0
    refused = [k for k in recorder.kinds if k == audit_pb2.AUDIT_KIND_QUERY_REFUSED]
    assert len(refused) == 6


def test_outages_are_retried_and_open_the_breaker(monkeypatch: pytest.MonkeyPatch) -> None:
    client = FakeClient(S.UNAVAILABLE, "failed to connect to all addresses")
    fan = _fanout(client, FakeRecorder(), monkeypatch)
    first = asyncio.run(fan.run(CASE))[DEPT]
    assert first.attempts == 3 and "UNAVAILABLE" in (first.failure or "")
    assert fan.breaker(DEPT).is_open
    second = asyncio.run(fan.run(CASE))[DEPT]
    assert second.attempts == 0 and "circuit open" in (second.failure or "")
    assert client.calls == 3
