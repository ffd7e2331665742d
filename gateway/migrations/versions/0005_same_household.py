"""cases.applicant_key and authorizations.programmes: the same household twice.

Revision ID: 0005
Revises: 0004
Create Date: 2027-02-01

``cases.applicant_key``: the applicant's audit pseudonym (keyed HMAC of the ID number,
never the number: members stay sealed), indexed, so opening a case finds another case
of the same programme for the same applicant — open, or decided recently — without
unsealing anything. Rows older than this revision keep NULL: they are not matched.

``authorizations.programmes``: the programmes a form names when it names several
(comma-separated); NULL means only ``programme``, as before.

Both nullable, so a replica of the previous release keeps inserting during a rolling
update. The definitions are frozen here; never import ``hedui.gateway.store``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cases", sa.Column("applicant_key", sa.String(64), nullable=True))
    op.create_index("ix_cases_applicant_key", "cases", ["applicant_key"])
    op.add_column("authorizations", sa.Column("programmes", sa.Text(), nullable=True))


def downgrade() -> None:
    raise NotImplementedError("restore the case database from its backup instead")
