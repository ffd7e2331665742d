"""cases.application_date (申请日期) and cases.state_reason.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

A case is assessed as of its application date, not the day it happens to be decided, so
a case retried or answered offline weeks later keeps its income window. Rows older than
this revision get the date they were created (UTC), which is what they were assessed
as of before. ``state_reason`` says why a case is CANCELLED, or INCOMPLETE with every
department answered. Both columns are nullable: a replica of the previous release keeps
inserting cases during a rolling update (hedui reads NULL as the creation date).

The column definitions are frozen here; never import ``hedui.gateway.store``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cases", sa.Column("application_date", sa.String(10), nullable=True))
    op.add_column("cases", sa.Column("state_reason", sa.Text(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE cases SET application_date = "
                   "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') "
                   "WHERE application_date IS NULL")
    else:  # SQLite keeps the UTC timestamp as text, 'YYYY-MM-DD HH:MM:SS…'
        op.execute("UPDATE cases SET application_date = substr(created_at, 1, 10) "
                   "WHERE application_date IS NULL")


def downgrade() -> None:
    raise NotImplementedError("restore the case database from its backup instead")
