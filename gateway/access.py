"""Who may ask what: the programmes hedui serves and the staff list of each.

One place for the rules every case-service method applies before it touches a case,
so the service, intake, reads and decisions refuse alike, with the same reasons
(``case_errors.REASONS``). The staff list is the gateway's ``[staff]`` table:
programme → the operator ids allowed to work on its cases.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence

from hedui.gateway.case_errors import CaseError, NotAllowed
from hedui.gateway.masking import named, safe_operator, safe_purpose

#: purposes hedui serves; anything else is refused before a case exists
SOCIAL_ASSISTANCE = frozenset({
    "dibao", "low-income", "tekun", "low-rent-housing", "affordable-housing",
    "medical-assistance", "education-assistance", "temporary-assistance",
})

Staff = Mapping[str, Sequence[str]]


def known_operators(staff: Staff) -> frozenset[str]:
    """Every staff id on any programme's list."""
    return frozenset(o for ops in staff.values() for o in ops)


def operator_words(staff: Staff, operator: str) -> str:
    """How a refusal names a claimed operator: by id when it is a plausible one."""
    shown = safe_operator(operator, known_operators(staff))
    return f"operator {shown}" if shown == operator else "the operator named"


def require_staff(staff: Staff, operator: str, programme: str) -> None:
    """``operator`` is on the staff list of ``programme`` (a programme already checked)."""
    if not operator:
        raise NotAllowed("the request names no operator (verifier staff id)", "NO_OPERATOR")
    listed = staff.get(programme, ())
    if not listed:
        raise NotAllowed(f"programme {programme} has no staff list at this gateway; the "
                         "administrator adds one under [staff] in gateway.toml")
    if operator not in listed:
        raise NotAllowed(f"{operator_words(staff, operator)} is not on the staff list for "
                         f"programme {programme}")


def require_programme(programme: str) -> None:
    """A social-assistance programme hedui serves. A near miss of one (``dibaoo``,
    ``DIBAO``) or none is an unknown programme, a typo to correct (INVALID_ARGUMENT);
    anything else is a purpose outside social assistance, refused as such
    (PERMISSION_DENIED, and so it stands out in the audit log)."""
    if programme in SOCIAL_ASSISTANCE:
        return
    known = ", ".join(sorted(SOCIAL_ASSISTANCE))
    which = named(programme, safe_purpose(programme))
    if not programme or difflib.get_close_matches(
            programme.strip().lower(), SOCIAL_ASSISTANCE, n=1, cutoff=0.75):
        raise CaseError(f"no programme {which}; known: {known}", "UNKNOWN_PROGRAMME")
    raise NotAllowed(
        f"purpose {which} is not a social-assistance programme; hedui verifies household "
        f"economic status for social assistance only (programmes: {known})",
        "NOT_A_SOCIAL_ASSISTANCE_PURPOSE")
