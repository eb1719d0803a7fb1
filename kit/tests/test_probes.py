"""Health and readiness, with a broker ping and a consumer we control."""

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from orderpulse_devkit.asgi import get
from orderpulse_kit import probes
from orderpulse_kit.database import connect


async def answers(_wait: float) -> bool:
    return True


async def silent(_wait: float) -> bool:
    return False


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = connect(f"sqlite+aiosqlite:///{tmp_path / 'service.db'}")
    yield engine
    await engine.dispose()


def app(engine: AsyncEngine, ping=answers, consuming=True):  # type: ignore[no-untyped-def]
    routes = dict(probes.routes(consuming=lambda: consuming, broker_ping=ping, engine=engine))

    async def asgi(scope, receive, send):  # type: ignore[no-untyped-def]
        await routes[scope["path"]](scope, receive, send)

    return asgi


async def test_ready_when_database_and_broker_answer(engine: AsyncEngine) -> None:
    assert await get(app(engine), "/readyz") == (200, {"ready": True})


async def test_not_ready_without_the_broker(engine: AsyncEngine) -> None:
    assert await get(app(engine, silent), "/readyz") == (503, {"ready": False, "failing": "kafka"})


async def test_not_ready_without_the_database(tmp_path: Path) -> None:
    broken = connect(f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'dir' / 'x.db'}")
    (tmp_path / "missing" / "dir").rmdir()  # the directory is gone: the database cannot open
    status, body = await get(app(broken), "/readyz")
    assert (status, body) == (503, {"ready": False, "failing": "database"})
    await broken.dispose()


NOT_READY = (503, {"ready": False, "failing": "database"})


async def test_not_ready_once_the_database_file_is_deleted(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    """The open connections would go on writing the deleted file: lost at the next start."""
    assert (await get(app(engine), "/readyz"))[0] == 200
    (tmp_path / "service.db").unlink()
    assert await get(app(engine), "/readyz") == NOT_READY
    assert not (tmp_path / "service.db").exists()  # the probe did not create an empty one


async def test_not_ready_once_the_database_file_is_replaced(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    """A connection opened after the deletion (the pool's one replaced after an error) creates
    an empty file under the same name."""
    probed = app(engine)
    assert (await get(probed, "/readyz"))[0] == 200
    # Held open, as by whoever still uses it: its inode is not given to the new file.
    with (tmp_path / "service.db").open("rb"):
        (tmp_path / "service.db").unlink()
        await engine.dispose()
        async with engine.connect():
            assert (tmp_path / "service.db").exists()
        assert await get(probed, "/readyz") == NOT_READY


async def test_not_ready_once_the_database_file_is_read_only(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    assert (await get(app(engine), "/readyz"))[0] == 200
    (tmp_path / "service.db").chmod(0o444)
    assert await get(app(engine), "/readyz") == NOT_READY
    (tmp_path / "service.db").chmod(0o644)
    assert (await get(app(engine), "/readyz"))[0] == 200


@pytest.mark.postgres
async def test_not_ready_while_postgresql_refuses_writes(postgres_server: str) -> None:
    """A standby after a failover, or a database set read-only."""
    server = make_url(postgres_server)
    name = f"probe_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(
        host=server.host,
        port=server.port,
        user=server.username,
        password=server.password,
        database=server.database,
    )
    engine = connect(server.set(database=name).render_as_string(hide_password=False))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        assert (await get(app(engine), "/readyz"))[0] == 200
        await admin.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
        await engine.dispose()  # the setting applies to new sessions
        assert await get(app(engine), "/readyz") == NOT_READY
    finally:
        await engine.dispose()
        await admin.close()


async def test_alive_while_consuming_even_without_the_broker(engine: AsyncEngine) -> None:
    assert (await get(app(engine, silent), "/healthz"))[0] == 204


async def test_not_alive_once_the_consumer_stopped(engine: AsyncEngine) -> None:
    assert await get(app(engine, consuming=False), "/healthz") == (503, {"consuming": False})
