"""Alembic's entry point for the returns service's migrations."""

from orderpulse_schemas.migrations import run

run()
