"""Give tests a PostgreSQL SQLAlchemy URL: from the env, Docker, or the installed server.

Order: ``ORDERPULSE_TEST_POSTGRES_URL`` as is; testcontainers' ``PostgresContainer`` when a
Docker engine answers; otherwise the local server binaries (``postgres_local``).
"""

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from orderpulse_devkit.docker_engine import docker_engine_answers
from orderpulse_devkit.postgres_local import LocalPostgresServer

if TYPE_CHECKING:
    from testcontainers.community.postgres import PostgresContainer

__all__ = ["POSTGRES_IMAGE", "LocalPostgresServer", "postgres_url"]

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
