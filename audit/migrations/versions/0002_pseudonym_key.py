"""audit_pseudonym_key: the check value of the log's pseudonym key (one row at most).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01

A search with the wrong pseudonym key used to find nobody and say so ("no entries"):
a false "nobody read your data". The log now keeps a check value of its key
(``hedui.audit.pseudonym.key_check_value``) and refuses any other. The table starts
empty; the first writer or search that holds a key records it (``AuditLog.open``).
Frozen in ``hedui.audit.migrations.baseline.install_pseudonym_key``.
"""

from __future__ import annotations

from alembic import op

from hedui.audit.migrations import baseline, tables

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    t = tables()
    baseline.install_pseudonym_key(op.get_bind(), t.prefix, t.schema)


def downgrade() -> None:
    raise NotImplementedError("the audit log is append-only; restore a backup instead")
