"""Alembic environment of the audit log: run on the connection hedui's runner holds."""

from alembic import context

from hedui.audit.migrations.runner import configure_context

configure_context(context)
