"""Alembic's entry point for the status-tracker service's migrations."""

from orderpulse_kit.migrations import run

run()
