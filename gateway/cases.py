"""The life of a case: open, authorize, fan out, store, assess, decide, report.

``CaseManager`` is what the gRPC case service and the CLI call. Each step is
audit-logged; state changes are compare-and-set so replicas sharing one database
never both run or both decide a case. A case that lost a department is
INCOMPLETE (with the department and reason) and ``retry`` asks only the missing ones.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import nacl.signing
import structlog
from google.protobuf.timestamp_pb2 import Timestamp
from prometheus_client import Counter, Histogram

from hedui.audit.entries import AccessRecorder
from hedui.audit.publisher import CheckpointPublisher
from hedui.audit.store import AuditLog
from hedui.errors import HeduiError
from hedui.gateway import assessment as assessment_mod
from hedui.gateway import report as report_mod
from hedui.gateway.authorizations import AuthorizationRegistry
from hedui.gateway.fanout import CaseRequest, DepartmentResult, FanOut
from hedui.gateway.planner import plan
from hedui.gateway.queries import SubjectRef
from hedui.gateway.sealing import Vault
from hedui.gateway.standards import StandardsLibrary
from hedui.gateway.store import CaseRow, CaseStore, Conflict
from hedui.keys.bundle import Bundle
from hedui.v1 import audit_pb2, case_pb2, envelope_pb2, query_pb2

log = structlog.get_logger("hedui.gateway")

CASES_DECIDED = Counter("hedui_gateway_cases_decided_total", "Cases decided, by outcome",
                        ["programme", "outcome"])
CASE_SECONDS = Histogram("hedui_gateway_verify_seconds", "Time to verify a case",
                         buckets=(0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30))

#: purposes hedui serves; anything else is refused before a case exists
SOCIAL_ASSISTANCE = frozenset({
    "dibao", "low-income", "tekun", "low-rent-housing", "affordable-housing",
    "medical-assistance", "education-assistance", "temporary-assistance",
})

MAX_MEMBERS = 20


class CaseError(HeduiError):
    """A case request cannot be carried out (bad input, wrong state, not allowed)."""


class NotFound(CaseError):
    """No such case."""


class NotAllowed(CaseError):
    """The operator may not do this."""


State = case_pb2.CaseState


def _ts(t: dt.datetime) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(t)
    return out


@dataclass
class CaseManager:
    """Everything a gateway replica needs to run cases."""

    gateway_id: str
    signing_key: nacl.signing.SigningKey
    bundle: Callable[[], Bundle]
    store: CaseStore
    vault: Vault
    authorizations: AuthorizationRegistry
    fanout: FanOut
    recorder: AccessRecorder
    audit_log: AuditLog
    checkpoints: CheckpointPublisher
    standards: StandardsLibrary
    staff: dict[str, tuple[str, ...]]
    replica: str = "gateway"
    #: how long another replica's claim on a QUERYING case is honoured (a crashed
    #: replica's cases are taken over after it)
    claim_ttl: dt.timedelta = dt.timedelta(seconds=30)
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)

    # ------------------------------------------------------------- checks

    def _require_staff(self, operator: str, programme: str) -> None:
        if not operator:
            raise NotAllowed("the request names no operator (verifier staff id)")
        if operator not in self.staff.get(programme, ()):
            raise NotAllowed(
                f"operator {operator} is not on the staff list for programme {programme}"
            )

    @staticmethod
    def _require_purpose(programme: str) -> None:
        if programme not in SOCIAL_ASSISTANCE:
            raise NotAllowed(
                f"purpose {programme!r} is not a social-assistance programme; hedui verifies "
                "household economic status for social assistance only"
            )

    # --------------------------------------------------------------- cases

    def open(self, request: case_pb2.OpenCaseRequest, *, batch_key: str | None = None
             ) -> case_pb2.Case:
        self._require_purpose(request.programme)
        self._require_staff(request.operator, request.programme)
        if batch_key:
            existing = self.store.case_by_batch_key(f"{request.operator}:{batch_key}")
            if existing is not None:
                return self.describe(existing)
        if not request.members or len(request.members) > MAX_MEMBERS:
            raise CaseError(f"a household has 1 to {MAX_MEMBERS} members")
        if not request.region or not request.authorization_number:
            raise CaseError("a case needs a region code and an authorization number")
        ids = [m.id_number for m in request.members]
        try:
            normalized = [self.recorder.pseudonymizer.normalize(i) for i in ids]
        except HeduiError:
            bad = next(n for n, i in enumerate(ids, 1) if not _valid(self.recorder, i))
            raise CaseError(f"member #{bad} has a malformed resident ID number") from None
        if len(set(normalized)) != len(normalized):
            raise CaseError("the same person is listed twice in the household")
        self.authorizations.require(
            request.authorization_number, programme=request.programme, id_numbers=ids,
            today=self.clock().date(),
        )
        departments = [p.department for p in plan(self.bundle(), request.programme)]
        now = self.clock()
        case_id = f"case-{now:%Y%m%d}-{uuid.uuid4().hex[:12]}"
        sealed = self.vault.seal(
            case_pb2.OpenCaseRequest(members=request.members).SerializeToString()
        )
        if batch_key:
            batch_key = f"{request.operator}:{batch_key}"
        self.store.insert_case({
            "case_id": case_id, "state": State.Name(State.CASE_STATE_OPEN),
            "programme": request.programme, "region": request.region,
            "authorization_number": request.authorization_number,
            "operator": request.operator, "members_sealed": sealed, "outcome": "",
            "report_digest": b"", "created_at": now, "updated_at": now, "version": 0,
            "claimed_by": "", "batch_key": batch_key,
        }, departments)
        leaf = self.recorder.record(
            audit_pb2.AUDIT_KIND_CASE_OPENED, operator=request.operator, case_id=case_id,
            purpose=request.programme, id_numbers=ids,
            authorization_number=request.authorization_number,
        )
        with self.store.tx() as conn:
            self.store.add_audit_leaves(conn, case_id, [leaf])
        return self.get(case_id)

    def _load(self, case_id: str) -> CaseRow:
        row = self.store.get(case_id)
        if row is None:
            raise NotFound(f"no case {case_id}")
        return row

    def members(self, row: CaseRow) -> list[case_pb2.Member]:
        holder = case_pb2.OpenCaseRequest()
        holder.ParseFromString(self.vault.open(row.members_sealed))
        return list(holder.members)

    def get(self, case_id: str, operator: str | None = None) -> case_pb2.Case:
        row = self._load(case_id)
        if operator is not None:
            self._require_staff(operator, row.programme)
        return self.describe(row)

    def describe(self, row: CaseRow) -> case_pb2.Case:
        case = case_pb2.Case(
            case_id=row.case_id, state=State.Value(row.state), programme=row.programme,
            region=row.region, members=self.members(row),
            authorization_number=row.authorization_number, operator=row.operator,
            created_at=_ts(row.created_at), updated_at=_ts(row.updated_at),
            outcome=case_pb2.Outcome.Value(row.outcome) if row.outcome else 0,
            report_digest=row.report_digest,
        )
        for d in self.store.departments(row.case_id):
            case.departments.add(
                department=d["department"],
                state=case_pb2.DepartmentStatus.State.Value(f"STATE_{d['state']}"),
                reason=d["reason"], answer_digest=bytes(d["answer_digest"] or b""),
                attempts=d["attempts"], updated_at=_ts(d["updated_at"]),
            )
        return case

    def list(self, request: case_pb2.ListCasesRequest) -> case_pb2.ListCasesResponse:
        size = min(request.page_size or 50, 500)
        offset = int(request.page_token or 0)
        state = State.Name(request.state) if request.state else None
        rows = self.store.list(state=state, programme=request.programme or None,
                               limit=size + 1, offset=offset)
        out = case_pb2.ListCasesResponse(cases=[self.describe(r) for r in rows[:size]])
        if len(rows) > size:
            out.next_page_token = str(offset + size)
        return out

    # ------------------------------------------------------------- verify

    async def verify(self, case_id: str, operator: str) -> case_pb2.Case:
        """Fan out to every department still missing, then decide if all answered."""
        with CASE_SECONDS.time():
            return await self._verify(case_id, operator)

    async def _verify(self, case_id: str, operator: str) -> case_pb2.Case:
        begun = await asyncio.to_thread(self._begin, case_id, operator)
        if isinstance(begun, case_pb2.Case):
            return begun
        request, pending, version = begun
        results = await self.fanout.run(request, only=pending) if pending else {}
        await asyncio.to_thread(self._store_results, case_id, request.purpose, results)
        return await asyncio.to_thread(self._settle, case_id, operator, version)

    def _begin(self, case_id: str, operator: str
               ) -> case_pb2.Case | tuple[CaseRequest, set[str], int]:
        """Claim the case and prepare its queries (all the database work before fan-out,
        off the event loop): the decided case itself, or (request, departments, version)."""
        row = self._load(case_id)
        self._require_staff(operator, row.programme)
        if row.state == State.Name(State.CASE_STATE_DECIDED):
            return self.describe(row)
        runnable = (State.Name(State.CASE_STATE_OPEN), State.Name(State.CASE_STATE_INCOMPLETE),
                    State.Name(State.CASE_STATE_QUERYING))
        if row.state not in runnable:
            raise CaseError(f"case {case_id} is {row.state} and cannot be verified now")
        if row.state == State.Name(State.CASE_STATE_QUERYING) and row.claimed_by not in (
            "", self.replica
        ) and (self.clock() - row.updated_at) < self.claim_ttl:
            raise CaseError(f"case {case_id} is being verified by {row.claimed_by} right now")
        version = self.store.transition(
            case_id, from_states=runnable, expect_version=row.version,
            to_state=State.Name(State.CASE_STATE_QUERYING), now=self.clock(),
            claimed_by=self.replica,
        )
        members = self.members(row)
        try:
            consent = self.authorizations.require(
                row.authorization_number, programme=row.programme,
                id_numbers=[m.id_number for m in members], today=self.clock().date(),
            )
        except HeduiError as exc:
            self.recorder.record(
                audit_pb2.AUDIT_KIND_QUERY_REFUSED, outcome=audit_pb2.AUDIT_OUTCOME_REFUSED,
                operator=operator, case_id=case_id, purpose=row.programme,
                reason=f"gateway refused to send queries: {exc}",
                authorization_number=row.authorization_number,
            )
            self.store.transition(
                case_id, from_states=[State.Name(State.CASE_STATE_QUERYING)],
                expect_version=version, to_state=State.Name(State.CASE_STATE_CANCELLED),
                now=self.clock(),
            )
            raise NotAllowed(str(exc)) from None
        offline = {p.department for p in plan(self.bundle(), row.programme) if p.offline}
        pending = {d["department"] for d in self.store.departments(case_id)
                   if d["state"] != "ANSWERED"}
        if pending & offline:
            self._await_offline(case_id, pending & offline)
        request = CaseRequest(
            case_id=case_id, purpose=row.programme, operator=operator,
            subjects=tuple(SubjectRef(m.id_number, m.name, m.relation) for m in members),
            authorization_number=row.authorization_number, consent_digest=consent,
        )
        return request, pending - offline, version

    def _await_offline(self, case_id: str, departments: set[str]) -> None:
        """Offline departments' queries wait for the next sealed bundle export."""
        now = self.clock()
        with self.store.tx() as conn:
            for department in departments:
                self.store.set_department(
                    conn, case_id, department, state="AWAITING_OFFLINE",
                    reason="the department is offline; its query travels in the next sealed "
                           "bundle (hedui bundle export)",
                    answer_digest=b"", attempts=0, now=now,
                )

    def awaiting_offline(self, department: str) -> list[tuple[CaseRow, list[case_pb2.Member]]]:
        """Cases whose part for ``department`` waits for an offline answer."""
        out = []
        rows = [r for s in (State.CASE_STATE_AWAITING_OFFLINE_ANSWER, State.CASE_STATE_INCOMPLETE)
                for r in self.store.list(state=State.Name(s), programme=None, limit=100_000,
                                         offset=0)]
        for row in rows:
            states = {d["department"]: d["state"] for d in self.store.departments(row.case_id)}
            if states.get(department) == "AWAITING_OFFLINE":
                out.append((row, self.members(row)))
        return out

    def consent_digest(self, row: CaseRow) -> str:
        """The authorization's document digest, checked valid for every member now."""
        return self.authorizations.require(
            row.authorization_number, programme=row.programme,
            id_numbers=[m.id_number for m in self.members(row)], today=self.clock().date(),
        )

    def accept_offline_answer(self, case_id: str, result: DepartmentResult,
                              operator: str) -> case_pb2.Case:
        """Store a verified answer that came in a sealed bundle; decide when complete.

        ``result`` carries the verified answer, the signed query it answers and the
        audit leaves already written for it. Raises CaseError if the case is not
        waiting for this department.
        """
        row = self._load(case_id)
        states = {d["department"]: d["state"] for d in self.store.departments(case_id)}
        if states.get(result.department) != "AWAITING_OFFLINE":
            raise CaseError(f"case {case_id} is not waiting for an answer from "
                            f"{result.department}")
        self._store_results(case_id, row.programme, {result.department: result})
        states[result.department] = "ANSWERED"
        if any(s == "AWAITING_OFFLINE" for s in states.values()):
            return self.get(case_id)
        version = self.store.transition(
            case_id, from_states=[State.Name(State.CASE_STATE_AWAITING_OFFLINE_ANSWER),
                                  State.Name(State.CASE_STATE_INCOMPLETE)],
            expect_version=row.version, to_state=State.Name(State.CASE_STATE_QUERYING),
            now=self.clock(), claimed_by=self.replica,
        )
        return self._settle(case_id, operator, version)

    def _store_results(self, case_id: str, programme: str,
                       results: dict[str, DepartmentResult]) -> None:
        now = self.clock()
        policy = self.bundle().policy(programme)
        retention = dt.timedelta(days=policy.retention_days if policy else 365)
        stored, parts, leaves = [], [], []
        for r in results.values():
            leaves.extend(r.audit_leaves)
            if r.answer is not None:
                stored.append({
                    "case_id": case_id, "department": r.department,
                    "agent": r.answer.signer, "query_digest": r.query.digest,
                    "answer_digest": r.answer.digest,
                    "answer_sealed": self.vault.seal(r.answer.envelope.SerializeToString()),
                    "received_at": now, "erase_after": now + retention, "erased_at": None,
                })
                withheld = ", ".join(w.path for w in r.answer.answer.withheld)
                state, reason, digest = ("ANSWERED", f"withheld: {withheld}" if withheld else "",
                                         r.answer.digest)
            else:
                state, reason, digest = "FAILED", r.failure or "no answer", b""
            parts.append({"b_case": case_id, "b_department": r.department, "b_state": state,
                          "b_reason": reason, "b_digest": digest, "b_attempts": r.attempts,
                          "b_now": now})
        with self.store.tx() as conn:
            self.store.add_audit_leaves(conn, case_id, leaves)
            self.store.save_answers(conn, stored)
            self.store.set_departments(conn, parts)

    def _answers(self, case_id: str) -> list[dict]:
        out = []
        for a in self.store.answers_of(case_id):
            if a["answer_sealed"] is None:
                continue
            envelope = envelope_pb2.Envelope()
            envelope.ParseFromString(self.vault.open(bytes(a["answer_sealed"])))
            answer = query_pb2.Answer()
            answer.ParseFromString(envelope.payload)
            out.append(a | {"envelope": envelope, "answer": answer})
        return out

    def _settle(self, case_id: str, operator: str, version: int) -> case_pb2.Case:
        """Decide when every department answered; otherwise leave the case INCOMPLETE."""
        row = self._load(case_id)
        departments = self.store.departments(case_id)
        missing = [d for d in departments if d["state"] != "ANSWERED"]
        querying = [State.Name(State.CASE_STATE_QUERYING)]
        if missing:
            offline = all(d["state"] == "AWAITING_OFFLINE" for d in missing)
            to = State.CASE_STATE_AWAITING_OFFLINE_ANSWER if offline else \
                State.CASE_STATE_INCOMPLETE
            self.store.transition(case_id, from_states=querying, expect_version=version,
                                  to_state=State.Name(to), now=self.clock())
            return self.get(case_id)
        self._decide(row, operator, version)
        return self.get(case_id)

    def _decide(self, row: CaseRow, operator: str, version: int) -> None:
        now = self.clock()
        members = self.members(row)
        answers = self._answers(row.case_id)
        standard = self.standards.select(row.region, row.programme, now.date())
        pseudonym = self.recorder.pseudonymizer.pseudonym
        result = assessment_mod.assess(
            members, {a["department"]: (a["answer"], bytes(a["answer_digest"])) for a in answers},
            standard, as_of=now.date(), missing=[], pseudonym=pseudonym,
        )
        outcome_name = case_pb2.Outcome.Name(result.outcome)
        leaves = self.store.audit_leaves(row.case_id)
        note = self.checkpoints.covering(max(leaves, default=-1) + 1)
        size = self.audit_log.open_note(note).size
        evidence = [(entry, proof, i)
                    for i, entry, proof in self.audit_log.evidence(leaves, size)]
        report = report_mod.build_report(
            case_id=row.case_id, programme=row.programme, region=row.region,
            members=members, authorization_number=row.authorization_number,
            assessment=result, standard=standard,
            answers=[
                report_mod.AnswerInput(
                    department=a["department"], agent=a["agent"],
                    query_digest=bytes(a["query_digest"]),
                    answer_digest=bytes(a["answer_digest"]), envelope=a["envelope"],
                ) for a in answers
            ],
            audit_checkpoint=note,
            audit_evidence=[
                (entry, audit_pb2.InclusionProof(leaf_index=i, tree_size=size, hashes=proof))
                for entry, proof, i in evidence
            ],
            issuer=self.gateway_id, issued_at=now,
        )
        envelope = report_mod.sign_report(report, self.signing_key)
        digest = dsse_digest(envelope)
        # The decision entry names the report it signs off (so it cannot be inside it);
        # written before the decision commits, as every step is logged before it acts.
        decided_leaf = self.recorder.record(
            audit_pb2.AUDIT_KIND_CASE_DECIDED, operator=operator, case_id=row.case_id,
            purpose=row.programme, id_numbers=[m.id_number for m in members],
            reason=f"outcome {outcome_name}", authorization_number=row.authorization_number,
            report_digest=digest,
        )
        with self.store.tx() as conn:
            self.store.add_audit_leaves(conn, row.case_id, [decided_leaf])
        # The report and the DECIDED state commit together, guarded by the version: of
        # two replicas that both ran the case (after a crash), exactly one decides it.
        try:
            self.store.decide(
                row.case_id, expect_version=version, outcome=outcome_name, digest=digest,
                sealed_report=self.vault.seal(envelope.SerializeToString()), now=now,
            )
        except Conflict:
            log.info("case decided elsewhere", case=row.case_id, replica=self.replica)
            return  # another replica decided it first; its report stands
        log.info("case decided", case=row.case_id, outcome=outcome_name, replica=self.replica)
        CASES_DECIDED.labels(row.programme, outcome_name).inc()

    async def retry(self, case_id: str, operator: str) -> case_pb2.Case:
        return await self.verify(case_id, operator)

    def report(self, case_id: str, operator: str) -> envelope_pb2.Envelope:
        row = self._load(case_id)
        self._require_staff(operator, row.programme)
        sealed = self.store.report(case_id)
        if sealed is None and row.state == State.Name(State.CASE_STATE_DECIDED):
            raise NotFound(
                f"case {case_id}'s report was erased with its answers after the programme's "
                f"retention period; the case keeps its outcome ({row.outcome}) and the "
                f"report digest {row.report_digest.hex()[:16]}…")
        if sealed is None:
            raise CaseError(f"case {case_id} has no report yet (it is {row.state})")
        envelope = envelope_pb2.Envelope()
        envelope.ParseFromString(self.vault.open(sealed))
        self.recorder.record(
            audit_pb2.AUDIT_KIND_REPORT_VIEWED, operator=operator, case_id=case_id,
            purpose=row.programme, authorization_number=row.authorization_number,
        )
        return envelope


def erase_expired(manager: CaseManager, now: dt.datetime | None = None) -> int:
    """Erase answers (and the stored reports that embed them) past their retention.

    The audit entries stay: they hold pseudonyms and digests, never the data. Each
    erasure is itself logged. Returns how many answers were erased.
    """
    now = now or manager.clock()
    erased = manager.store.erase_expired_answers(now)
    for case_id, department in erased:
        manager.recorder.record(
            audit_pb2.AUDIT_KIND_ANSWER_ERASED, case_id=case_id, department=department,
            operator="retention", reason="answer data erased after the retention period",
        )
    return len(erased)


def dsse_digest(envelope: envelope_pb2.Envelope) -> bytes:
    """SHA-256 of a signed payload: what cases cite for their report."""
    return hashlib.sha256(envelope.payload).digest()


def _valid(recorder: AccessRecorder, id_number: str) -> bool:
    try:
        recorder.pseudonymizer.normalize(id_number)
    except HeduiError:
        return False
    return True

