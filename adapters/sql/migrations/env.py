"""Alembic environment for the broker's tables (see adapters.sql.migrate)."""

from alembic import context

from adapters.sql.migrate import run_environment

run_environment(context)
