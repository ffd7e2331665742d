"""Calling one department agent over mutual TLS.

One channel per agent, kept open. The TLS handshake itself checks that the server
holds the certificate of the agent we mean (``channel_options``), and the signed
answer is verified (``hedui.gateway.answers``) before anyone sees it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import grpc

from hedui.errors import HeduiError
from hedui.gateway.answers import VerifiedAnswer, verify_answer
from hedui.gateway.breaker import Classified, classify
from hedui.gateway.queries import SignedQuery
from hedui.keys import tls
from hedui.keys.bundle import Bundle
from hedui.v1 import agent_pb2_grpc


class AgentCallFailed(HeduiError):
    """The agent refused the query or could not be reached."""

    def __init__(self, department: str, code: grpc.StatusCode, detail: str) -> None:
        self.department = department
        self.code = code
        self.detail = detail
        super().__init__(f"{department}: {code.name}: {detail}")

    @property
    def classified(self) -> Classified:
        """Outage, busy or refusal: the one table is :func:`hedui.gateway.breaker.classify`."""
        return classify(self.code, self.detail)

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

    async def ask(self, signed: SignedQuery, *, timeout: float) -> VerifiedAnswer:
        """Send one signed query; return the verified answer or raise AgentCallFailed."""
        try:
            envelope = await self._stub.Answer(signed.envelope, timeout=timeout)
        except grpc.aio.AioRpcError as exc:
            raise AgentCallFailed(self.department, exc.code(), exc.details() or "") from None
        return verify_answer(
            envelope,
            query=signed.query,
            query_digest=signed.digest,
            department=self.department,
            bundle=self.bundle(),
            now=dt.datetime.now(dt.UTC),
        )

    async def close(self) -> None:
        await self._channel.close()
