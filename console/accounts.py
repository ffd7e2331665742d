"""The console's own state: each staff member's sign-in secrets and the sessions.

Who a person *is* (name, roles, scope, active) lives in the gateway's staff registry;
the console keeps only what signing in needs — an argon2id password hash, the TOTP
secret (sealed with ``[keys] secrets``, so a copy of the database alone gives no second
factor), the last TOTP step used (a code works once), failure counts and the lock — and
the sessions. A session token is 32 random bytes in the cookie; the table keeps only its
SHA-256, so a stolen database cannot be replayed as cookies.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from pathlib import Path

import nacl.secret
import nacl.utils
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    select,
    update,
)

from hedui.local_tables import create_missing

metadata = MetaData()

accounts = Table(
    "accounts", metadata,
    Column("staff_id", String(64), primary_key=True),
    Column("password_hash", String(255), nullable=False),
    Column("totp_sealed", LargeBinary, nullable=True),
    Column("totp_last_step", Integer, nullable=False, default=0),
    #: a temporary password an administrator set: changed at the next sign-in
    Column("must_change", Boolean, nullable=False, default=True),
    Column("failures", Integer, nullable=False, default=0),
    Column("locked_until", DateTime(timezone=True), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

sessions = Table(
    "sessions", metadata,
    Column("token_sha256", String(64), primary_key=True),
    Column("staff_id", String(64), nullable=False, index=True),
    Column("csrf", String(64), nullable=False),
    #: "pending" between password and TOTP, "setup" for a first sign-in, "full" after
    Column("stage", String(8), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True), nullable=True),
    Column("end_reason", String(32), nullable=True),
    Column("lang", String(8), nullable=False, default="zh"),
    #: a TOTP secret being enrolled (sealed), kept only until its first code is confirmed
    Column("pending_totp", LargeBinary, nullable=True),
)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(t: dt.datetime | None) -> dt.datetime | None:
    """SQLite returns naive datetimes; every time here is UTC."""
    return t.replace(tzinfo=dt.UTC) if t is not None and t.tzinfo is None else t


@dataclass(frozen=True)
class Account:
    staff_id: str
    password_hash: str
    totp_secret: str | None
    totp_last_step: int
    must_change: bool
    failures: int
    locked_until: dt.datetime | None


@dataclass(frozen=True)
class Session:
    token_sha256: str
    staff_id: str
    csrf: str
    stage: str
    created_at: dt.datetime
    last_seen: dt.datetime
    ended_at: dt.datetime | None
    lang: str
    pending_totp: str | None = None


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AccountStore:
    """Accounts and sessions in ``console.sqlite``."""

    def __init__(self, database: Path, secrets_key: bytes) -> None:
        database.parent.mkdir(parents=True, exist_ok=True)
        self.engine = create_engine(f"sqlite:///{database}")

        @event.listens_for(self.engine, "connect")
        def _pragmas(conn, _record) -> None:  # concurrent readers, one writer
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA busy_timeout=5000")

        create_missing(self.engine, metadata)
        # any secret of 16 bytes or more, stretched to the box's 32-byte key
        self.box = nacl.secret.SecretBox(
            hashlib.sha256(b"hedui console secrets\x00" + secrets_key).digest())

    # ------------------------------------------------------------ accounts

    def account(self, staff_id: str) -> Account | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(accounts).where(accounts.c.staff_id == staff_id)).first()
        if row is None:
            return None
        secret = self.box.decrypt(row.totp_sealed).decode() if row.totp_sealed else None
        return Account(row.staff_id, row.password_hash, secret, row.totp_last_step,
                       bool(row.must_change), row.failures, _aware(row.locked_until))

    def set_password(self, staff_id: str, password_hash: str, *, must_change: bool) -> None:
        values = {"password_hash": password_hash, "must_change": must_change,
                  "failures": 0, "locked_until": None, "updated_at": now()}
        with self.engine.begin() as conn:
            done = conn.execute(update(accounts).where(accounts.c.staff_id == staff_id)
                                .values(**values)).rowcount
            if not done:
                conn.execute(accounts.insert().values(staff_id=staff_id, totp_sealed=None,
                                                      totp_last_step=0, **values))

    def set_totp(self, staff_id: str, secret: str | None) -> None:
        """A new secret (None: reset, enrolled again at the next sign-in). The last step
        used is kept: the code that confirmed the enrolment cannot sign in again."""
        sealed = self.box.encrypt(secret.encode()) if secret else None
        with self.engine.begin() as conn:
            conn.execute(update(accounts).where(accounts.c.staff_id == staff_id)
                         .values(totp_sealed=sealed, updated_at=now()))

    def use_totp_step(self, staff_id: str, step: int) -> bool:
        """Record ``step`` as used; False when it (or a later one) was used already: a
        code observed over a shoulder cannot be replayed in its 30 seconds."""
        with self.engine.begin() as conn:
            done = conn.execute(update(accounts).where(
                accounts.c.staff_id == staff_id, accounts.c.totp_last_step < step,
            ).values(totp_last_step=step)).rowcount
        return bool(done)

    def failed(self, staff_id: str, *, max_failures: int, lock: dt.timedelta) -> bool:
        """Count a failure; True when it locks the account."""
        with self.engine.begin() as conn:
            row = conn.execute(select(accounts.c.failures)
                               .where(accounts.c.staff_id == staff_id)).first()
            if row is None:
                return False
            failures = row.failures + 1
            locked = failures >= max_failures
            conn.execute(update(accounts).where(accounts.c.staff_id == staff_id).values(
                failures=0 if locked else failures,
                locked_until=now() + lock if locked else None))
        return locked

    def succeeded(self, staff_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(accounts).where(accounts.c.staff_id == staff_id)
                         .values(failures=0, locked_until=None))

    # ------------------------------------------------------------ sessions

    def open_session(self, staff_id: str, stage: str, lang: str = "zh") -> str:
        """A new session; returns the token for the cookie (only its digest is kept)."""
        token = secrets.token_urlsafe(32)
        t = now()
        with self.engine.begin() as conn:
            conn.execute(sessions.insert().values(
                token_sha256=token_digest(token), staff_id=staff_id,
                csrf=secrets.token_urlsafe(32), stage=stage, created_at=t, last_seen=t,
                lang=lang))
        return token

    def session(self, token: str) -> Session | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(sessions).where(
                sessions.c.token_sha256 == token_digest(token))).first()
        if row is None:
            return None
        pending = self.box.decrypt(row.pending_totp).decode() if row.pending_totp else None
        return Session(row.token_sha256, row.staff_id, row.csrf, row.stage,
                       _aware(row.created_at), _aware(row.last_seen), _aware(row.ended_at),
                       row.lang, pending)

    def set_pending_totp(self, token_sha256: str, secret: str | None) -> None:
        sealed = self.box.encrypt(secret.encode()) if secret else None
        with self.engine.begin() as conn:
            conn.execute(update(sessions).where(sessions.c.token_sha256 == token_sha256)
                         .values(pending_totp=sealed))

    def touch(self, token_sha256: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(sessions).where(sessions.c.token_sha256 == token_sha256)
                         .values(last_seen=now()))

    def set_lang(self, token_sha256: str, lang: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(sessions).where(sessions.c.token_sha256 == token_sha256)
                         .values(lang=lang))

    def end_session(self, token_sha256: str, reason: str) -> bool:
        with self.engine.begin() as conn:
            done = conn.execute(update(sessions).where(
                sessions.c.token_sha256 == token_sha256, sessions.c.ended_at.is_(None),
            ).values(ended_at=now(), end_reason=reason)).rowcount
        return bool(done)

    def end_sessions_of(self, staff_id: str, reason: str) -> int:
        """End every open session of ``staff_id`` (an administrator's order, a disabling,
        a TOTP reset); returns how many were open."""
        with self.engine.begin() as conn:
            return conn.execute(update(sessions).where(
                sessions.c.staff_id == staff_id, sessions.c.ended_at.is_(None),
            ).values(ended_at=now(), end_reason=reason)).rowcount

    def open_sessions(self, staff_id: str) -> int:
        with self.engine.connect() as conn:
            return len(conn.execute(select(sessions.c.token_sha256).where(
                sessions.c.staff_id == staff_id, sessions.c.ended_at.is_(None),
                sessions.c.stage == "full")).all())


def new_secrets_key(path: Path) -> None:
    """Write 32 random bytes for ``[keys] secrets`` (mode 0600)."""
    from hedui.keys.secrets import write_secret

    write_secret(path, nacl.utils.random(nacl.secret.SecretBox.KEY_SIZE))
