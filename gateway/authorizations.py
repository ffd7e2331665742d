"""The registry of applicant households' signed authorizations (授权书).

No query leaves the gateway unless a valid authorization covers every subject in
it: registered, for the same programme, inside its validity period, not revoked.
Revocation takes effect for new queries at once because the check reads the
database on every fan-out. Covered members are stored as audit pseudonyms, so the
registry holds no ID numbers.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError

from hedui.errors import HeduiError
from hedui.gateway.store import CaseStore, authorizations
from hedui.timestamps import to_timestamp
from hedui.v1 import case_pb2, common_pb2

_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class AuthorizationError(HeduiError):
    """An authorization is missing, invalid, revoked or does not cover a subject."""


def _date(d: common_pb2.Date, what: str) -> dt.date:
    try:
        return dt.date(d.year, d.month, d.day)
    except ValueError:
        raise AuthorizationError(f"the authorization's {what} is not a valid date") from None


def _pb_date(value: str) -> common_pb2.Date:
    d = dt.date.fromisoformat(value)
    return common_pb2.Date(year=d.year, month=d.month, day=d.day)


class AuthorizationRegistry:
    """Register, revoke and check authorizations."""

    def __init__(self, store: CaseStore, pseudonym: Callable[[str], str]) -> None:
        self.store = store
        self.pseudonym = pseudonym

    def register(self, auth: case_pb2.Authorization, *, operator: str,
                 now: dt.datetime) -> case_pb2.Authorization:
        if not auth.number or len(auth.number) > 64:
            raise AuthorizationError("an authorization needs a number (at most 64 characters)")
        if not auth.programme:
            raise AuthorizationError(f"authorization {auth.number} names no programme")
        if not auth.covered_id_numbers:
            raise AuthorizationError(f"authorization {auth.number} covers no member")
        if not _HEX64.match(auth.document_sha256):
            raise AuthorizationError(
                f"authorization {auth.number}: document_sha256 must be the lowercase hex SHA-256 "
                "of the scanned signed document"
            )
        signed_on = _date(auth.signed_on, "signing date")
        start = _date(auth.validity.start, "validity start")
        end = _date(auth.validity.end, "validity end")
        if end < start:
            raise AuthorizationError(f"authorization {auth.number} ends before it starts")
        try:
            covered = [self.pseudonym(i) for i in auth.covered_id_numbers]
        except HeduiError:
            raise AuthorizationError(
                f"authorization {auth.number} lists a malformed resident ID number"
            ) from None
        try:
            with self.store.tx() as conn:
                conn.execute(insert(authorizations).values(
                    number=auth.number, programme=auth.programme, covered=",".join(covered),
                    signed_on=signed_on.isoformat(), valid_from=start.isoformat(),
                    valid_until=end.isoformat(), document_sha256=auth.document_sha256,
                    revoked=False, revocation_reason="", registered_by=operator,
                    registered_at=now,
                ))
        except IntegrityError:
            raise AuthorizationError(f"authorization {auth.number} is already registered") from None
        return self.get(auth.number)

    def revoke(self, number: str, *, reason: str, now: dt.datetime) -> case_pb2.Authorization:
        with self.store.tx() as conn:
            result = conn.execute(
                update(authorizations).where(authorizations.c.number == number)
                .values(revoked=True, revoked_at=now, revocation_reason=reason)
            )
        if result.rowcount != 1:
            raise AuthorizationError(f"no authorization {number} is registered")
        return self.get(number)

    def get(self, number: str) -> case_pb2.Authorization:
        r = self._row(number)
        out = case_pb2.Authorization(
            number=r["number"], programme=r["programme"], signed_on=_pb_date(r["signed_on"]),
            validity=common_pb2.Period(start=_pb_date(r["valid_from"]),
                                       end=_pb_date(r["valid_until"])),
            document_sha256=r["document_sha256"], revoked=bool(r["revoked"]),
            revocation_reason=r["revocation_reason"] or "",
        )
        if r["revoked_at"] is not None:
            to_timestamp(r["revoked_at"], out.revoked_at)
        return out

    def _row(self, number: str) -> dict[str, Any]:
        r = self.store.authorization(number)
        if r is None:
            raise AuthorizationError(f"no authorization {number} is registered")
        return r

    def require(self, number: str, *, programme: str, id_numbers: Iterable[str],
                today: dt.date) -> str:
        """Check the authorization covers every subject now; return its document digest."""
        r = self._row(number)
        if r["revoked"]:
            raise AuthorizationError(
                f"authorization {number} was revoked "
                f"({r['revocation_reason'] or 'no reason given'}); no query may be sent under it"
            )
        if r["programme"] != programme:
            raise AuthorizationError(
                f"authorization {number} is for {r['programme']}, not for {programme}"
            )
        if not (dt.date.fromisoformat(r["valid_from"]) <= today
                <= dt.date.fromisoformat(r["valid_until"])):
            raise AuthorizationError(
                f"authorization {number} is valid from {r['valid_from']} to {r['valid_until']}, "
                f"not on {today.isoformat()}"
            )
        covered = set(r["covered"].split(","))
        missing = [i for i, n in enumerate(id_numbers, 1) if self.pseudonym(n) not in covered]
        if missing:
            raise AuthorizationError(
                f"authorization {number} does not cover household member(s) "
                f"#{', #'.join(map(str, missing))}; the member must sign it"
            )
        return r["document_sha256"]
