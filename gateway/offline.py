"""The center's side of the offline exchange: export queries, import answers, as sealed files.

A department marked ``offline`` in the trust bundle is never dialled: its part of a case
waits (AWAITING_OFFLINE) until :meth:`OfflineDesk.export` puts the pending queries of all
its open cases into one sealed bundle (``hedui bundle export``), and
:meth:`OfflineDesk.import_bundle` brings the signed answers back (``hedui bundle import``).

The queries are the same signed queries the fan-out sends online — with a lifetime up to
the bundle's expiry — and are audit-logged (QUERY_SENT, BUNDLE_EXPORTED) before the file
exists. Each one is remembered in ``offline_queries`` so an answer can be matched to the
exact query it is bound to.

Import is all or nothing: the whole file is verified (``hedui.keys.sealed_bundle``), then
every answer against its remembered query (``verify_answer``), every refusal against its
query, and every case must still wait for this department. Only when all of that holds
is anything logged as received and handed to ``CaseManager.accept_offline_answer``;
otherwise one BUNDLE_REFUSED entry records why, and nothing else changes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import tomllib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import nacl.public
from google.protobuf.message import DecodeError
from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    and_,
    create_engine,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection

from hedui.audit.schema import make_tables
from hedui.errors import HeduiError
from hedui.gateway.answers import AnswerRejected, VerifiedAnswer, verify_answer
from hedui.gateway.cases import CaseManager
from hedui.gateway.config import GatewayConfig
from hedui.gateway.fanout import DepartmentResult
from hedui.gateway.planner import plan
from hedui.gateway.queries import SignedQuery, SubjectRef, build_query, sign_query
from hedui.gateway.store import CaseRow
from hedui.keys import keyfile
from hedui.keys import sealed_bundle as sb
from hedui.timestamps import from_timestamp
from hedui.v1 import audit_pb2, case_pb2, envelope_pb2, offline_pb2, query_pb2

#: how long an exported bundle (and its queries) stays valid unless told otherwise
DEFAULT_DAYS = 30
#: agents accept offline queries of at most 45 days by default; stay below
MAX_DAYS = 45
#: consistency proofs carried for the department's witness (from this many checkpoints)
MAX_PROOFS = 256

State = case_pb2.CaseState
_WAITING_CASE_STATES = (State.Name(State.CASE_STATE_AWAITING_OFFLINE_ANSWER),
                        State.Name(State.CASE_STATE_INCOMPLETE))

metadata = MetaData()

#: every query that left in an exported bundle, so an answer can be matched to it
offline_queries = Table(
    "offline_queries", metadata,
    Column("query_id", String(64), primary_key=True),
    Column("bundle_id", String(64), nullable=False, index=True),
    Column("case_id", String(64), nullable=False, index=True),
    Column("department", String(40), nullable=False),
    # SHA-256 of the signed query payload: the answer must be bound to it
    Column("query_digest", LargeBinary, nullable=False),
    # the signed Query envelope (it names persons), sealed with the answers key
    Column("query_sealed", LargeBinary, nullable=False),
    # audit leaf of the QUERY_SENT entry, cited by the case's report
    Column("sent_leaf", Integer, nullable=False),
    Column("exported_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    # PENDING until answered; ANSWERED, REFUSED (by the agent) or SUPERSEDED (a sibling
    # query of the same case and department was answered first)
    Column("state", String(16), nullable=False, index=True),
    Column("answer_digest", LargeBinary, nullable=False, default=b""),
    Column("settled_bundle_id", String(64), nullable=False, default=""),
    Column("settled_at", DateTime(timezone=True), nullable=True),
)

#: bundles written and bundles imported (the import side refuses a bundle id seen before)
offline_bundles = Table(
    "offline_bundles", metadata,
    Column("bundle_id", String(64), primary_key=True),
    Column("direction", String(8), nullable=False),  # EXPORT or IMPORT
    Column("department", String(40), nullable=False),
    Column("peer", String(255), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("count", Integer, nullable=False),
    Column("file_sha256", LargeBinary, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)


class OfflineError(HeduiError):
    """An offline export or import cannot be carried out (not a refused file)."""


class ImportRefused(sb.SealedBundleError):
    """The file verified, but something in it does not fit; nothing was imported.

    ``problems`` lists each answer or refusal that does not match a pending query.
    """

    reason = "BUNDLE_CONTENT_REFUSED"

    def __init__(self, bundle_id: str, problems: list[str], total: int) -> None:
        self.bundle_id = bundle_id
        self.problems = problems
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(
            f"{len(problems)} of the {total} items in bundle {bundle_id} do not fit a pending "
            f"query: {problems[0]}{more}"
        )


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def box_key_path(config: GatewayConfig) -> Path:
    """``[offline] box_key`` of gateway.toml, else ``box.key`` beside the signing key."""
    raw = tomllib.loads(config.path.read_text(encoding="utf-8"))
    value = raw.get("offline", {}).get("box_key")
    if value is None:
        return config.signing_key.parent / "box.key"
    if not isinstance(value, str):
        raise OfflineError(f"{config.path}: [offline] box_key must be a path string")
    return (config.path.resolve().parent / value).resolve()


@dataclass
class Exported:
    """The result of an export: the file bytes (None when nothing was pending)."""

    data: bytes | None
    bundle_id: str
    department: str
    expires_at: dt.datetime
    #: (case id, query id) of each query sealed into the bundle
    queries: list[tuple[str, str]] = field(default_factory=list)
    #: (case id, why) of each waiting case left out
    skipped: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Imported:
    """The result of a successful import."""

    bundle_id: str
    department: str
    answered: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)
    #: the cases after the import
    cases: list[case_pb2.Case] = field(default_factory=list)
    #: (case id, why) of cases whose answer was stored but that could not be moved on now
    #: (``hedui case retry`` settles them)
    unsettled: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class _Pending:
    """One remembered query, opened."""

    row: dict
    signed: SignedQuery


@dataclass
class _Match:
    pending: _Pending
    case: CaseRow
    answer: VerifiedAnswer | None = None
    refusal: offline_pb2.OfflineRefusal | None = None


class _ImportedIds:
    """``bundle_id in ids``: has the center imported this bundle before?"""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def __contains__(self, bundle_id: object) -> bool:
        c = offline_bundles.c
        return self.conn.execute(
            select(c.bundle_id).where(and_(c.bundle_id == str(bundle_id),
                                           c.direction == "IMPORT"))
        ).first() is not None


class OfflineDesk:
    """Exports and imports sealed bundles for one gateway (``cases`` is its CaseManager)."""

    def __init__(self, cases: CaseManager, box_key: nacl.public.PrivateKey, *,
                 audit_db: str, clock: Callable[[], dt.datetime] | None = None) -> None:
        self.cases = cases
        self.box_key = box_key
        self.audit_db = audit_db
        self.clock = clock or cases.clock
        self.engine = cases.store.engine  # its tables come from the case database's migrations

    @classmethod
    def for_gateway(cls, gw, *, clock: Callable[[], dt.datetime] | None = None) -> OfflineDesk:
        """The desk of a built :class:`hedui.gateway.server.Gateway`; loads its box key."""
        box = keyfile.load_box_key(box_key_path(gw.config), keyfile.passphrase_from_env())
        return cls(gw.cases, box, audit_db=gw.config.audit_db, clock=clock)

    # ------------------------------------------------------------------ export

    def export(self, department: str, *, days: int = DEFAULT_DAYS, operator: str = "",
               again: bool = False) -> Exported:
        """Seal the pending queries of every case waiting for ``department``.

        Preconditions: ``department`` is an agent marked offline in the trust bundle, with
        a box key; ``0 < days <= MAX_DAYS``. Cases whose query is already in an unexpired,
        unanswered bundle are left out unless ``again`` (e.g. the drive was lost).
        """
        if not 0 < days <= MAX_DAYS:
            raise OfflineError(f"a bundle lives 1 to {MAX_DAYS} days (agents refuse longer "
                               f"offline queries), not {days}")
        bundle = self.cases.bundle()
        agent = bundle.agent(department)
        if agent is None:
            raise OfflineError(f"trust bundle serial {bundle.serial} has no agent for "
                               f"{department!r}")
        if not agent.offline:
            # a department back online: its waiting cases are asked over the network
            waiting = [row.case_id for row, _ in self.cases.awaiting_offline(department)]
            hint = (f"; {len(waiting)} case(s) still wait for it — `hedui case retry CASE` asks "
                    f"it online now (e.g. hedui case retry {waiting[0]})" if waiting else "")
            raise OfflineError(
                f"{department} is online in trust bundle serial {bundle.serial}: its queries "
                f"go over the network, not in bundles{hint}"
            )
        now = self.clock()
        lifetime = dt.timedelta(days=days)
        out = Exported(None, str(uuid.uuid4()), department, now + lifetime)
        in_transit = self._in_transit(department, now)
        note = ""
        chosen: list[tuple[CaseRow, list[case_pb2.Member], tuple[str, ...], SignedQuery]] = []
        for row, members in self.cases.awaiting_offline(department):
            if row.case_id in in_transit and not again:
                out.skipped.append((row.case_id, f"its query is in bundle {in_transit[row.case_id]}"
                                    ", not answered yet (use --again if it was lost)"))
                continue
            try:
                consent = self.cases.consent_digest(row, members)
            except HeduiError as exc:
                self.cases.recorder.record(
                    audit_pb2.AUDIT_KIND_QUERY_REFUSED, outcome=audit_pb2.AUDIT_OUTCOME_REFUSED,
                    operator=row.operator, case_id=row.case_id, purpose=row.programme,
                    department=department, authorization_number=row.authorization_number,
                    reason=f"gateway refused to export the offline query: {exc}",
                )
                out.skipped.append((row.case_id, str(exc)))
                continue
            plans = plan(bundle, row.programme, only={department})
            if not plans:
                out.skipped.append((row.case_id, f"{row.programme} does not ask {department}"))
                continue
            note = note or self.cases.checkpoints.refresh()
            signed = sign_query(build_query(
                issuer=self.cases.gateway_id, audience=agent.id, case_id=row.case_id,
                purpose=row.programme, operator=row.operator,
                subjects=[SubjectRef(m.id_number, m.name, m.relation) for m in members],
                field_paths=plans[0].field_paths, authorization_number=row.authorization_number,
                consent_digest=consent, audit_checkpoint=note, now=now, lifetime=lifetime,
            ), self.cases.signing_key)
            chosen.append((row, members, plans[0].field_paths, signed))
        if not chosen:
            return out
        gateway = bundle.participant(self.cases.gateway_id)
        if gateway is None or bytes(gateway.box_public_key) != bytes(self.box_key.public_key):
            raise OfflineError(
                f"the gateway's box key is not the box_public_key of {self.cases.gateway_id} in "
                f"trust bundle serial {bundle.serial}; the department could not answer"
            )
        data = sb.seal(
            kind=sb.QUERIES, envelopes=[s.envelope for *_, s in chosen],
            sender=self.cases.gateway_id, signing_key=self.cases.signing_key,
            box_key=self.box_key, recipient=agent.id,
            recipient_box_public_key=bytes(agent.box_public_key), created_at=now,
            expires_at=out.expires_at, bundle_id=out.bundle_id,
            consistency_proofs=self._proofs(note),
        )
        # audit-logged before the file exists: the queries, then the bundle
        rows = []
        for row, members, paths, signed in chosen:
            leaf = self.cases.recorder.record(
                audit_pb2.AUDIT_KIND_QUERY_SENT, operator=row.operator, case_id=row.case_id,
                purpose=row.programme, department=department, field_paths=paths,
                id_numbers=[m.id_number for m in members], query_id=signed.query.query_id,
                query_digest=signed.digest, authorization_number=row.authorization_number,
                reason=f"sealed in offline bundle {out.bundle_id}",
            )
            rows.append({
                "query_id": signed.query.query_id, "bundle_id": out.bundle_id,
                "case_id": row.case_id, "department": department, "query_digest": signed.digest,
                "query_sealed": self.cases.vault.seal(signed.envelope.SerializeToString()),
                "sent_leaf": leaf, "exported_at": now, "expires_at": out.expires_at,
                "state": "PENDING", "answer_digest": b"", "settled_bundle_id": "",
                "settled_at": None,
            })
            out.queries.append((row.case_id, signed.query.query_id))
        digest = hashlib.sha256(data).digest()
        self.cases.recorder.record(
            audit_pb2.AUDIT_KIND_BUNDLE_EXPORTED, operator=operator, department=department,
            reason=(f"bundle {out.bundle_id}: {len(rows)} queries sealed to {agent.id}, expires "
                    f"{out.expires_at:%Y-%m-%d}, file sha256 {digest.hex()}"),
        )
        with self.engine.begin() as conn:
            conn.execute(insert(offline_queries), rows)
            conn.execute(insert(offline_bundles).values(
                bundle_id=out.bundle_id, direction="EXPORT", department=department,
                peer=agent.id, created_at=now, expires_at=out.expires_at, count=len(rows),
                file_sha256=digest, recorded_at=now,
            ))
        out.data = data
        return out

    def _in_transit(self, department: str, now: dt.datetime) -> dict[str, str]:
        """case id -> bundle id of unexpired, unanswered exported queries."""
        c = offline_queries.c
        with self.engine.connect() as conn:
            rows = conn.execute(select(c.case_id, c.bundle_id, c.expires_at).where(
                and_(c.department == department, c.state == "PENDING"))).all()
        return {r.case_id: r.bundle_id for r in rows if _utc(r.expires_at) > now}

    def _proofs(self, note: str) -> list[audit_pb2.ConsistencyProof]:
        """Proofs from recent checkpoint sizes to ``note``'s, for the department's witness.

        An agent keeps the largest checkpoint it verified — one this log signed — and
        needs a proof from it to the new one; offline it cannot ask, so the bundle brings
        proofs from the most recent :data:`MAX_PROOFS` signed checkpoints.
        """
        size = self.cases.audit_log.open_note(note).size
        checkpoints = make_tables().checkpoints
        engine = create_engine(self.audit_db)
        try:
            with engine.connect() as conn:
                sizes = conn.execute(
                    select(checkpoints.c.size)
                    .where(and_(checkpoints.c.size > 0, checkpoints.c.size < size))
                    .order_by(checkpoints.c.size.desc()).limit(MAX_PROOFS)
                ).scalars().all()
        finally:
            engine.dispose()
        return [audit_pb2.ConsistencyProof(first_size=s, second_size=size,
                                           hashes=self.cases.audit_log.consistency_proof(s, size))
                for s in sizes]

    # ------------------------------------------------------------------ import

    def import_bundle(self, data: bytes, *, operator: str = "") -> Imported:
        """Verify a whole answers bundle and, only if everything fits, import it.

        Raises a :class:`~hedui.keys.sealed_bundle.SealedBundleError` (the file) or
        :class:`ImportRefused` (its contents) after logging one BUNDLE_REFUSED entry;
        nothing else is then changed.
        """
        now = self.clock()
        bundle = self.cases.bundle()
        try:
            with self.engine.connect() as conn:
                opened = sb.open_sealed(
                    data, trust=bundle, box_key=self.box_key, recipient=self.cases.gateway_id,
                    now=now, seen_bundle_ids=_ImportedIds(conn), kind=sb.ANSWERS,
                )
            agent = bundle.participant(opened.header.sender)
            assert agent is not None  # open_sealed checked the sender
            matches = self._match(opened, agent.department, now)
        except sb.SealedBundleError as exc:
            self._refuse(data, exc, operator)
            raise
        return self._apply(data, opened, agent.department, matches, operator, now)

    def _pending(self, query_ids: list[str]) -> dict[str, _Pending]:
        c = offline_queries.c
        with self.engine.connect() as conn:
            rows = conn.execute(select(offline_queries).where(c.query_id.in_(query_ids))
                                ).mappings().all()
        out = {}
        for r in rows:
            envelope = envelope_pb2.Envelope.FromString(self.cases.vault.open(r["query_sealed"]))
            query = query_pb2.Query.FromString(envelope.payload)
            out[r["query_id"]] = _Pending(dict(r), SignedQuery(query, envelope,
                                                               bytes(r["query_digest"])))
        return out

    def _match(self, opened: sb.OpenedBundle, department: str,
               now: dt.datetime) -> list[_Match]:
        """Every answer and refusal, matched and verified; raises ImportRefused listing misfits."""
        bundle = self.cases.bundle()
        claimed: list[tuple[str, str]] = []  # (label, query id)
        for n, envelope in enumerate(opened.envelopes, 1):
            try:
                claimed.append((f"answer {n}", query_pb2.Answer.FromString(envelope.payload)
                                .query_id))
            except DecodeError:
                claimed.append((f"answer {n}", ""))
        for n, refusal in enumerate(opened.body.refusals, 1):
            claimed.append((f"refusal {n}", refusal.query_id))
        pending = self._pending([q for _, q in claimed if q])
        problems: list[str] = []
        matches: list[_Match] = []
        seen: set[str] = set()
        for (label, query_id), item in zip(
            claimed, [*opened.envelopes, *opened.body.refusals], strict=True
        ):
            p = pending.get(query_id)
            where = f"{label} (query {query_id or '?'})"
            if p is None or p.row["department"] != department:
                problems.append(f"{where} matches no pending query for {department}")
                continue
            if p.row["state"] != "PENDING":
                problems.append(f"{where} answers a query that is {p.row['state'].lower()} "
                                f"(bundle {p.row['settled_bundle_id']})")
                continue
            case_id = p.row["case_id"]
            if case_id in seen:
                problems.append(f"{where} is a second reply for case {case_id}")
                continue
            seen.add(case_id)
            case = self.cases.store.get(case_id)
            states = {d["department"]: d["state"] for d in self.cases.store.departments(case_id)}
            if case is None or case.state not in _WAITING_CASE_STATES or \
                    states.get(department) != "AWAITING_OFFLINE":
                problems.append(f"{where}: case {case_id} no longer waits for {department}")
                continue
            if isinstance(item, offline_pb2.OfflineRefusal):
                if item.query_digest != p.signed.digest:
                    problems.append(f"{where} refuses another query than the one sent")
                    continue
                matches.append(_Match(p, case, refusal=item))
                continue
            try:
                verified = verify_answer(item, query=p.signed.query, query_digest=p.signed.digest,
                                         department=department, bundle=bundle, now=now)
            except AnswerRejected as exc:
                problems.append(f"{where}: {exc}")
                continue
            matches.append(_Match(p, case, answer=verified))
        if problems:
            raise ImportRefused(opened.header.bundle_id, problems, len(claimed))
        return matches

    def _refuse(self, data: bytes, exc: sb.SealedBundleError, operator: str) -> None:
        """One BUNDLE_REFUSED entry: why, and what the file claims to be (unverified)."""
        header = sb.peek_header(data)
        claimed = (f"; it claims to be bundle {header.bundle_id[:64]} from {header.sender[:128]}"
                   if header is not None else "")
        problems = "; ".join(getattr(exc, "problems", [])[1:6])
        self.cases.recorder.record(
            audit_pb2.AUDIT_KIND_BUNDLE_REFUSED, outcome=audit_pb2.AUDIT_OUTCOME_REFUSED,
            operator=operator,
            reason=(f"{exc.reason}: {exc}{'; ' + problems if problems else ''} "
                    f"(file sha256 {hashlib.sha256(data).hexdigest()}{claimed})"),
        )

    def _apply(self, data: bytes, opened: sb.OpenedBundle, department: str,
               matches: list[_Match], operator: str, now: dt.datetime) -> Imported:
        header = opened.header
        out = Imported(header.bundle_id, department)
        results: list[tuple[_Match, DepartmentResult]] = []
        for m in matches:
            q, signed = m.pending.signed.query, m.pending.signed
            common = dict(
                operator=q.operator, case_id=q.case_id, purpose=q.purpose,
                department=department, id_numbers=[s.id_number for s in q.subjects],
                query_id=q.query_id, query_digest=signed.digest,
                authorization_number=q.authorization_number,
            )
            result = DepartmentResult(department, attempts=1, query_digests=[signed.digest],
                                      query=signed, audit_leaves=[m.pending.row["sent_leaf"]])
            if m.answer is not None:
                withheld = [w.path for w in m.answer.answer.withheld]
                result.answer = m.answer
                result.audit_leaves.append(self.cases.recorder.record(
                    audit_pb2.AUDIT_KIND_ANSWER_RECEIVED,
                    outcome=audit_pb2.AUDIT_OUTCOME_PARTIAL if withheld
                    else audit_pb2.AUDIT_OUTCOME_OK,
                    field_paths=q.field_paths, answer_digest=m.answer.digest,
                    reason=(f"in offline bundle {header.bundle_id}"
                            + (f"; withheld: {', '.join(withheld)}" if withheld else "")),
                    **common,
                ))
                out.answered.append(q.case_id)
            else:
                assert m.refusal is not None
                result.failure = (f"{department} refused the offline query: "
                                  f"{m.refusal.reason}: {m.refusal.detail}")
                result.audit_leaves.append(self.cases.recorder.record(
                    audit_pb2.AUDIT_KIND_QUERY_REFUSED, outcome=audit_pb2.AUDIT_OUTCOME_REFUSED,
                    reason=f"{result.failure} (offline bundle {header.bundle_id})", **common,
                ))
                out.refused.append((q.case_id, result.failure))
            results.append((m, result))
        digest = hashlib.sha256(data).digest()
        self.cases.recorder.record(
            audit_pb2.AUDIT_KIND_BUNDLE_IMPORTED, operator=operator, department=department,
            reason=(f"bundle {header.bundle_id} from {header.sender}: {len(out.answered)} "
                    f"answers, {len(out.refused)} refusals, file sha256 {digest.hex()}"),
        )
        # the bundle counts as imported before any case moves: a crash half-way leaves the
        # remaining cases waiting (re-exported next time), never an answer used twice
        with self.engine.begin() as conn:
            conn.execute(insert(offline_bundles).values(
                bundle_id=header.bundle_id, direction="IMPORT", department=department,
                peer=header.sender, created_at=from_timestamp(header.created_at),
                expires_at=from_timestamp(header.expires_at), count=header.count,
                file_sha256=digest, recorded_at=now,
            ))
            for m, result in results:
                self._settle_query(conn, m, result, header.bundle_id, now)
        for m, result in results:
            try:
                out.cases.append(self.cases.accept_offline_answer(m.case.case_id, result,
                                                                  m.case.operator))
            except HeduiError as exc:  # e.g. a verifier retried the case this very moment
                out.unsettled.append((m.case.case_id, str(exc)))
        return out

    @staticmethod
    def _settle_query(conn: Connection, m: _Match, result: DepartmentResult, bundle_id: str,
                      now: dt.datetime) -> None:
        c = offline_queries.c
        row = m.pending.row
        conn.execute(update(offline_queries).where(c.query_id == row["query_id"]).values(
            state="ANSWERED" if result.answer is not None else "REFUSED",
            answer_digest=result.answer.digest if result.answer is not None else b"",
            settled_bundle_id=bundle_id, settled_at=now,
        ))
        conn.execute(update(offline_queries).where(and_(
            c.case_id == row["case_id"], c.department == row["department"],
            c.state == "PENDING", c.query_id != row["query_id"],
        )).values(state="SUPERSEDED", settled_bundle_id=bundle_id, settled_at=now))

    # ------------------------------------------------------------------ reading

    def queries(self, department: str | None = None) -> Iterator[dict]:
        """The remembered offline queries (without their sealed envelopes)."""
        c = offline_queries.c
        q = select(*[col for col in offline_queries.c if col.name != "query_sealed"])
        if department:
            q = q.where(c.department == department)
        with self.engine.connect() as conn:
            yield from (dict(r) for r in conn.execute(q.order_by(c.exported_at)).mappings())
