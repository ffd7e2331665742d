"""Revisions of the audit log's tables (loaded by Alembic by path, not imported)."""
