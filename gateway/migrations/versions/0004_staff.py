"""The staff registry, and who did each step of a case.

Revision ID: 0004
Revises: 0003
Create Date: 2027-01-10

``staff``: every person who may act in hedui, with roles (intake clerk, verifier,
reviewer, privacy officer, administrator), scope (townships, programmes; empty: the
whole county, every programme), active or disabled. The gateway takes who is acting
from a certificate or a console and looks them up here on every request.

``cases.township`` (the office that took the application), ``cases.verifier`` and
``cases.reviewer`` (who assessed and who approved): the level-by-level flow's people.
All nullable, so a replica of the previous release keeps inserting cases during a
rolling update.

The definitions are frozen here; never import ``hedui.gateway.store``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff",
        sa.Column("staff_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        # comma-separated role names, e.g. "verifier,reviewer"
        sa.Column("roles", sa.Text(), nullable=False),
        # comma-separated nine-digit township codes; empty: the whole county
        sa.Column("townships", sa.Text(), nullable=False),
        # comma-separated programmes; empty: every programme
        sa.Column("programmes", sa.Text(), nullable=False),
        sa.Column("phone", sa.String(32), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("changed_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.add_column("cases", sa.Column("township", sa.String(16), nullable=True))
    op.add_column("cases", sa.Column("verifier", sa.String(64), nullable=True))
    op.add_column("cases", sa.Column("reviewer", sa.String(64), nullable=True))


def downgrade() -> None:
    raise NotImplementedError("restore the case database from its backup instead")
