"""Who may do what: roles × actions in one table, each person's scope, the programmes.

One place for the rules every case-service method applies before it touches a case, so
the service, intake, reads and decisions refuse alike, with the same reasons
(``case_errors.REASONS``). The person acting is established by the service's guard
(``service.py``: a personal certificate, an allowed console's assertion, or — only in
the transitional mode — a desk's declaration) and looked up in the staff registry
(``staff.py``) for every request; the guard puts them and the role they act in into
:data:`ACTING` for the length of the call, so every audit entry of the call names the
role (``AccessRecorder``) and the deeper steps check the scope without a second look-up.

**Roles.** Intake clerks (乡镇经办) take applications at a township; verifiers (核对员)
run the verification; reviewers (审核员) approve an assessment before the report is
issued, never one they opened or verified; privacy officers read the audit log and no
case; administrators manage staff and open no case. :data:`ALLOWED` is the table; the
role matrix test (tests/integration/test_roles_matrix.py) drives every cell of it
against a real gateway.
"""

from __future__ import annotations

import contextvars
import difflib
import enum
import functools
import tomllib
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path

from hedui.gateway.case_errors import CaseError, NotAllowed
from hedui.gateway.masking import named, safe_purpose

#: where the programmes come from when a caller knows no trust bundle (the shipped
#: exchange policy: the pilot plan's programmes), see :func:`shipped_programmes`
SHIPPED_POLICY = Path(__file__).resolve().parents[1] / "deploy" / "policy" / "programmes.toml"

INTAKE_CLERK = "intake-clerk"
VERIFIER = "verifier"
REVIEWER = "reviewer"
PRIVACY_OFFICER = "privacy-officer"
ADMINISTRATOR = "administrator"
#: every role, in the order a person's acting role is chosen (the first that may act)
ROLES = (INTAKE_CLERK, VERIFIER, REVIEWER, PRIVACY_OFFICER, ADMINISTRATOR)
#: roles that handle cases; administrator and privacy officer combine with none of them
#: (an administrator who could also review would approve a reviewer they created; a
#: privacy officer would audit their own case work)
CASE_ROLES = frozenset({INTAKE_CLERK, VERIFIER, REVIEWER})
ROLE_WORDS = {INTAKE_CLERK: "intake clerk (乡镇经办)", VERIFIER: "verifier (核对员)",
              REVIEWER: "reviewer (审核员)", PRIVACY_OFFICER: "privacy officer",
              ADMINISTRATOR: "administrator"}


class Action(enum.StrEnum):
    """What a request does (one per case-service method, retry being a verification)."""

    REGISTER_AUTHORIZATION = "register-authorization"
    REVOKE_AUTHORIZATION = "revoke-authorization"
    OPEN_CASE = "open-case"
    VERIFY_CASE = "verify-case"
    CANCEL_CASE = "cancel-case"
    REVIEW_CASE = "review-case"
    GET_CASE = "get-case"
    LIST_CASES = "list-cases"
    GET_REPORT = "get-report"
    SEARCH_CASES = "search-cases"
    VIEW_CASE_HISTORY = "view-case-history"
    VIEW_STATISTICS = "view-statistics"
    SEARCH_AUDIT = "search-audit"
    MANAGE_STAFF = "manage-staff"
    RUN_REVERIFICATION = "run-reverification"
    VIEW_ALERTS = "view-alerts"
    ACT_ON_ALERT = "act-on-alert"


A = Action
#: role → the actions it may take (anything else: ROLE_NOT_ALLOWED)
ALLOWED: dict[str, frozenset[Action]] = {
    # the township's caseworkers act on change alerts (home visits are theirs)
    INTAKE_CLERK: frozenset({A.REGISTER_AUTHORIZATION, A.REVOKE_AUTHORIZATION, A.OPEN_CASE,
                             A.CANCEL_CASE, A.GET_CASE, A.LIST_CASES, A.GET_REPORT,
                             A.SEARCH_CASES, A.VIEW_CASE_HISTORY, A.VIEW_STATISTICS,
                             A.VIEW_ALERTS, A.ACT_ON_ALERT}),
    VERIFIER: frozenset({A.REGISTER_AUTHORIZATION, A.REVOKE_AUTHORIZATION, A.OPEN_CASE,
                         A.VERIFY_CASE, A.CANCEL_CASE, A.GET_CASE, A.LIST_CASES,
                         A.GET_REPORT, A.SEARCH_CASES, A.VIEW_CASE_HISTORY,
                         A.VIEW_STATISTICS, A.RUN_REVERIFICATION, A.VIEW_ALERTS,
                         A.ACT_ON_ALERT}),
    REVIEWER: frozenset({A.REVIEW_CASE, A.GET_CASE, A.LIST_CASES, A.GET_REPORT,
                         A.SEARCH_CASES, A.VIEW_CASE_HISTORY, A.VIEW_STATISTICS,
                         A.VIEW_ALERTS}),
    PRIVACY_OFFICER: frozenset({A.SEARCH_AUDIT}),
    #: counts only, no person in them: the administrator watches the departments' times
    ADMINISTRATOR: frozenset({A.MANAGE_STAFF, A.VIEW_STATISTICS}),
}

#: case- and office-service method → its action; None: any active member may call it
#: (who they are, the departments and standards directories: nothing personal)
METHOD_ACTION: dict[str, Action | None] = {
    "RegisterAuthorization": A.REGISTER_AUTHORIZATION,
    "RevokeAuthorization": A.REVOKE_AUTHORIZATION,
    "OpenCase": A.OPEN_CASE, "VerifyCase": A.VERIFY_CASE, "RetryCase": A.VERIFY_CASE,
    "CancelCase": A.CANCEL_CASE, "ReviewCase": A.REVIEW_CASE, "GetCase": A.GET_CASE,
    "ListCases": A.LIST_CASES, "GetReport": A.GET_REPORT,
    "SearchCases": A.SEARCH_CASES, "GetCaseHistory": A.VIEW_CASE_HISTORY,
    "ListStaff": A.MANAGE_STAFF, "AddStaff": A.MANAGE_STAFF, "ChangeStaff": A.MANAGE_STAFF,
    "GetStatistics": A.VIEW_STATISTICS,
    "WhoAmI": None, "ListDepartments": None, "ListStandards": None, "CheckReport": None,
    "StartRun": A.RUN_REVERIFICATION, "GetRun": A.VIEW_ALERTS, "ListRuns": A.VIEW_ALERTS,
    "ListAlerts": A.VIEW_ALERTS, "GetAlert": A.VIEW_ALERTS, "CountAlerts": A.VIEW_ALERTS,
    "ActOnAlert": A.ACT_ON_ALERT,
}


@dataclass(frozen=True)
class Person:
    """One member of the staff registry, as it stands at the moment of the request."""

    staff_id: str
    name: str
    roles: tuple[str, ...]
    #: nine-digit township codes; empty: the whole county
    townships: tuple[str, ...] = ()
    #: programmes; empty: every programme
    programmes: tuple[str, ...] = ()
    phone: str = ""
    active: bool = True

    def role_for(self, action: Action) -> str | None:
        """The role this person takes ``action`` in, or None when no role of theirs may."""
        return next((r for r in ROLES if r in self.roles and action in ALLOWED[r]), None)

    def scope_words(self) -> str:
        where = ", ".join(self.townships) if self.townships else "the county"
        what = ", ".join(self.programmes) if self.programmes else "every programme"
        return f"{where}; {what}"


@dataclass(frozen=True)
class Acting:
    """Who a request acts as: the person, their role for it, and the client it came by."""

    person: Person
    role: str
    client: str = ""


#: the person and role of the case-service call being served (set by its guard)
ACTING: contextvars.ContextVar[Acting | None] = contextvars.ContextVar("hedui_acting",
                                                                       default=None)


def acting() -> Acting:
    """The call's person; a CaseError when a step runs outside an authenticated call."""
    now = ACTING.get()
    if now is None:
        raise NotAllowed("no authenticated person is acting in this request", "NO_OPERATOR")
    return now


def role_words(roles: Iterable[str]) -> str:
    return ", ".join(ROLE_WORDS.get(r, r) for r in roles) or "no role"


def require_role(person: Person, action: Action) -> str:
    """The role ``person`` takes ``action`` in; ROLE_NOT_ALLOWED when none may."""
    role = person.role_for(action)
    if role is None:
        may = [r for r in ROLES if action in ALLOWED[r]]
        raise NotAllowed(
            f"staff member {person.staff_id} ({role_words(person.roles)}) may not "
            f"{action.value.replace('-', ' ')}; that is for: {role_words(may)}",
            "ROLE_NOT_ALLOWED")
    return role


def require_scope(person: Person, programme: str, township: str | None = "", *,
                  what: str = "this case") -> None:
    """``programme`` and ``township`` are within ``person``'s scope: OUTSIDE_SCOPE if not.
    A person scoped to townships sees only cases of those townships (never a county
    case); one scoped to programmes only those programmes'. ``township`` None: the
    thing has no township (an authorization), only the programme counts."""
    if person.programmes and programme not in person.programmes:
        # the reason programme staff lists always gave (reasons are never renamed)
        raise NotAllowed(f"operator {person.staff_id} is not on the staff list for programme "
                         f"{programme} ({what}; they work on {', '.join(person.programmes)})",
                         "NOT_ON_STAFF_LIST")
    if township is not None and person.townships and township not in person.townships:
        where = f"township {township}" if township else "the county center"
        raise NotAllowed(f"staff member {person.staff_id} works for township "
                         f"{', '.join(person.townships)}, not {where} ({what})",
                         "OUTSIDE_SCOPE")


@functools.cache
def shipped_programmes() -> frozenset[str]:
    """The programmes of the shipped exchange policy (``deploy/policy/programmes.toml``):
    what :func:`require_programme` checks when its caller holds no trust bundle. A
    gateway passes its current bundle's programmes instead (``planner.programmes``)."""
    try:
        policies = tomllib.loads(SHIPPED_POLICY.read_text(encoding="utf-8"))["policies"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return frozenset()
    return frozenset(policies)


def require_programme(programme: str, known: Collection[str] | None = None) -> None:
    """A social-assistance programme hedui serves: one of ``known``, the purposes the
    trust bundle has an exchange policy for (``planner.programmes(bundle)``; None: the
    shipped policy's, for a caller without a bundle). Adding a programme the county
    designates is adding its policy and standard, no code. A near miss of one
    (``dibaoo``, ``DIBAO``) or none is an unknown programme, a typo to correct
    (INVALID_ARGUMENT); anything else is a purpose outside social assistance, refused as
    such (PERMISSION_DENIED, and so it stands out in the audit log)."""
    programmes = shipped_programmes() if known is None else frozenset(known)
    if programme in programmes:
        return
    listed = ", ".join(sorted(programmes)) or "none"
    which = named(programme, safe_purpose(programme))
    if not programme or difflib.get_close_matches(
            programme.strip().lower(), programmes, n=1, cutoff=0.75):
        raise CaseError(f"no programme {which}; known: {listed}", "UNKNOWN_PROGRAMME")
    raise NotAllowed(
        f"purpose {which} is not a social-assistance programme; hedui verifies household "
        f"economic status for social assistance only (programmes: {listed})",
        "NOT_A_SOCIAL_ASSISTANCE_PURPOSE")
