"""The registry of applicant households' signed authorizations (授权书).

No query leaves the gateway unless a valid authorization covers every subject in
it: registered, for the same programme, inside its validity period, not revoked.
Revocation takes effect for new queries at once because the check reads the
database on every fan-out. Covered members are stored as audit pseudonyms, so the
registry holds no ID numbers. Every refusal names its reason (``case_errors.REASONS``).

One form may name several programmes (a household applying for dibao and low-income
signs once): ``Authorization.programmes``. The older single ``programme`` is still
accepted — the programmes covered are it and every one listed (:func:`programmes_of`),
and ``programme`` is read back as the first — so desks of the previous release keep
registering and reading authorizations.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError

from hedui.errors import HeduiError
from hedui.gateway.case_errors import CaseError
from hedui.gateway.masking import logged_reason, safe_authorization_number
from hedui.gateway.store import CaseStore, authorizations
from hedui.timestamps import to_timestamp
from hedui.v1 import audit_pb2, case_pb2, common_pb2

if TYPE_CHECKING:
    from hedui.gateway.cases import CaseManager

_HEX64 = re.compile(r"^[0-9a-f]{64}$")

#: most members one authorization may cover (a household has at most 20)
MAX_COVERED = 50


def programmes_of(auth: case_pb2.Authorization) -> list[str]:
    """The programmes an authorization covers: ``programme`` and ``programmes``, each
    once, in the order given."""
    return list(dict.fromkeys(p for p in (auth.programme, *auth.programmes) if p))


class AuthorizationError(CaseError):
    """An authorization is missing, invalid, revoked or does not cover a subject."""

    reason = "BAD_AUTHORIZATION"


def _date(d: common_pb2.Date, what: str) -> dt.date:
    try:
        return dt.date(d.year, d.month, d.day)
    except ValueError:
        raise AuthorizationError(f"the authorization's {what} is not a valid date") from None


def _pb_date(value: str) -> common_pb2.Date:
    d = dt.date.fromisoformat(value)
    return common_pb2.Date(year=d.year, month=d.month, day=d.day)


def check_number(number: str) -> None:
    """An authorization number is the form's: letters, digits and ``-._/``, at most 64,
    never a run of digits long enough to be an ID number (it is in every audit entry)."""
    if not number or safe_authorization_number(number) != number:
        raise AuthorizationError(
            "an authorization number is the form's number: 1 to 64 letters, digits and "
            "-._/, without a long run of digits", "BAD_AUTHORIZATION_NUMBER")


class AuthorizationRegistry:
    """Register, revoke and check authorizations."""

    def __init__(self, store: CaseStore, pseudonym: Callable[[str], str]) -> None:
        self.store = store
        self.pseudonym = pseudonym

    def validate(self, auth: case_pb2.Authorization) -> list[str]:
        """Check an authorization before it is logged and stored; the covered members'
        pseudonyms."""
        check_number(auth.number)
        listed = programmes_of(auth)
        if not listed:
            raise AuthorizationError(f"authorization {auth.number} names no programme",
                                     "MISSING_FIELD")
        if any("," in p for p in listed):
            raise AuthorizationError(f"authorization {auth.number}: a programme name has "
                                     "no comma", "UNKNOWN_PROGRAMME")
        if not auth.covered_id_numbers or len(auth.covered_id_numbers) > MAX_COVERED:
            raise AuthorizationError(
                f"authorization {auth.number} must cover 1 to {MAX_COVERED} members")
        if not _HEX64.match(auth.document_sha256):
            raise AuthorizationError(
                f"authorization {auth.number}: document_sha256 must be the lowercase hex SHA-256 "
                "of the scanned signed document"
            )
        _date(auth.signed_on, "signing date")
        start = _date(auth.validity.start, "validity start")
        end = _date(auth.validity.end, "validity end")
        if end < start:
            raise AuthorizationError(f"authorization {auth.number} ends before it starts")
        covered = []
        for n, number in enumerate(auth.covered_id_numbers, 1):
            try:
                covered.append(self.pseudonym(number))
            except HeduiError:
                raise AuthorizationError(
                    f"authorization {auth.number} lists a malformed resident ID number "
                    f"(covered member {n})", "MALFORMED_ID_NUMBER", metadata={"member": str(n)},
                ) from None
        return covered

    def register(self, auth: case_pb2.Authorization, *, operator: str,
                 now: dt.datetime) -> case_pb2.Authorization:
        covered = self.validate(auth)
        listed = programmes_of(auth)
        try:
            with self.store.tx() as conn:
                conn.execute(insert(authorizations).values(
                    number=auth.number, programme=listed[0],
                    programmes=",".join(listed) if len(listed) > 1 else None,
                    covered=",".join(covered),
                    signed_on=_date(auth.signed_on, "signing date").isoformat(),
                    valid_from=_date(auth.validity.start, "validity start").isoformat(),
                    valid_until=_date(auth.validity.end, "validity end").isoformat(),
                    document_sha256=auth.document_sha256,
                    revoked=False, revocation_reason="", registered_by=operator,
                    registered_at=now,
                ))
        except IntegrityError:
            raise AuthorizationError(f"authorization {auth.number} is already registered",
                                     "AUTHORIZATION_ALREADY_REGISTERED") from None
        return self.get(auth.number)

    def exists(self, number: str) -> bool:
        return self.store.authorization(number) is not None

    def covered(self, number: str) -> list[str]:
        """The pseudonyms of the members an authorization covers."""
        return [p for p in self._row(number)["covered"].split(",") if p]

    def revoke(self, number: str, *, reason: str, now: dt.datetime) -> case_pb2.Authorization:
        with self.store.tx() as conn:
            result = conn.execute(
                update(authorizations).where(authorizations.c.number == number)
                .values(revoked=True, revoked_at=now, revocation_reason=reason)
            )
        if result.rowcount != 1:
            raise AuthorizationError(f"no authorization {number} is registered",
                                     "AUTHORIZATION_NOT_FOUND")
        return self.get(number)

    def get(self, number: str) -> case_pb2.Authorization:
        r = self._row(number)
        out = case_pb2.Authorization(
            number=r["number"], programme=r["programme"], programmes=self._programmes(r),
            signed_on=_pb_date(r["signed_on"]),
            validity=common_pb2.Period(start=_pb_date(r["valid_from"]),
                                       end=_pb_date(r["valid_until"])),
            document_sha256=r["document_sha256"], revoked=bool(r["revoked"]),
            revocation_reason=r["revocation_reason"] or "",
        )
        if r["revoked_at"] is not None:
            to_timestamp(r["revoked_at"], out.revoked_at)
        return out

    @staticmethod
    def _programmes(r: dict[str, Any]) -> list[str]:
        """A stored authorization's programmes (a row before 0005: its one programme)."""
        return [p for p in (r.get("programmes") or "").split(",") if p] or [r["programme"]]

    def _row(self, number: str) -> dict[str, Any]:
        r = self.store.authorization(number)
        if r is None:
            raise AuthorizationError(f"no authorization {number} is registered",
                                     "AUTHORIZATION_NOT_FOUND")
        return r

    def require(self, number: str, *, programme: str, id_numbers: Iterable[str],
                today: dt.date) -> str:
        """Check the authorization covers every subject now; return its document digest."""
        r = self._row(number)
        if r["revoked"]:
            raise AuthorizationError(
                f"authorization {number} was revoked "
                f"({r['revocation_reason'] or 'no reason given'}); no query may be sent under it",
                "AUTHORIZATION_REVOKED")
        listed = self._programmes(r)
        if programme not in listed:
            raise AuthorizationError(
                f"authorization {number} is for {', '.join(listed)}, not for {programme}",
                "AUTHORIZATION_WRONG_PROGRAMME")
        if today < dt.date.fromisoformat(r["valid_from"]):
            raise AuthorizationError(
                f"authorization {number} is valid from {r['valid_from']} to {r['valid_until']}, "
                f"not yet on {today.isoformat()}", "AUTHORIZATION_NOT_YET_VALID")
        if today > dt.date.fromisoformat(r["valid_until"]):
            raise AuthorizationError(
                f"authorization {number} expired on {r['valid_until']} (valid from "
                f"{r['valid_from']}); the household signs a new one", "AUTHORIZATION_EXPIRED")
        covered = set(r["covered"].split(","))
        missing = [i for i, n in enumerate(id_numbers, 1) if self.pseudonym(n) not in covered]
        if missing:
            raise AuthorizationError(
                f"authorization {number} does not cover household member(s) "
                f"#{', #'.join(map(str, missing))}; the member must sign it",
                "MEMBER_NOT_COVERED", metadata={"members": ",".join(map(str, missing))})
        return r["document_sha256"]


# ------------------------------------------------- the service's steps, logged


async def register(m: CaseManager, auth: case_pb2.Authorization, operator: str, *,
                   client: str = "") -> case_pb2.Authorization:
    """Register for staff of every programme it names: checked, then its
    AUTHORIZATION_REGISTERED entry (the covered members' pseudonyms: their consent is in
    their access report), then stored."""
    listed = programmes_of(auth)
    for programme in listed or [auth.programme]:
        m.require_programme(programme)
        m._require_staff(operator, programme, None, what="an authorization")
    covered = await m.step(m.authorizations.validate, auth)
    if await m.step(m.authorizations.exists, auth.number):
        raise AuthorizationError(f"authorization {auth.number} is already registered",
                                 "AUTHORIZATION_ALREADY_REGISTERED")
    v = auth.validity
    await m.recorder.record_async(
        audit_pb2.AUDIT_KIND_AUTHORIZATION_REGISTERED, operator=operator,
        purpose=listed[0] if listed else "", pseudonyms=covered,
        authorization_number=auth.number, client=client,
        reason=(f"authorization registered{' for ' + ', '.join(listed) if len(listed) > 1 else ''}"
                f", valid {v.start.year:04d}-"
                               f"{v.start.month:02d}-{v.start.day:02d} to {v.end.year:04d}-"
                               f"{v.end.month:02d}-{v.end.day:02d}"))
    return await m.step(m.authorizations.register, auth, operator=operator, now=m.clock())


async def revoke(m: CaseManager, number: str, reason: str, operator: str, *,
                 client: str = "") -> case_pb2.Authorization:
    """Revoke for staff of its programme, logged first (AUTHORIZATION_REVOKED with the
    covered members' pseudonyms and the reason). Revoking a revoked one changes nothing."""
    check_number(number)
    auth = await m.step(m.authorizations.get, number)
    m._require_staff(operator, auth.programme, None, what="an authorization")
    if auth.revoked:
        return auth
    reason = logged_reason(reason, "revoking an authorization")
    covered = await m.step(m.authorizations.covered, number)
    await m.recorder.record_async(
        audit_pb2.AUDIT_KIND_AUTHORIZATION_REVOKED, operator=operator,
        purpose=auth.programme, pseudonyms=covered, authorization_number=number,
        client=client, reason=f"authorization revoked: {reason}")
    return await m.step(m.authorizations.revoke, number, reason=reason, now=m.clock())
