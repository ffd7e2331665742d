"""Revisions of the case database (loaded by Alembic by path, not imported)."""
