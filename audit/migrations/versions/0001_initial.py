"""The audit log as hedui wrote it before migrations: four tables and their triggers.

Revision ID: 0001
Revises:
Create Date: 2026-11-25

Frozen in ``hedui.audit.migrations.baseline.install_layout1`` (it used to call the live
``schema.install``, which now also makes the tables of later revisions).
"""

from __future__ import annotations

from alembic import op

from hedui.audit.migrations import baseline, tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    t = tables()
    baseline.install_layout1(op.get_bind(), t.prefix, t.schema)


def downgrade() -> None:
    raise NotImplementedError("the audit log is append-only; restore a backup instead")
