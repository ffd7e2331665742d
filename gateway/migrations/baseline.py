"""The case database exactly as the release before migrations created it: frozen copies.

``metadata``: the tables of ``hedui.gateway.store`` (revision ``0001``). ``offline``: the
tables of ``hedui.gateway.offline`` (revision ``0002``), which that release created in the
same database the first time a bundle was exported or imported. ``upgrade`` compares an
unversioned database with these before adopting it.

Never edit this file to follow ``store.py`` or ``offline.py``: change the schema with a
new revision in ``versions/`` (the drift test in tests/deploy compares ``head`` with them).
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


#: the offline-bundle tables of ``hedui.gateway.offline`` as first released (revision 0002)
offline = MetaData()

offline_queries = Table(
    "offline_queries", offline,
    Column("query_id", String(64), primary_key=True),
    Column("bundle_id", String(64), nullable=False, index=True),
    Column("case_id", String(64), nullable=False, index=True),
    Column("department", String(40), nullable=False),
    # SHA-256 of the signed query payload: the answer must be bound to it
    Column("query_digest", LargeBinary, nullable=False),
    # the signed Query envelope (it names persons), sealed with the answers key
    Column("query_sealed", LargeBinary, nullable=False),
    # audit leaf of the QUERY_SENT entry, cited by the case's report
    Column("sent_leaf", Integer, nullable=False),
    Column("exported_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    # PENDING until answered; ANSWERED, REFUSED (by the agent) or SUPERSEDED (a sibling
    # query of the same case and department was answered first)
    Column("state", String(16), nullable=False, index=True),
    Column("answer_digest", LargeBinary, nullable=False, default=b""),
    Column("settled_bundle_id", String(64), nullable=False, default=""),
    Column("settled_at", DateTime(timezone=True), nullable=True),
)

#: bundles written and bundles imported (the import side refuses a bundle id seen before)
offline_bundles = Table(
    "offline_bundles", offline,
    Column("bundle_id", String(64), primary_key=True),
    Column("direction", String(8), nullable=False),  # EXPORT or IMPORT
    Column("department", String(40), nullable=False),
    Column("peer", String(255), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("count", Integer, nullable=False),
    Column("file_sha256", LargeBinary, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)

