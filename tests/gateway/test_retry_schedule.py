"""Which failures the retry schedule asks again: those the fan-out logged QUERY_FAILED
(outages and busy agents, as ``breaker.classify`` counts them), never a refusal
(QUERY_REFUSED) nor a rejected answer. The texts are made by the code that writes them
into the case (``AgentCallFailed``, ``refusal_text``), so a change of wording there
fails here rather than retrying refusals silently."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import grpc
import pytest

from hedui.gateway.agent_client import AgentCallFailed
from hedui.gateway.breaker import classify, refusal_text
from hedui.gateway.retry_schedule import run, worth_retrying
from hedui.v1 import audit_pb2

FAILED, REFUSED = audit_pb2.AUDIT_KIND_QUERY_FAILED, audit_pb2.AUDIT_KIND_QUERY_REFUSED


@pytest.mark.parametrize(("code", "reason"), [
    (grpc.StatusCode.UNAVAILABLE, ""),
    (grpc.StatusCode.DEADLINE_EXCEEDED, ""),
    (grpc.StatusCode.RESOURCE_EXHAUSTED, ""),
    (grpc.StatusCode.UNAVAILABLE, "DATA_UNAVAILABLE"),
    (grpc.StatusCode.UNAVAILABLE, "AGENT_LOG_UNVERIFIED"),
    (grpc.StatusCode.DEADLINE_EXCEEDED, "QUERY_EXPIRED"),
])
def test_an_outage_or_a_busy_agent_is_asked_again(code: grpc.StatusCode, reason: str) -> None:
    exc = AgentCallFailed("tax", code, "failed to connect to all addresses", reason)
    assert exc.classified.retry  # the fan-out logs it QUERY_FAILED
    assert worth_retrying("tax", str(exc), FAILED)
    assert not worth_retrying("tax", str(exc), None)  # no entry found: left to a person


@pytest.mark.parametrize(("code", "reason"), [
    (grpc.StatusCode.INVALID_ARGUMENT, "MALFORMED_ID_NUMBER"),
    (grpc.StatusCode.PERMISSION_DENIED, "PURPOSE_NOT_IN_POLICY"),
    (grpc.StatusCode.FAILED_PRECONDITION, "CHECKPOINT_INCONSISTENT"),
    (grpc.StatusCode.PERMISSION_DENIED, ""),
    (grpc.StatusCode.INTERNAL, ""),
])
def test_a_refusal_is_never_asked_again(code: grpc.StatusCode, reason: str) -> None:
    exc = AgentCallFailed("tax", code, "no", reason)
    assert not exc.classified.retry  # the fan-out logs it QUERY_REFUSED
    # the fan-out stores a refusal's sentence (``refusal_text``): refused by its words …
    assert not worth_retrying("tax", refusal_text("tax", exc.classified, exc.detail), FAILED)
    # … and by its entry, whatever the words
    assert not worth_retrying("tax", str(exc), REFUSED)


def test_an_agent_reason_behind_an_outage_code_is_still_an_outage() -> None:
    """AUDIT_LOG_UNAVAILABLE travels as UNAVAILABLE: an outage by ``classify``, though
    the stored words name only the reason — the entry's kind decides."""
    exc = AgentCallFailed("tax", grpc.StatusCode.UNAVAILABLE, "log", "AUDIT_LOG_UNAVAILABLE")
    assert classify(exc.code, exc.reason).retry
    assert worth_retrying("tax", str(exc), FAILED)


def test_other_failures() -> None:
    # an answer the gateway rejected is logged QUERY_FAILED; its words keep it out
    assert not worth_retrying("tax", "tax: answer rejected: bad signature", FAILED)
    assert worth_retrying("tax", "tax is not answering (circuit open after 3 failures); "
                                 "retry the case later", FAILED)


@dataclass
class _Config:
    retry_failed_every: float
    retry_failed_per_sweep: int = 20


def test_the_schedule_off_returns_and_a_stop_ends_it() -> None:
    async def main() -> None:
        stop = asyncio.Event()
        await asyncio.wait_for(run(None, _Config(0), stop), 1)  # type: ignore[arg-type]
        task = asyncio.create_task(run(None, _Config(3600), stop))  # type: ignore[arg-type]
        await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(task, 1)  # ends at once, no sweep run

    asyncio.run(main())
