"""A department's side of the offline exchange: answer a sealed queries bundle, no network.

``hedui agent answer-bundle`` opens the center's bundle and verifies every byte of it
(``hedui.keys.sealed_bundle``), then runs each query through the same
:class:`~hedui.agents.checks.QueryChecker` rules, the same mapping, the same audit log
and the same signing key as a query that arrived over mutual TLS — the peer identity
being the bundle's verified sender instead of a TLS certificate. The answers, and a
listed refusal for every query refused, are sealed back to the center.

Two things differ from the online path, both confined to :func:`offline_answerer`:

* an offline query may live up to ``[limits] offline_max_query_lifetime_days`` (45 by
  default) instead of the online ``max_query_lifetime_seconds``; the online checker is
  not touched;
* the witness cannot fetch consistency proofs from the center's audit service, so it
  takes them from the bundle (which the center sealed and signed).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import tomllib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import nacl.public
from google.protobuf.message import DecodeError
from sqlalchemy import Column, DateTime, MetaData, String, Table, create_engine, insert, select

from hedui.agents import refusals
from hedui.agents.answering import Answerer
from hedui.agents.bulk import BULK_QUERY_TYPE, BulkAnswerer
from hedui.agents.checks import QueryChecker
from hedui.agents.config import AgentConfig, ConfigError
from hedui.agents.departments import department as department_info
from hedui.agents.fieldmask import expand_all
from hedui.agents.witness import ProofSource, Witness
from hedui.keys import keyfile
from hedui.keys import sealed_bundle as sb
from hedui.keys.bundle import Bundle
from hedui.keys.errors import UnknownParticipant
from hedui.local_tables import create_missing
from hedui.v1 import audit_pb2, bulk_pb2, envelope_pb2, offline_pb2, query_pb2, trust_pb2

#: default longest lifetime of an offline query ([limits] offline_max_query_lifetime_days)
DEFAULT_OFFLINE_LIFETIME_DAYS = 45
#: how long the answers bundle stays valid for the trip back to the center
DEFAULT_DAYS = 30

metadata = MetaData()
seen_bundles = Table(
    "offline_bundles_seen", metadata,
    Column("bundle_id", String(64), primary_key=True),
    Column("sender", String(255), nullable=False),
    Column("answered_at", DateTime(timezone=True), nullable=False),
    Column("answers_bundle_id", String(64), nullable=False),
)


@dataclass(frozen=True)
class OfflineSettings:
    """The agent.toml keys only the offline path reads."""

    box_key: Path
    max_query_lifetime: dt.timedelta


def settings(config: AgentConfig) -> OfflineSettings:
    """``[offline] box_key`` (default ``box.key`` beside the signing key) and
    ``[limits] offline_max_query_lifetime_days`` (default 45) of the agent's config."""
    try:
        raw = tomllib.loads(config.path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{config.path}: cannot be read ({exc})") from None
    box = raw.get("offline", {}).get("box_key")
    if box is not None and not isinstance(box, str):
        raise ConfigError(f"{config.path}: [offline] box_key must be a path string")
    days = raw.get("limits", {}).get("offline_max_query_lifetime_days",
                                      DEFAULT_OFFLINE_LIFETIME_DAYS)
    if isinstance(days, bool) or not isinstance(days, int) or not 0 < days <= 366:
        raise ConfigError(
            f"{config.path}: [limits] offline_max_query_lifetime_days must be a whole number "
            "of days from 1 to 366"
        )
    return OfflineSettings(
        box_key=(config.path.resolve().parent / box).resolve() if box
        else config.signing_key.parent / "box.key",
        max_query_lifetime=dt.timedelta(days=days),
    )


class OfflineQueryChecker(QueryChecker):
    """The online checks, with the peer authenticated by the bundle's signature.

    Online, the peer is the TLS client certificate (and its fingerprint, when the bundle
    pins one). Offline there is no certificate: the sender is the participant whose key
    signed the bundle header, which :func:`~hedui.keys.sealed_bundle.open_sealed`
    verified. It must still be a gateway of the trust bundle.
    """

    def _check_peer(self, bundle: Bundle, peer_id: str | None,
                    peer_cert_sha256: str | None) -> None:
        participant = bundle.participant(peer_id or "")
        if participant is None:
            raise refusals.PeerNotAllowed(
                str(UnknownParticipant(f"{peer_id} is not a participant in trust bundle "
                                       f"serial {bundle.serial}"))
            )
        if participant.role != trust_pb2.ROLE_GATEWAY:
            raise refusals.PeerNotAllowed(
                f"{peer_id} is not a gateway in trust bundle serial {bundle.serial}"
            )


def bundle_proofs(proofs: list[audit_pb2.ConsistencyProof]) -> ProofSource:
    """The witness's proof source offline: the proofs the center sealed into the bundle."""
    table = {(p.first_size, p.second_size): list(p.hashes) for p in proofs}

    def fetch(first: int, second: int) -> list[bytes]:
        try:
            return table[(first, second)]
        except KeyError:
            raise refusals.DataUnavailable(
                f"the bundle carries no consistency proof of the center's audit log from "
                f"size {first} to {second}; this agent cannot witness the new checkpoint "
                "(ask the center for a new bundle)"
            ) from None

    return fetch


def offline_answerer(agent, proofs: list[audit_pb2.ConsistencyProof],
                     lifetime: dt.timedelta) -> Answerer:
    """An Answerer sharing the agent's mapping, replay cache, audit log, narrowing and key.

    ``agent`` is a built :class:`hedui.agents.server.Agent`.
    """
    config: AgentConfig = agent.config
    descriptor = department_info(config.department).record_type.DESCRIPTOR
    narrowing = (
        None if config.narrowing is None
        else {purpose: expand_all(descriptor, paths) for purpose, paths in config.narrowing.items()}
    )
    online = agent.answerer
    witness = Witness(config.witness_db, bundle=lambda: agent.trust.current,
                      recorder=online.recorder, proof_source=bundle_proofs(proofs))
    checker = OfflineQueryChecker(
        agent_id=config.agent_id, department=config.department,
        bundle=lambda: agent.trust.current, replay=agent.replay,
        held_paths=agent.source.held_paths, narrowing=narrowing,
        limits=dataclasses.replace(config.limits, max_lifetime=lifetime),
        witness=witness.observe,
    )
    return Answerer(checker=checker, source=online.source, recorder=online.recorder,
                    signing_key=online.signing_key)


class _Seen:
    """The queries bundles this agent has answered (a bundle is answered once)."""

    def __init__(self, path: Path) -> None:
        self.engine = create_engine(f"sqlite:///{path}")
        create_missing(self.engine, metadata)

    def __contains__(self, bundle_id: object) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(seen_bundles.c.bundle_id).where(
                seen_bundles.c.bundle_id == str(bundle_id))).first() is not None

    def add(self, bundle_id: str, sender: str, answers_bundle_id: str, now: dt.datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(seen_bundles).values(
                bundle_id=bundle_id, sender=sender, answered_at=now,
                answers_bundle_id=answers_bundle_id))

    def close(self) -> None:
        self.engine.dispose()


@dataclass
class AnsweredBundle:
    """What answering a queries bundle produced."""

    data: bytes
    bundle_id: str
    queries_bundle_id: str
    recipient: str
    #: (query id, case id) of each answered query
    answered: list[tuple[str, str]] = field(default_factory=list)
    #: (query id, case id, reason code, detail) of each refused query
    refused: list[tuple[str, str, str, str]] = field(default_factory=list)


def load_box_key(config: AgentConfig, offline: OfflineSettings) -> nacl.public.PrivateKey:
    passphrase = keyfile.passphrase_from_env(config.passphrase_env)
    return keyfile.load_box_key(offline.box_key, passphrase)


def answer_bundle(
    agent,
    data: bytes,
    *,
    box_key: nacl.public.PrivateKey,
    offline: OfflineSettings,
    days: int = DEFAULT_DAYS,
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
) -> AnsweredBundle:
    """Verify a queries bundle, answer or refuse each query, seal the answers to the sender.

    ``agent`` is a built :class:`hedui.agents.server.Agent`. A refused file raises a
    :class:`~hedui.keys.sealed_bundle.SealedBundleError` after one BUNDLE_REFUSED entry in
    the agent's audit log, before any query is looked at. Precondition: ``0 < days <= 366``.
    """
    if not 0 < days <= 366:
        raise ValueError("days must be 1 to 366")
    config: AgentConfig = agent.config
    recorder = agent.answerer.recorder
    now = clock()
    seen = _Seen(config.state_dir / "offline.sqlite")
    try:
        try:
            opened = sb.open_sealed(
                data, trust=agent.trust.current, box_key=box_key, recipient=config.agent_id,
                now=now, seen_bundle_ids=seen, kind=sb.QUERIES,
            )
        except sb.SealedBundleError as exc:
            header = sb.peek_header(data)
            claimed = (f"; it claims to be bundle {header.bundle_id[:64]} from "
                       f"{header.sender[:128]}" if header is not None else "")
            recorder.record(
                audit_pb2.AUDIT_KIND_BUNDLE_REFUSED, outcome=audit_pb2.AUDIT_OUTCOME_REFUSED,
                department=config.department,
                reason=(f"{exc.reason}: {exc} (file sha256 {hashlib.sha256(data).hexdigest()}"
                        f"{claimed})"),
            )
            raise
        header = opened.header
        center = agent.trust.current.participant(header.sender)
        assert center is not None  # open_sealed checked the sender
        recorder.record(
            audit_pb2.AUDIT_KIND_BUNDLE_IMPORTED, department=config.department,
            reason=(f"queries bundle {header.bundle_id} from {header.sender}: "
                    f"{header.count} queries, file sha256 {hashlib.sha256(data).hexdigest()}"),
        )
        answerer = offline_answerer(agent, list(opened.body.consistency_proofs),
                                    offline.max_query_lifetime)
        out = AnsweredBundle(b"", str(uuid.uuid4()), header.bundle_id, header.sender)
        answers = []
        refused = []
        bulk = BulkAnswerer(answerer)
        for envelope in opened.envelopes:
            if envelope.payload_type == BULK_QUERY_TYPE:
                # a re-verification run's bulk query: its signed chunks travel back
                # in the same answers bundle, one refusal entry if refused whole
                _answer_bulk(bulk, envelope, header.sender, answers, refused, out)
                continue
            try:
                query = query_pb2.Query.FromString(envelope.payload)
            except DecodeError:
                query = query_pb2.Query()
            try:
                answers.append(answerer.answer(envelope, peer_id=header.sender))
                out.answered.append((query.query_id, query.case_id))
            except refusals.QueryRefused as exc:  # already in the audit log
                refused.append(offline_pb2.OfflineRefusal(
                    query_id=query.query_id[:64],
                    query_digest=hashlib.sha256(envelope.payload).digest(),
                    reason=exc.reason, detail=str(exc)[:1000],
                ))
                out.refused.append((query.query_id[:64], query.case_id[:64], exc.reason,
                                    str(exc)))
        expires = now + dt.timedelta(days=days)
        out.data = sb.seal(
            kind=sb.ANSWERS, envelopes=answers, sender=config.agent_id,
            signing_key=agent.answerer.signing_key, box_key=box_key, recipient=header.sender,
            recipient_box_public_key=bytes(center.box_public_key), created_at=now,
            expires_at=expires, bundle_id=out.bundle_id, refusals=refused,
        )
        recorder.record(
            audit_pb2.AUDIT_KIND_BUNDLE_EXPORTED, department=config.department,
            reason=(f"answers bundle {out.bundle_id} to {header.sender} for queries bundle "
                    f"{header.bundle_id}: {len(answers)} answers, {len(refused)} refusals, "
                    f"file sha256 {hashlib.sha256(out.data).hexdigest()}"),
        )
        seen.add(header.bundle_id, header.sender, out.bundle_id, now)
        agent.audit_log.checkpoint()
        return out
    finally:
        seen.close()


def _answer_bulk(bulk: BulkAnswerer, envelope: envelope_pb2.Envelope, sender: str,
                 answers: list[envelope_pb2.Envelope],
                 refused: list[offline_pb2.OfflineRefusal], out: AnsweredBundle) -> None:
    """Answer one bulk query from a bundle as the online service does: its one entry
    durable first, then its chunks; a whole-query refusal is one OfflineRefusal."""
    try:
        query = bulk_pb2.BulkQuery.FromString(envelope.payload)
    except DecodeError:
        query = bulk_pb2.BulkQuery()
    prepared = bulk.prepare(envelope, peer_id=sender)
    bulk.answerer.recorder.log.append(prepared.entry)
    try:
        chunks = bulk.release(prepared)
    except refusals.QueryRefused as exc:
        refused.append(offline_pb2.OfflineRefusal(
            query_id=query.query_id[:64], query_digest=hashlib.sha256(envelope.payload).digest(),
            reason=exc.reason, detail=str(exc)[:1000]))
        out.refused.append((query.query_id[:64], query.run_id[:64], exc.reason, str(exc)))
        return
    answers.extend(chunks)
    out.answered.append((query.query_id, query.run_id))
