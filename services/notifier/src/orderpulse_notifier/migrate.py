"""`python -m orderpulse_notifier.migrate [--down-to REVISION | --new MESSAGE]`: bring the database
in `NOTIFIER_DATABASE_URL` to this version's tables (Kubernetes runs it as an init container)."""

from orderpulse_kit.migrations import Migrations
from orderpulse_notifier import stop_list  # noqa: F401  (adds its table to `metadata`)
from orderpulse_notifier.settings import Settings
from orderpulse_notifier.store import metadata

MIGRATIONS = Migrations(
    "orderpulse_notifier", "notifier_alembic_version", metadata, head="a4c8e2d5f610"
)

if __name__ == "__main__":
    MIGRATIONS.main(Settings().database_url.get_secret_value())
