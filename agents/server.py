"""The agent process: a grpc.aio server over mutual TLS around the ``Answerer``.

What lives here is only what a network server needs: credentials, the peer's
identity from the TLS handshake, message-size limits, the health service, metrics,
reloading a newer trust bundle, and a graceful stop on SIGTERM. Every decision
about a query is made by ``hedui.agents.checks`` and ``hedui.agents.answering``.

Every request ends in an answer or in a ``google.rpc.Status`` with an ``ErrorInfo``
reason (``hedui.status``), and every refusal — also of bytes that are not an
envelope — is in the audit log first: the request is taken as raw bytes and parsed
here, so no input reaches gRPC's own ``UNKNOWN`` with a Python class name. The agent's
log is served to gateways (only) by the audit service, so they can witness it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import signal
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from functools import lru_cache, partial

import grpc
import nacl.signing
import structlog
from cryptography import x509
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from prometheus_client import Counter, Histogram, start_http_server

from hedui import status
from hedui.agents import refusals
from hedui.agents.answering import Answerer, Prepared
from hedui.agents.bulk import BulkAnswerer
from hedui.agents.checks import QueryChecker
from hedui.agents.config import AgentConfig, ConfigError, serving_problems
from hedui.agents.departments import department as department_info
from hedui.agents.fieldmask import expand_all
from hedui.agents.mapping import MappingSource
from hedui.agents.replay import ReplayCache
from hedui.agents.witness import Witness, grpc_proof_source
from hedui.audit.entries import AccessRecorder
from hedui.audit.loop_commit import LoopCommitter
from hedui.audit.pseudonym import Pseudonymizer
from hedui.audit.service import AuditService
from hedui.audit.store import AuditLog
from hedui.errors import HeduiError
from hedui.keys import identity, keyfile, tls
from hedui.keys.bundle import TrustStore
from hedui.keys.bundle_watch import watch_bundle
from hedui.keys.ca import cert_fingerprint
from hedui.keys.errors import KeysError
from hedui.keys.secrets import load_secret
from hedui.keys.signing import generate_signing_key, read_public_key
from hedui.logging import ID_NUMBER, REDACTED_ID
from hedui.v1 import audit_pb2_grpc, envelope_pb2, trust_pb2

log = structlog.get_logger("hedui.agent")

SERVICE_NAME = "hedui.v1.DepartmentAgent"

QUERIES = Counter("hedui_agent_queries_total", "Queries by outcome", ["department", "outcome"])
LATENCY = Histogram(
    "hedui_agent_query_seconds",
    "Time to check and answer one query",
    ["department"],
    buckets=(0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)


class LatestCheckpoint:
    """The agent log's latest signed checkpoint, as every answer carries it.

    Read from the log on first use, then replaced by the signer task (``refresh``):
    an answer never waits for a signature.
    """

    def __init__(self, log: AuditLog) -> None:
        self.log = log
        self.note: str | None = None

    def __call__(self) -> str:
        if self.note is None:
            self.note = self.log.latest_checkpoint() or self.log.checkpoint()
        return self.note

    def refresh(self) -> str:
        self.note = self.log.checkpoint()
        return self.note


@dataclass
class Agent:
    """Everything one running agent holds."""

    config: AgentConfig
    trust: TrustStore
    answerer: Answerer
    replay: ReplayCache
    audit_log: AuditLog
    source: MappingSource
    material: tls.TlsMaterial
    checkpoint: LatestCheckpoint

    def close(self) -> None:
        self.source.close()
        self.replay.close()
        self.audit_log.close()


def local_log_key(config: AgentConfig) -> nacl.signing.SigningKey:
    """The key of the agent's own audit log, made on first start (mode 0600).

    Not the agent's exchange signing key: that one rotates through the trust bundle,
    while a log's checkpoints must stay verifiable under one key for its whole life.
    """
    path = config.state_dir / "audit-log.key"
    if not path.exists():
        keyfile.write_private_key(path, generate_signing_key())
    return keyfile.load_signing_key(path)


def build(config: AgentConfig, *, serving: bool = False) -> Agent:
    """Assemble an agent from its configuration (no network yet).

    ``serving``: replay claims reach their file in batches, flushed by the server's
    audit committer before any answer is released (see ``hedui.agents.replay``).
    """
    config.state_dir.mkdir(parents=True, exist_ok=True)
    passphrase = (  # one passphrase for the agent's encrypted key files
        keyfile.passphrase_from_env(config.passphrase_env) if config.passphrase_env else None
    )
    material = tls.load_tls_material(config.tls_certificate, config.tls_key, config.tls_ca,
                                     passphrase)
    signing_key = keyfile.load_signing_key(config.signing_key, passphrase)
    trust = TrustStore(read_public_key(config.root_public_key), state_path=config.bundle_state)
    trust.load(config.bundle, dt.datetime.now(dt.UTC))
    source = MappingSource(config.mapping, database_url_override=config.database)
    replay = ReplayCache(config.replay_db, deferred=serving)
    pseudonym_key = load_secret(config.pseudonym_key)
    audit_log = AuditLog.open(
        config.audit_db, origin=f"{config.agent_id.removeprefix('spiffe://')}/audit",
        signing_key=local_log_key(config), key_name=config.agent_id.removeprefix("spiffe://"),
        create=True, pseudonym_key=pseudonym_key,  # a log never mixes pseudonym keys
    )
    recorder = AccessRecorder(audit_log, actor=config.agent_id,
                              pseudonymizer=Pseudonymizer(pseudonym_key))
    descriptor = department_info(config.department).record_type.DESCRIPTOR
    narrowing = (
        None if config.narrowing is None
        else {purpose: expand_all(descriptor, paths) for purpose, paths in config.narrowing.items()}
    )
    witness = Witness(config.witness_db, bundle=lambda: trust.current, recorder=recorder)
    if config.gateway_audit_endpoint:
        gateways = trust.current.participants_by_role(trust_pb2.ROLE_GATEWAY)
        server_id = next(
            (g.id for g in gateways if g.endpoint == config.gateway_audit_endpoint),
            gateways[0].id if gateways else "",
        )
        witness.set_proof_source(
            grpc_proof_source(config.gateway_audit_endpoint, server_id, material)
        )
    checker = QueryChecker(
        agent_id=config.agent_id, department=config.department,
        bundle=lambda: trust.current, replay=replay, held_paths=source.held_paths,
        narrowing=narrowing, limits=config.limits, witness=witness.observe,
    )
    checkpoint = LatestCheckpoint(audit_log)
    answerer = Answerer(checker=checker, source=source, recorder=recorder,
                        signing_key=signing_key, log_checkpoint=checkpoint,
                        log_key=audit_log.vkey)
    return Agent(config, trust, answerer, replay, audit_log, source, material, checkpoint)


def peer(auth_context: dict) -> tuple[str | None, str | None]:
    """The peer's SPIFFE id (None when it has none) and its certificate's SHA-256
    fingerprint (for bundles that pin fingerprints), from the TLS handshake."""
    pems = auth_context.get(identity.PEER_PEM_CERT_KEY) or []
    spiffe = tuple(auth_context.get(identity.PEER_SPIFFE_ID_KEY) or ())
    return _peer(bytes(pems[0]) if pems else b"", spiffe)


@lru_cache(maxsize=256)
def _peer(pem: bytes, spiffe: tuple[bytes, ...]) -> tuple[str | None, str | None]:
    # A gateway presents the same certificate on every query: read it once.
    auth = {identity.PEER_SPIFFE_ID_KEY: list(spiffe), identity.PEER_PEM_CERT_KEY: [pem]}
    try:
        peer_id: str | None = identity.peer_identity(auth)
    except KeysError:
        peer_id = None
    try:
        fingerprint = cert_fingerprint(x509.load_pem_x509_certificate(pem)) if pem else None
    except ValueError:
        fingerprint = None
    return peer_id, fingerprint


def wire_message(exc: refusals.QueryRefused) -> str:
    """The sentence a peer reads: bounded, and nothing shaped like an ID number."""
    return status.bounded(ID_NUMBER.sub(REDACTED_ID, str(exc)))


class DepartmentAgentService:
    """The gRPC face of the Answerer; requests arrive as raw bytes (``add_to_server``)."""

    def __init__(self, agent: Agent) -> None:
        self.agent = agent
        self.department = agent.config.department
        self.committer = LoopCommitter(agent.audit_log, before_commit=agent.replay.flush)
        self.bulk = BulkAnswerer(agent.answerer)
        self._answered = QUERIES.labels(self.department, "ANSWERED")
        self._latency = LATENCY.labels(self.department)

    def _prepare(self, request: bytes | envelope_pb2.Envelope, peer_id: str | None,
                 fingerprint: str | None) -> Prepared:
        """The request's outcome and audit entry; never raises. (An Envelope already
        parsed is taken as it is: benchmarks call the handler without gRPC.)"""
        answerer = self.agent.answerer
        envelope = request if isinstance(request, envelope_pb2.Envelope) \
            else envelope_pb2.Envelope()
        try:
            if envelope is not request:
                envelope.ParseFromString(request)
        except Exception:  # DecodeError, and whatever else bytes from a peer may provoke
            return answerer.refuse(bytes(request), peer_id, refusals.MalformedEnvelope(
                "the request is not a hedui.v1.Envelope"))
        try:
            # Checks, lookup and the audit entry run here on the event loop: they are
            # short CPU work and SQLite reads; a thread per query only added GIL hand-offs.
            return answerer.prepare(envelope, peer_id=peer_id, peer_cert_sha256=fingerprint)
        except Exception:  # a bug: the traceback stays here, the peer learns a reason code
            log.exception("the agent failed on a query", peer=peer_id)
            return answerer.refuse(envelope.payload, peer_id, refusals.AgentFailed(
                "the agent failed on this query; its operator finds the fault in its log"))

    async def Answer(self, request: bytes | envelope_pb2.Envelope,
                     context: grpc.aio.ServicerContext) -> bytes:
        started = time.perf_counter()
        peer_id, fingerprint = peer(context.auth_context())
        prepared = self._prepare(request, peer_id, fingerprint)
        refused: refusals.QueryRefused | None = None
        try:
            # signed in the commit thread once the entry is durable: the signature
            # releases the GIL, so it runs beside the next queries' checks
            answer = await self.committer.append_then(
                prepared.entry, partial(self.agent.answerer.release, prepared)
            )
        except refusals.QueryRefused as exc:
            refused = exc
        except Exception:  # the audit log cannot be written: nothing may be released
            log.exception("cannot write the agent's audit log", peer=peer_id)
            refused = refusals.DataUnavailable(
                "this agent cannot write its audit log right now; try again later")
            refused.reason = "AUDIT_LOG_UNAVAILABLE"
        if refused is not None:
            await self._abort(context, refused, peer_id)
        self._answered.inc()
        self._latency.observe(time.perf_counter() - started)
        return answer.SerializeToString()

    async def _abort(self, context: grpc.aio.ServicerContext, refused: refusals.QueryRefused,
                     peer_id: str | None) -> None:
        QUERIES.labels(self.department, refused.reason).inc()
        log.info("query refused", reason=refused.reason,
                 detail=status.bounded(str(refused), 200), peer=peer_id)
        await status.abort(context, refused.code, refused.reason, wire_message(refused),
                           {"department": self.department, **refused.metadata})

    async def AnswerBulk(self, request: bytes | envelope_pb2.Envelope,
                         context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
        """A bulk query (``hedui.agents.bulk``): its one entry durable, then the signed
        chunks streamed; a whole-query refusal aborts as ``Answer`` does."""
        peer_id, fingerprint = peer(context.auth_context())
        prepared = self.bulk.prepare_request(request, peer_id=peer_id,
                                             peer_cert_sha256=fingerprint)
        try:
            chunks = await self.committer.append_then(
                prepared.entry, partial(self.bulk.release, prepared))
        except refusals.QueryRefused as exc:
            await self._abort(context, exc, peer_id)
            return
        except Exception:  # the audit log cannot be written: nothing may be released
            log.exception("cannot write the agent's audit log", peer=peer_id)
            refused = refusals.DataUnavailable(
                "this agent cannot write its audit log right now; try again later")
            refused.reason = "AUDIT_LOG_UNAVAILABLE"
            await self._abort(context, refused, peer_id)
            return
        QUERIES.labels(self.department, "BULK_ANSWERED").inc()
        for chunk in chunks:
            yield chunk.SerializeToString()


def add_to_server(service: DepartmentAgentService, server: grpc.aio.Server) -> None:
    """Mount ``Answer`` and ``AnswerBulk`` taking raw bytes: the service parses (and
    refuses) them itself."""
    handlers = {
        "Answer": grpc.unary_unary_rpc_method_handler(
            service.Answer, request_deserializer=None, response_serializer=None),
        "AnswerBulk": grpc.unary_stream_rpc_method_handler(
            service.AnswerBulk, request_deserializer=None, response_serializer=None),
    }
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler(SERVICE_NAME, handlers),))


def gateways_only(agent: Agent) -> Callable[[grpc.aio.ServicerContext], bool]:
    """Who may read the agent's log through its audit service: gateways of the bundle."""

    def allowed(context: grpc.aio.ServicerContext) -> bool:
        peer_id, fingerprint = peer(context.auth_context())
        if not peer_id:
            return False
        try:
            participant = agent.trust.current.authorize_peer(peer_id, fingerprint)
        except KeysError:
            return False
        return participant.role == trust_pb2.ROLE_GATEWAY

    return allowed


async def _sign_checkpoints(agent: Agent, interval: float = 5.0) -> None:
    """Sign the local log's checkpoint now and then, so its entries are covered."""
    while True:
        await asyncio.sleep(interval)
        try:
            await asyncio.to_thread(agent.checkpoint.refresh)
        except HeduiError as exc:
            log.error("cannot sign the local audit checkpoint", reason=str(exc))


async def serve(config: AgentConfig, *, ready: asyncio.Event | None = None) -> None:
    """Run the agent until SIGTERM/SIGINT; in-flight queries finish before exit."""
    problems = serving_problems(config)
    if problems:
        raise ConfigError(f"{config.path}: {problems[0]}")
    agent = build(config, serving=True)
    material = agent.material
    limit = config.limits.max_message_bytes
    server = grpc.aio.server(options=[
        ("grpc.max_receive_message_length", limit),
        ("grpc.max_send_message_length", 64 * 1024 * 1024),
    ])
    service = DepartmentAgentService(agent)
    agent.audit_log.route_appends(service.committer)  # one writer: the loop's
    add_to_server(service, server)
    agent.checkpoint.refresh()  # answers carry a checkpoint over everything so far
    audit_pb2_grpc.add_AuditServiceServicer_to_server(
        AuditService(agent.audit_log, None, checkpoint=agent.checkpoint,
                     may_read=gateways_only(agent)),
        server,
    )
    health = HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    port = server.add_secure_port(config.listen, tls.server_credentials(*material))
    if port == 0:
        raise refusals.QueryRefused(f"cannot listen on {config.listen}")
    await server.start()
    if config.metrics_listen:
        host, _, metrics_port = config.metrics_listen.rpartition(":")
        start_http_server(int(metrics_port), addr=host or "0.0.0.0")
    await health.set(SERVICE_NAME, health_pb2.HealthCheckResponse.SERVING)
    await health.set("", health_pb2.HealthCheckResponse.SERVING)
    log.info("agent serving", agent=config.agent_id, listen=config.listen, port=port,
             bundle_serial=agent.trust.current.serial)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    watcher = asyncio.create_task(watch_bundle(agent.trust, config.bundle))
    signer = asyncio.create_task(_sign_checkpoints(agent))
    if ready is not None:
        ready.set()
    try:
        await stop.wait()
    finally:
        log.info("agent stopping", agent=config.agent_id)
        await health.enter_graceful_shutdown()
        watcher.cancel()
        signer.cancel()
        await server.stop(grace=10)
        agent.audit_log.route_appends(None)
        service.committer.close()
        agent.audit_log.checkpoint()
        agent.close()
        log.info("agent stopped", agent=config.agent_id, at=dt.datetime.now(dt.UTC).isoformat())
