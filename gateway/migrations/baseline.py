"""The case database exactly as ``hedui.gateway.store`` created it before migrations.

A frozen copy: revision ``0001`` creates these tables, and ``upgrade`` compares an
unversioned database (made by ``CaseStore``'s ``create_all``) with them before adopting
it. Never edit this file to follow ``store.py``: change the schema with a new revision
in ``versions/`` (the drift test in tests/deploy compares ``head`` with ``store.py``).
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

cases = Table(
    "cases", metadata,
    Column("case_id", String(64), primary_key=True),
    Column("state", String(40), nullable=False, index=True),
    Column("programme", String(64), nullable=False),
    Column("region", String(16), nullable=False),
    Column("authorization_number", String(64), nullable=False),
    Column("operator", String(64), nullable=False),
    # serialized OpenCaseRequest(members=...), sealed
    Column("members_sealed", LargeBinary, nullable=False),
    Column("outcome", String(40), nullable=False, default=""),
    Column("report_digest", LargeBinary, nullable=False, default=b""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False, default=0),
    # who holds the case right now (replica id) while QUERYING
    Column("claimed_by", String(128), nullable=False, default=""),
    Column("batch_key", String(128), nullable=True, unique=True),
)

case_departments = Table(
    "case_departments", metadata,
    Column("case_id", String(64), primary_key=True),
    Column("department", String(40), primary_key=True),
    Column("state", String(40), nullable=False),
    Column("reason", Text, nullable=False, default=""),
    Column("answer_digest", LargeBinary, nullable=False, default=b""),
    Column("attempts", Integer, nullable=False, default=0),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

answers = Table(
    "answers", metadata,
    Column("case_id", String(64), primary_key=True),
    Column("department", String(40), primary_key=True),
    Column("agent", String(255), nullable=False),
    Column("query_digest", LargeBinary, nullable=False),
    Column("answer_digest", LargeBinary, nullable=False),
    # the signed Answer envelope, sealed; NULL once erased after retention
    Column("answer_sealed", LargeBinary, nullable=True),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("erase_after", DateTime(timezone=True), nullable=False, index=True),
    Column("erased_at", DateTime(timezone=True), nullable=True),
)

reports = Table(
    "reports", metadata,
    Column("case_id", String(64), primary_key=True),
    Column("digest", LargeBinary, nullable=False),
    Column("envelope_sealed", LargeBinary, nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
)

case_audit_leaves = Table(
    "case_audit_leaves", metadata,
    Column("case_id", String(64), primary_key=True),
    Column("leaf_index", Integer, primary_key=True),
)

authorizations = Table(
    "authorizations", metadata,
    Column("number", String(64), primary_key=True),
    Column("programme", String(64), nullable=False),
    # comma-separated audit pseudonyms of the covered ID numbers
    Column("covered", Text, nullable=False),
    Column("signed_on", String(10), nullable=False),
    Column("valid_from", String(10), nullable=False),
    Column("valid_until", String(10), nullable=False),
    Column("document_sha256", String(64), nullable=False),
    Column("revoked", Boolean, nullable=False, default=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Column("revocation_reason", Text, nullable=False, default=""),
    Column("registered_by", String(64), nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False),
)

