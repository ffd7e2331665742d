"""Calling one department agent over mutual TLS.

One channel per agent, kept open. The TLS handshake itself checks that the server
holds the certificate of the agent we mean (``channel_options``), and the signed
answer is verified (``hedui.gateway.answers``) before anyone sees it. A refusal's
reason is read from the status details (``google.rpc.ErrorInfo``, ``hedui.status``),
never parsed out of its text. The same channel carries the agent's audit service, from
which the gateway fetches consistency proofs of the agent's log
(``hedui.gateway.agent_witness``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import grpc

from hedui import status
from hedui.errors import HeduiError
from hedui.gateway.agent_witness import AgentLogUnverified, ProofBeyondLog
from hedui.gateway.answers import VerifiedAnswer, verify_answer
from hedui.gateway.breaker import Classified, classify
from hedui.gateway.queries import SignedQuery
from hedui.keys import tls
from hedui.keys.bundle import Bundle
from hedui.v1 import agent_pb2_grpc, audit_pb2, audit_pb2_grpc, envelope_pb2

#: how long a consistency proof of an agent's log may take
PROOF_TIMEOUT = 5.0


class AgentCallFailed(HeduiError):
    """The agent refused the query or could not be reached.

    ``reason`` is the agent's ErrorInfo reason ("" when it gave none: a transport
    failure, or an agent older than machine-readable reasons); ``detail`` its sentence.
    """

    def __init__(self, department: str, code: grpc.StatusCode, detail: str,
                 reason: str = "") -> None:
        self.department = department
        self.code = code
        self.detail = status.bounded(detail)
        self.reason = reason
        super().__init__(f"{department}: {reason or code.name}: {self.detail}")

    @property
    def classified(self) -> Classified:
        """Outage, busy or refusal: the one table is :func:`hedui.gateway.breaker.classify`."""
        return classify(self.code, self.reason)

    @property
    def transient(self) -> bool:
        """Worth retrying: the agent may answer a fresh query later."""
        return self.classified.retry


@dataclass
class AgentClient:
    """A long-lived mutual-TLS channel to one agent."""

    department: str
    agent_id: str
    endpoint: str
    material: tls.TlsMaterial
    bundle: Callable[[], Bundle]
    max_message_bytes: int = 64 * 1024 * 1024

    def __post_init__(self) -> None:
        options = [
            *tls.channel_options(self.agent_id),
            ("grpc.max_receive_message_length", self.max_message_bytes),
        ]
        self._channel = grpc.aio.secure_channel(
            self.endpoint, tls.channel_credentials(*self.material), options=options
        )
        self._stub = agent_pb2_grpc.DepartmentAgentStub(self._channel)
        self._audit = audit_pb2_grpc.AuditServiceStub(self._channel)

    async def ask(self, signed: SignedQuery, *, timeout: float) -> VerifiedAnswer:
        """Send one signed query; return the verified answer or raise AgentCallFailed."""
        try:
            envelope = await self._stub.Answer(signed.envelope, timeout=timeout)
        except grpc.aio.AioRpcError as exc:
            said = status.reason_of(exc)
            raise AgentCallFailed(self.department, said.code, said.message,
                                  said.reason) from None
        return verify_answer(
            envelope,
            query=signed.query,
            query_digest=signed.digest,
            department=self.department,
            bundle=self.bundle(),
            now=dt.datetime.now(dt.UTC),
        )

    def answer_bulk_call(self, envelope: envelope_pb2.Envelope, *,
                         timeout: float) -> grpc.aio.UnaryStreamCall:
        """The raw AnswerBulk stream on this channel (``hedui.gateway.bulk_client``
        verifies what it yields)."""
        return self._stub.AnswerBulk(envelope, timeout=timeout)

    async def consistency_proof(self, first: int, second: int) -> list[bytes]:
        """An RFC 9162 consistency proof of the agent's own log between two sizes.

        Raises ProofBeyondLog when the agent says its log is smaller than ``second``
        (evidence, for a size it signed), AgentLogUnverified for anything else.
        """
        try:
            reply = await self._audit.GetConsistencyProof(
                audit_pb2.GetConsistencyProofRequest(first_size=first, second_size=second),
                timeout=PROOF_TIMEOUT,
            )
        except grpc.aio.AioRpcError as exc:
            said = status.reason_of(exc)
            size = said.metadata.get("log_size", "")
            if said.reason == "PROOF_OUT_OF_RANGE" and size.isdigit():
                raise ProofBeyondLog(int(size), said.message) from None
            raise AgentLogUnverified(
                f"{self.department}'s audit service gave no proof from size {first} to "
                f"{second}: {said.reason or said.code.name}") from None
        if reply.proof.first_size != first or reply.proof.second_size != second:
            raise AgentLogUnverified(f"{self.department}'s audit service answered another "
                                     "proof than the one asked for")
        return list(reply.proof.hashes)

    async def close(self) -> None:
        await self._channel.close()
