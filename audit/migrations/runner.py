"""Run one Alembic history against one database, the way every hedui database needs it.

Shared by ``hedui.audit.migrations`` and ``hedui.gateway.migrations`` (imports flow
gateway → audit, so the gateway may use this; the audit package needs nothing above it).

What it adds to plain ``alembic upgrade``:

* no ``alembic.ini``: the script folder, the version table and its schema are passed in,
  so several histories (the case database, one or more audit logs) can share one
  PostgreSQL database, each with its own version table;
* the whole upgrade is one transaction holding a lock: ``pg_advisory_xact_lock`` on
  PostgreSQL (so replicas starting together migrate one after the other, and the audit
  log's writers, which take the same lock, wait), ``BEGIN IMMEDIATE`` on SQLite. DDL is
  transactional on both, so a failed upgrade leaves the database as it was;
* adoption of databases made before migrations existed (``metadata.create_all`` /
  ``audit.schema.install``): when the version table is missing but the tables are there,
  ``baseline(conn)`` checks them and names the revision to stamp before upgrading.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from hedui.errors import HeduiError


class MigrationError(HeduiError):
    """A database cannot be migrated (unknown layout, unsupported backend, failed step)."""

    exit_code = 2


def migration_engine(url: str) -> Engine:
    """An engine whose transactions take the database write lock at BEGIN (SQLite)."""
    u = make_url(url)
    backend = u.get_backend_name()
    if backend == "postgresql":
        return create_engine(u, pool_size=1, max_overflow=0)
    if backend != "sqlite":
        raise MigrationError(f"database {backend!r} is not supported: use sqlite or postgresql")
    if not u.database or u.database == ":memory:":
        raise MigrationError("migrate a file database: sqlite:///path/to/file.sqlite")
    try:  # a first run, before the server ever made its state folder
        Path(u.database).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise MigrationError(f"cannot create {Path(u.database).parent}: {exc.strerror}") from None
    engine = create_engine(u, connect_args={"timeout": 60.0})

    @event.listens_for(engine, "connect")
    def _no_implicit_tx(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # BEGIN is ours, DDL included

    @event.listens_for(engine, "begin")
    def _begin_immediate(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def alembic_config(script_location: Path, connection: Connection, *, version_table: str,
                   version_table_schema: str | None,
                   attributes: Mapping[str, Any] | None = None) -> Config:
    """An in-memory Alembic configuration; ``env.py`` reads the rest from attributes."""
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    cfg.attributes.update(attributes or {})
    cfg.attributes["connection"] = connection
    cfg.attributes["version_table"] = version_table
    cfg.attributes["version_table_schema"] = version_table_schema
    return cfg


def configure_context(context: Any) -> None:
    """The body of every hedui ``env.py``: run on the connection the runner holds."""
    cfg = context.config
    connection = cfg.attributes.get("connection")
    if connection is None:
        raise MigrationError(
            "hedui migrations run through hedui (hedui gateway migrate / hedui audit "
            "migrate, or the upgrade() functions), not the alembic command line"
        )
    context.configure(
        connection=connection,
        version_table=cfg.attributes["version_table"],
        version_table_schema=cfg.attributes["version_table_schema"],
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def current_revision(connection: Connection, version_table: str,
                     version_table_schema: str | None) -> str | None:
    ctx = MigrationContext.configure(connection, opts={
        "version_table": version_table, "version_table_schema": version_table_schema})
    return ctx.get_current_revision()


def run(url: str, script_location: Path, *, target: str, version_table: str,
        version_table_schema: str | None, lock_key: int,
        baseline: Callable[[Connection], str | None],
        attributes: Mapping[str, Any] | None = None) -> str | None:
    """Upgrade to ``target`` in one locked transaction; return the revision reached.

    There is no downgrade: the audit log is append-only, and a case database is rolled
    back by restoring its backup (see docs/guide-administrator.md).
    """
    engine = migration_engine(url)
    try:
        return _run(engine, script_location, target=target, version_table=version_table,
                    version_table_schema=version_table_schema, lock_key=lock_key,
                    baseline=baseline, attributes=attributes)
    except CommandError as exc:
        raise MigrationError(f"cannot migrate {_safe(url)}: {exc}") from exc
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise MigrationError(f"cannot migrate {_safe(url)}: {reason}") from exc
    finally:
        engine.dispose()


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    return make_url(url).render_as_string(hide_password=True)


def _run(engine: Engine, script_location: Path, *, target: str, version_table: str,
         version_table_schema: str | None, lock_key: int,
         baseline: Callable[[Connection], str | None],
         attributes: Mapping[str, Any] | None) -> str | None:
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_key})
            if version_table_schema:
                conn.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {version_table_schema}")
        cfg = alembic_config(script_location, conn, version_table=version_table,
                             version_table_schema=version_table_schema,
                             attributes=attributes)
        if not inspect(conn).has_table(version_table, schema=version_table_schema):
            adopted = baseline(conn)
            if adopted is not None:
                command.stamp(cfg, adopted)
        command.upgrade(cfg, target)
        return current_revision(conn, version_table, version_table_schema)


def read_current(url: str, *, version_table: str,
                 version_table_schema: str | None) -> str | None:
    """The revision a database is at (None: never migrated)."""
    engine = migration_engine(url)
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table(version_table, schema=version_table_schema):
                return None
            return current_revision(conn, version_table, version_table_schema)
    finally:
        engine.dispose()
