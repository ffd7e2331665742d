"""The offline-bundle tables: offline_queries, offline_bundles.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

Exactly as ``hedui.gateway.offline`` defines them (frozen in ``baseline.offline``).
Before migrations, ``OfflineDesk`` created them on first use; a database where it did is
adopted at this revision, one where it did not at ``0001`` and upgraded through here.
"""

from __future__ import annotations

from alembic import op

from hedui.gateway.migrations import baseline

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    baseline.offline.create_all(op.get_bind(), checkfirst=False)


def downgrade() -> None:
    raise NotImplementedError("restore the case database from its backup instead")
