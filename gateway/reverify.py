"""A re-verification run: every household on a programme's roster assessed again as of
the run's date, from bulk answers, each determination signed and graded against the last.

The run is worked in chunks. A chunk is claimed in the roster store (compare-and-set, so
several processes — or one restarted after SIGKILL — never decide a household twice),
then each online department of the programme's policy gets ONE bulk query for the whole
chunk (``hedui.gateway.bulk_client``): one signature, one audit entry per side naming
every subject, instead of a query per household per department. Each household's
answers are then assessed exactly as a case's are (``assessment.assess``, the standard in
force on the run's date), signed as a :mod:`~hedui.gateway.determination`, compared with
the household's previous determination (``alerts.grade``) and committed with its alert
in one transaction. A household whose chunk is lost mid-way (the process dies) stays
CLAIMED until its claim is stale, then is taken again: nothing was committed for it.

Chunks are pipelined: while one chunk's households are assessed and signed (CPU), the
next chunk's bulk queries are already out (network, agents' CPU).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import grpc
import nacl.signing
import structlog

from hedui.audit.entries import AccessRecorder
from hedui.gateway import alerts as alerts_mod
from hedui.gateway import worklist
from hedui.gateway.agent_client import AgentCallFailed, AgentClient
from hedui.gateway.agent_witness import AgentLogAlarm, AgentLogUnverified, BadAgentCheckpoint
from hedui.gateway.answers import AnswerRejected
from hedui.gateway.assessment import assess
from hedui.gateway.bulk_client import (
    BulkReply,
    HouseholdAnswer,
    HouseholdRequest,
    ask_bulk,
    build_bulk_query,
    sign_bulk_query,
)
from hedui.gateway.determination import ChunkAnswer, build_determination, sign_determination
from hedui.gateway.planner import DepartmentPlan, plan
from hedui.gateway.queries import SubjectRef
from hedui.gateway.standards import NoStandard, StandardsLibrary
from hedui.gateway.store_decisions import Decided
from hedui.gateway.store_roster import ClaimLost, RosterRow, RosterStore, RunProgress
from hedui.gateway.working_days import WorkCalendar, packaged
from hedui.keys.bundle import Bundle
from hedui.v1 import audit_pb2, case_pb2, envelope_pb2, query_pb2, reverification_pb2

log = structlog.get_logger("hedui.gateway.reverify")

Outcome = case_pb2.Outcome


@dataclass
class _Household:
    row: RosterRow
    members: list[case_pb2.Member]
    pseudonyms: list[str]


@dataclass
class _DepartmentReply:
    department: str
    agent: str
    query_digest: bytes = b""
    reply: BulkReply | None = None
    #: why the whole department is missing for this chunk (refused, unreachable, offline)
    failure: str = ""


@dataclass
class Reverifier:
    """What one gateway process needs to work re-verification runs."""

    gateway_id: str
    signing_key: nacl.signing.SigningKey
    bundle: Callable[[], Bundle]
    roster: RosterStore
    standards: StandardsLibrary
    recorder: AccessRecorder
    client_for: Callable[[DepartmentPlan], AgentClient]
    checkpoint: Callable[[], str]
    pseudonym: Callable[[str], str]
    #: keeps the agents' log checkpoints (hedui.gateway.agent_witness.AgentWitness)
    agent_witness: object | None = None
    calendar: WorkCalendar = field(default_factory=packaged)
    alert_days: dict[str, int] = field(default_factory=lambda: dict(worklist.DEFAULT_DAYS))
    approach_share: float = 0.9
    claimer: str = "gateway"
    chunk_size: int = 500
    timeout: float = 120.0
    retries: int = 2
    stale_after: dt.timedelta = dt.timedelta(minutes=5)
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)

    # ------------------------------------------------------------------ the run

    async def run(self, run_id: str, *, operator: str) -> RunProgress:
        """Work the run until no household is left to claim; returns its progress.

        Safe to call again after an interruption, and from several processes at once.
        """
        progress = await asyncio.to_thread(self.roster.progress, run_id)
        if progress is None:
            raise KeyError(run_id)
        plans = plan(self.bundle(), progress.programme)
        asked = await self._claim_and_ask(run_id, progress, plans, operator)
        if asked is not None:  # a worker that finds nothing left to do logs nothing
            await self.recorder.record_async(
                audit_pb2.AUDIT_KIND_REVERIFICATION_RUN, operator=operator, case_id=run_id,
                purpose=progress.programme,
                reason=f"worked by {self.claimer}: {progress.by_state.get('DECIDED', 0)} of "
                       f"{progress.households} households decided before")
        try:
            while asked is not None:
                households, replies = asked
                following = asyncio.create_task(
                    self._claim_and_ask(run_id, progress, plans, operator))
                try:
                    await self._decide_chunk(run_id, progress, plans, households, replies,
                                             operator)
                finally:
                    asked = await following
        except BaseException:
            # whatever this worker still holds goes back at once, for the next one
            # (a resume, a helper, the gateway's runner) rather than after it goes stale
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self.roster.release_claims, self.claimer)
            raise
        done = await asyncio.to_thread(self.roster.progress, run_id)
        assert done is not None
        if done.done and done.state != "FINISHED" and await asyncio.to_thread(
                self.roster.finish_run, run_id):  # one worker finishes it, the others see it
            done = await asyncio.to_thread(self.roster.progress, run_id)
            assert done is not None
            await self.recorder.record_async(
                audit_pb2.AUDIT_KIND_REVERIFICATION_RUN, operator=operator, case_id=run_id,
                purpose=done.programme,
                reason=f"finished: {done.by_state.get('DECIDED', 0)} decided, "
                       f"{done.by_state.get('FAILED', 0)} failed; alerts "
                       + ", ".join(f"{g} {n}" for g, n in sorted(done.alerts.items())))
        return done

    async def _claim_and_ask(
        self, run_id: str, progress: RunProgress, plans: Sequence[DepartmentPlan],
        operator: str,
    ) -> tuple[list[_Household], list[_DepartmentReply]] | None:
        rows = await asyncio.to_thread(self.roster.claim, run_id, self.claimer,
                                       self.chunk_size, self.stale_after)
        if not rows:
            return None
        households = [self._household(r) for r in rows]
        replies = await asyncio.gather(*(
            self._ask(run_id, progress, p, households, operator) for p in plans))
        return households, list(replies)

    def _household(self, row: RosterRow) -> _Household:
        members = self.roster.members(row)
        return _Household(row, members, [self.pseudonym(m.id_number) for m in members])

    # ------------------------------------------------------------ one department

    async def _ask(self, run_id: str, progress: RunProgress, dept: DepartmentPlan,
                   households: Sequence[_Household], operator: str) -> _DepartmentReply:
        out = _DepartmentReply(dept.department, dept.agent.id)
        pseudonyms = [p for h in households for p in h.pseudonyms]
        if dept.offline:
            out.failure = (f"{dept.department} is an offline department: not asked in a "
                           "re-verification run")
            return out
        requests = [
            HouseholdRequest(
                household_ref=h.row.roster_id,
                subjects=[SubjectRef(m.id_number, m.name, m.relation) for m in h.members],
                authorization_number=h.row.authorization_number,
                consent_digest=h.row.consent_digest,
            )
            for h in households
        ]
        for attempt in range(self.retries + 1):
            signed = sign_bulk_query(build_bulk_query(
                issuer=self.gateway_id, audience=dept.agent.id, run_id=run_id,
                purpose=progress.programme, operator=operator, households=requests,
                field_paths=dept.field_paths, audit_checkpoint=self.checkpoint(),
            ), self.signing_key)
            out.query_digest = signed.digest
            await self.recorder.record_async(
                audit_pb2.AUDIT_KIND_BULK_QUERY_SENT, operator=operator, case_id=run_id,
                purpose=progress.programme, department=dept.department,
                field_paths=dept.field_paths, pseudonyms=pseudonyms,
                query_id=signed.query.query_id, query_digest=signed.digest,
                reason=f"{len(requests)} households")
            try:
                reply = await ask_bulk(self.client_for(dept), signed, timeout=self.timeout)
                await self._witness(dept, reply)
            except AgentCallFailed as exc:
                out.failure = f"{dept.department}: {exc.reason or exc.code.name}: {exc.detail}"
                retry = exc.transient and attempt < self.retries
                await self._record_failure(run_id, progress, dept, signed, operator,
                                           pseudonyms, out.failure, final=not retry)
                if retry:
                    await asyncio.sleep(0.2 * 2**attempt)
                    continue
                return out
            except AnswerRejected as exc:
                out.failure = f"{dept.department}: bulk answer rejected: {exc}"
                await self._record_failure(run_id, progress, dept, signed, operator,
                                           pseudonyms, out.failure, final=True)
                return out
            await asyncio.to_thread(
                self.roster.keep_chunks, run_id, dept.department, signed.digest,
                [(d, e.SerializeToString()) for d, e in zip(reply.chunk_digests, reply.chunks,
                                                            strict=True)])
            out.reply = reply
            out.failure = ""
            refused = reply.refusals
            await self.recorder.record_async(
                audit_pb2.AUDIT_KIND_BULK_ANSWER_RECEIVED, operator=operator, case_id=run_id,
                purpose=progress.programme, department=dept.department,
                field_paths=[w.path for w in reply.withheld], pseudonyms=pseudonyms,
                query_id=signed.query.query_id, query_digest=signed.digest,
                answer_digest=reply.chunk_digests[-1] if reply.chunk_digests else b"",
                outcome=audit_pb2.AUDIT_OUTCOME_PARTIAL if refused else audit_pb2.AUDIT_OUTCOME_OK,
                reason=f"{len(reply.answers)} households answered, {len(refused)} refused, "
                       f"in {len(reply.chunk_digests)} chunks")
            return out
        return out

    async def _witness(self, dept: DepartmentPlan, reply: BulkReply) -> None:
        """Check the agent's log checkpoint the stream carried, as for single answers."""
        if self.agent_witness is None or not reply.agent_checkpoint:
            return
        seen = query_pb2.Answer(agent=dept.agent.id, agent_checkpoint=reply.agent_checkpoint,
                                agent_log_key=reply.agent_log_key)
        client = self.client_for(dept)
        try:
            await self.agent_witness.observe(  # type: ignore[attr-defined]
                dept.agent.id, dept.department, seen, client.consistency_proof)
        except AgentLogAlarm as exc:
            raise AgentCallFailed(dept.department, grpc.StatusCode.FAILED_PRECONDITION,
                                  str(exc), exc.reason) from None
        except AgentLogUnverified as exc:
            raise AgentCallFailed(dept.department, grpc.StatusCode.UNAVAILABLE,
                                  str(exc), exc.reason) from None
        except BadAgentCheckpoint as exc:
            raise AnswerRejected(str(exc)) from None

    async def _record_failure(self, run_id: str, progress: RunProgress, dept: DepartmentPlan,
                              signed: object, operator: str, pseudonyms: Sequence[str],
                              why: str, *, final: bool) -> None:
        await self.recorder.record_async(
            audit_pb2.AUDIT_KIND_QUERY_FAILED, operator=operator, case_id=run_id,
            purpose=progress.programme, department=dept.department, pseudonyms=pseudonyms,
            query_id=signed.query.query_id,  # type: ignore[attr-defined]
            query_digest=signed.digest,  # type: ignore[attr-defined]
            outcome=audit_pb2.AUDIT_OUTCOME_FAILED,
            reason=why if final else f"{why} (will retry)")

    # ---------------------------------------------------------------- deciding

    async def _decide_chunk(self, run_id: str, progress: RunProgress,
                            plans: Sequence[DepartmentPlan], households: Sequence[_Household],
                            replies: Sequence[_DepartmentReply], operator: str) -> None:
        decided = await asyncio.to_thread(
            self._decide_all, run_id, progress, plans, households, replies)
        if decided:
            await self.recorder.record_async(
                audit_pb2.AUDIT_KIND_REVERIFICATION_DECIDED, operator=operator,
                case_id=run_id, purpose=progress.programme,
                pseudonyms=[p for h in decided for p in h.pseudonyms],
                reason=f"{len(decided)} households re-verified as of "
                       f"{progress.as_of.isoformat()}")

    def _decide_all(self, run_id: str, progress: RunProgress,
                    plans: Sequence[DepartmentPlan], households: Sequence[_Household],
                    replies: Sequence[_DepartmentReply]) -> list[_Household]:
        """Assess and sign every household of the chunk, then commit them together."""
        requested = {p.department: list(p.field_paths) for p in plans}
        previous = self.roster.previous_determinations(
            [h.row.roster_id for h in households], before_run=run_id)
        decided: list[_Household] = []
        rows: list[Decided] = []
        for h in households:
            try:
                rows.append(self._decide_one(run_id, progress, h, replies, requested,
                                             previous.get(h.row.roster_id)))
            except NoStandard as exc:
                self.roster.record_failure(run_id, h.row.roster_id, self.claimer, str(exc))
                continue
            decided.append(h)
        try:
            self.roster.record_decisions(run_id, self.claimer, rows, now=self.clock())
        except ClaimLost as exc:
            log.warning("chunk taken over by another worker; not stored here",
                        run_id=run_id, reason=str(exc))
            return []
        return decided

    def _decide_one(self, run_id: str, progress: RunProgress, h: _Household,
                    replies: Sequence[_DepartmentReply], requested: dict[str, list[str]],
                    previous: tuple[str, bytes, bytes] | None) -> Decided:
        ref = h.row.roster_id
        answers: dict[str, tuple[query_pb2.Answer, bytes]] = {}
        cited: list[ChunkAnswer] = []
        missing: list[tuple[str, str]] = []
        for r in replies:
            got = r.reply.households.get(ref) if r.reply is not None else None
            if got is None:
                missing.append((r.department, r.failure or "no answer for this household"))
            elif isinstance(got, HouseholdAnswer):
                answers[r.department] = (got.answer, got.chunk_digest)
                cited.append(ChunkAnswer(
                    department=r.department, agent=r.agent, query_digest=r.query_digest,
                    chunk_digest=got.chunk_digest,
                    chunk_index=r.reply.chunk_digests.index(got.chunk_digest),  # type: ignore[union-attr]
                    household_ref=ref))
            else:
                missing.append((r.department, f"refused {got.reason}: {got.detail}"))
        standard = self.standards.select(h.row.region, progress.programme, progress.as_of)
        assessment = assess(h.members, answers, standard, as_of=progress.as_of,
                            missing=missing, pseudonym=self.pseudonym, requested=requested)
        before = None
        previous_digest: bytes | None = None
        if previous is not None:
            _run, previous_digest, raw = previous
            before = alerts_mod.Snapshot.of_report(_payload(raw))  # type: ignore[arg-type]
        now = self.clock()
        determination = build_determination(
            run_id=run_id, roster_id=ref, issuer=self.gateway_id, issued_at=now,
            programme=progress.programme, region=h.row.region, assessment=assessment,
            standard=standard, answers=cited, member_pseudonyms=h.pseudonyms,
            previous_digest=previous_digest or b"")
        envelope, digest = sign_determination(determination, self.signing_key)
        alert = alerts_mod.grade(before, alerts_mod.Snapshot.of_assessment(assessment),
                                 approach_share=self.approach_share)
        pending = (worklist.pending_alert(alert, raised_at=now, calendar=self.calendar,
                                          days=self.alert_days) if alert else None)
        return Decided(roster_id=ref, township=h.row.township,
                       outcome=Outcome.Name(assessment.outcome),
                       determination=envelope.SerializeToString(), digest=digest,
                       alert=pending, previous_digest=previous_digest)


def _payload(stored: bytes) -> reverification_pb2.Determination:
    """A stored determination (its signed envelope, as the store keeps it) read back; the
    store is the gateway's own, so its signature was checked when it was made."""
    envelope = envelope_pb2.Envelope.FromString(stored)
    return reverification_pb2.Determination.FromString(envelope.payload)
