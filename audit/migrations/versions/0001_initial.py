"""The audit log as hedui wrote it before migrations: four tables and their triggers.

Revision ID: 0001
Revises:
Create Date: 2026-11-25

Calls ``hedui.audit.schema.install`` — the same DDL ``AuditLog.open(create=True)`` runs —
so tables and append-only triggers (SQLite and PostgreSQL) exist in one place only.
When ``schema.py`` moves to a new layout it must keep layout 1 callable for this
revision (e.g. ``make_tables(..., layout=1)``); the upgrade tests compare ``head`` with
``install()`` and fail if this revision starts creating the new layout.
"""

from __future__ import annotations

from alembic import op

from hedui.audit.migrations import tables
from hedui.audit.schema import install

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    install(op.get_bind(), tables())


def downgrade() -> None:
    raise NotImplementedError("the audit log is append-only; restore a backup instead")
