"""Schema migrations with Alembic, the same way in every service: each keeps its own revisions and
version table, and gets an init-container command (`python -m <service>.migrate`) from here. The
Alembic environment (`env.py`, the template of new revisions) is the kit's `alembic_env/`, once.

Migrations only add (expand now, contract in a later release), so the previous release still runs
on a migrated database: a rollback changes the image and leaves the schema. A database newer than
the code is therefore left alone, not refused. On PostgreSQL an advisory lock makes pods that start
together migrate one after another.

"""

import argparse
import asyncio
import logging
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from orderpulse_kit import logs
from orderpulse_kit.database import connect

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
    """The tables as the code expects them, for `--new`."""

    async def upgrade(self, engine: AsyncEngine) -> None:
        """Apply every migration the database lacks; nothing when it is current or newer."""
        await self._locked(engine, self._upgrade)

    async def downgrade(self, engine: AsyncEngine, revision: str) -> None:
        """Undo migrations down to `revision` ("base" drops every table)."""
        await self._locked(engine, lambda config, _: command.downgrade(config, revision))

    async def require_current(self, engine: AsyncEngine) -> None:
        """Raise SchemaBehind unless the database has every migration this version needs."""
        async with engine.connect() as conn:
            missing = await conn.run_sync(self._missing)
        if missing:
            raise SchemaBehind(
                f"the database lacks migrations {', '.join(missing)}: "
                f"run `python -m {self.package}.migrate` first"
            )

    async def at_start(self, engine: AsyncEngine, *, migrate: bool) -> None:
        """Migrate, or only check where a migrations step ran before the service (Kubernetes)."""
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
                await self._locked(
                    engine, lambda config, _: command.revision(config, new, autogenerate=True)
                )
            else:
                await self.upgrade(engine)
        finally:
            await engine.dispose()

    async def _locked(
        self, engine: AsyncEngine, action: Callable[[Config, Connection], Any]
    ) -> None:
        async with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                key = zlib.crc32(self.version_table.encode())
                await conn.execute(sa.select(sa.func.pg_advisory_xact_lock(key)))
            await conn.run_sync(lambda sync: action(self._config(sync), sync))

    def _upgrade(self, config: Config, connection: Connection) -> None:
        newer = [rev for rev in self._current(connection) if not _known(config, rev)]
        if newer:
            log.warning("database schema %s is newer than this version: left as it is", newer)
            return
        command.upgrade(config, "head")

    def _missing(self, connection: Connection) -> list[str]:
        config = self._config(connection)
        current = self._current(connection)
        if not all(_known(config, rev) for rev in current):
            return []
        script = ScriptDirectory.from_config(config)
        applied = {r.revision for r in script.iterate_revisions(current, "base")}
        return [r.revision for r in script.walk_revisions() if r.revision not in applied]

    def _current(self, connection: Connection) -> tuple[str, ...]:
        opts = {"version_table": self.version_table}
        return MigrationContext.configure(connection, opts=opts).get_current_heads()

    def _config(self, connection: Connection) -> Config:
        config = Config()
        config.set_main_option("script_location", "orderpulse_kit:alembic_env")
        # Alembic splits this option on the separator; newline leaves the `package:path` intact.
        config.set_main_option("path_separator", "newline")
        config.set_main_option("version_locations", f"{self.package}:migrations/versions")
        config.attributes.update(connection=connection, migrations=self)
        return config


def _known(config: Config, revision: str) -> bool:
    try:
        return ScriptDirectory.from_config(config).get_revision(revision) is not None
    except CommandError:
        return False
