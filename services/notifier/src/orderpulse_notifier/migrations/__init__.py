"""The notifier service's Alembic scripts; run them with `python -m orderpulse_notifier.migrate`."""
