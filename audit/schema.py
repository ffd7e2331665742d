"""The audit log's tables and the triggers that make them append-only in the database.

Five tables, named ``<prefix>audit_<name>`` in an optional PostgreSQL schema, so several
logs (or tests) can share one database:

- ``audit_leaves(idx, entry, leaf_hash, row_hash)``: the exact entry bytes, their RFC 6962
  leaf hash and ``row_hash`` = SHA-256(idx ‖ leaf hash), which binds a row to its index so
  ``verify_all`` can name a row moved to another index exactly (the Merkle nodes alone
  would narrow it down to a sibling pair). The leaf hash is the level-0 node of the tree.
- ``audit_nodes(level, idx, hash)``: every complete perfect subtree of level >= 1, written
  in the same transaction as the leaf that completes it; proofs and roots read O(log n)
  of them instead of rebuilding anything.
- ``audit_checkpoints(size, note, created_at)``: every signed checkpoint note.
- ``audit_meta``: one row naming the log (origin, key name, verifier key).
- ``audit_pseudonym_key``: at most one row, the check value of the pseudonym key the
  log's entries are written with (:func:`hedui.audit.pseudonym.key_check_value`), so a
  search with another key is refused instead of finding nobody (revision 0002).

Append-only at the database depth: triggers refuse UPDATE and DELETE on every table (and
TRUNCATE on PostgreSQL). SQLite's ``INSERT OR REPLACE`` deletes the old row without firing
delete triggers, so on SQLite insert triggers also refuse an insert that would replace a
row, and leaves must arrive at the next index.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Connection,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    Table,
    Text,
)

from hedui.audit.errors import StoreError

#: version of the table layout written in ``audit_meta.layout``
LAYOUT_VERSION = 1

_NAME = re.compile(r"[a-z_][a-z0-9_]{0,40}")

# SQLite makes only "INTEGER PRIMARY KEY" an alias of the rowid (no second index).
_Index = BigInteger().with_variant(Integer(), "sqlite")


@dataclass(frozen=True, slots=True)
class AuditTables:
    """The SQLAlchemy tables of one log, and the database lock that serializes its writers."""

    metadata: MetaData
    leaves: Table
    nodes: Table
    checkpoints: Table
    meta: Table
    pseudonym_key: Table
    prefix: str
    schema: str | None

    @property
    def all(self) -> tuple[Table, ...]:
        """Every table, in creation order."""
        return (self.meta, self.leaves, self.nodes, self.checkpoints, self.pseudonym_key)

    @property
    def lock_key(self) -> int:
        """The signed 64-bit PostgreSQL advisory lock key of this log's writers.

        Derived from schema and prefix so that logs sharing a database do not block each
        other, while every process writing the same log takes the same lock.
        """
        name = f"hedui.audit\0{self.schema or ''}\0{self.prefix}".encode()
        return int.from_bytes(hashlib.sha256(name).digest()[:8], "big", signed=True)


def make_tables(prefix: str = "", schema: str | None = None) -> AuditTables:
    """Define the tables of a log named by ``prefix`` (and PostgreSQL ``schema``).

    Requires lowercase SQL identifiers (``[a-z_][a-z0-9_]*``, at most 41 characters) so
    names never need quoting and never collide by case.
    """
    if prefix and not _NAME.fullmatch(prefix):
        raise StoreError(f"table prefix {prefix!r} is not a lowercase SQL identifier")
    if schema is not None and not _NAME.fullmatch(schema):
        raise StoreError(f"schema {schema!r} is not a lowercase SQL identifier")
    md = MetaData(schema=schema)
    meta = Table(
        f"{prefix}audit_meta",
        md,
        Column("id", SmallInteger, primary_key=True, autoincrement=False),
        Column("origin", Text, nullable=False),
        Column("key_name", Text, nullable=False),
        Column("vkey", Text, nullable=False),
        Column("layout", Integer, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        CheckConstraint("id = 1", name=f"{prefix}audit_meta_one_row"),
    )
    leaves = Table(
        f"{prefix}audit_leaves",
        md,
        Column("idx", _Index, primary_key=True, autoincrement=False),
        Column("entry", LargeBinary, nullable=False),
        Column("leaf_hash", LargeBinary(32), nullable=False),
        Column("row_hash", LargeBinary(32), nullable=False),
    )
    nodes = Table(
        f"{prefix}audit_nodes",
        md,
        Column("level", SmallInteger, primary_key=True, autoincrement=False),
        Column("idx", BigInteger, primary_key=True, autoincrement=False),
        Column("hash", LargeBinary(32), nullable=False),
        sqlite_with_rowid=False,
    )
    checkpoints = Table(
        f"{prefix}audit_checkpoints",
        md,
        Column("size", _Index, primary_key=True, autoincrement=False),
        Column("note", Text, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
    )
    pseudonym_key = Table(
        f"{prefix}audit_pseudonym_key",
        md,
        Column("id", SmallInteger, primary_key=True, autoincrement=False),
        Column("check_value", Text, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        CheckConstraint("id = 1", name=f"{prefix}audit_pseudonym_key_one_row"),
    )
    return AuditTables(md, leaves, nodes, checkpoints, meta, pseudonym_key, prefix, schema)


def row_hash(idx: int, leaf_hash: bytes) -> bytes:
    """Return SHA-256(0x02 ‖ idx as 8 big-endian bytes ‖ leaf hash) for ``audit_leaves``."""
    return hashlib.sha256(b"\x02" + idx.to_bytes(8, "big") + leaf_hash).digest()


def _sqlite_triggers(t: AuditTables) -> list[str]:
    out: list[str] = []
    guards = {
        t.leaves.name: "NEW.idx IS NOT (SELECT COALESCE(MAX(idx), -1) + 1 FROM {t})",
        t.nodes.name: "EXISTS (SELECT 1 FROM {t} WHERE level = NEW.level AND idx = NEW.idx)",
        t.checkpoints.name: "NEW.size <= COALESCE((SELECT MAX(size) FROM {t}), -1)",
        t.meta.name: "EXISTS (SELECT 1 FROM {t})",
        t.pseudonym_key.name: "EXISTS (SELECT 1 FROM {t})",
    }
    for table in t.all:
        name = table.name
        for op in ("UPDATE", "DELETE"):
            out.append(
                f"CREATE TRIGGER {name}_no_{op.lower()} BEFORE {op} ON {name} BEGIN "
                f"SELECT RAISE(ABORT, 'hedui audit log is append-only: {op} on {name} "
                f"refused'); END"
            )
        out.append(
            f"CREATE TRIGGER {name}_append_only BEFORE INSERT ON {name} "
            f"WHEN {guards[name].format(t=name)} BEGIN "
            f"SELECT RAISE(ABORT, 'hedui audit log is append-only: insert into {name} "
            f"would replace a row or leave a gap'); END"
        )
    return out


def _postgres_triggers(t: AuditTables) -> list[str]:
    qual = f"{t.schema}." if t.schema else ""
    func = f"{qual}{t.prefix}audit_append_only"
    out = [
        f"CREATE OR REPLACE FUNCTION {func}() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = "
        "'hedui audit log is append-only: ' || TG_OP || ' on ' || TG_TABLE_SCHEMA || '.' "
        "|| TG_TABLE_NAME || ' refused'; END $$"
    ]
    for table in t.all:
        name = table.name
        out.append(
            f"CREATE TRIGGER {name}_append_only BEFORE UPDATE OR DELETE ON {qual}{name} "
            f"FOR EACH ROW EXECUTE FUNCTION {func}()"
        )
        out.append(
            f"CREATE TRIGGER {name}_no_truncate BEFORE TRUNCATE ON {qual}{name} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {func}()"
        )
    return out


def install(conn: Connection, tables: AuditTables) -> None:
    """Create the tables and their append-only triggers inside the caller's transaction.

    Requires that none of the tables exists yet (the caller holds the log's write lock
    and has checked); on PostgreSQL the schema is created when missing.
    """
    dialect = conn.dialect.name
    if dialect == "postgresql":
        if tables.schema:
            conn.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {tables.schema}")
        ddl = _postgres_triggers(tables)
    elif dialect == "sqlite":
        if tables.schema:
            raise StoreError("a schema is a PostgreSQL option; use a table prefix on SQLite")
        ddl = _sqlite_triggers(tables)
    else:
        raise StoreError(f"database {dialect!r} is not supported: use SQLite or PostgreSQL")
    tables.metadata.create_all(conn, checkfirst=False)
    for statement in ddl:
        conn.exec_driver_sql(statement)
