"""Alembic's entry point for the status-tracker service's migrations."""

from orderpulse_schemas.migrations import run

run()
