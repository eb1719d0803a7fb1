"""Every service's Alembic migrations build exactly the tables its code uses, on SQLite and
PostgreSQL, and behave as the deployment relies on: idempotent, reversible, serialised, and
tolerant of a newer database (a rollback of the image)."""

import asyncio
import importlib
import subprocess
import sys
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from orderpulse_kit.database import connect
from orderpulse_kit.migrations import Migrations, SchemaBehind

SERVICES = [
    "orderpulse_status_tracker",
    "orderpulse_notifier",
    "orderpulse_returns",
    "orderpulse_couriers",
]


@pytest.fixture(params=SERVICES)
def migrations(request: pytest.FixtureRequest) -> Migrations:
    module = importlib.import_module(f"{request.param}.migrate")
    found: Migrations = module.MIGRATIONS
    return found


@pytest.fixture
async def engine(migrations: Migrations, database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = connect(database_url)
    yield engine
    await engine.dispose()


async def test_the_migrated_database_has_exactly_the_code_s_tables(
    migrations: Migrations, engine: AsyncEngine
) -> None:
    await migrations.upgrade(engine)

    async with engine.connect() as conn:
        differences = await conn.run_sync(_differences, migrations)
    assert differences == []
    assert await _tables(engine) == {*migrations.metadata.tables, migrations.version_table}


async def test_start_up_refuses_a_database_that_was_not_migrated(
    migrations: Migrations, engine: AsyncEngine
) -> None:
    with pytest.raises(SchemaBehind, match=rf"python -m {migrations.package}\.migrate"):
        await migrations.at_start(engine, migrate=False)

    await migrations.at_start(engine, migrate=True)
    await migrations.at_start(engine, migrate=False)


async def test_head_is_the_last_revision(migrations: Migrations, engine: AsyncEngine) -> None:
    """Start-up trusts `head` to tell a current database: a new revision must move it."""
    async with engine.connect() as conn:
        heads = await conn.run_sync(
            lambda sync: ScriptDirectory.from_config(migrations._config(sync)).get_heads()
        )
    assert heads == [migrations.head], f"set head={heads} in {migrations.package}.migrate"


async def test_starting_on_a_current_database_does_not_import_alembic(
    migrations: Migrations, engine: AsyncEngine, database_url: str
) -> None:
    """Importing Alembic costs every service 12 MiB of memory for as long as it runs."""
    await migrations.upgrade(engine)
    start = f"""
import asyncio, sys
from orderpulse_kit.database import connect
from {migrations.package}.migrate import MIGRATIONS

async def start(migrate):
    engine = connect({database_url!r})
    await MIGRATIONS.at_start(engine, migrate=migrate)
    await MIGRATIONS.mark(engine, "a-group")
    await engine.dispose()

asyncio.run(start(False))
asyncio.run(start(True))
print(sorted({{name.partition(".")[0] for name in sys.modules}} & {{"alembic", "mako"}}))
"""
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", start, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    out, err = await child.communicate()
    assert child.returncode == 0, err.decode()
    assert out.decode().strip() == "[]"
    assert await migrations.started(engine, "a-group")


async def test_migrating_again_changes_nothing_and_down_to_base_drops_every_table(
    migrations: Migrations, engine: AsyncEngine
) -> None:
    await migrations.upgrade(engine)
    await migrations.upgrade(engine)

    await migrations.downgrade(engine, "base")
    assert await _tables(engine) <= {migrations.version_table}
    with pytest.raises(SchemaBehind):
        await migrations.require_current(engine)

    await migrations.upgrade(engine)
    await migrations.require_current(engine)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_pods_starting_together_migrate_one_after_another(
    migrations: Migrations, engine: AsyncEngine
) -> None:
    """Only PostgreSQL is shared by pods: a SQLite file belongs to one process."""
    await asyncio.gather(*(migrations.upgrade(engine) for _ in range(4)))

    await migrations.require_current(engine)


async def test_a_database_migrated_by_a_newer_release_is_left_alone(
    migrations: Migrations, engine: AsyncEngine
) -> None:
    """Rolling the image back must not fail in the init container nor at start-up."""
    await migrations.upgrade(engine)
    version = sa.table(migrations.version_table, sa.column("version_num"))
    async with engine.begin() as conn:
        await conn.execute(version.update().values(version_num="f00dfacefeed"))

    await migrations.upgrade(engine)
    await migrations.require_current(engine)

    async with engine.connect() as conn:
        assert await conn.scalar(sa.select(version.c.version_num)) == "f00dfacefeed"


def _differences(connection: Connection, migrations: Migrations) -> list[object]:
    context = MigrationContext.configure(
        connection, opts={"version_table": migrations.version_table}
    )
    return list(compare_metadata(context, migrations.metadata))


async def _tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return set(await conn.run_sync(lambda sync: sa.inspect(sync).get_table_names()))
