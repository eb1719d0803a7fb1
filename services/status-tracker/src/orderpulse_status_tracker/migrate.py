"""`python -m orderpulse_status_tracker.migrate [--down-to REVISION | --new MESSAGE]`: bring the
database in `TRACKER_DATABASE_URL` to this version's tables (Kubernetes runs it as an init
container)."""

from orderpulse_kit.migrations import Migrations
from orderpulse_status_tracker.settings import Settings
from orderpulse_status_tracker.tables import metadata

MIGRATIONS = Migrations(
    "orderpulse_status_tracker", "tracker_alembic_version", metadata, head="d41c7e2a9b60"
)

if __name__ == "__main__":
    MIGRATIONS.main(Settings().database_url.get_secret_value())
