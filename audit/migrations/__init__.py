"""Alembic migrations of the audit log's tables — the gateway's log and every agent's.

One history per log. A log is named by its table ``prefix`` (and PostgreSQL ``schema``),
so several logs can share a database; each keeps its revision in its own version table,
``<prefix>audit_alembic_version`` in the log's schema.

    from hedui.audit.migrations import upgrade
    upgrade("postgresql+psycopg://hedui@db/hedui", schema="audit")   # -> "0002"

Revisions live in ``versions/``, their tables frozen in ``baseline.py``: ``0001`` the
four tables and append-only triggers of the first release, ``0002`` the pseudonym key
check table. ``head`` is what ``hedui.audit.schema.install`` creates today (the drift
test compares them). A log made before migrations existed (by
``AuditLog.open(create=True)``) has the tables but no version table: ``upgrade`` checks
its ``audit_meta.layout`` and stamps it ``0001`` (``0002`` when the check table is
there) before going on.

Rules for a new revision (the audit log is append-only, and so is its history):

* only add: columns (nullable), indexes, tables. Never rewrite or drop rows;
* never recreate a table (``batch_alter_table`` with ``recreate``): on SQLite that drops
  the table's triggers with it. The upgrade test checks the triggers still refuse
  UPDATE/DELETE after ``head``;
* ``audit_meta.layout`` cannot be updated (the triggers refuse it); a revision that
  changes what readers must understand needs its own decision, not an UPDATE;
* get the names from ``tables()`` so the prefix and schema of the log being migrated
  apply.
"""

from __future__ import annotations

from pathlib import Path

from alembic import context as _alembic_context
from sqlalchemy import Connection, inspect, select

from hedui.audit.migrations.runner import (
    MigrationError,
    alembic_config,
    read_current,
    run,
)
from hedui.audit.schema import AuditTables, make_tables

__all__ = ["HEAD", "INITIAL", "PSEUDONYM_KEY", "SCRIPT_LOCATION", "MigrationError", "current",
           "stamp", "tables", "upgrade", "version_table"]

#: the folder holding env.py and versions/
SCRIPT_LOCATION = Path(__file__).resolve().parent
#: the revision that reproduces the layout of the release before migrations
INITIAL = "0001"
#: the revision adding the pseudonym key check table
PSEUDONYM_KEY = "0002"
#: the revision this release's ``schema.install`` creates
HEAD = PSEUDONYM_KEY


def version_table(prefix: str = "") -> str:
    """The name of the table holding a log's Alembic revision."""
    return f"{prefix}audit_alembic_version"


def tables() -> AuditTables:
    """Inside a revision: the tables of the log being migrated (its prefix and schema)."""
    attrs = _alembic_context.config.attributes
    return make_tables(attrs.get("prefix", ""), attrs.get("schema"))


def _baseline(t: AuditTables):
    def check(conn: Connection) -> str | None:
        if not inspect(conn).has_table(t.meta.name, schema=t.schema):
            return None  # an empty database: 0001 creates everything
        layouts = conn.execute(select(t.meta.c.layout)).scalars().all()
        if layouts != [1]:
            raise MigrationError(
                f"the audit log at prefix {t.prefix!r} has layout {layouts or 'none'}; only "
                f"layout 1 (hedui before migrations) can be adopted"
            )
        if inspect(conn).has_table(t.pseudonym_key.name, schema=t.schema):
            return PSEUDONYM_KEY  # made by install() of a release with the check table
        return INITIAL

    return check


def upgrade(url: str, target: str = "head", *, prefix: str = "", schema: str | None = None,
            script_location: str | Path | None = None) -> str | None:
    """Bring one audit log's tables to ``target``; returns the revision reached.

    Safe to run from several processes at once (they queue on the log's write lock),
    and on a log that is in use (appends wait for the migration's transaction).
    ``script_location`` is for tests that add revisions; deployments leave it out.
    """
    t = make_tables(prefix, schema)  # validates the names
    return run(
        url, Path(script_location or SCRIPT_LOCATION), target=target,
        version_table=version_table(prefix), version_table_schema=schema,
        lock_key=t.lock_key, baseline=_baseline(t),
        attributes={"prefix": prefix, "schema": schema},
    )


def current(url: str, *, prefix: str = "", schema: str | None = None) -> str | None:
    """The revision a log is at; None when it was never migrated (or does not exist)."""
    make_tables(prefix, schema)
    return read_current(url, version_table=version_table(prefix), version_table_schema=schema)


def stamp(conn: Connection, *, prefix: str = "", schema: str | None = None,
          revision: str = "head") -> None:
    """Record ``revision`` for a log whose tables were just made by ``schema.install``.

    For ``AuditLog.open(create=True)``: call it right after ``install()`` in the same
    transaction, so a log created by the code is never mistaken for an older layout.
    """
    from alembic import command

    make_tables(prefix, schema)
    cfg = alembic_config(SCRIPT_LOCATION, conn, version_table=version_table(prefix),
                         version_table_schema=schema,
                         attributes={"prefix": prefix, "schema": schema})
    command.stamp(cfg, revision)
