"""How a case ends: assess every answer as of the application date, sign the report,
commit it with the DECIDED state — or, when the assessment cannot run, leave the case
INCOMPLETE with the reason, so it is never stuck in QUERYING — or close it CANCELLED.

With review required (the level-by-level flow, 受理 → 核对 → 审核 → 出具报告) the
verifier's run stops at AWAITING_REVIEW with the proposed outcome (``propose``,
``await_review``); a reviewer who neither opened nor verified the case approves it
(``review``: the report is built and signed then, naming the intake clerk, the verifier
and the reviewer) or returns it with a reason (RETURNED, for a verifier to retry).

Split out of ``cases.py``: these steps run once every department has answered, whether
the last answer came from a fan-out, a retry or an offline bundle weeks later. They
work on the :class:`~hedui.gateway.cases.CaseManager`'s parts (``m``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import structlog
from prometheus_client import Counter
from sqlalchemy.engine import Connection

from hedui.audit.checkpoint import signed_size
from hedui.errors import HeduiError
from hedui.gateway import access
from hedui.gateway import assessment as assessment_mod
from hedui.gateway import report as report_mod
from hedui.gateway.case_errors import CaseError, NotAllowed, WrongState
from hedui.gateway.fanout import DepartmentResult
from hedui.gateway.masking import logged_reason
from hedui.gateway.store import CaseRow, Conflict
from hedui.v1 import audit_pb2, case_pb2, envelope_pb2, query_pb2

if TYPE_CHECKING:
    from hedui.gateway.cases import CaseManager

log = structlog.get_logger("hedui.gateway")

CASES_DECIDED = Counter("hedui_gateway_cases_decided_total", "Cases decided, by outcome",
                        ["programme", "outcome"])

State = case_pb2.CaseState
#: states a verifier may close a case from (not DECIDED, not CANCELLED)
CANCELLABLE = tuple(State.Name(s) for s in (
    State.CASE_STATE_OPEN, State.CASE_STATE_QUERYING, State.CASE_STATE_INCOMPLETE,
    State.CASE_STATE_AWAITING_OFFLINE_ANSWER, State.CASE_STATE_AWAITING_REVIEW,
    State.CASE_STATE_RETURNED))
Verdict = case_pb2.ReviewCaseRequest.Verdict


@dataclass(frozen=True)
class Answered:
    """One department's signed answer: the report's reference and the decoded answer."""

    reference: report_mod.AnswerInput
    answer: query_pb2.Answer


@dataclass(frozen=True)
class Ready:
    """A case with every department answered: what its decision is made of."""

    departments: list[dict[str, Any]]
    leaves: list[int]
    answers: dict[str, Answered]


@dataclass(frozen=True)
class Decision:
    """A decided case before it commits: the sealed report and its decision entry."""

    now: dt.datetime
    outcome: str
    digest: bytes
    sealed: bytes
    #: the CASE_DECIDED entry's fields (``AccessRecorder.record``'s arguments)
    entry: dict[str, Any]
    verifier: str = ""
    reviewer: str = ""


def dsse_digest(envelope: envelope_pb2.Envelope) -> bytes:
    """SHA-256 of a signed payload: what cases cite for their report."""
    return hashlib.sha256(envelope.payload).digest()


def answers(m: CaseManager, conn: Connection, case_id: str, departments: list[dict[str, Any]],
            results: dict[str, DepartmentResult]) -> dict[str, Answered]:
    """Every department's answer, by department: this fan-out's from memory, earlier
    ones (a retry's, an offline bundle's) opened from the store."""
    out = {r.department: Answered(
        report_mod.AnswerInput(department=r.department, agent=r.answer.signer,
                               query_digest=r.query.digest, answer_digest=r.answer.digest,
                               envelope=r.answer.envelope),
        r.answer.answer,
    ) for r in results.values() if r.answer is not None}
    if any(d["department"] not in out for d in departments):
        for a in m.store.answers_of(case_id, conn):
            if a["department"] in out or a["answer_sealed"] is None:
                continue
            envelope = envelope_pb2.Envelope()
            envelope.ParseFromString(m.vault.open(bytes(a["answer_sealed"])))
            answer = query_pb2.Answer()
            answer.ParseFromString(envelope.payload)
            out[a["department"]] = Answered(report_mod.AnswerInput(
                department=a["department"], agent=a["agent"],
                query_digest=bytes(a["query_digest"]),
                answer_digest=bytes(a["answer_digest"]), envelope=envelope,
            ), answer)
    return dict(sorted(out.items()))


@dataclass(frozen=True)
class Proposal:
    """An assessed case waiting for review: its proposed outcome and CASE_ASSESSED entry."""

    now: dt.datetime
    outcome: str
    entry: dict[str, Any]


def _assess(m: CaseManager, row: CaseRow, members: list[case_pb2.Member], ready: Ready
            ) -> tuple[Any, Any]:
    """(standard, assessment) as of the case's application date."""
    as_of = row.application_date
    standard = m.standards.select(row.region, row.programme, as_of)
    # what the queries asked for: a field a rule reads that the policy leaves out is a gap
    policy = m.bundle().policy(row.programme)
    requested = {d.department: tuple(d.field_paths) for d in policy.departments} \
        if policy is not None else None
    result = assessment_mod.assess(
        members, {d: (a.answer, a.reference.answer_digest) for d, a in ready.answers.items()},
        standard, as_of=as_of, missing=[], pseudonym=m.recorder.pseudonymizer.pseudonym,
        requested=requested,
    )
    return standard, result


def _steps(m: CaseManager, row: CaseRow, verifier: str, reviewer: str
           ) -> list[case_pb2.CaseStep]:
    """Who did each step, with their names as the registry holds them."""
    out = []
    for step, staff_id in (("intake", row.operator), ("verification", verifier),
                           ("review", reviewer)):
        if staff_id:
            person = m.registry.get(staff_id)
            out.append(case_pb2.CaseStep(step=step, staff_id=staff_id,
                                         name=person.name if person else staff_id))
    return out


def propose(m: CaseManager, row: CaseRow, members: list[case_pb2.Member], operator: str,
            ready: Ready) -> Proposal:
    """The verifier's assessment, for a reviewer to approve: no report is signed yet."""
    _standard, result = _assess(m, row, members, ready)
    outcome = case_pb2.Outcome.Name(result.outcome)
    entry = {
        "kind": audit_pb2.AUDIT_KIND_CASE_ASSESSED, "operator": operator,
        "case_id": row.case_id, "purpose": row.programme,
        "id_numbers": [mm.id_number for mm in members],
        "authorization_number": row.authorization_number,
        "reason": f"assessed, proposed outcome {outcome}; awaiting review",
    }
    return Proposal(now=m.clock(), outcome=outcome, entry=entry)


def await_review(m: CaseManager, row: CaseRow, members: list[case_pb2.Member], ready: Ready,
                 proposal: Proposal, leaf: int) -> case_pb2.Case:
    """QUERYING → AWAITING_REVIEW with the proposed outcome and its verifier (CAS)."""
    verifier = proposal.entry["operator"]
    with m.store.tx() as conn:
        m.store.add_audit_leaves(conn, row.case_id, [leaf])
        moved = m.store.assessed(conn, row.case_id, expect_version=row.version,
                                 outcome=proposal.outcome, verifier=verifier,
                                 now=proposal.now)
    if not moved:
        raise Conflict(f"case {row.case_id} was changed by another request; reload it")
    log.info("case assessed, awaiting review", case=row.case_id, outcome=proposal.outcome)
    return m.describe(
        replace(row, state=State.Name(State.CASE_STATE_AWAITING_REVIEW),
                version=row.version + 1, updated_at=proposal.now, claimed_by="",
                outcome=proposal.outcome, state_reason="", verifier=verifier, reviewer=""),
        members=members, departments=ready.departments)


def decide(m: CaseManager, row: CaseRow, members: list[case_pb2.Member], operator: str,
           ready: Ready, *, reviewer: str = "") -> Decision:
    """Assess as of the case's application date — its standard and income window do not
    move however late the last answer came — and build, sign and seal the report.
    ``operator`` verified the case; ``reviewer`` approved it (review required)."""
    now = m.clock()
    as_of = row.application_date
    standard, result = _assess(m, row, members, ready)
    outcome_name = case_pb2.Outcome.Name(result.outcome)
    note = m.checkpoints.covering(max(ready.leaves, default=-1) + 1)
    size = signed_size(note)  # our own log's fresh checkpoint
    report = report_mod.build_report(
        case_id=row.case_id, programme=row.programme, region=row.region,
        members=members, authorization_number=row.authorization_number,
        assessment=result, standard=standard, application_date=as_of,
        answers=[a.reference for a in ready.answers.values()],
        audit_checkpoint=note,
        audit_evidence=[
            (entry, audit_pb2.InclusionProof(leaf_index=i, tree_size=size, hashes=proof))
            for i, entry, proof in m.audit_log.evidence(ready.leaves, size)
        ],
        issuer=m.gateway_id, issued_at=now, steps=_steps(m, row, operator, reviewer),
    )
    envelope = report_mod.sign_report(report, m.signing_key)
    digest = dsse_digest(envelope)
    # The decision entry names the report it signs off (so it cannot be inside it);
    # written before the decision commits, as every step is logged before it acts.
    entry = {
        "kind": audit_pb2.AUDIT_KIND_CASE_DECIDED, "operator": reviewer or operator,
        "case_id": row.case_id, "purpose": row.programme,
        "id_numbers": [mm.id_number for mm in members], "reason": f"outcome {outcome_name}"
        + (f"; verified by {operator}, approved by {reviewer}" if reviewer else ""),
        "authorization_number": row.authorization_number, "report_digest": digest,
    }
    return Decision(now=now, outcome=outcome_name, digest=digest,
                    sealed=m.vault.seal(envelope.SerializeToString()), entry=entry,
                    verifier=operator, reviewer=reviewer)


def commit(m: CaseManager, row: CaseRow, members: list[case_pb2.Member], ready: Ready,
           decision: Decision, decided_leaf: int) -> case_pb2.Case:
    """The report and the DECIDED state commit together, guarded by the version: of
    two replicas that both ran the case (after a crash), exactly one decides it. The
    decision entry is the case's either way."""
    with m.store.tx() as conn:
        m.store.add_audit_leaves(conn, row.case_id, [decided_leaf])
        decided = m.store.decide(conn, row.case_id, expect_version=row.version,
                                 outcome=decision.outcome, digest=decision.digest,
                                 sealed_report=decision.sealed, now=decision.now,
                                 verifier=decision.verifier, reviewer=decision.reviewer,
                                 from_state=row.state)
    if not decided:
        log.info("case decided elsewhere", case=row.case_id, replica=m.replica)
        return m.get(row.case_id)  # another replica decided it first; its report stands
    log.info("case decided", case=row.case_id, outcome=decision.outcome, replica=m.replica)
    CASES_DECIDED.labels(row.programme, decision.outcome).inc()
    return m.describe(
        replace(row, state=State.Name(State.CASE_STATE_DECIDED), version=row.version + 1,
                updated_at=decision.now, claimed_by="", outcome=decision.outcome,
                report_digest=decision.digest, state_reason="", verifier=decision.verifier,
                reviewer=decision.reviewer),
        members=members, departments=ready.departments,
    )


def hold(m: CaseManager, row: CaseRow, members: list[case_pb2.Member], ready: Ready,
         exc: Exception) -> case_pb2.Case:
    """The assessment raised after every department answered (e.g. the standard was
    withdrawn meanwhile): the answers stay, the case goes INCOMPLETE with the reason, and
    ``hedui case retry`` decides it once the cause is fixed. An unexpected error is
    raised again after the move, for the gateway's log."""
    expected = isinstance(exc, HeduiError | ValueError)
    reason = (f"every department answered but the assessment could not run: {exc}" if expected
              else "every department answered but the assessment failed with an internal "
                   "error (the administrator finds it in the gateway log)")
    now = m.clock()
    with m.store.tx() as conn:
        moved = m.store.transition(
            conn, row.case_id, from_states=[State.Name(State.CASE_STATE_QUERYING)],
            expect_version=row.version, to_state=State.Name(State.CASE_STATE_INCOMPLETE),
            now=now, reason=reason,
        )
    log.warning("case not decided: assessment failed", case=row.case_id,
                error=type(exc).__name__, moved=moved)
    if not expected:
        raise exc
    if not moved:
        return m.get(row.case_id)
    return m.describe(replace(row, state=State.Name(State.CASE_STATE_INCOMPLETE),
                              version=row.version + 1, updated_at=now, claimed_by="",
                              state_reason=reason),
                      members=members, departments=ready.departments)


def cancel(m: CaseManager, case_id: str, reason: str, operator: str) -> case_pb2.Case:
    """Close a case that will not be completed, without a decision (CANCELLED).

    Logged before it acts (a CASE_CANCELLED entry with the reason), then
    compare-and-set: a decided case is never cancelled, nor one another replica is
    querying for right now.
    """
    reason = logged_reason(reason, "closing a case")
    row = m._load(case_id)
    m._require_staff(operator, row.programme, row.township)
    if row.state not in CANCELLABLE:
        raise WrongState(f"case {case_id} is {row.state} and cannot be cancelled")
    m._require_unclaimed(row)
    leaf = m.recorder.record(
        audit_pb2.AUDIT_KIND_CASE_CANCELLED,
        operator=operator, case_id=case_id, purpose=row.programme,
        id_numbers=[mm.id_number for mm in m.members(row)],
        authorization_number=row.authorization_number,
        reason=f"cancelled without a decision: {reason}",
    )
    now = m.clock()
    with m.store.tx() as conn:
        moved = m.store.transition(
            conn, case_id, from_states=CANCELLABLE, expect_version=row.version,
            to_state=State.Name(State.CASE_STATE_CANCELLED), now=now,
            reason=f"cancelled by {operator}: {reason}",
        )
        if moved:  # the case's own leaves tell its history (GetCaseHistory)
            m.store.add_audit_leaves(conn, case_id, [leaf])
    if not moved:
        raise Conflict(f"case {case_id} was changed by another request; reload it")
    log.info("case cancelled", case=case_id, operator=operator)
    return m.get(case_id)


def review(m: CaseManager, case_id: str, verdict: int, reason: str, operator: str, *,
           client: str = "") -> case_pb2.Case:
    """A reviewer's decision on an AWAITING_REVIEW case, logged before it acts.

    Separation of duties: the reviewer neither opened nor verified the case (SAME_PERSON).
    Approve: the report is built and signed now, naming intake clerk, verifier and
    reviewer, and commits with DECIDED (compare-and-set from AWAITING_REVIEW). Return:
    RETURNED with the reason, for a verifier to retry (assessed again) or cancel.
    """
    if verdict not in (Verdict.VERDICT_APPROVE, Verdict.VERDICT_RETURN):
        raise CaseError("a review approves or returns the case (verdict)", "BAD_VERDICT")
    returning = verdict == Verdict.VERDICT_RETURN
    if returning or reason:
        reason = logged_reason(reason, "returning a case" if returning else "a review")
    row = m._load(case_id)
    m._require_staff(operator, row.programme, row.township)
    if row.state != State.Name(State.CASE_STATE_AWAITING_REVIEW):
        raise WrongState(f"case {case_id} is {row.state}, not awaiting review")
    for who, staff_id in (("opened", row.operator), ("verified", row.verifier)):
        if staff_id == operator:
            raise NotAllowed(f"staff member {operator} {who} case {case_id}; another "
                             f"{access.ROLE_WORDS[access.REVIEWER]} reviews it "
                             "(separation of duties)", "SAME_PERSON")
    members = m.members(row)
    words = "returned" if returning else "approved"
    leaf = m.recorder.record(
        audit_pb2.AUDIT_KIND_CASE_REVIEWED, operator=operator, case_id=case_id,
        purpose=row.programme, id_numbers=[mm.id_number for mm in members],
        authorization_number=row.authorization_number, client=client,
        reason=f"review: {words} (proposed outcome {row.outcome}, verified by "
               f"{row.verifier})" + (f": {reason}" if reason else ""),
    )
    now = m.clock()
    if returning:
        with m.store.tx() as conn:
            m.store.add_audit_leaves(conn, case_id, [leaf])
            moved = m.store.transition(
                conn, case_id, from_states=[row.state], expect_version=row.version,
                to_state=State.Name(State.CASE_STATE_RETURNED), now=now,
                reason=f"returned by reviewer {operator}: {reason}")
        if not moved:
            raise Conflict(f"case {case_id} was changed by another request; reload it")
        return m.get(case_id)
    with m.store.tx() as conn:
        m.store.add_audit_leaves(conn, case_id, [leaf])
        departments = m.store.departments(case_id, conn)
        ready = Ready(departments, m.store.audit_leaves(case_id, conn),
                      answers(m, conn, case_id, departments, {}))
    decision = decide(m, row, members, row.verifier, ready, reviewer=operator)
    if decision.outcome != row.outcome:  # the standard moved under the proposal
        raise WrongState(f"case {case_id} now assesses as {decision.outcome}, not the "
                         f"{row.outcome} proposed; return it for the verifier to retry")
    decided_leaf = m.recorder.record(**decision.entry)
    return commit(m, row, members, ready, decision, decided_leaf)
