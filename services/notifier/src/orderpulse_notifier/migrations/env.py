"""Alembic's entry point for the notifier service's migrations."""

from orderpulse_schemas.migrations import run

run()
