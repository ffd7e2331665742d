"""Alembic migrations of the gateway's case database.

    from hedui.gateway.migrations import upgrade
    upgrade(config.cases_db)            # -> "0001"

The history lives in ``versions/`` and its revision in the table
``cases_alembic_version``, so the case database may share a PostgreSQL database (or
schema) with the audit log, which keeps its own history (``hedui.audit.migrations``).

``0001`` reproduces the tables of the release before migrations (``baseline.py``). A
database that release made has the tables but no version table: ``upgrade`` compares
its columns with ``baseline.py`` and stamps it ``0001`` before going on.

Where the next tables go: the offline-bundle table(s) of ``gateway/offline.py`` (being
written) get revision ``0002_offline_bundles.py`` in ``versions/`` (``down_revision =
"0001"``), with ``op.create_table`` mirroring the Table in offline.py. The drift test
(tests/deploy/test_deploy_migrations.py) fails until ``head`` matches ``store.py`` plus
offline.py's tables, so a table cannot be forgotten.

Rules for a new revision: several replicas may run old and new code side by side during
a rolling update, so add before you use (nullable columns or with a server default,
new tables, indexes), and drop only in a later release. On SQLite, ALTERs beyond ADD
COLUMN need ``op.batch_alter_table``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import Connection, inspect

from hedui.audit.migrations.runner import MigrationError, read_current, run
from hedui.gateway.migrations import baseline

__all__ = ["INITIAL", "SCRIPT_LOCATION", "VERSION_TABLE", "MigrationError", "current",
           "upgrade"]

SCRIPT_LOCATION = Path(__file__).resolve().parent
VERSION_TABLE = "cases_alembic_version"
INITIAL = "0001"
#: PostgreSQL advisory lock taken for the length of an upgrade
LOCK_KEY = int.from_bytes(hashlib.sha256(b"hedui.gateway.cases.migrate").digest()[:8], "big",
                          signed=True)


def _baseline(conn: Connection) -> str | None:
    """Adopt a database made by ``CaseStore`` before migrations (checked, not assumed)."""
    insp = inspect(conn)
    present = [t for t in baseline.metadata.tables if insp.has_table(t)]
    if not present:
        return None  # empty: 0001 creates everything
    problems = []
    for name, table in baseline.metadata.tables.items():
        if name not in present:
            problems.append(f"table {name} is missing")
            continue
        have = {c["name"] for c in insp.get_columns(name)}
        want = {c.name for c in table.columns}
        if have != want:
            problems.append(f"{name} has columns {sorted(have ^ want)} that differ")
    if problems:
        raise MigrationError(
            "this case database was not made by a hedui release this version knows ("
            + "; ".join(problems) + "); refusing to guess its revision"
        )
    return INITIAL


def upgrade(url: str, target: str = "head", *,
            script_location: str | Path | None = None) -> str | None:
    """Bring the case database at ``url`` to ``target``; returns the revision reached.

    One transaction under a lock, so replicas may all run it as they start.
    ``script_location`` is for tests that add revisions; deployments leave it out.
    """
    return run(url, Path(script_location or SCRIPT_LOCATION), target=target,
               version_table=VERSION_TABLE, version_table_schema=None, lock_key=LOCK_KEY,
               baseline=_baseline)


def current(url: str) -> str | None:
    """The revision the case database is at; None when never migrated."""
    return read_current(url, version_table=VERSION_TABLE, version_table_schema=None)
