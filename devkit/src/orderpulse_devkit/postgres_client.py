"""Talk to a starting PostgreSQL server with asyncpg: wait until it answers, add a database.

A server counts as ready only when a real connection runs ``SELECT 1``; an open port can
still answer "the database system is starting up".
"""

import asyncio
import contextlib
from collections.abc import Callable

import asyncpg  # type: ignore[import-untyped]

USER = "postgres"
NOT_YET = (asyncpg.PostgresError, asyncpg.InterfaceError)
"""What a server that is still starting up raises besides OSError."""


async def wait_for_postgres(port: int, *, alive: Callable[[], bool]) -> None:
    """Return once 127.0.0.1:port runs ``SELECT 1``; ChildProcessError if ``alive()`` fails.

    Bound it with ``asyncio.timeout``.
    """
    while True:
        if not alive():
            raise ChildProcessError("the server process exited")
        with contextlib.suppress(
            OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError
        ):
            if await _select_one(port, "postgres"):
                return
        await asyncio.sleep(0.1)


async def ensure_database(port: int, name: str) -> None:
    """Create database ``name`` unless it exists, then check that it answers."""
    connection = await asyncpg.connect(host="127.0.0.1", port=port, user=USER, database="postgres")
    try:
        exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            quoted = '"' + name.replace('"', '""') + '"'
            await connection.execute(f"CREATE DATABASE {quoted}")
    finally:
        await connection.close()
    if not await _select_one(port, name):
        raise RuntimeError(f"database {name!r} does not answer SELECT 1")


async def _select_one(port: int, database: str) -> bool:
    connection = await asyncpg.connect(
        host="127.0.0.1", port=port, user=USER, database=database, timeout=5
    )
    try:
        return bool(await connection.fetchval("SELECT 1") == 1)
    finally:
        await connection.close()
