"""Alembic environment of the gateway's case database: run on the runner's connection."""

from alembic import context

from hedui.audit.migrations.runner import configure_context

configure_context(context)
