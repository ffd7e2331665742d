"""The staff registry: every person who may act in hedui, in the case database.

The gateway reads a person here on every request (one primary-key look-up, no cache
beyond the request), so disabling someone takes effect at their next request. Changes
go through :class:`StaffRegistry` methods that check the rules (a staff id a
certificate can carry, known roles, an administrator or privacy officer holding no
case role, never the last administrator disabled) and write an
AUDIT_KIND_STAFF_CHANGED entry naming the administrator *before* the change commits —
staff ids, roles and scope only, never a name or a phone.

Bootstrap: the first administrator is added without ``--by`` (only while no active
administrator exists); the old ``[staff]`` section of gateway.toml (programme → staff
ids) seeds an empty registry once, each id a verifier for its programmes, logged as
such. From then on the registry rules and ``[staff]`` is ignored (the gateway says so
at start).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any

import structlog
from sqlalchemy import func, select, update

from hedui.audit.entries import AccessRecorder
from hedui.gateway import access
from hedui.gateway.access import (
    ACTING,
    ADMINISTRATOR,
    CASE_ROLES,
    PRIVACY_OFFICER,
    ROLES,
    Person,
)
from hedui.gateway.case_errors import CaseError, NotAllowed
from hedui.gateway.store import CaseStore
from hedui.gateway.store import staff as staff_table
from hedui.v1 import audit_pb2

log = structlog.get_logger("hedui.gateway")

#: a staff id is a DNS label so that a certificate can carry it (…/staff/op-1001)
STAFF_ID = re.compile(r"[a-z]([a-z0-9-]{0,30}[a-z0-9])?")
TOWNSHIP = re.compile(r"[1-9][0-9]{8}")
PHONE = re.compile(r"\+?[0-9][0-9 -]{2,30}")
#: the operator a seeding from gateway.toml is logged under
SEEDED_BY = "gateway-config"
_SELECT = ("staff_id", "name", "roles", "townships", "programmes", "phone", "active")


class StaffError(CaseError):
    """A registry change breaks a rule (INVALID_ARGUMENT, or PERMISSION_DENIED for who)."""


def _split(text: str) -> tuple[str, ...]:
    return tuple(x for x in (text or "").split(",") if x)


def _person(row: Sequence[Any]) -> Person:
    staff_id, name, roles, townships, programmes, phone, active = row
    return Person(staff_id=staff_id, name=name, roles=_split(roles),
                  townships=_split(townships), programmes=_split(programmes),
                  phone=phone or "", active=bool(active))


def check_staff_id(staff_id: str) -> str:
    if not STAFF_ID.fullmatch(staff_id or ""):
        raise StaffError(f"a staff id is 1 to 32 lowercase letters, digits and '-', starting "
                         f"with a letter (it goes into a certificate), not {staff_id!r}",
                         "MALFORMED_REQUEST")
    return staff_id


def check_roles(roles: Iterable[str]) -> tuple[str, ...]:
    """Known roles, normalised (``intake_clerk`` → ``intake-clerk``), in table order; an
    administrator or privacy officer holds no other role."""
    given = {r.strip().lower().replace("_", "-") for r in roles if r.strip()}
    unknown = sorted(given - set(ROLES))
    if unknown or not given:
        raise StaffError(f"roles are some of {', '.join(ROLES)}; not "
                         f"{', '.join(unknown) or 'none'}", "MALFORMED_REQUEST")
    for solo in (ADMINISTRATOR, PRIVACY_OFFICER):
        if solo in given and len(given) > 1:
            raise StaffError(f"{solo} is a role of its own: separation of duties keeps it apart "
                             f"from {', '.join(sorted(given - {solo}))}", "MALFORMED_REQUEST")
    return tuple(r for r in ROLES if r in given)


def check_scope(townships: Iterable[str], programmes: Iterable[str],
                known: Collection[str] | None = None
                ) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The scope, each township and programme checked (``known``: the programmes of the
    trust bundle; None: the shipped policy's)."""
    towns = tuple(dict.fromkeys(t.strip() for t in townships if t.strip()))
    for t in towns:
        if not TOWNSHIP.fullmatch(t):
            raise StaffError(f"a township is its nine-digit code (e.g. 310112001), not {t!r}",
                             "BAD_TOWNSHIP")
    progs = tuple(dict.fromkeys(p.strip() for p in programmes if p.strip()))
    for p in progs:
        access.require_programme(p, known)
    return towns, progs


class StaffRegistry:
    """Reads and changes the ``staff`` table of a case database."""

    def __init__(self, store: CaseStore, recorder: AccessRecorder | None = None,
                 clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
                 programmes: Callable[[], Collection[str]] | None = None) -> None:
        self.store = store
        self.recorder = recorder
        self.clock = clock
        #: the programmes a scope may name (the trust bundle's); None: the shipped policy's
        self.programmes = programmes
        mark = store._mark
        self._get_sql = f"SELECT {', '.join(_SELECT)} FROM staff WHERE staff_id = {mark}"

    # ------------------------------------------------------------------ reads

    def _known(self) -> Collection[str] | None:
        return self.programmes() if self.programmes is not None else None

    def get(self, staff_id: str) -> Person | None:
        """The person as the registry holds them right now (no cache)."""
        with self.store._cursor(None) as cur:
            cur.execute(self._get_sql, (staff_id,))
            row = cur.fetchone()
        return _person(row) if row else None

    def list(self) -> list[Person]:
        c = staff_table.c
        with self.store.read() as conn:
            rows = conn.execute(select(*(c[n] for n in _SELECT)).order_by(c.staff_id)).all()
        return [_person(r) for r in rows]

    def known(self) -> frozenset[str]:
        """Every staff id (active or not): refusals may log a claimed id that is one."""
        return frozenset(p.staff_id for p in self.list())

    def require_active(self, staff_id: str) -> Person:
        """The active person ``staff_id``; NOT_ON_STAFF_LIST or STAFF_DISABLED."""
        if not staff_id:
            raise NotAllowed("the request names no operator (staff id)", "NO_OPERATOR")
        person = self.get(staff_id) if STAFF_ID.fullmatch(staff_id) else None
        if person is None:
            who = f"operator {staff_id}" if STAFF_ID.fullmatch(staff_id) else "the operator named"
            raise NotAllowed(f"{who} is not on the staff list (the staff registry)")
        if not person.active:
            raise NotAllowed(f"staff member {staff_id} is disabled", "STAFF_DISABLED")
        return person

    # ---------------------------------------------------------------- changes

    def _administrator(self, by: str) -> str:
        person = self.require_active(by)
        access.require_role(person, access.Action.MANAGE_STAFF)
        return by

    def _has_administrator(self) -> bool:
        return any(p.active and ADMINISTRATOR in p.roles for p in self.list())

    def _log(self, by: str, staff_id: str, what: str) -> None:
        if self.recorder is not None:
            acting = ACTING.get()  # through the office service: the console it came by
            self.recorder.record(audit_pb2.AUDIT_KIND_STAFF_CHANGED, operator=by,
                                 role=ADMINISTRATOR if by != SEEDED_BY else "",
                                 client=acting.client if acting is not None else "",
                                 reason=f"staff {staff_id}: {what}")

    def add(self, staff_id: str, *, name: str, roles: Iterable[str], by: str = "",
            townships: Iterable[str] = (), programmes: Iterable[str] = (),
            phone: str = "") -> Person:
        """Add an active member. Without ``by`` only the first administrator."""
        check_staff_id(staff_id)
        name = name.strip()
        if not name or len(name) > 64 or not name.isprintable():
            raise StaffError("a name is 1 to 64 printable characters", "BAD_NAME")
        if phone and not PHONE.fullmatch(phone):
            raise StaffError("a phone number has digits, spaces, '-' and an optional '+'",
                             "MALFORMED_REQUEST")
        role_set = check_roles(roles)
        towns, progs = check_scope(townships, programmes, self._known())
        if by:
            self._administrator(by)
        elif role_set != (ADMINISTRATOR,) or self._has_administrator():
            raise NotAllowed("a change to the staff registry names the administrator making "
                             "it (--by); only the first administrator is added without",
                             "NO_OPERATOR")
        if self.get(staff_id) is not None:
            raise StaffError(f"staff member {staff_id} exists already (change their roles, "
                             "or disable them)", "MALFORMED_REQUEST")
        self._log(by or staff_id, staff_id,
                  f"added as {','.join(role_set)}; scope {_scope(towns, progs)}"
                  + ("" if by else " (first administrator)"))
        now = self.clock()
        with self.store.tx() as conn:
            conn.execute(staff_table.insert().values(
                staff_id=staff_id, name=name, roles=",".join(role_set),
                townships=",".join(towns), programmes=",".join(progs), phone=phone,
                active=True, changed_by=by or staff_id, created_at=now, updated_at=now))
        return Person(staff_id, name, role_set, towns, progs, phone, True)

    def set_roles(self, staff_id: str, *, roles: Iterable[str], by: str,
                  townships: Iterable[str] | None = None,
                  programmes: Iterable[str] | None = None) -> Person:
        """Give a member new roles (and, when given, a new scope)."""
        self._administrator(by)
        person = self._existing(staff_id)
        role_set = check_roles(roles)
        towns, progs = check_scope(person.townships if townships is None else townships,
                                   person.programmes if programmes is None else programmes,
                                   self._known())
        if ADMINISTRATOR in person.roles and ADMINISTRATOR not in role_set:
            self._keep_an_administrator(staff_id)
        self._log(by, staff_id, f"roles {','.join(role_set)}; scope {_scope(towns, progs)}")
        self._update(staff_id, by, roles=",".join(role_set), townships=",".join(towns),
                     programmes=",".join(progs))
        return Person(staff_id, person.name, role_set, towns, progs, person.phone,
                      person.active)

    def disable(self, staff_id: str, *, by: str, reason: str = "") -> Person:
        """Disable a member: refused at their next request, whatever they hold."""
        self._administrator(by)
        person = self._existing(staff_id)
        if ADMINISTRATOR in person.roles:
            self._keep_an_administrator(staff_id)
        from hedui.gateway.masking import logged_reason
        why = logged_reason(reason, "disabling a staff member") if reason else ""
        self._log(by, staff_id, "disabled" + (f": {why}" if why else ""))
        self._update(staff_id, by, active=False)
        return Person(**{**person.__dict__, "active": False})

    def enable(self, staff_id: str, *, by: str) -> Person:
        self._administrator(by)
        person = self._existing(staff_id)
        self._log(by, staff_id, "enabled")
        self._update(staff_id, by, active=True)
        return Person(**{**person.__dict__, "active": True})

    def seed(self, staff: Mapping[str, Sequence[str]]) -> int:
        """Seed an empty registry from gateway.toml's old ``[staff]`` section (programme →
        staff ids) once: each id a verifier of its programmes. Returns how many."""
        if not staff:
            return 0
        with self.store.read() as conn:
            if conn.execute(select(func.count()).select_from(staff_table)).scalar():
                return 0
        programmes: dict[str, list[str]] = {}
        for programme, ids in staff.items():
            for staff_id in ids:
                programmes.setdefault(staff_id, []).append(programme)
        now = self.clock()
        rows = []
        for staff_id, progs in sorted(programmes.items()):
            check_staff_id(staff_id)
            self._log(SEEDED_BY, staff_id, f"seeded from gateway.toml [staff] as verifier; "
                      f"scope {_scope((), progs)}")
            rows.append(dict(staff_id=staff_id, name=staff_id, roles=access.VERIFIER,
                             townships="", programmes=",".join(progs), phone="", active=True,
                             changed_by=SEEDED_BY, created_at=now, updated_at=now))
        with self.store.tx() as conn:
            if not conn.execute(select(func.count()).select_from(staff_table)).scalar():
                conn.execute(staff_table.insert(), rows)
        log.info("staff registry seeded from gateway.toml [staff]; from now on the "
                 "registry rules (hedui staff …) and [staff] is ignored", count=len(rows))
        return len(rows)

    # ---------------------------------------------------------------- helpers

    def _existing(self, staff_id: str) -> Person:
        person = self.get(check_staff_id(staff_id))
        if person is None:
            raise StaffError(f"no staff member {staff_id}", "NOT_ON_STAFF_LIST")
        return person

    def _keep_an_administrator(self, staff_id: str) -> None:
        others = [p for p in self.list() if p.active and ADMINISTRATOR in p.roles
                  and p.staff_id != staff_id]
        if not others:
            raise StaffError(f"{staff_id} is the last active administrator; add another "
                             "first", "MALFORMED_REQUEST")

    def _update(self, staff_id: str, by: str, **values: Any) -> None:
        with self.store.tx() as conn:
            conn.execute(update(staff_table).where(staff_table.c.staff_id == staff_id)
                         .values(**values, changed_by=by, updated_at=self.clock()))


def _scope(townships: Sequence[str], programmes: Sequence[str]) -> str:
    return Person("", "", (), tuple(townships), tuple(programmes)).scope_words()


__all__ = ["CASE_ROLES", "StaffError", "StaffRegistry", "check_roles", "check_scope",
           "check_staff_id"]
