"""The beneficiary roster, re-verification runs, their households and change alerts.

Revision ID: 0007
Revises: 0006
Create Date: 2027-04-01

``roster``: the households a programme pays (enrolled from a decided case or imported
from the programme's list). Members are stored sealed, like a case's; the applicant's
audit pseudonym is kept in clear so a second enrolment of the same household is found
without unsealing anything (unique per programme).

``reverification_runs``: one yearly (or ad hoc) pass over a programme's active roster,
with running totals. ``run_households``: each household's part of a run, claimed by
compare-and-set so two gateway processes never decide the same household, and its
sealed determination. ``alerts``: what changed since the previous determination, graded,
with a due date in working days and the caseworker's action.

New tables only, so a replica of the previous release keeps working during a rolling
update. The definitions are frozen here; never import ``hedui.gateway.store``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "roster",
        sa.Column("roster_id", sa.String(64), primary_key=True),
        sa.Column("programme", sa.String(64), nullable=False),
        sa.Column("region", sa.String(16), nullable=False),
        sa.Column("township", sa.String(16), nullable=False),
        sa.Column("household_ref", sa.String(128), nullable=False),
        sa.Column("members_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("applicant_pseudonym", sa.String(64), nullable=False),
        sa.Column("enrolled_on", sa.Date(), nullable=False),
        sa.Column("authorization_number", sa.String(64), nullable=False),
        sa.Column("consent_digest", sa.String(128), nullable=False),
        sa.Column("authorization_valid_until", sa.Date(), nullable=True),
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("programme", "applicant_pseudonym",
                            name="uq_roster_programme_applicant"),
    )
    op.create_index("ix_roster_programme_active", "roster", ["programme", "active"])
    op.create_table(
        "reverification_runs",
        sa.Column("run_id", sa.String(64), primary_key=True),
        sa.Column("programme", sa.String(64), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("started_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("households", sa.Integer(), nullable=False),
        sa.Column("decided", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("alerts_red", sa.Integer(), nullable=False),
        sa.Column("alerts_orange", sa.Integer(), nullable=False),
        sa.Column("alerts_yellow", sa.Integer(), nullable=False),
    )
    op.create_index("ix_reverification_runs_state", "reverification_runs", ["state"])
    op.create_table(
        "run_households",
        sa.Column("run_id", sa.String(64), primary_key=True),
        sa.Column("roster_id", sa.String(64), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("claimed_by", sa.String(128), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(40), nullable=False),
        sa.Column("determination_digest", sa.LargeBinary(), nullable=True),
        sa.Column("determination_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("previous_digest", sa.LargeBinary(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failure_reason", sa.Text(), nullable=True),
    )
    op.create_index("ix_run_households_run_state", "run_households", ["run_id", "state"])
    op.create_index("ix_run_households_roster_decided", "run_households",
                    ["roster_id", "decided_at"])
    op.create_table(
        "alerts",
        sa.Column("alert_id", sa.String(64), primary_key=True),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("roster_id", sa.String(64), nullable=False),
        sa.Column("grade", sa.String(8), nullable=False),
        sa.Column("township", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("changes_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("acted_by", sa.String(64), nullable=True),
        sa.Column("acted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("review_case_id", sa.String(64), nullable=True),
    )
    op.create_index("ix_alerts_state_township_due_on", "alerts",
                    ["state", "township", "due_on"])
    op.create_index("ix_alerts_run_id", "alerts", ["run_id"])
    op.create_table(
        "bulk_chunks",
        sa.Column("chunk_digest", sa.LargeBinary(), primary_key=True),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("query_digest", sa.LargeBinary(), nullable=False),
        sa.Column("chunk_index", sa.Integer(), nullable=False),
        sa.Column("envelope_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_bulk_chunks_run_id", "bulk_chunks", ["run_id"])


def downgrade() -> None:
    raise NotImplementedError("restore the case database from its backup instead")
