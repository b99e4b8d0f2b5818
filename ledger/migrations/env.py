"""Alembic environment for the ledger's tables (see crossforce.adapters.sql.migrate)."""

from alembic import context

from crossforce.adapters.sql.migrate import run_environment

run_environment(context)
