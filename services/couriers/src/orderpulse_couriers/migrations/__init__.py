"""The couriers service's Alembic scripts; run them with `python -m orderpulse_couriers.migrate`."""
