"""What of a person, or of an unverified claim, may be shown or logged.

Two uses, one place. Listings and printouts show members only masked (a surname, the
first and last four characters of an ID number), so a page of cases is not a page of
identities. And the audit entry of a *refused* request copies nothing the caller typed
unless it passes a strict grammar: an operator, a case id or a purpose that does not is
logged as a marker, so a claimed operator of ``110101198001010053`` or ``张三`` never
puts an ID number or a name into the log.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from hedui.gateway.case_errors import CaseError
from hedui.logging import ID_NUMBER
from hedui.v1 import case_pb2

__all__ = ["logged_reason", "mask_id_number", "mask_member", "mask_name", "named",
           "safe_authorization_number", "safe_case_id", "safe_client", "safe_operator",
           "safe_purpose"]

#: what a refusal's entry says instead of a claim that failed its grammar
UNREADABLE = "(unreadable, not logged)"

_OPERATOR = re.compile(r"[a-z][a-z0-9-]{0,31}")
_CASE_ID = re.compile(r"case-[0-9]{8}-[0-9a-f]{12}")
_PURPOSE = re.compile(r"[a-z][a-z-]{0,31}")
_AUTHORIZATION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,63}")
_CLIENT = re.compile(r"spiffe://[a-z0-9.-]{1,64}/[a-z0-9./-]{1,96}")
#: a run this long may be an ID number (17 digits), a phone number (11) or a bank card
_LONG_DIGITS = re.compile(r"[0-9]{9,}")


def mask_name(name: str) -> str:
    """Keep the surname (first character) only: 张三丰 → 张**; at most three stars."""
    name = name.strip()
    return name[:1] + "*" * min(max(len(name) - 1, 1), 3) if name else ""


def mask_id_number(id_number: str) -> str:
    """First four and last four characters: 3101**********1234."""
    compact = "".join(id_number.split())
    if len(compact) <= 8:
        return "*" * len(compact)
    return compact[:4] + "*" * (len(compact) - 8) + compact[-4:]


def mask_member(member: case_pb2.Member) -> case_pb2.Member:
    """The member as a listing shows it: masked name and ID number, the relation kept."""
    return case_pb2.Member(id_number=mask_id_number(member.id_number),
                           name=mask_name(member.name), relation=member.relation)


def named(value: str, safe: str) -> str:
    """A caller's value as a refusal may repeat it: quoted when it passed its grammar
    (``safe`` is its ``safe_*`` form), else just "given"."""
    return f"'{value}'" if value and safe == value else "given"


def _safe(value: str, grammar: re.Pattern[str], *, digits: bool = True) -> str:
    if not grammar.fullmatch(value):
        return UNREADABLE if value else ""
    if digits and _LONG_DIGITS.search(value):
        return UNREADABLE
    return value


def safe_operator(value: str, known: Iterable[str] = ()) -> str:
    """A claimed operator as a refusal's entry may hold it: a staff id the gateway knows
    as it is; else only ``^[a-z][a-z0-9-]{0,31}$`` without a long run of digits."""
    if value and value in set(known):
        return value
    return _safe(value, _OPERATOR)


def safe_case_id(value: str) -> str:
    """A claimed case id, kept only in the gateway's own format (case-YYYYMMDD-hex12)."""
    return _safe(value, _CASE_ID, digits=False)


def safe_purpose(value: str) -> str:
    """A claimed programme: lowercase letters and hyphens (no digit at all)."""
    return _safe(value, _PURPOSE)


def safe_authorization_number(value: str) -> str:
    """A claimed authorization number: the form's number (letters, digits, ``-._/``), never
    one with a run of digits long enough to be an ID or phone number."""
    return _safe(value, _AUTHORIZATION)


def safe_client(value: str) -> str:
    """A client certificate's SPIFFE id (verified by TLS, still bounded)."""
    return _safe(value, _CLIENT, digits=False)


def logged_reason(reason: str, what: str) -> str:
    """A verifier's reason as the audit log keeps it: one line, 1 to 500 characters, and
    refused when it holds something shaped like an ID number (the log never does)."""
    reason = " ".join(reason.split())
    if not reason:
        raise CaseError(f"{what} needs a reason (--reason)", "REASON_REQUIRED")
    if len(reason) > 500:
        raise CaseError("the reason is at most 500 characters", "REASON_REQUIRED")
    if ID_NUMBER.search(reason):
        raise CaseError("the reason is written to the audit log and must not hold an ID "
                        "number; describe what happened instead", "REASON_HAS_PERSONAL_DATA")
    return reason
