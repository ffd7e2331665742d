"""The life of a case: open, authorize, fan out, store, assess, decide, report.

``CaseManager`` is what the gRPC case service and the CLI call. Each step is
audit-logged; state changes are compare-and-set so replicas sharing one database
never both run or both decide a case. A case that lost a department is
INCOMPLETE (with the department and reason) and ``retry`` asks only the missing ones.
Every state has a way out (``case_states``); the checks at opening live in ``intake``,
the decision in ``decision``, reading cases (with the entry each read leaves) in
``case_reads``. Every refusal is a ``CaseError`` with a stable reason.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import nacl.signing
import structlog
from prometheus_client import Histogram
from sqlalchemy.engine import Connection

from hedui.audit.entries import AccessRecorder
from hedui.audit.publisher import CheckpointPublisher
from hedui.audit.store import AuditLog
from hedui.errors import HeduiError
from hedui.gateway import access, intake
from hedui.gateway import decision as decision_mod
from hedui.gateway.authorizations import AuthorizationRegistry
from hedui.gateway.case_errors import (
    CaseError,
    NoStandardInForce,
    NotAllowed,
    NotFound,
    WrongState,
)
from hedui.gateway.deadlines import CLOSED, WAITING, FeedbackDeadlines, china_date, is_overdue
from hedui.gateway.fanout import CaseRequest, DepartmentResult, FanOut
from hedui.gateway.masking import named, safe_case_id
from hedui.gateway.planner import plan, programmes
from hedui.gateway.queries import SubjectRef
from hedui.gateway.sealing import Vault
from hedui.gateway.staff import StaffRegistry
from hedui.gateway.standards import StandardsLibrary
from hedui.gateway.store import CaseRow, CaseStore, Conflict, DepartmentPart
from hedui.keys.bundle import Bundle
from hedui.timestamps import to_timestamp
from hedui.v1 import audit_pb2, case_pb2

log = structlog.get_logger("hedui.gateway")

CASE_SECONDS = Histogram("hedui_gateway_verify_seconds", "Time to verify a case",
                         buckets=(0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30))

MAX_MEMBERS = intake.MAX_MEMBERS
#: re-exported: the report digest cases cite
dsse_digest = decision_mod.dsse_digest
__all__ = ["CaseError", "CaseManager", "NoStandardInForce", "NotAllowed", "NotFound",
           "WrongState", "dsse_digest", "erase_expired"]

State = case_pb2.CaseState
_T = TypeVar("_T")

#: states ``verify``/``retry`` take a case from (an AWAITING_OFFLINE_ANSWER case only when
#: a department it waits for is online again)
RUNNABLE = tuple(State.Name(s) for s in (
    State.CASE_STATE_OPEN, State.CASE_STATE_INCOMPLETE, State.CASE_STATE_QUERYING,
    State.CASE_STATE_AWAITING_OFFLINE_ANSWER, State.CASE_STATE_RETURNED))


def _changed(case_id: str) -> Conflict:
    return Conflict(f"case {case_id} was changed by another request; reload it")


@dataclass
class _Run:
    """A case claimed for one fan-out, and what its later steps use without re-reading."""

    row: CaseRow
    members: list[case_pb2.Member]
    request: CaseRequest
    pending: set[str]


@dataclass
class _ResultRows:
    """A fan-out's results as the case store keeps them."""

    answers: list[dict[str, Any]] = field(default_factory=list)
    parts: list[DepartmentPart] = field(default_factory=list)
    leaves: list[int] = field(default_factory=list)


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
    #: the staff registry: who may act, in which roles and scope (read per request)
    registry: StaffRegistry
    #: a reviewer other than the verifier approves each assessment before its report
    review_required: bool = True
    replica: str = "gateway"
    #: how long another replica's claim on a QUERYING case is honoured (a crashed
    #: replica's cases are taken over after it)
    claim_ttl: dt.timedelta = dt.timedelta(seconds=30)
    #: another case of the programme for the applicant, under way or decided this
    #: recently, stops an opening without a reason (``[cases] repeat_within_days``);
    #: None: never (0 days)
    repeat_within: dt.timedelta | None = dt.timedelta(days=90)
    #: each department's feedback deadline and the working-day calendar (``[deadlines]``)
    deadlines: FeedbackDeadlines = field(default_factory=FeedbackDeadlines.default)
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)

    # ------------------------------------------------------------- checks

    def person(self, operator: str) -> access.Person:
        """The person acting: the one the service's guard established for this call, else
        (a tool calling in-process) the registry's active member ``operator``."""
        now = access.ACTING.get()
        if now is not None and now.person.staff_id == operator:
            return now.person
        return self.registry.require_active(operator)

    def _require_staff(self, operator: str, programme: str, township: str | None = "", *,
                       what: str = "this case") -> None:
        """``operator`` is an active staff member whose scope holds the programme and
        township (their role for the request was checked by the guard)."""
        access.require_scope(self.person(operator), programme, township, what=what)

    def known_operators(self) -> frozenset[str]:
        """Every staff id in the registry (a refusal may log a claimed one as it is)."""
        return self.registry.known()

    def require_programme(self, programme: str) -> None:
        """A purpose the current trust bundle has an exchange policy for: the programmes
        are the bundle's policies (data), never a list in code."""
        access.require_programme(programme, programmes(self.bundle()))

    # --------------------------------------------------------------- cases

    def open(self, request: case_pb2.OpenCaseRequest, *, batch_key: str | None = None
             ) -> case_pb2.Case:
        """Open a case in the calling thread (tools, tests); the service uses open_case."""
        opening = intake.prepare(self, request, batch_key)
        if isinstance(opening, case_pb2.Case):
            self.recorder.record(**self.viewed_entry(opening, request.operator, "OpenCase"))
            return opening
        return intake.insert(self, opening, self.recorder.record(**opening.entry))

    async def open_case(self, request: case_pb2.OpenCaseRequest, *,
                        batch_key: str | None = None, client: str = "") -> case_pb2.Case:
        """Open a case: checks, then its CASE_OPENED entry, then the case and its
        departments' parts in one transaction. A repeated request (same request id)
        returns the case it opened: a read, logged as one."""
        opening = await self.step(intake.prepare, self, request, batch_key)
        if isinstance(opening, case_pb2.Case):
            await self.recorder.record_async(**self.viewed_entry(
                opening, request.operator, "OpenCase (repeated request id)", client))
            return opening
        leaf = await self.recorder.record_async(**opening.entry)
        return await self.step(intake.insert, self, opening, leaf)

    def _load(self, case_id: str) -> CaseRow:
        row = self.store.get(case_id) if case_id else None
        if row is None:
            raise NotFound(f"no case {named(case_id, safe_case_id(case_id))}")
        return row

    def viewed_entry(self, case: case_pb2.Case, operator: str, how: str,
                     client: str = "") -> dict[str, Any]:
        """The CASE_VIEWED entry of a read that returned ``case`` in full."""
        return {
            "kind": audit_pb2.AUDIT_KIND_CASE_VIEWED, "operator": operator,
            "case_id": case.case_id, "purpose": case.programme,
            "id_numbers": [mm.id_number for mm in case.members],
            "authorization_number": case.authorization_number,
            "reason": f"case read in full ({how})", "client": client,
        }

    def members(self, row: CaseRow) -> list[case_pb2.Member]:
        holder = case_pb2.OpenCaseRequest()
        holder.ParseFromString(self.vault.open(row.members_sealed))
        return list(holder.members)

    def get(self, case_id: str, operator: str | None = None) -> case_pb2.Case:
        row = self._load(case_id)
        if operator is not None:
            self._require_staff(operator, row.programme, row.township)
        return self.describe(row)

    def describe(self, row: CaseRow, *, members: Sequence[case_pb2.Member] | None = None,
                 departments: list[dict[str, Any]] | None = None) -> case_pb2.Case:
        """The case as verifiers see it; ``members`` and ``departments`` when the caller
        already holds them (as the store has them now), else opened and read.

        A department that still owes its answer in an open case carries its feedback
        deadline, and ``overdue`` once a day after it has begun in China."""
        case = case_pb2.Case(
            case_id=row.case_id, state=State.Value(row.state), programme=row.programme,
            region=row.region, members=self.members(row) if members is None else members,
            authorization_number=row.authorization_number, operator=row.operator,
            created_at=to_timestamp(row.created_at), updated_at=to_timestamp(row.updated_at),
            outcome=case_pb2.Outcome.Value(row.outcome) if row.outcome else 0,
            report_digest=row.report_digest, application_date=intake.to_pb(row.application_date),
            state_reason=row.state_reason, township=row.township, verifier=row.verifier,
            reviewer=row.reviewer,
        )
        if departments is None:
            departments = self.store.departments(row.case_id)
        bundle = self.bundle()
        owing = row.state not in CLOSED
        today = china_date(self.clock())
        for d in departments:
            part = case.departments.add(
                department=d["department"],
                state=case_pb2.DepartmentStatus.State.Value(f"STATE_{d['state']}"),
                reason=d["reason"], answer_digest=bytes(d["answer_digest"] or b""),
                attempts=d["attempts"], updated_at=to_timestamp(d["updated_at"]),
            )
            agent = bundle.agent(d["department"])
            part.offline = agent.offline if agent is not None else \
                d["state"] == "AWAITING_OFFLINE"
            if d["state"] == "ANSWERED":
                continue
            if agent is not None:  # late: whom the center calls
                part.liaison.CopyFrom(agent.liaison)
                part.leader.CopyFrom(agent.leader)
            if owing:
                due = self.deadlines.due(row.created_at, d["department"])
                part.deadline.CopyFrom(intake.to_pb(due))
                part.overdue = d["state"] in WAITING and is_overdue(due, today)
        return case

    # ------------------------------------------------------------- verify

    async def verify(self, case_id: str, operator: str, *, client: str = "",
                     only: frozenset[str] | None = None, assessor: str | None = None
                     ) -> case_pb2.Case:
        """Fan out to every department still missing, then decide if all answered.

        ``only``: ask only these of the missing departments (the automatic retry asks
        again those that failed for an outage, never one that refused). ``assessor``:
        whose assessment it is when the run completes the case, if not ``operator``'s
        (the retry schedule sends the queries; the verifier who began the verification
        stays its verifier, so they still cannot review it)."""
        with CASE_SECONDS.time():
            return await self._verify(case_id, operator, client, only, assessor)

    async def _verify(self, case_id: str, operator: str, client: str = "",
                      only: frozenset[str] | None = None, assessor: str | None = None
                      ) -> case_pb2.Case:
        step = self.step
        begun = await step(self._begin, case_id, operator, only)
        if isinstance(begun, case_pb2.Case):  # nothing to do: the case as it is, a read
            await self.recorder.record_async(**self.viewed_entry(
                begun, operator, "VerifyCase with nothing to ask", client))
            return begun
        retried_by = ""
        if assessor and assessor != operator:  # the queries are sent: the rest is theirs
            retried_by, operator = operator, assessor
        results = await self.fanout.run(begun.request, only=begun.pending) if begun.pending \
            else {}
        ready = await step(self._store_results, begun.row, begun.members, results)
        if isinstance(ready, case_pb2.Case):
            return ready
        if self.review_required:  # 核对 done: the case waits for a second person (审核)
            try:
                proposal = await step(decision_mod.propose, self, begun.row, begun.members,
                                      operator, ready)
            except Exception as exc:
                return await step(decision_mod.hold, self, begun.row, begun.members, ready,
                                  exc)
            _note_retry(proposal.entry, retried_by)
            leaf = await self.recorder.record_async(**proposal.entry)
            return await step(decision_mod.await_review, self, begun.row, begun.members,
                              ready, proposal, leaf)
        try:
            decision = await step(decision_mod.decide, self, begun.row, begun.members,
                                  operator, ready)
        except Exception as exc:  # never left QUERYING: INCOMPLETE with the reason
            return await step(decision_mod.hold, self, begun.row, begun.members, ready, exc)
        _note_retry(decision.entry, retried_by)
        decided_leaf = await self.recorder.record_async(**decision.entry)
        return await step(decision_mod.commit, self, begun.row, begun.members, ready,
                          decision, decided_leaf)

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

    def _begin(self, case_id: str, operator: str, only: frozenset[str] | None = None
               ) -> case_pb2.Case | _Run:
        """Claim the case and prepare its queries (all the database work before fan-out,
        off the event loop): the decided case itself, or the claimed run. The departments
        about to be asked are marked queried now (``queried_at``) in the claim's
        transaction."""
        row = self._load(case_id)
        self._require_staff(operator, row.programme, row.township)
        if row.state == State.Name(State.CASE_STATE_DECIDED):
            return self.describe(row)
        if row.state == State.Name(State.CASE_STATE_AWAITING_REVIEW):
            raise WrongState(f"case {case_id} is assessed and awaits a reviewer: hedui review "
                             f"--approve {case_id} (or --return --reason …)")
        if row.state not in RUNNABLE:
            raise WrongState(f"case {case_id} is {row.state} and cannot be verified: "
                             f"{row.state_reason or 'it is closed'}")
        self._require_unclaimed(row)
        offline = {p.department for p in plan(self.bundle(), row.programme) if p.offline}
        if row.state == State.Name(State.CASE_STATE_AWAITING_OFFLINE_ANSWER):
            waiting = {d["department"] for d in self.store.departments(case_id)
                       if d["state"] != "ANSWERED"}
            if waiting <= offline:
                return self.describe(row)  # nothing to ask online: the bundles carry it
        row, departments = self._claim(row, RUNNABLE, asking=lambda missing: {
            d for d in missing - offline if only is None or d in only})
        members = self.members(row)
        try:
            consent = self.consent_digest(row, members)
        except HeduiError as exc:
            reason = exc.reason if isinstance(exc, CaseError) else "AUTHORIZATION_REVOKED"
            # the case's own members (from the store, not from a caller): their access
            # reports show that no query was sent about them, and why
            self.recorder.record(
                audit_pb2.AUDIT_KIND_QUERY_REFUSED, outcome=audit_pb2.AUDIT_OUTCOME_REFUSED,
                operator=operator, case_id=case_id, purpose=row.programme,
                id_numbers=[mm.id_number for mm in members],
                reason=f"gateway refused to send queries: {exc}", reason_code=reason,
                authorization_number=row.authorization_number,
            )
            with self.store.tx() as conn:
                cancelled = self.store.transition(
                    conn, case_id, from_states=[State.Name(State.CASE_STATE_QUERYING)],
                    expect_version=row.version, to_state=State.Name(State.CASE_STATE_CANCELLED),
                    now=self.clock(), reason=f"no query may be sent: {exc}",
                )
            if not cancelled:
                raise _changed(case_id) from exc
            refused = NotAllowed(str(exc), reason)
            refused.logged = True  # the QUERY_REFUSED entry above is this refusal's
            raise refused from None
        pending = {d["department"] for d in departments if d["state"] != "ANSWERED"}
        if pending & offline:
            self._await_offline(case_id, pending & offline, asked={
                d["department"] for d in departments
                if d["state"] not in ("ANSWERED", "AWAITING_OFFLINE")} & offline)
        if only is not None:
            pending = {d for d in pending if d in only or d in offline}
        request = CaseRequest(
            case_id=case_id, purpose=row.programme, operator=operator,
            subjects=tuple(SubjectRef(m.id_number, m.name, m.relation) for m in members),
            authorization_number=row.authorization_number, consent_digest=consent,
        )
        return _Run(row=row, members=members, request=request, pending=pending - offline)

    def _require_unclaimed(self, row: CaseRow) -> None:
        """Refuse while another replica's claim on a QUERYING case is fresh."""
        if row.state == State.Name(State.CASE_STATE_QUERYING) and row.claimed_by not in (
            "", self.replica
        ) and (self.clock() - row.updated_at) < self.claim_ttl:
            raise CaseError(f"case {row.case_id} is being verified by {row.claimed_by} right "
                            "now; look again shortly", "CASE_BEING_VERIFIED")

    def _claim(self, row: CaseRow, from_states: Sequence[str], *,
               asking: Callable[[set[str]], set[str]] | None = None
               ) -> tuple[CaseRow, list[dict[str, Any]]]:
        """Move the case to QUERYING for this replica (compare-and-set): the claimed row,
        and the departments' parts read in the same transaction; ``asking`` picks, of
        the departments missing, those about to be asked (marked queried now)."""
        now = self.clock()
        with self.store.tx() as conn:
            claimed = self.store.transition(
                conn, row.case_id, from_states=from_states, expect_version=row.version,
                to_state=State.Name(State.CASE_STATE_QUERYING), now=now,
                claimed_by=self.replica,
            )
            departments = self.store.departments(row.case_id, conn) if claimed else []
            if claimed and asking is not None:
                missing = {d["department"] for d in departments if d["state"] != "ANSWERED"}
                self.store.mark_queried(conn, row.case_id, sorted(asking(missing)), now)
        if not claimed:
            raise _changed(row.case_id)
        return replace(row, state=State.Name(State.CASE_STATE_QUERYING), version=row.version + 1,
                       updated_at=now, claimed_by=self.replica), departments

    def _await_offline(self, case_id: str, departments: set[str],
                       asked: set[str] | None = None) -> None:
        """Offline departments' queries wait for the next sealed bundle export; those
        ``asked`` (default: all) are asked now, their query queued for it."""
        now = self.clock()
        reason = ("the department is offline; its query travels in the next sealed bundle "
                  "(hedui bundle export)")
        with self.store.tx() as conn:
            self.store.set_departments(conn, [
                DepartmentPart(case_id=case_id, department=d, state="AWAITING_OFFLINE",
                               reason=reason, answer_digest=b"", attempts=0, now=now)
                for d in departments
            ])
            self.store.mark_queried(conn, case_id,
                                    sorted(departments if asked is None else asked), now)

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
            id_numbers=[m.id_number for m in members], today=china_date(self.clock()),
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
            raise WrongState(f"case {case_id} is not waiting for an answer from "
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
        if self.review_required:
            try:
                proposal = decision_mod.propose(self, row, members, operator, ready)
            except Exception as exc:
                return decision_mod.hold(self, row, members, ready, exc)
            leaf = self.recorder.record(**proposal.entry)
            return decision_mod.await_review(self, row, members, ready, proposal, leaf)
        try:
            decision = decision_mod.decide(self, row, members, operator, ready)
        except Exception as exc:  # never left QUERYING: INCOMPLETE with the reason
            return decision_mod.hold(self, row, members, ready, exc)
        decided_leaf = self.recorder.record(**decision.entry)
        return decision_mod.commit(self, row, members, ready, decision, decided_leaf)

    def _store_results(self, row: CaseRow, members: list[case_pb2.Member],
                       results: dict[str, DepartmentResult]) -> case_pb2.Case | decision_mod.Ready:
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
                return decision_mod.Ready(
                    departments, self.store.audit_leaves(row.case_id, conn),
                    decision_mod.answers(self, conn, row.case_id, departments, results))
        if not moved:
            raise _changed(row.case_id)
        return self.describe(replace(row, state=to, version=row.version + 1, updated_at=now,
                                     claimed_by="", state_reason=""),
                             members=members, departments=departments)

    async def retry(self, case_id: str, operator: str, *, client: str = "") -> case_pb2.Case:
        """Ask again what is missing (also offline departments online again); decide."""
        return await self.verify(case_id, operator, client=client)

    def cancel(self, case_id: str, reason: str, operator: str) -> case_pb2.Case:
        """Close a case that will not be completed, without a decision (CANCELLED)."""
        return decision_mod.cancel(self, case_id, reason, operator)

    def review(self, case_id: str, verdict: int, reason: str, operator: str, *,
               client: str = "") -> case_pb2.Case:
        """A reviewer approves an assessed case (its report is issued) or returns it."""
        return decision_mod.review(self, case_id, verdict, reason, operator, client=client)


def _note_retry(entry: dict[str, Any], retried_by: str) -> None:
    """An assessment after an automatic retry: its entry says so, in the verifier's
    role (the person who began the verification, not the schedule that finished it)."""
    if retried_by:
        entry["reason"] = f"{entry.get('reason', '')} (after an automatic retry by " \
                          f"{retried_by})".strip()
        entry["role"] = access.VERIFIER


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
