"""Asking again, on a schedule, the online departments that failed a case.

A department that was down when a case was verified leaves it INCOMPLETE until someone
presses retry; a clerk should not have to remember. Every
``[fanout] retry_failed_every_minutes`` the gateway retries, itself, the cases whose
online department *failed* — could not be reached, timed out, was busy, or was
skipped while its breaker was open. The fan-out has already told these apart with
``breaker.classify`` and written the verdict into the case's audit entries
(QUERY_FAILED for an outage or a busy agent, QUERY_REFUSED for a refusal); the schedule
reads that, not the failure's words (which lose the status code behind an agent's
reason). A department that *refused* (a malformed ID number, a purpose outside its
policy) or whose answer was rejected would refuse the same query again, so it is never
asked again by the schedule, nor is one whose circuit breaker is open and cooling down
(it is known to be down: the next sweep tries). At most ``retry_failed_per_sweep`` cases a
sweep, those left alone longest first.

**Who acts.** Not a staff member: the gateway, as the system actor
:data:`SCHEDULER` ("gateway-scheduler"; not a registry member, and nothing a caller
sends can make it one: the guard only ever establishes registry members). The case
service's guard never puts it in place; this module does, explicitly, for the length
of one retry (:func:`_as_scheduler`): the
``access.Acting`` of a person with no scope limits and no role from the table, its
entries recorded with the role :data:`ROLE` ("automatic-retry"). It may do one thing,
``CaseManager.verify`` of a failed case, limited to the failed departments. When the
retry completes the case, the assessment stays the verifier's who began the
verification (found in the case's own audit entries), so the reviewer is still
another person; its entry says it came after an automatic retry.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import structlog

from hedui.audit.entries import ACTING_ROLE, decode
from hedui.errors import HeduiError
from hedui.gateway import access
from hedui.gateway.config import GatewayConfig
from hedui.v1 import audit_pb2, case_pb2

if TYPE_CHECKING:
    from hedui.gateway.cases import CaseManager

log = structlog.get_logger("hedui.gateway")

#: the operator the schedule's queries and entries name
SCHEDULER = "gateway-scheduler"
#: the role its entries record: why the gateway acted, not a role of the staff table
ROLE = "automatic-retry"
#: the person the schedule acts as: never in the registry, never a staff member
SCHEDULER_PERSON = access.Person(staff_id=SCHEDULER, name="gateway (automatic retry)",
                                 roles=(ROLE,))

#: how the fan-out words a refusal (``breaker.refusal_text``) and a rejected answer
_REFUSED_WORDS = ("{d} refused: ", "{d} failed for good: ", "{d}: answer rejected: ")
_FAILED = audit_pb2.AUDIT_KIND_QUERY_FAILED
_REFUSED = audit_pb2.AUDIT_KIND_QUERY_REFUSED
_PAGE = 200


def worth_retrying(department: str, reason: str, last_failure: int | None) -> bool:
    """Would a fresh query to ``department`` be answered, by the failure it left?

    ``last_failure`` is the kind of the department's last failure entry for the case:
    the fan-out wrote QUERY_REFUSED when ``breaker.classify`` called the agent's reply a
    refusal, QUERY_FAILED for an outage, a busy agent or an open breaker (and for an
    answer it rejected, which its words tell apart). Only QUERY_FAILED, not in a
    refusal's words, is asked again; no entry at all (unknown) is left to a person."""
    if any(reason.startswith(w.format(d=department)) for w in _REFUSED_WORDS):
        return False
    return last_failure == _FAILED


@dataclass
class _History:
    """What a case's own audit entries say, for the schedule."""

    #: department → kind of its last failure entry (QUERY_FAILED or QUERY_REFUSED)
    last_failure: dict[str, int] = field(default_factory=dict)
    #: the person whose query was sent last ("" if none)
    verifier: str = ""


def history(manager: CaseManager, case_id: str) -> _History:
    """The case's entries, read once: last failures, and who verified it."""
    out = _History()
    for index in manager.store.audit_leaves(case_id):
        entry = decode(manager.audit_log.leaf(index))
        if entry.kind in (_FAILED, _REFUSED):
            out.last_failure[entry.department] = entry.kind
        elif entry.kind == audit_pb2.AUDIT_KIND_QUERY_SENT and entry.operator != SCHEDULER:
            out.verifier = entry.operator
    return out


def _breaker_open(manager: CaseManager, department: str) -> bool:
    """The department's breaker is open and still cooling down (no trial call due)."""
    breaker = manager.fanout.breakers.get(department)
    if breaker is None or breaker.opened_at is None:
        return False
    return breaker.clock() - breaker.opened_at < breaker.cooldown


@dataclass(frozen=True)
class Due:
    """A case to retry: the departments to ask again, and whose assessment it stays."""

    case_id: str
    departments: frozenset[str]
    verifier: str


def due(manager: CaseManager, limit: int) -> list[Due]:
    """Up to ``limit`` cases to retry now, those left alone longest first."""
    bundle = manager.bundle()
    candidates: dict[str, set[str]] = {}
    offset = 0
    while True:
        parts = manager.store.failed_parts(limit=_PAGE, offset=offset)
        for case_id, department, reason in parts:
            agent = bundle.agent(department)
            if agent is None or agent.offline or _breaker_open(manager, department):
                continue
            if worth_retrying(department, reason, _FAILED):  # its words first: cheap
                candidates.setdefault(case_id, set()).add(department)
        if len(parts) < _PAGE or len(candidates) >= limit * 4:
            break
        offset += _PAGE
    out = []
    for case_id, departments in candidates.items():
        past = history(manager, case_id)
        asked = frozenset(d for d in departments
                          if worth_retrying(d, "", past.last_failure.get(d)))
        if asked:
            row = manager.store.get(case_id)
            opener = row.operator if row is not None else SCHEDULER
            out.append(Due(case_id, asked, past.verifier or opener))
        if len(out) == limit:
            break
    return out


@contextlib.contextmanager
def _as_scheduler(client: str) -> Iterator[None]:
    """The schedule acting, for one retry: the one place it is put in place."""
    tokens = (access.ACTING.set(access.Acting(person=SCHEDULER_PERSON, role=ROLE,
                                              client=client)),
              ACTING_ROLE.set(ROLE))
    try:
        yield
    finally:
        access.ACTING.reset(tokens[0])
        ACTING_ROLE.reset(tokens[1])


async def sweep_once(manager: CaseManager, config: GatewayConfig) -> int:
    """Retry the cases due now; how many were retried (whatever their outcome)."""
    retried = 0
    for case in await manager.step(due, manager, config.retry_failed_per_sweep):
        try:
            with _as_scheduler(manager.gateway_id):
                after = await manager.verify(case.case_id, SCHEDULER, only=case.departments,
                                             assessor=case.verifier)
        except HeduiError as exc:  # changed meanwhile, being verified, authorization …
            log.info("automatic retry skipped a case", case=case.case_id,
                     reason=getattr(exc, "reason", "") or type(exc).__name__)
            continue
        retried += 1
        log.info("automatic retry", case=case.case_id, departments=sorted(case.departments),
                 state=case_pb2.CaseState.Name(after.state))
    return retried


async def run(manager: CaseManager, config: GatewayConfig, stop: asyncio.Event) -> None:
    """Sweep every ``retry_failed_every`` seconds until ``stop`` is set (0: never)."""
    every = config.retry_failed_every
    if every <= 0:
        log.info("automatic retry of failed departments is off")
        return
    while not stop.is_set():
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)
        if stop.is_set():
            return
        try:
            retried = await sweep_once(manager, config)
            if retried:
                log.info("automatic retry sweep", cases=retried)
        except Exception:  # a bad sweep must not end the schedule
            log.exception("automatic retry sweep failed")
