"""Alembic's entry point for every service: migrate on the connection `Migrations` hands over."""

from alembic import context
from sqlalchemy.engine import Connection

from orderpulse_kit.migrations import Migrations

connection: Connection = context.config.attributes["connection"]
migrations: Migrations = context.config.attributes["migrations"]
context.configure(
    connection=connection,
    target_metadata=migrations.metadata,
    version_table=migrations.version_table,
    # SQLite cannot alter most things in place; batch mode copies the table instead.
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
