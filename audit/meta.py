"""A log's metadata rows — its name and key (``audit_meta``), its pseudonym key check
(``audit_pseudonym_key``) — read so that damage to them is named, never a crash.

Stored text is read as bytes (``CAST(.. AS BLOB)`` on SQLite, where a tamperer can store
any bytes in a text column) and decoded here: a row that is not UTF-8, or whose fields do
not fit together (a verifier key whose name is not the key name, a layout no hedui
wrote), raises :class:`TamperError` naming the table and row, which ``hedui audit verify``
prints as ``AUDIT LOG DAMAGED``. PostgreSQL refuses invalid text itself.
"""

from __future__ import annotations

import datetime as dt
import hmac
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import URL, Connection, LargeBinary, cast, inspect, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.elements import ColumnElement

from hedui.audit.checkpoint import Checkpoint, check_key_name, parse_vkey
from hedui.audit.errors import AuditError, StoreError, TamperError
from hedui.audit.hashing import EMPTY_ROOT
from hedui.audit.pseudonym import KEY_CHECK_HEX
from hedui.audit.schema import LAYOUT_VERSION, AuditTables, make_tables

_CHECK = re.compile(f"[0-9a-f]{{{KEY_CHECK_HEX}}}")


class PseudonymKeyError(StoreError):
    """The pseudonym key given is not the one the log's entries were written with."""


@dataclass(frozen=True, slots=True)
class Meta:
    """The ``audit_meta`` row, decoded and checked for consistency."""

    origin: str
    key_name: str
    vkey: str
    layout: int
    created_at: dt.datetime


def database_error(exc: SQLAlchemyError, what: str) -> AuditError:
    """One line for a driver error: :class:`TamperError` when the file itself is
    damaged (SQLite says so), :class:`StoreError` otherwise (no access, no server)."""
    reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
    if any(w in reason for w in ("malformed", "not a database", "corrupt")):
        return TamperError(f"the database file is damaged, reading {what}: {reason}")
    return StoreError(f"cannot read {what}: {reason}")


def as_stored(column: ColumnElement[Any], dialect: str) -> ColumnElement[Any]:
    """``column`` as the bytes stored on SQLite (any type may sit in any column there)."""
    return cast(column, LargeBinary) if dialect == "sqlite" else column


def stored_text(value: object, where: str) -> str:
    """Decode text read through :func:`as_stored`; anything but UTF-8 is damage."""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise TamperError(
                f"{where} is not valid UTF-8 text (byte {exc.start} was changed)"
            ) from None
    raise TamperError(f"{where} holds {type(value).__name__}, not text")


def stored_bytes(value: object, where: str, length: int | None = None) -> bytes:
    """Bytes read through :func:`as_stored`, of ``length`` when given."""
    if isinstance(value, str):  # PostgreSQL never; a driver quirk at worst
        value = value.encode("utf-8", "surrogateescape")
    if not isinstance(value, bytes | bytearray | memoryview):
        raise TamperError(f"{where} holds {type(value).__name__}, not bytes")
    out = bytes(value)
    if length is not None and len(out) != length:
        raise TamperError(f"{where} is {len(out)} bytes, not {length}")
    return out


def stored_time(value: object, where: str) -> dt.datetime:
    """A ``created_at`` read through :func:`as_stored`: a datetime, or damage."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    text = stored_text(value, where)
    try:
        t = dt.datetime.fromisoformat(text)
    except ValueError:
        raise TamperError(f"{where} is not a time ({text[:40]!r})") from None
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def load_meta(conn: Connection, tables: AuditTables) -> Meta:
    """Read and check the one ``audit_meta`` row; raises :class:`TamperError` on damage."""
    m = tables.meta.c
    d = conn.dialect.name
    rows = conn.execute(select(
        as_stored(m.origin, d), as_stored(m.key_name, d), as_stored(m.vkey, d),
        as_stored(m.layout, d), as_stored(m.created_at, d))).all()
    if len(rows) != 1:
        raise TamperError(f"the audit log has {len(rows)} meta rows instead of one")
    where = f"table {tables.meta.name}, row 1,"
    origin_raw, name_raw, vkey_raw, layout_raw, created_raw = rows[0]
    origin = stored_text(origin_raw, f"{where} origin")
    key_name = stored_text(name_raw, f"{where} key_name")
    vkey = stored_text(vkey_raw, f"{where} vkey")
    try:
        Checkpoint(origin=origin, size=0, root=EMPTY_ROOT)
    except AuditError as exc:
        raise TamperError(f"{where} origin {origin!r} is not a log origin: {exc}") from None
    try:
        check_key_name(key_name)
    except AuditError as exc:
        raise TamperError(f"{where} key_name is not a key name: {exc}") from None
    try:
        vkey_name, _ = parse_vkey(vkey)
    except AuditError as exc:
        raise TamperError(f"{where} vkey is not a verifier key: {exc}") from None
    if vkey_name != key_name:
        raise TamperError(
            f"{where} key_name {key_name!r} is not the name in its vkey ({vkey_name!r}): "
            "one of them was changed"
        )
    layout_text = stored_text(layout_raw, f"{where} layout") if not isinstance(
        layout_raw, int) else str(layout_raw)
    if layout_text != str(LAYOUT_VERSION):
        raise TamperError(
            f"{where} layout is {layout_text[:20]!r}, not {LAYOUT_VERSION} "
            "(changed, or written by a newer hedui)"
        )
    created = stored_time(created_raw, f"{where} created_at")
    return Meta(origin, key_name, vkey, LAYOUT_VERSION, created)


def read_meta(url: str | URL, *, prefix: str = "", schema: str | None = None
              ) -> tuple[str, str, str]:
    """``(origin, key_name, vkey)`` stored with a log, for tools given only its URL.

    The vkey comes from the database itself: a verifier that must not trust the
    database pins the expected vkey and compares (``hedui audit verify --vkey``).
    Raises :class:`TamperError` when the row is damaged.
    """
    from hedui.audit.store import make_engine

    tables = make_tables(prefix, schema)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table(tables.meta.name, schema=schema):
                raise StoreError(f"no audit log at prefix {prefix!r} in this database")
            meta = load_meta(conn, tables)
    except SQLAlchemyError as exc:
        raise database_error(exc, "the audit log database") from exc
    finally:
        engine.dispose()
    return meta.origin, meta.key_name, meta.vkey


# ------------------------------------------------------------ pseudonym key check


def load_key_check(conn: Connection, tables: AuditTables) -> tuple[str, dt.datetime] | None:
    """The stored check value and when it was recorded; ``None`` before the first.

    Raises :class:`TamperError` for more than one row or a value of the wrong shape.
    """
    k = tables.pseudonym_key.c
    d = conn.dialect.name
    rows = conn.execute(select(as_stored(k.check_value, d), as_stored(k.created_at, d))).all()
    if not rows:
        return None
    where = f"table {tables.pseudonym_key.name}, row 1,"
    if len(rows) != 1:
        raise TamperError(f"table {tables.pseudonym_key.name} has {len(rows)} rows, not one")
    value = stored_text(rows[0][0], f"{where} check_value")
    if not _CHECK.fullmatch(value):
        raise TamperError(f"{where} check_value is not {KEY_CHECK_HEX} lowercase hex digits")
    return value, stored_time(rows[0][1], f"{where} created_at")


def bind_key_check(conn: Connection, tables: AuditTables, check: str, now: dt.datetime, *,
                   may_record: bool) -> bool:
    """Compare ``check`` with the log's stored check value; record it when there is none.

    Returns whether it was recorded now (a log's first use with a pseudonym key). Raises
    :class:`PseudonymKeyError` for another key — a log must never mix pseudonym keys —
    and when there is none to compare with and ``may_record`` is false.
    """
    if not inspect(conn).has_table(tables.pseudonym_key.name, schema=tables.schema):
        raise StoreError(
            "this audit log predates pseudonym key checks: bring it up to date with "
            "`hedui audit migrate` first"
        )
    stored = load_key_check(conn, tables)
    if stored is None:
        if not may_record:
            raise PseudonymKeyError(
                "this audit log has no pseudonym key check value yet and was opened "
                "read-only: open it for writing once to record the key's"
            )
        conn.execute(tables.pseudonym_key.insert().values(id=1, check_value=check,
                                                          created_at=now))
        return True
    if not hmac.compare_digest(stored[0], check):
        raise PseudonymKeyError(
            f"the pseudonym key given is not the one this audit log is written with "
            f"(check value {check[:8]}…, the log's is {stored[0][:8]}…): a search with it "
            "would find nobody, and entries written with it would never be found; use the "
            "log's pseudonym key file (if it is that file, the stored check value was changed: "
            f"run hedui audit verify and see table {tables.pseudonym_key.name})"
        )
    return False
