"""A circuit breaker per department, so a dead agent costs the others nothing.

After ``threshold`` consecutive *outages* the breaker opens: calls fail at once for
``cooldown`` seconds instead of waiting for a deadline. Then one trial call is let
through (half-open); if the agent replies at all the breaker closes, an outage opens it
again.

What counts as an outage is decided in one place, :func:`classify`. The breaker exists
to stop every case waiting out a deadline on an agent that cannot be reached; an agent
that *refuses* a query (a malformed ID number, a purpose outside its policy …) has
answered promptly and is plainly reachable. Counting refusals made one household's typo
take a department "offline" for every later case.

The agent's reason is the ``google.rpc.ErrorInfo`` reason of its status
(``hedui.status.reason_of``), never parsed from the message. There is no fallback to the
old ``"REASON: text"`` messages: an agent too old to send ErrorInfo is classified by its
status code alone, which errs only on its breaker count (its ``QUERY_EXPIRED`` would count
as an outage) and on the advice (the generic one).
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import grpc

from hedui import status
from hedui.logging import ID_NUMBER, REDACTED_ID


class Outcome(enum.Enum):
    """How a failed call to an agent is treated."""

    #: the agent could not be reached, or did not reply in time: counts, retried
    OUTAGE = "outage"
    #: the agent replied but was busy, or the query aged in flight: a fresh query may be
    #: answered, so retried; the agent is reachable, so it does not count
    BUSY = "busy"
    #: a permanent answer about this query: retrying the same request gives the same
    #: refusal, so neither retried nor counted
    REFUSED = "refused"


#: status codes of a call that did not reach an agent able to answer
_OUTAGE_CODES = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})
#: status codes of an agent too busy to answer now
_BUSY_CODES = frozenset({grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.ABORTED})

#: agent reason codes that override their status code's class (``agents/refusals.py``):
#: QUERY_EXPIRED travels as DEADLINE_EXCEEDED but is the agent's reply about one query's
#: validity window; DATA_UNAVAILABLE is the agent saying its department's database is
#: down, which is an outage of that department whatever code carries it
_REASON_OUTCOME: dict[str, Outcome] = {
    "QUERY_EXPIRED": Outcome.BUSY,
    "DATA_UNAVAILABLE": Outcome.OUTAGE,
    # the gateway could not fetch a proof of the agent's log: not an alarm, try again
    "AGENT_LOG_UNVERIFIED": Outcome.OUTAGE,
}

#: what a verifier can do about each refusal (agent reason codes, ``agents/refusals.py``
#: and the envelope reasons of ``keys/errors.py``)
ADVICE: dict[str, str] = {
    "MALFORMED_ID_NUMBER": "correct the member's ID number",
    "TOO_MANY_SUBJECTS": "the household has more members than this department answers in "
                         "one query; ask the administrator",
    "CONSENT_MISSING": "register the applicant's signed authorization for the case",
    "PURPOSE_NOT_IN_POLICY": "this department does not answer for this programme; ask the "
                             "administrator to check the exchange and local policies",
    "FIELD_OUTSIDE_POLICY": "nothing asked is allowed for this programme; ask the "
                            "administrator to check the exchange policy",
    "CHECKPOINT_INCONSISTENT": "the department's witness found the center's audit log "
                               "inconsistent; tell the administrator and privacy officer now",
    "QUERY_NOT_YET_VALID": "the center's and the department's clocks disagree; ask the "
                           "administrator",
    "QUERY_EXPIRED": "the center's and the department's clocks disagree; ask the "
                     "administrator",
    "REPLAYED_NONCE": "retry the case",
    "NOTHING_RELEASABLE": "the department holds none of the fields asked for this programme; "
                          "ask the administrator to check the exchange policy and the "
                          "department's mapping",
    "MALFORMED_TIMESTAMP": "the center's clock or software is broken; ask the administrator",
    "AGENT_LOG_INCONSISTENT": "the gateway found this department's audit log cut back or "
                              "rewritten and refuses its answers; tell the administrator and "
                              "privacy officer now",
    "AGENT_CHECKPOINT_INVALID": "the department's answer carries no valid checkpoint of its "
                                "audit log; ask the administrator (agent version or keys)",
}
_DEFAULT_ADVICE = ("the department will refuse this query again; ask the administrator "
                   "(trust bundle, policy or versions)")

@dataclass(frozen=True)
class Classified:
    """One failed call, classified: what to do, and what a verifier reads."""

    outcome: Outcome
    #: the agent's reason code, or the status code's name when it gave none
    reason: str
    #: whether ``reason`` is one the agent (or the gateway's witness) gave
    given: bool = True

    @property
    def counts(self) -> bool:
        """Does it count towards the department's circuit breaker?"""
        return self.outcome is Outcome.OUTAGE

    @property
    def retry(self) -> bool:
        """Is a fresh query (new id and nonce) worth sending?"""
        return self.outcome is not Outcome.REFUSED

    @property
    def advice(self) -> str:
        return ADVICE.get(self.reason, _DEFAULT_ADVICE)


def classify(code: grpc.StatusCode, reason: str | None) -> Classified:
    """Classify a failed call to an agent by its status code and ErrorInfo reason.

    ===========================================  ========  =======  =======
    status (or agent reason)                     outcome   counts   retried
    ===========================================  ========  =======  =======
    UNAVAILABLE, DEADLINE_EXCEEDED (transport)   OUTAGE    yes      yes
    reason DATA_UNAVAILABLE (department's DB)    OUTAGE    yes      yes
    reason AGENT_LOG_UNVERIFIED (no proof yet)   OUTAGE    yes      yes
    RESOURCE_EXHAUSTED, ABORTED                  BUSY      no       yes
    reason QUERY_EXPIRED (DEADLINE_EXCEEDED)     BUSY      no       yes
    anything else: INVALID_ARGUMENT,             REFUSED   no       no
    PERMISSION_DENIED, FAILED_PRECONDITION,
    UNAUTHENTICATED, ALREADY_EXISTS, INTERNAL …
    ===========================================  ========  =======  =======
    """
    if reason and reason in _REASON_OUTCOME:
        return Classified(_REASON_OUTCOME[reason], reason)
    if code in _OUTAGE_CODES:
        outcome = Outcome.OUTAGE
    elif code in _BUSY_CODES:
        outcome = Outcome.BUSY
    else:
        outcome = Outcome.REFUSED
    return Classified(outcome, reason or code.name, given=bool(reason))


def refusal_text(department: str, classified: Classified, detail: str) -> str:
    """The sentence a verifier reads for a refused query; never an ID number."""
    said = "refused" if classified.given else "failed for good"
    text = f"{department} {said}: {classified.reason} — {classified.advice}"
    explained = status.bounded(detail.strip(), 300) if detail else ""
    if explained:
        text += f" ({ID_NUMBER.sub(REDACTED_ID, explained)})"
    return text


@dataclass
class CircuitBreaker:
    threshold: int = 3
    cooldown: float = 10.0
    clock: Callable[[], float] = time.monotonic
    failures: int = 0
    opened_at: float | None = None
    _trial_out: bool = field(default=False, repr=False)

    def allow(self) -> bool:
        """May a call go out now?"""
        if self.opened_at is None:
            return True
        if self.clock() - self.opened_at >= self.cooldown and not self._trial_out:
            self._trial_out = True  # half-open: one trial call
            return True
        return False

    def success(self) -> None:
        """The agent replied (an answer, or any reply that is not an outage)."""
        self.failures = 0
        self.opened_at = None
        self._trial_out = False

    def failure(self) -> None:
        """An outage: the agent could not be reached or did not reply in time."""
        self.failures += 1
        self._trial_out = False
        if self.failures >= self.threshold:
            self.opened_at = self.clock()

    def record(self, classified: Classified) -> None:
        """Account for a failed call: only an outage counts.

        Any other reply proves the agent reachable, which also ends a half-open trial
        (leaving the trial out would keep the breaker open for good).
        """
        if classified.counts:
            self.failure()
        else:
            self.success()

    @property
    def is_open(self) -> bool:
        return self.opened_at is not None
