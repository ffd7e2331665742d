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
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, TypeVar

import nacl.signing
import structlog
from prometheus_client import Counter, Histogram
from sqlalchemy.engine import Connection

from hedui.audit.checkpoint import signed_size
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
from hedui.gateway.store import CaseRow, CaseStore, Conflict, DepartmentPart
from hedui.keys.bundle import Bundle
from hedui.timestamps import to_timestamp
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
_T = TypeVar("_T")


def _changed(case_id: str) -> Conflict:
    return Conflict(f"case {case_id} was changed by another request; reload it")


@dataclass
class _Run:
    """A case claimed for one fan-out, and what its later steps use without re-reading."""

    row: CaseRow
    members: list[case_pb2.Member]
    request: CaseRequest
    pending: set[str]


@dataclass(frozen=True)
class _Opening:
    """A new case checked and sealed, before its entry is logged and its row stored."""

    row: CaseRow
    members: list[case_pb2.Member]
    departments: list[str]
    batch_key: str | None
    #: the CASE_OPENED entry's fields (``AccessRecorder.record``'s arguments)
    entry: dict[str, Any]


@dataclass(frozen=True)
class _Ready:
    """A case with every department answered: what its decision is made of."""

    departments: list[dict[str, Any]]
    leaves: list[int]
    answers: dict[str, _Answered]


@dataclass(frozen=True)
class _Decision:
    """A decided case before it commits: the sealed report and its decision entry."""

    now: dt.datetime
    outcome: str
    digest: bytes
    sealed: bytes
    #: the CASE_DECIDED entry's fields (``AccessRecorder.record``'s arguments)
    entry: dict[str, Any]


@dataclass
class _ResultRows:
    """A fan-out's results as the case store keeps them."""

    answers: list[dict[str, Any]] = field(default_factory=list)
    parts: list[DepartmentPart] = field(default_factory=list)
    leaves: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class _Answered:
    """One department's signed answer: the report's reference and the decoded answer."""

    reference: report_mod.AnswerInput
    answer: query_pb2.Answer


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
        """Open a case in the calling thread (tools, tests); the service uses open_case."""
        opening = self._prepare_open(request, batch_key)
        if isinstance(opening, case_pb2.Case):
            return opening
        return self._insert_opened(opening, self.recorder.record(**opening.entry))

    async def open_case(self, request: case_pb2.OpenCaseRequest, *,
                        batch_key: str | None = None) -> case_pb2.Case:
        """Open a case: checks, then its CASE_OPENED entry, then the case and its
        departments' parts in one transaction."""
        opening = await self.step(self._prepare_open, request, batch_key)
        if isinstance(opening, case_pb2.Case):
            return opening
        leaf = await self.recorder.record_async(**opening.entry)
        return await self.step(self._insert_opened, opening, leaf)

    def _prepare_open(self, request: case_pb2.OpenCaseRequest, batch_key: str | None
                      ) -> case_pb2.Case | _Opening:
        """Every check and the sealed row of a new case, or the case a batch row opened
        before (idempotent per ``batch_key``)."""
        self._require_purpose(request.programme)
        self._require_staff(request.operator, request.programme)
        if batch_key:
            batch_key = f"{request.operator}:{batch_key}"
            existing = self.store.case_by_batch_key(batch_key)
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
        now = self.clock()
        case_id = f"case-{now:%Y%m%d}-{uuid.uuid4().hex[:12]}"
        sealed = self.vault.seal(
            case_pb2.OpenCaseRequest(members=request.members).SerializeToString()
        )
        row = CaseRow(
            case_id=case_id, state=State.Name(State.CASE_STATE_OPEN),
            programme=request.programme, region=request.region,
            authorization_number=request.authorization_number, operator=request.operator,
            members_sealed=sealed, outcome="", report_digest=b"", created_at=now,
            updated_at=now, version=0, claimed_by="",
        )
        entry = {
            "kind": audit_pb2.AUDIT_KIND_CASE_OPENED, "operator": request.operator,
            "case_id": case_id, "purpose": request.programme, "id_numbers": ids,
            "authorization_number": request.authorization_number,
        }
        departments = [p.department for p in plan(self.bundle(), request.programme)]
        return _Opening(row, list(request.members), departments, batch_key, entry)

    def _insert_opened(self, opening: _Opening, leaf: int) -> case_pb2.Case:
        """The case, its departments' parts and its first audit leaf, together. (Its
        CASE_OPENED entry is written first: every step is logged before it acts.)"""
        row = opening.row
        self.store.insert_case({**asdict(row), "batch_key": opening.batch_key},
                               opening.departments, audit_leaves=[leaf])
        return self.describe(row, members=opening.members, departments=[
            {"department": d, "state": "PENDING", "reason": "", "answer_digest": b"",
             "attempts": 0, "updated_at": row.created_at} for d in sorted(opening.departments)
        ])

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

    def describe(self, row: CaseRow, *, members: Sequence[case_pb2.Member] | None = None,
                 departments: list[dict[str, Any]] | None = None) -> case_pb2.Case:
        """The case as verifiers see it; ``members`` and ``departments`` when the caller
        already holds them (as the store has them now), else opened and read."""
        case = case_pb2.Case(
            case_id=row.case_id, state=State.Value(row.state), programme=row.programme,
            region=row.region, members=self.members(row) if members is None else members,
            authorization_number=row.authorization_number, operator=row.operator,
            created_at=to_timestamp(row.created_at), updated_at=to_timestamp(row.updated_at),
            outcome=case_pb2.Outcome.Value(row.outcome) if row.outcome else 0,
            report_digest=row.report_digest,
        )
        if departments is None:
            departments = self.store.departments(row.case_id)
        for d in departments:
            case.departments.add(
                department=d["department"],
                state=case_pb2.DepartmentStatus.State.Value(f"STATE_{d['state']}"),
                reason=d["reason"], answer_digest=bytes(d["answer_digest"] or b""),
                attempts=d["attempts"], updated_at=to_timestamp(d["updated_at"]),
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
        step = self.step
        begun = await step(self._begin, case_id, operator)
        if isinstance(begun, case_pb2.Case):
            return begun
        results = await self.fanout.run(begun.request, only=begun.pending) if begun.pending \
            else {}
        ready = await step(self._store_results, begun.row, begun.members, results)
        if isinstance(ready, case_pb2.Case):
            return ready
        decision = await step(self._decision, begun.row, begun.members, operator, ready)
        decided_leaf = await self.recorder.record_async(**decision.entry)
        return await step(self._commit_decision, begun.row, begun.members, ready, decision,
                          decided_leaf)

    async def step(self, work: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        """Run one step that reads or writes the case store: here on the loop when the
        store is a local SQLite file (short work; a thread per step only added GIL
        hand-offs, ~17 % of the gateway's CPU in bench/gateway/throughput.py), in a
        thread on PostgreSQL, whose network waits must not stop the loop. Hot paths
        append through ``record_async`` between steps; a rare refusal logged inside a
        step on the loop goes through the log's writer thread (correct, it only waits)."""
        if self.store.local:
            return work(*args, **kwargs)
        return await asyncio.to_thread(work, *args, **kwargs)

    def _begin(self, case_id: str, operator: str) -> case_pb2.Case | _Run:
        """Claim the case and prepare its queries (all the database work before fan-out,
        off the event loop): the decided case itself, or the claimed run."""
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
        row, departments = self._claim(row, runnable)
        members = self.members(row)
        try:
            consent = self.consent_digest(row, members)
        except HeduiError as exc:
            self.recorder.record(
                audit_pb2.AUDIT_KIND_QUERY_REFUSED, outcome=audit_pb2.AUDIT_OUTCOME_REFUSED,
                operator=operator, case_id=case_id, purpose=row.programme,
                reason=f"gateway refused to send queries: {exc}",
                authorization_number=row.authorization_number,
            )
            with self.store.tx() as conn:
                cancelled = self.store.transition(
                    conn, case_id, from_states=[State.Name(State.CASE_STATE_QUERYING)],
                    expect_version=row.version, to_state=State.Name(State.CASE_STATE_CANCELLED),
                    now=self.clock(),
                )
            if not cancelled:
                raise _changed(case_id) from exc
            raise NotAllowed(str(exc)) from None
        offline = {p.department for p in plan(self.bundle(), row.programme) if p.offline}
        pending = {d["department"] for d in departments if d["state"] != "ANSWERED"}
        if pending & offline:
            self._await_offline(case_id, pending & offline)
        request = CaseRequest(
            case_id=case_id, purpose=row.programme, operator=operator,
            subjects=tuple(SubjectRef(m.id_number, m.name, m.relation) for m in members),
            authorization_number=row.authorization_number, consent_digest=consent,
        )
        return _Run(row=row, members=members, request=request, pending=pending - offline)

    def _claim(self, row: CaseRow, from_states: Sequence[str]
               ) -> tuple[CaseRow, list[dict[str, Any]]]:
        """Move the case to QUERYING for this replica (compare-and-set): the claimed row,
        and the departments' parts read in the same transaction."""
        now = self.clock()
        with self.store.tx() as conn:
            claimed = self.store.transition(
                conn, row.case_id, from_states=from_states, expect_version=row.version,
                to_state=State.Name(State.CASE_STATE_QUERYING), now=now,
                claimed_by=self.replica,
            )
            departments = self.store.departments(row.case_id, conn) if claimed else []
        if not claimed:
            raise _changed(row.case_id)
        return replace(row, state=State.Name(State.CASE_STATE_QUERYING), version=row.version + 1,
                       updated_at=now, claimed_by=self.replica), departments

    def _await_offline(self, case_id: str, departments: set[str]) -> None:
        """Offline departments' queries wait for the next sealed bundle export."""
        now = self.clock()
        reason = ("the department is offline; its query travels in the next sealed bundle "
                  "(hedui bundle export)")
        with self.store.tx() as conn:
            self.store.set_departments(conn, [
                DepartmentPart(case_id=case_id, department=d, state="AWAITING_OFFLINE",
                               reason=reason, answer_digest=b"", attempts=0, now=now)
                for d in departments
            ])

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

    def consent_digest(self, row: CaseRow, members: Sequence[case_pb2.Member]) -> str:
        """The authorization's document digest, checked valid for every member now."""
        return self.authorizations.require(
            row.authorization_number, programme=row.programme,
            id_numbers=[m.id_number for m in members], today=self.clock().date(),
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
        rows = self._results_rows(case_id, row.programme, {result.department: result})
        with self.store.tx() as conn:
            self._save_results(conn, case_id, rows)
        states[result.department] = "ANSWERED"
        if any(s == "AWAITING_OFFLINE" for s in states.values()):
            return self.get(case_id)
        row, _ = self._claim(row, [State.Name(State.CASE_STATE_AWAITING_OFFLINE_ANSWER),
                                   State.Name(State.CASE_STATE_INCOMPLETE)])
        return self._settle(row, self.members(row), operator, {})

    def _results_rows(self, case_id: str, programme: str,
                      results: dict[str, DepartmentResult]) -> _ResultRows:
        """A fan-out's results as the store keeps them, prepared (sealed) before the
        transaction so the writers' queue waits for no encryption."""
        now = self.clock()
        policy = self.bundle().policy(programme)
        retention = dt.timedelta(days=policy.retention_days if policy else 365)
        rows = _ResultRows()
        for r in results.values():
            rows.leaves.extend(r.audit_leaves)
            if r.answer is not None:
                rows.answers.append({
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
            rows.parts.append(DepartmentPart(
                case_id=case_id, department=r.department, state=state, reason=reason,
                answer_digest=digest, attempts=r.attempts, now=now,
            ))
        return rows

    def _save_results(self, conn: Connection, case_id: str, rows: _ResultRows) -> None:
        self.store.add_audit_leaves(conn, case_id, rows.leaves)
        self.store.save_answers(conn, rows.answers)
        self.store.set_departments(conn, rows.parts)

    def _settle(self, row: CaseRow, members: list[case_pb2.Member], operator: str,
                results: dict[str, DepartmentResult]) -> case_pb2.Case:
        """Store results and decide when complete, in the calling thread (offline
        answers); ``_verify`` runs the same steps with the decision entry awaited."""
        ready = self._store_results(row, members, results)
        if isinstance(ready, case_pb2.Case):
            return ready
        decision = self._decision(row, members, operator, ready)
        decided_leaf = self.recorder.record(**decision.entry)
        return self._commit_decision(row, members, ready, decision, decided_leaf)

    def _store_results(self, row: CaseRow, members: list[case_pb2.Member],
                       results: dict[str, DepartmentResult]) -> case_pb2.Case | _Ready:
        """Store the fan-out's results and, in the same transaction, leave the case
        INCOMPLETE (or awaiting offline answers) when a department is missing, or read
        what its decision needs."""
        rows = self._results_rows(row.case_id, row.programme, results)
        with self.store.tx() as conn:
            self._save_results(conn, row.case_id, rows)
            departments = self.store.departments(row.case_id, conn)
            missing = [d for d in departments if d["state"] != "ANSWERED"]
            if missing:
                offline = all(d["state"] == "AWAITING_OFFLINE" for d in missing)
                to = State.Name(State.CASE_STATE_AWAITING_OFFLINE_ANSWER if offline
                                else State.CASE_STATE_INCOMPLETE)
                now = self.clock()
                # the results stay stored even when another request moved the case first
                moved = self.store.transition(
                    conn, row.case_id, from_states=[State.Name(State.CASE_STATE_QUERYING)],
                    expect_version=row.version, to_state=to, now=now,
                )
            else:
                return _Ready(departments, self.store.audit_leaves(row.case_id, conn),
                              self._answers(conn, row.case_id, departments, results))
        if not moved:
            raise _changed(row.case_id)
        return self.describe(replace(row, state=to, version=row.version + 1, updated_at=now,
                                     claimed_by=""), members=members, departments=departments)

    def _answers(self, conn: Connection, case_id: str, departments: list[dict[str, Any]],
                 results: dict[str, DepartmentResult]) -> dict[str, _Answered]:
        """Every department's answer, by department: this fan-out's from memory, earlier
        ones (a retry's, an offline bundle's) opened from the store."""
        out = {r.department: _Answered(
            report_mod.AnswerInput(department=r.department, agent=r.answer.signer,
                                   query_digest=r.query.digest, answer_digest=r.answer.digest,
                                   envelope=r.answer.envelope),
            r.answer.answer,
        ) for r in results.values() if r.answer is not None}
        if any(d["department"] not in out for d in departments):
            for a in self.store.answers_of(case_id, conn):
                if a["department"] in out or a["answer_sealed"] is None:
                    continue
                envelope = envelope_pb2.Envelope()
                envelope.ParseFromString(self.vault.open(bytes(a["answer_sealed"])))
                answer = query_pb2.Answer()
                answer.ParseFromString(envelope.payload)
                out[a["department"]] = _Answered(report_mod.AnswerInput(
                    department=a["department"], agent=a["agent"],
                    query_digest=bytes(a["query_digest"]),
                    answer_digest=bytes(a["answer_digest"]), envelope=envelope,
                ), answer)
        return dict(sorted(out.items()))

    def _decision(self, row: CaseRow, members: list[case_pb2.Member], operator: str,
                  ready: _Ready) -> _Decision:
        """Assess, and build, sign and seal the report with its audit evidence."""
        now = self.clock()
        standard = self.standards.select(row.region, row.programme, now.date())
        pseudonym = self.recorder.pseudonymizer.pseudonym
        answers = ready.answers
        result = assessment_mod.assess(
            members, {d: (a.answer, a.reference.answer_digest) for d, a in answers.items()},
            standard, as_of=now.date(), missing=[], pseudonym=pseudonym,
        )
        outcome_name = case_pb2.Outcome.Name(result.outcome)
        note = self.checkpoints.covering(max(ready.leaves, default=-1) + 1)
        size = signed_size(note)  # our own log's fresh checkpoint
        report = report_mod.build_report(
            case_id=row.case_id, programme=row.programme, region=row.region,
            members=members, authorization_number=row.authorization_number,
            assessment=result, standard=standard,
            answers=[a.reference for a in answers.values()],
            audit_checkpoint=note,
            audit_evidence=[
                (entry, audit_pb2.InclusionProof(leaf_index=i, tree_size=size, hashes=proof))
                for i, entry, proof in self.audit_log.evidence(ready.leaves, size)
            ],
            issuer=self.gateway_id, issued_at=now,
        )
        envelope = report_mod.sign_report(report, self.signing_key)
        digest = dsse_digest(envelope)
        # The decision entry names the report it signs off (so it cannot be inside it);
        # written before the decision commits, as every step is logged before it acts.
        entry = {
            "kind": audit_pb2.AUDIT_KIND_CASE_DECIDED, "operator": operator,
            "case_id": row.case_id, "purpose": row.programme,
            "id_numbers": [m.id_number for m in members], "reason": f"outcome {outcome_name}",
            "authorization_number": row.authorization_number, "report_digest": digest,
        }
        return _Decision(now=now, outcome=outcome_name, digest=digest,
                         sealed=self.vault.seal(envelope.SerializeToString()), entry=entry)

    def _commit_decision(self, row: CaseRow, members: list[case_pb2.Member], ready: _Ready,
                         decision: _Decision, decided_leaf: int) -> case_pb2.Case:
        """The report and the DECIDED state commit together, guarded by the version: of
        two replicas that both ran the case (after a crash), exactly one decides it. The
        decision entry is the case's either way."""
        with self.store.tx() as conn:
            self.store.add_audit_leaves(conn, row.case_id, [decided_leaf])
            decided = self.store.decide(conn, row.case_id, expect_version=row.version,
                                        outcome=decision.outcome, digest=decision.digest,
                                        sealed_report=decision.sealed, now=decision.now)
        if not decided:
            log.info("case decided elsewhere", case=row.case_id, replica=self.replica)
            return self.get(row.case_id)  # another replica decided it first; its report stands
        log.info("case decided", case=row.case_id, outcome=decision.outcome,
                 replica=self.replica)
        CASES_DECIDED.labels(row.programme, decision.outcome).inc()
        return self.describe(
            replace(row, state=State.Name(State.CASE_STATE_DECIDED), version=row.version + 1,
                    updated_at=decision.now, claimed_by="", outcome=decision.outcome,
                    report_digest=decision.digest),
            members=members, departments=ready.departments,
        )

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

