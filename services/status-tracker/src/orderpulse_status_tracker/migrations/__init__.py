"""The tracker's Alembic scripts; run them with `python -m orderpulse_status_tracker.migrate`."""
