"""Health and readiness, with a broker ping and a consumer we control."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
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


async def test_alive_while_consuming_even_without_the_broker(engine: AsyncEngine) -> None:
    assert (await get(app(engine, silent), "/healthz"))[0] == 204


async def test_not_alive_once_the_consumer_stopped(engine: AsyncEngine) -> None:
    assert await get(app(engine, consuming=False), "/healthz") == (503, {"consuming": False})
