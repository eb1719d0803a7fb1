"""Health, readiness and the timeline's door, with a broker ping and a consumer we control."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from orderpulse_kit.database import connect
from orderpulse_status_tracker import http
from orderpulse_status_tracker.timeline import Timeline

from ..asgi import get


async def answers(_wait: float) -> bool:
    return True


async def silent(_wait: float) -> bool:
    return False


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = connect(f"sqlite+aiosqlite:///{tmp_path / 'tracker.db'}")
    yield engine
    await engine.dispose()


def app(engine: AsyncEngine, ping=answers, token: str | None = "t0ken", consuming=True):  # type: ignore[no-untyped-def]
    routes = dict(
        http.routes(
            consuming=lambda: consuming,
            broker_ping=ping,
            engine=engine,
            timeline=Timeline(engine),
            token=SecretStr(token) if token is not None else None,
        )
    )

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


async def test_the_timeline_is_closed_without_a_configured_token(engine: AsyncEngine) -> None:
    closed = app(engine, token=None)
    assert (await get(closed, "/timeline?shop=s&order=o", token=""))[0] == 401
    assert (await get(closed, "/timeline?shop=s&order=o", token="None"))[0] == 401


async def test_the_timeline_asks_for_shop_and_order(engine: AsyncEngine) -> None:
    assert (await get(app(engine), "/timeline?shop=s", token="t0ken"))[0] == 400
