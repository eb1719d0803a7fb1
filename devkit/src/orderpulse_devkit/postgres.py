"""Give tests a PostgreSQL SQLAlchemy URL: from the env, Docker, or the installed server.

Order: ``ORDERPULSE_TEST_POSTGRES_URL`` as is; testcontainers' ``PostgresContainer`` when a
Docker engine answers; otherwise the local server binaries (``postgres_local``).
"""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import asyncpg  # type: ignore[import-untyped]

from orderpulse_devkit.docker_engine import docker_engine_answers
from orderpulse_devkit.postgres_local import LocalPostgresServer

if TYPE_CHECKING:
    from testcontainers.community.postgres import PostgresContainer

__all__ = ["POSTGRES_IMAGE", "LocalPostgresServer", "new_database", "postgres_url"]

POSTGRES_IMAGE = "postgres:15-alpine"
"""Same major version as Debian 12's server, so both paths behave alike."""


@asynccontextmanager
async def postgres_url(
    workdir: Path,
    *,
    database: str = "orderpulse",
    port: int | None = None,
    start_timeout: float = 30.0,
) -> AsyncIterator[str]:
    """Yield ``postgresql+asyncpg://...`` of a ready database; stop the server afterwards.

    ``workdir`` holds the local server's cluster and log; ``port`` applies to it only.
    """
    if external := os.environ.get("ORDERPULSE_TEST_POSTGRES_URL"):
        yield external
    elif await asyncio.to_thread(docker_engine_answers):
        async with _postgres_container(database) as url:
            yield url
    else:
        server = LocalPostgresServer(
            workdir, port=port, database=database, start_timeout=start_timeout
        )
        launched = await server.start()
        try:
            yield server.url
        finally:
            if launched:
                await server.stop()


@asynccontextmanager
async def _postgres_container(database: str) -> AsyncIterator[str]:
    container = await asyncio.to_thread(_start_container, database)
    try:
        url: str = container.get_connection_url()
        yield url
    finally:
        await asyncio.to_thread(container.stop)


def _start_container(database: str) -> "PostgresContainer":
    from testcontainers.community.postgres import PostgresContainer

    container = PostgresContainer(
        POSTGRES_IMAGE, username="postgres", password="postgres", dbname=database, driver="asyncpg"
    )
    return container.start()


def new_database(server_url: str, prefix: str = "test") -> str:
    """The URL of a new, empty database on the server of `server_url` (a `postgres_url`): tests
    share one server, never a database."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    parts = urlsplit(server_url)
    asyncio.run(_create_database(urlunsplit(parts._replace(scheme="postgresql")), name))
    return urlunsplit(parts._replace(path=f"/{name}"))


async def _create_database(dsn: str, name: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
