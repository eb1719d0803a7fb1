"""The local PostgreSQL fallback, for real: one server for the module, queries through the
URL it yields, idempotent start and stop, and a clear error when no server is installed.

The last test stops the module's server, so it stays at the end of the file.
"""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest

from orderpulse_devkit import postgres_binaries
from orderpulse_devkit.errors import ToolNotFound
from orderpulse_devkit.postgres import LocalPostgresServer, postgres_url

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
async def server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LocalPostgresServer]:
    server = LocalPostgresServer(tmp_path_factory.mktemp("postgres"))
    await server.start()
    yield server
    await server.stop()


def _dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def test_url_reaches_the_orderpulse_database(server: LocalPostgresServer) -> None:
    assert server.url.startswith("postgresql+asyncpg://postgres@127.0.0.1:")
    connection = await asyncpg.connect(_dsn(server.url))
    try:
        await connection.execute("CREATE TABLE orders (id text PRIMARY KEY, status text)")
        await connection.execute("INSERT INTO orders VALUES ('42', 'doručeno')")
        row = await connection.fetchrow("SELECT current_database() AS db, status FROM orders")
    finally:
        await connection.close()
    assert (row["db"], row["status"]) == ("orderpulse", "doručeno")


async def test_url_works_with_sqlalchemy(server: LocalPostgresServer) -> None:
    sqlalchemy = pytest.importorskip("sqlalchemy")
    asyncio_ext = pytest.importorskip("sqlalchemy.ext.asyncio")
    engine = asyncio_ext.create_async_engine(server.url)
    try:
        async with engine.connect() as connection:
            result = await connection.execute(sqlalchemy.text("SELECT 1"))
            assert result.scalar_one() == 1
    finally:
        await engine.dispose()


async def test_start_again_keeps_the_running_server(server: LocalPostgresServer) -> None:
    pid, url = server.running_pid(), server.url
    assert pid is not None
    assert await server.start() is False
    assert (server.running_pid(), server.url) == (pid, url)


async def test_env_url_is_used_as_is(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = "postgresql+asyncpg://someone:secret@db.example:5432/orders"
    monkeypatch.setenv("ORDERPULSE_TEST_POSTGRES_URL", url)
    async with postgres_url(tmp_path / "unused") as yielded:
        assert yielded == url
    assert not (tmp_path / "unused").exists()


async def test_missing_server_binaries_say_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(postgres_binaries, "DEBIAN_ROOT", tmp_path)
    with pytest.raises(ToolNotFound, match="apt-get install postgresql"):
        await LocalPostgresServer(tmp_path / "work").start()


async def test_stop_is_idempotent(server: LocalPostgresServer) -> None:
    port = int(server.url.rsplit(":", 1)[1].split("/", 1)[0])
    await server.stop()
    await server.stop()
    assert server.running_pid() is None
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", port)
    assert (server.workdir / "postgres.log").stat().st_size > 0
