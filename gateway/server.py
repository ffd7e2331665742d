"""The gateway process: case service and audit service over mutual TLS.

Assembly only: keys, trust bundle, case database, audit log, fan-out, and the
gRPC servers with health checks and a graceful stop on SIGTERM. Several replicas
may run against one PostgreSQL database; each appends to the one audit log.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import signal
import socket
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import grpc
import structlog
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from prometheus_client import start_http_server

from hedui import status
from hedui.audit.entries import ACTING_ROLE, AccessRecorder
from hedui.audit.loop_commit import LoopCommitter
from hedui.audit.pseudonym import Pseudonymizer
from hedui.audit.publisher import CheckpointPublisher
from hedui.audit.search import AuditQueries
from hedui.audit.service import AuditService
from hedui.audit.store import AuditLog
from hedui.errors import HeduiError
from hedui.gateway import member_keys, retry_schedule
from hedui.gateway.access import PRIVACY_OFFICER
from hedui.gateway.agent_client import AgentClient
from hedui.gateway.agent_witness import AgentWitness
from hedui.gateway.authorizations import AuthorizationRegistry
from hedui.gateway.cases import CaseManager, erase_expired
from hedui.gateway.config import GatewayConfig
from hedui.gateway.deadlines import FeedbackDeadlines
from hedui.gateway.fanout import FanOut
from hedui.gateway.office import OfficeService
from hedui.gateway.office import add_to_server as add_office_service
from hedui.gateway.planner import DepartmentPlan
from hedui.gateway.planner import programmes as planner_programmes
from hedui.gateway.reverify_desk import ReverificationDesk
from hedui.gateway.reverify_runner import Runner, replica_reverifier
from hedui.gateway.reverify_schedule import Schedule
from hedui.gateway.reverify_service import ReverificationService
from hedui.gateway.reverify_service import add_to_server as add_reverification_service
from hedui.gateway.sealing import Vault
from hedui.gateway.service import CaseService
from hedui.gateway.service import add_to_server as add_case_service
from hedui.gateway.staff import StaffRegistry
from hedui.gateway.standards import StandardsLibrary
from hedui.gateway.store import CaseStore
from hedui.keys import identity, keyfile, tls
from hedui.keys.bundle import TrustStore
from hedui.keys.bundle_watch import watch_bundle
from hedui.keys.secrets import load_secret
from hedui.keys.signing import read_public_key
from hedui.v1 import audit_pb2_grpc

log = structlog.get_logger("hedui.gateway")

DEFAULT_STANDARDS = Path(__file__).resolve().parents[1] / "deploy" / "standards"


@dataclass
class Gateway:
    """One running gateway replica's parts."""

    config: GatewayConfig
    trust: TrustStore
    material: tls.TlsMaterial
    cases: CaseManager
    audit_log: AuditLog
    store: CaseStore
    clients: dict[str, AgentClient]

    async def close(self) -> None:
        for client in self.clients.values():
            await client.close()
        self.store.close()
        self.audit_log.close()


def migrate_cases(url: str) -> None:
    """Bring the case database to this release's head at start-up (replicas take turns
    under the migration lock). A database already ahead — a rolling update where a
    newer replica migrated first — is left alone: revisions only ever add."""
    from hedui.audit.migrations.runner import MigrationError
    from hedui.gateway.migrations import upgrade

    try:
        upgrade(url)
    except MigrationError as exc:
        if "Can't locate revision" not in str(exc):
            raise
        log.warning("case database is ahead of this release", detail=str(exc))


def build(config: GatewayConfig) -> Gateway:
    config.state_dir.mkdir(parents=True, exist_ok=True)
    signing_key = keyfile.load_signing_key(config.signing_key)
    trust = TrustStore(read_public_key(config.root_public_key), state_path=config.bundle_state)
    trust.load(config.bundle, dt.datetime.now(dt.UTC))
    material = tls.load_tls_material(config.tls_certificate, config.tls_key, config.tls_ca)
    pseudonym_key = load_secret(config.pseudonym_key)
    log_key, log_key_id = signing_key, config.gateway_id
    if config.audit_key is not None:
        if not config.audit_key_id:
            raise HeduiError(f"{config.path}: [store] audit_key needs audit_key_id (the audit "
                             "participant's id in the trust bundle)")
        log_key, log_key_id = keyfile.load_signing_key(config.audit_key), config.audit_key_id
    audit_log = AuditLog.open(
        config.audit_db, origin=config.audit_origin, signing_key=log_key,
        key_name=log_key_id.removeprefix("spiffe://"), create=True,
        pseudonym_key=pseudonym_key,  # a log never mixes pseudonym keys
    )
    recorder = AccessRecorder(audit_log, actor=config.gateway_id,
                              pseudonymizer=Pseudonymizer(pseudonym_key))
    publisher = CheckpointPublisher(audit_log, config.checkpoint_interval)
    clients: dict[str, AgentClient] = {}

    def client_for(plan: DepartmentPlan) -> AgentClient:
        key = f"{plan.agent.id}@{plan.agent.endpoint}"
        if key not in clients:
            clients[key] = AgentClient(plan.department, plan.agent.id, plan.agent.endpoint,
                                       material, lambda: trust.current)
        return clients[key]

    fanout = FanOut(
        gateway_id=config.gateway_id, signing_key=signing_key, bundle=lambda: trust.current,
        client_for=client_for, recorder=recorder, checkpoint=publisher.latest,
        checkpoint_blocks=audit_log.shared_database,
        deadline=config.deadline, retries=config.retries,
        # the agents' log keys and largest checkpoints survive a restart (per replica)
        agent_witness=AgentWitness(config.state_dir / "agent-witness.sqlite", recorder=recorder),
    )
    migrate_cases(config.cases_db)
    store = CaseStore(config.cases_db)
    registry = AuthorizationRegistry(store, recorder.pseudonymizer.pseudonym)
    staff = StaffRegistry(store, recorder,
                          programmes=lambda: planner_programmes(trust.current))
    staff.seed(config.staff)  # once, into an empty registry (logged); then ignored
    cases = CaseManager(
        gateway_id=config.gateway_id, signing_key=signing_key, bundle=lambda: trust.current,
        store=store, vault=Vault(load_secret(config.answers_key)), authorizations=registry,
        fanout=fanout, recorder=recorder, audit_log=audit_log, checkpoints=publisher,
        standards=StandardsLibrary(config.standards_dir or DEFAULT_STANDARDS),
        registry=staff, review_required=config.review_required,
        replica=config.replica or f"{socket.gethostname()}:{config.listen}",
        claim_ttl=dt.timedelta(seconds=config.deadline * (config.retries + 1) + 10),
        repeat_within=config.repeat_within,
        deadlines=FeedbackDeadlines.from_config(config),
    )
    return Gateway(config, trust, material, cases, audit_log, store, clients)


async def _sweep_retention(gw: Gateway, interval: float) -> None:
    """Erase answers past their programme's retention period, now and then."""
    while True:
        try:
            erased = await asyncio.to_thread(erase_expired, gw.cases)
            if erased:
                log.info("answers erased after retention", count=erased)
        except HeduiError as exc:
            log.error("retention sweep failed", reason=str(exc))
        await asyncio.sleep(interval)


def _warn_transitional(config: GatewayConfig) -> None:
    """Say at start what the configuration leaves weaker than the default."""
    if config.declared_operators:
        log.warning("[clients] declared_operators is on: desks on [clients] allowed name "
                    "their operator and the gateway believes them; issue personal staff "
                    "certificates and turn it off", desks=list(config.allowed_clients))
    if not config.review_required:
        log.warning("[review] required is off: reports are issued without a second person "
                    "approving the assessment (审核)")


def _peer(context: grpc.aio.ServicerContext) -> str | None:
    try:
        return identity.peer_identity(context.auth_context())
    except HeduiError:
        return None


class StaffAuditService(AuditService):
    """The audit service, where a privacy officer may also search with their personal
    certificate: an active registry member in the privacy-officer role, the search
    logged under their staff id (``searched_by`` set from the certificate; another one
    refused). Officer tools on ``[clients] officers`` keep working as before."""

    def __init__(self, *args: object, registry: StaffRegistry, officers: tuple[str, ...],
                 **kwargs: object) -> None:
        super().__init__(*args, may_search=self._may_search, **kwargs)  # type: ignore[arg-type]
        self.staff = registry
        self.officers = frozenset(officers)

    def _officer(self, context: grpc.aio.ServicerContext) -> str:
        """The staff id of an active privacy officer's personal certificate, else ""."""
        peer = _peer(context)
        if peer is None or identity.parse_id(peer).kind != "staff":
            return ""
        person = self.staff.get(identity.parse_id(peer).name)
        ok = person is not None and person.active and PRIVACY_OFFICER in person.roles
        return person.staff_id if ok and person is not None else ""

    def _may_search(self, context: grpc.aio.ServicerContext) -> bool:
        return _peer(context) in self.officers or bool(self._officer(context))

    async def Search(self, request, context):
        officer = self._officer(context)
        if officer:
            if request.searched_by and request.searched_by != officer:
                await status.abort(context, grpc.StatusCode.PERMISSION_DENIED,
                                   "OPERATOR_MISMATCH", f"the certificate is staff member "
                                   f"{officer}'s; it cannot search as another person")
            request.searched_by = officer
            token = ACTING_ROLE.set(PRIVACY_OFFICER)
            try:
                return await super().Search(request, context)
            finally:
                ACTING_ROLE.reset(token)
        return await super().Search(request, context)


async def serve(config: GatewayConfig) -> None:
    """Run until SIGTERM/SIGINT; in-flight requests finish first."""
    gw = build(config)
    _warn_transitional(config)
    # case steps that touch the databases run in threads; asyncio's default of
    # cores + 4 threads queued them behind each other under load
    asyncio.get_running_loop().set_default_executor(
        ThreadPoolExecutor(max_workers=32, thread_name_prefix="gateway"))
    # every audit append of this process, from the loop or a case step's thread,
    # goes through the loop's group commit (see hedui.audit.loop_commit)
    committer = LoopCommitter(gw.audit_log)
    gw.audit_log.route_appends(committer)
    server = grpc.aio.server(options=[("grpc.max_receive_message_length", 4 * 1024 * 1024)])
    add_case_service(CaseService(
        gw.cases, gw.cases.authorizations, config.allowed_clients,
        consoles=config.console_clients, declared_operators=config.declared_operators,
        trust_domain=identity.parse_id(config.gateway_id).domain), server)
    add_office_service(OfficeService(
        gw.cases, config.allowed_clients, consoles=config.console_clients,
        declared_operators=config.declared_operators,
        trust_domain=identity.parse_id(config.gateway_id).domain), server)
    runner = Runner(replica_reverifier(gw), schedule=Schedule.from_config(config),
                    registry=gw.cases.registry)
    add_reverification_service(ReverificationService(
        ReverificationDesk(gw.cases, runner.reverifier.roster, wake=runner.wake),
        config.allowed_clients, consoles=config.console_clients,
        declared_operators=config.declared_operators,
        trust_domain=identity.parse_id(config.gateway_id).domain), server)
    audit_pb2_grpc.add_AuditServiceServicer_to_server(
        StaffAuditService(
            gw.audit_log, AuditQueries(gw.audit_log, gw.cases.recorder),
            checkpoint=gw.cases.checkpoints.latest, registry=gw.cases.registry,
            officers=config.officer_clients,
        ),
        server,
    )
    health = HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    port = server.add_secure_port(config.listen, tls.server_credentials(*gw.material))
    if config.metrics_listen:
        host, _, metrics_port = config.metrics_listen.rpartition(":")
        start_http_server(int(metrics_port), addr=host or "0.0.0.0")
    if port == 0:
        raise HeduiError(f"cannot listen on {config.listen}")
    # cases opened before the search keys existed get theirs before anyone searches
    await asyncio.to_thread(member_keys.backfill, gw.cases)
    await server.start()
    for name in ("", "hedui.v1.CaseService", "hedui.v1.OfficeService",
                 "hedui.v1.ReverificationService", "hedui.v1.AuditService"):
        await health.set(name, health_pb2.HealthCheckResponse.SERVING)
    log.info("gateway serving", gateway=config.gateway_id, listen=config.listen,
             bundle_serial=gw.trust.current.serial)
    watcher = asyncio.create_task(watch_bundle(gw.trust, config.bundle,
                                               warn_before=config.bundle_warn_before))
    sweeper = asyncio.create_task(_sweep_retention(gw, config.retention_sweep))
    stop = asyncio.Event()
    retrier = asyncio.create_task(retry_schedule.run(gw.cases, config, stop))
    # runs started through the service, and those a stopped replica left open
    reverifying = asyncio.create_task(runner.run_forever(stop))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        log.info("gateway stopping", gateway=config.gateway_id)
        await health.enter_graceful_shutdown()
        watcher.cancel()
        sweeper.cancel()
        retrier.cancel()
        reverifying.cancel()
        await server.stop(grace=15)
        gw.audit_log.route_appends(None)
        committer.close()
        await gw.close()
