"""`python -m orderpulse_returns.migrate [--down-to REVISION | --new MESSAGE]`: bring the database
in `RETURNS_DATABASE_URL` to this version's tables (Kubernetes runs it as an init container)."""

from orderpulse_kit.migrations import Migrations
from orderpulse_returns.settings import Settings
from orderpulse_returns.store import metadata

MIGRATIONS = Migrations(
    "orderpulse_returns", "returns_alembic_version", metadata, head="b7d2e4f19a30"
)

if __name__ == "__main__":
    MIGRATIONS.main(Settings().database_url.get_secret_value())
