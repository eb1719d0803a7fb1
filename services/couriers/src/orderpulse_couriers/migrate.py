"""`python -m orderpulse_couriers.migrate [--down-to REVISION | --new MESSAGE]`: bring the database
in `COURIERS_DATABASE_URL` to this version's tables (Kubernetes runs it as an init container)."""

from orderpulse_couriers.settings import Settings
from orderpulse_couriers.tables import metadata
from orderpulse_kit.migrations import Migrations

MIGRATIONS = Migrations(
    "orderpulse_couriers", "couriers_alembic_version", metadata, head="c8203bba9f81"
)

if __name__ == "__main__":
    MIGRATIONS.main(Settings().database_url.get_secret_value())
