"""What the console reads: member keys for search, query times, the opening date index.

Revision ID: 0006
Revises: 0005
Create Date: 2027-03-01

``case_member_keys``: for each case, keyed digests of its members' ID numbers (the audit
pseudonym, ``kind`` "id") and of their names (``kind`` "name", HMAC with the pseudonym
key of the name without spaces), so SearchCases finds a person's cases without
unsealing every case and the table never holds a number or a name.

``case_departments.queried_at``: when the department was last asked for this case, so
statistics can say how long departments take to answer. NULL in rows written before.

``ix_cases_created_at``: search by opening date and statistics by month.
``ix_cases_state_created_at``: My work's newest cases of each state without sorting all
of a state's cases. ``ix_case_departments_state``: the parts still owed (overdue,
retries) are few among a county's answered ones.

Additive and nullable, so a replica of the previous release keeps working during a
rolling update. The definitions are frozen here; never import ``hedui.gateway.store``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_member_keys",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("case_id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(8), nullable=False),
    )
    op.create_index("ix_case_member_keys_case_id", "case_member_keys", ["case_id"])
    op.add_column("case_departments",
                  sa.Column("queried_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_cases_created_at", "cases", ["created_at"])
    op.create_index("ix_cases_state_created_at", "cases", ["state", "created_at"])
    op.create_index("ix_case_departments_state", "case_departments", ["state", "department"])


def downgrade() -> None:
    raise NotImplementedError("restore the case database from its backup instead")
