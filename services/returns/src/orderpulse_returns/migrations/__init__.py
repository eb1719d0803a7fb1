"""The returns service's Alembic scripts; run them with `python -m orderpulse_returns.migrate`."""
