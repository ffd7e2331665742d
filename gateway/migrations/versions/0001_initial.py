"""The case database as hedui created it before migrations.

Revision ID: 0001
Revises:
Create Date: 2026-11-25

cases, case_departments, answers, reports, case_audit_leaves, authorizations — from the
frozen copy in ``hedui.gateway.migrations.baseline`` (identical to ``store.py`` of the
release before migrations, down to index names and column order).
"""

from __future__ import annotations

from alembic import op

from hedui.gateway.migrations import baseline

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    baseline.metadata.create_all(op.get_bind(), checkfirst=False)


def downgrade() -> None:
    raise NotImplementedError("restore the case database from its backup instead")
