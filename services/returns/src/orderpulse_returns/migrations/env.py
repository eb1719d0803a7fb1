"""Alembic's entry point for the returns service's migrations."""

from orderpulse_kit.migrations import run

run()
