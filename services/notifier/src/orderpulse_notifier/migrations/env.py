"""Alembic's entry point for the notifier service's migrations."""

from orderpulse_kit.migrations import run

run()
