"""The audit log's tables as revisions created them: frozen copies, never the live ones.

``install_layout1``: the four tables and append-only triggers of the release before
migrations (revision ``0001``). ``install_pseudonym_key``: the pseudonym key check table
and its triggers (revision ``0002``). ``hedui.audit.schema`` may change; these must not
(a revision replays the past). The drift test in tests/deploy compares ``head`` with
``schema.install()``, so a schema change without a revision fails there.
"""

from __future__ import annotations

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

from hedui.audit.migrations.runner import MigrationError

_Index = BigInteger().with_variant(Integer(), "sqlite")


def _layout1(md: MetaData, prefix: str) -> list[Table]:
    return [
        Table(
            f"{prefix}audit_meta", md,
            Column("id", SmallInteger, primary_key=True, autoincrement=False),
            Column("origin", Text, nullable=False),
            Column("key_name", Text, nullable=False),
            Column("vkey", Text, nullable=False),
            Column("layout", Integer, nullable=False),
            Column("created_at", DateTime(timezone=True), nullable=False),
            CheckConstraint("id = 1", name=f"{prefix}audit_meta_one_row"),
        ),
        Table(
            f"{prefix}audit_leaves", md,
            Column("idx", _Index, primary_key=True, autoincrement=False),
            Column("entry", LargeBinary, nullable=False),
            Column("leaf_hash", LargeBinary(32), nullable=False),
            Column("row_hash", LargeBinary(32), nullable=False),
        ),
        Table(
            f"{prefix}audit_nodes", md,
            Column("level", SmallInteger, primary_key=True, autoincrement=False),
            Column("idx", BigInteger, primary_key=True, autoincrement=False),
            Column("hash", LargeBinary(32), nullable=False),
            sqlite_with_rowid=False,
        ),
        Table(
            f"{prefix}audit_checkpoints", md,
            Column("size", _Index, primary_key=True, autoincrement=False),
            Column("note", Text, nullable=False),
            Column("created_at", DateTime(timezone=True), nullable=False),
        ),
    ]


def _pseudonym_key(md: MetaData, prefix: str) -> Table:
    return Table(
        f"{prefix}audit_pseudonym_key", md,
        Column("id", SmallInteger, primary_key=True, autoincrement=False),
        Column("check_value", Text, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        CheckConstraint("id = 1", name=f"{prefix}audit_pseudonym_key_one_row"),
    )


_SQLITE_GUARDS = {
    "audit_leaves": "NEW.idx IS NOT (SELECT COALESCE(MAX(idx), -1) + 1 FROM {t})",
    "audit_nodes": "EXISTS (SELECT 1 FROM {t} WHERE level = NEW.level AND idx = NEW.idx)",
    "audit_checkpoints": "NEW.size <= COALESCE((SELECT MAX(size) FROM {t}), -1)",
    "audit_meta": "EXISTS (SELECT 1 FROM {t})",
    "audit_pseudonym_key": "EXISTS (SELECT 1 FROM {t})",
}


def _sqlite_triggers(prefix: str, table: str) -> list[str]:
    name = f"{prefix}{table}"
    out = [
        f"CREATE TRIGGER {name}_no_{op.lower()} BEFORE {op} ON {name} BEGIN "
        f"SELECT RAISE(ABORT, 'hedui audit log is append-only: {op} on {name} "
        f"refused'); END"
        for op in ("UPDATE", "DELETE")
    ]
    out.append(
        f"CREATE TRIGGER {name}_append_only BEFORE INSERT ON {name} "
        f"WHEN {_SQLITE_GUARDS[table].format(t=name)} BEGIN "
        f"SELECT RAISE(ABORT, 'hedui audit log is append-only: insert into {name} "
        f"would replace a row or leave a gap'); END"
    )
    return out


def _pg_function(prefix: str, schema: str | None) -> str:
    qual = f"{schema}." if schema else ""
    return (
        f"CREATE OR REPLACE FUNCTION {qual}{prefix}audit_append_only() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = "
        "'hedui audit log is append-only: ' || TG_OP || ' on ' || TG_TABLE_SCHEMA || '.' "
        "|| TG_TABLE_NAME || ' refused'; END $$"
    )


def _pg_triggers(prefix: str, schema: str | None, table: str) -> list[str]:
    qual = f"{schema}." if schema else ""
    func = f"{qual}{prefix}audit_append_only"
    name = f"{prefix}{table}"
    return [
        f"CREATE TRIGGER {name}_append_only BEFORE UPDATE OR DELETE ON {qual}{name} "
        f"FOR EACH ROW EXECUTE FUNCTION {func}()",
        f"CREATE TRIGGER {name}_no_truncate BEFORE TRUNCATE ON {qual}{name} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {func}()",
    ]


def _ddl(conn: Connection, prefix: str, schema: str | None, tables: list[str],
         with_function: bool) -> list[str]:
    dialect = conn.dialect.name
    if dialect == "postgresql":
        out = [_pg_function(prefix, schema)] if with_function else []
        for t in tables:
            out += _pg_triggers(prefix, schema, t)
        return out
    if dialect == "sqlite":
        if schema:
            raise MigrationError("a schema is a PostgreSQL option; use a table prefix on SQLite")
        return [s for t in tables for s in _sqlite_triggers(prefix, t)]
    raise MigrationError(f"database {dialect!r} is not supported: use SQLite or PostgreSQL")


def install_layout1(conn: Connection, prefix: str, schema: str | None) -> None:
    """Revision 0001: the four tables and triggers of the first release."""
    if conn.dialect.name == "postgresql" and schema:
        conn.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    ddl = _ddl(conn, prefix, schema, ["audit_meta", "audit_leaves", "audit_nodes",
                                      "audit_checkpoints"], with_function=True)
    md = MetaData(schema=schema)
    _layout1(md, prefix)
    md.create_all(conn, checkfirst=False)
    for statement in ddl:
        conn.exec_driver_sql(statement)


def install_pseudonym_key(conn: Connection, prefix: str, schema: str | None) -> None:
    """Revision 0002: the pseudonym key check table, append-only like the others."""
    ddl = _ddl(conn, prefix, schema, ["audit_pseudonym_key"], with_function=False)
    md = MetaData(schema=schema)
    _pseudonym_key(md, prefix).create(conn, checkfirst=False)
    for statement in ddl:
        conn.exec_driver_sql(statement)
