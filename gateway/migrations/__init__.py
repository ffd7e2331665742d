"""Alembic migrations of the gateway's case database.

    from hedui.gateway.migrations import upgrade
    upgrade(config.cases_db)            # -> "0005"

The history lives in ``versions/`` and its revision in the table
``cases_alembic_version``, so the case database may share a PostgreSQL database (or
schema) with the audit log, which keeps its own history (``hedui.audit.migrations``).

``0001`` reproduces the tables of ``store.py`` and ``0002`` those of ``offline.py`` as the
release before migrations made them (frozen in ``baseline.py``). A database that release
made has tables but no version table: ``upgrade`` compares their columns with
``baseline.py`` and stamps it ``0001`` (or ``0002`` when the offline tables exist too)
before going on. ``0003`` adds the application date (申请日期) and the state reason,
``0004`` the staff registry and the township, verifier and reviewer of a case,
``0005`` the applicant's pseudonym on a case (the same household verified twice) and
the several programmes an authorization may name, ``0006`` the console's member keys,
``0007`` the beneficiary roster, re-verification runs and change alerts.
The drift test (tests/deploy/test_deploy_migrations.py) fails until
``head`` equals ``store.py`` plus ``offline.py``, so a table cannot be forgotten: a new
table anywhere in the case database needs its revision here.

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

__all__ = [
    "APPLICATION_DATE",
    "CONSOLE",
    "INITIAL",
    "OFFLINE",
    "REVERIFICATION",
    "SAME_HOUSEHOLD",
    "SCRIPT_LOCATION",
    "STAFF",
    "VERSION_TABLE",
    "MigrationError",
    "current",
    "migrate_gateway",
    "upgrade",
]

SCRIPT_LOCATION = Path(__file__).resolve().parent
VERSION_TABLE = "cases_alembic_version"
INITIAL = "0001"
#: the revision adding the offline-bundle tables
OFFLINE = "0002"
#: the revision adding cases.application_date and cases.state_reason
APPLICATION_DATE = "0003"
#: the revision adding the staff registry and cases.township/verifier/reviewer
STAFF = "0004"
#: the revision adding cases.applicant_key and authorizations.programmes
SAME_HOUSEHOLD = "0005"
#: the revision adding case_member_keys, case_departments.queried_at (the console)
CONSOLE = "0006"
#: the revision adding the roster, re-verification runs and change alerts
REVERIFICATION = "0007"
#: PostgreSQL advisory lock taken for the length of an upgrade
LOCK_KEY = int.from_bytes(hashlib.sha256(b"hedui.gateway.cases.migrate").digest()[:8], "big",
                          signed=True)


def _differences(insp, tables, *, all_present: bool) -> tuple[bool, list[str]]:
    """(any table present, problems) of a set of frozen tables against the database."""
    present = [t for t in tables if insp.has_table(t)]
    problems = []
    for name, table in tables.items():
        if name not in present:
            if present or all_present:
                problems.append(f"table {name} is missing")
            continue
        have = {c["name"] for c in insp.get_columns(name)}
        want = {c.name for c in table.columns}
        if have != want:
            problems.append(f"{name} has columns {sorted(have ^ want)} that differ")
    return bool(present), problems


def _baseline(conn: Connection) -> str | None:
    """Adopt a database made before migrations (checked, not assumed)."""
    insp = inspect(conn)
    cases_present, problems = _differences(insp, baseline.metadata.tables, all_present=False)
    offline_present, offline_problems = _differences(insp, baseline.offline.tables,
                                                     all_present=False)
    if not cases_present and not offline_present:
        return None  # empty: the revisions create everything
    if not cases_present:
        problems.append("the case tables are missing")
    problems += offline_problems
    if problems:
        raise MigrationError(
            "this case database was not made by a hedui release this version knows ("
            + "; ".join(problems) + "); refusing to guess its revision"
        )
    return OFFLINE if offline_present else INITIAL


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


def migrate_gateway(config_path: str) -> list[str]:
    """What ``hedui gateway migrate --config`` does: both of the gateway's databases to head.

    Returns one line per database for the CLI to print.
    """
    from hedui.audit import migrations as audit_migrations
    from hedui.gateway import config as config_mod

    cfg = config_mod.load(config_path)
    cases = upgrade(cfg.cases_db)
    audit = audit_migrations.upgrade(cfg.audit_db)
    return [f"case database at revision {cases}", f"audit log at revision {audit}"]
