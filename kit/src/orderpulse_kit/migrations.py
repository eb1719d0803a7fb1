"""Schema migrations with Alembic, the same way in every service: each keeps its own revisions and
version table, and gets an init-container command (`python -m <service>.migrate`) from here. The
Alembic environment (`env.py`, the template of new revisions) is the kit's `alembic_env/`, once.

Migrations only add (expand now, contract in a later release), so the previous release still runs
on a migrated database: a rollback changes the image and leaves the schema. A database newer than
the code is therefore left alone, not refused. On PostgreSQL an advisory lock makes pods that start
together migrate one after another.

Alembic is imported only when a database is not at the service's `head` (one read of the version
table tells): importing it costs 12 MiB of every service's memory, for as long as it runs.

Beside its version table each service has `<service>_consumer_groups`, which the kit keeps, not
the revisions: the consumer groups that have started on this database (`lost_database`). It is in
the service's metadata, so autogenerate leaves it alone; the migrations create it after the
revisions and drop it with them at `base`.

"""

import argparse
import asyncio
import logging
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from orderpulse_kit import logs
from orderpulse_kit.database import connect

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)


class SchemaBehind(RuntimeError):
    """The database lacks migrations this version of the service needs."""


@dataclass(frozen=True)
class Migrations:
    """One service's migrations: its revisions, version table and tables."""

    package: str
    """The service's package; its Alembic revisions are in `<package>/migrations/versions/`."""
    version_table: str
    """Its own, so services may share one database; each owns its tables."""
    metadata: sa.MetaData
    """The tables as the code expects them, for `--new`; the consumer groups' table is added."""
    head: str
    """The last revision, which this version of the service needs (a test checks it is)."""
    groups: sa.Table = field(init=False, repr=False, compare=False)
    """The consumer groups that have started on this database, and since when."""

    def __post_init__(self) -> None:
        name = self.version_table.removesuffix("alembic_version").rstrip("_")
        groups = sa.Table(
            f"{name}_consumer_groups",
            self.metadata,
            sa.Column("group_id", sa.String(255), primary_key=True),
            sa.Column("since", sa.DateTime(timezone=True), nullable=False),
            keep_existing=True,
        )
        object.__setattr__(self, "groups", groups)

    async def upgrade(self, engine: AsyncEngine) -> None:
        """Apply every migration the database lacks; nothing when it is current or newer."""
        await self._locked(engine, self._upgrade)

    async def downgrade(self, engine: AsyncEngine, revision: str) -> None:
        """Undo migrations down to `revision` ("base" drops every table)."""
        await self._locked(engine, lambda conn: self._downgrade(conn, revision))

    async def require_current(self, engine: AsyncEngine) -> None:
        """Raise SchemaBehind unless the database has every migration this version needs."""
        async with engine.connect() as conn:
            missing = await conn.run_sync(self._missing)
        if missing:
            raise SchemaBehind(
                f"the database lacks migrations {', '.join(missing)}: "
                f"run `python -m {self.package}.migrate` first"
            )

    async def holds_nothing(self, engine: AsyncEngine) -> bool:
        """Whether none of the service's tables holds a row: the database is new, or lost (its
        tables missing, or created again by the migrations step and still empty). The version
        and consumer groups' tables do not count. One `LIMIT 1` read per table."""
        async with engine.connect() as conn:
            return await conn.run_sync(self._holds_nothing)

    async def started(self, engine: AsyncEngine, group: str) -> bool:
        """Whether consumer group `group` has started on this database before (`mark`)."""
        async with engine.connect() as conn:
            return await conn.run_sync(self._started, group)

    async def mark(self, engine: AsyncEngine, group: str) -> None:
        """Record that consumer group `group` has started on this database (once)."""
        await self._locked(engine, lambda conn: self._mark(conn, group))

    async def at_start(self, engine: AsyncEngine, *, migrate: bool) -> None:
        """Migrate, or only check where a migrations step ran before the service (Kubernetes);
        nothing to do, and Alembic not imported, when the database is at `head`."""
        async with engine.connect() as conn:
            if await conn.run_sync(self._at_head):
                return
        await (self.upgrade(engine) if migrate else self.require_current(engine))

    def main(self, database_url: str) -> None:
        """The `python -m <service>.migrate` command."""
        parser = argparse.ArgumentParser(prog=f"python -m {self.package}.migrate")
        action = parser.add_mutually_exclusive_group()
        action.add_argument("--down-to", metavar="REVISION", help="undo migrations to REVISION")
        action.add_argument(
            "--new", metavar="MESSAGE", help="write a migration for what the code's tables add"
        )
        args = parser.parse_args()
        logs.configure()
        asyncio.run(self._command(connect(database_url), args.down_to, args.new))

    async def _command(self, engine: AsyncEngine, down_to: str | None, new: str | None) -> None:
        try:
            if down_to:
                await self.downgrade(engine, down_to)
            elif new:

                def revision(connection: Connection) -> None:
                    from alembic import command

                    # As the code expects it, so that the new revision does not create it.
                    self.groups.create(connection, checkfirst=True)
                    script = command.revision(self._config(connection), new, autogenerate=True)
                    new_head = getattr(script, "revision", None)
                    log.warning("now set head=%r in %s.migrate", new_head, self.package)

                await self._locked(engine, revision)
            else:
                await self.upgrade(engine)
        finally:
            await engine.dispose()

    async def _locked(self, engine: AsyncEngine, action: Callable[[Connection], Any]) -> None:
        """`action` in a transaction that pods starting together take in turns."""
        async with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                key = zlib.crc32(self.version_table.encode())
                await conn.execute(sa.select(sa.func.pg_advisory_xact_lock(key)))
            await conn.run_sync(action)

    def _upgrade(self, connection: Connection) -> None:
        from alembic import command

        config = self._config(connection)
        newer = [rev for rev in self._current(connection) if not _known(config, rev)]
        if newer:
            log.warning("database schema %s is newer than this version: left as it is", newer)
        else:
            command.upgrade(config, "head")
        self.groups.create(connection, checkfirst=True)

    def _downgrade(self, connection: Connection, revision: str) -> None:
        from alembic import command

        command.downgrade(self._config(connection), revision)
        if revision == "base":
            self.groups.drop(connection, checkfirst=True)

    def _holds_nothing(self, connection: Connection) -> bool:
        existing = set(sa.inspect(connection).get_table_names())
        for table in self.metadata.sorted_tables:
            if table.name not in existing or table is self.groups:
                continue
            # A constant, not the columns: a table of an older schema is read as it is.
            row = sa.select(sa.literal(1)).select_from(table).limit(1)
            if connection.execute(row).first() is not None:
                return False
        return True

    def _started(self, connection: Connection, group: str) -> bool:
        if not sa.inspect(connection).has_table(self.groups.name):
            return False
        row = sa.select(sa.literal(1)).where(self.groups.c.group_id == group)
        return connection.execute(row).first() is not None

    def _mark(self, connection: Connection, group: str) -> None:
        # Created here too where a release without it migrated and start-up only checks.
        self.groups.create(connection, checkfirst=True)
        dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
        insert = dialect.insert(self.groups).values(group_id=group, since=datetime.now(UTC))
        connection.execute(insert.on_conflict_do_nothing())

    def _at_head(self, connection: Connection) -> bool:
        if not sa.inspect(connection).has_table(self.version_table):
            return False
        version = sa.table(self.version_table, sa.column("version_num"))
        return list(connection.execute(sa.select(version.c.version_num)).scalars()) == [self.head]

    def _missing(self, connection: Connection) -> list[str]:
        from alembic.script import ScriptDirectory

        config = self._config(connection)
        current = self._current(connection)
        if not all(_known(config, rev) for rev in current):
            return []
        script = ScriptDirectory.from_config(config)
        applied = {r.revision for r in script.iterate_revisions(current, "base")}
        return [r.revision for r in script.walk_revisions() if r.revision not in applied]

    def _current(self, connection: Connection) -> tuple[str, ...]:
        from alembic.runtime.migration import MigrationContext

        opts = {"version_table": self.version_table}
        return MigrationContext.configure(connection, opts=opts).get_current_heads()

    def _config(self, connection: Connection) -> "Config":
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", "orderpulse_kit:alembic_env")
        # Alembic splits this option on the separator; newline leaves the `package:path` intact.
        config.set_main_option("path_separator", "newline")
        config.set_main_option("version_locations", f"{self.package}:migrations/versions")
        config.attributes.update(connection=connection, migrations=self)
        return config


def _known(config: "Config", revision: str) -> bool:
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    try:
        return ScriptDirectory.from_config(config).get_revision(revision) is not None
    except CommandError:
        return False
