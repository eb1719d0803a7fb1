"""The timeline's door."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from orderpulse_devkit.asgi import get
from orderpulse_kit.database import connect
from orderpulse_status_tracker import http
from orderpulse_status_tracker.timeline import Timeline


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = connect(f"sqlite+aiosqlite:///{tmp_path / 'tracker.db'}")
    yield engine
    await engine.dispose()


def app(engine: AsyncEngine, token: str | None = "t0ken"):  # type: ignore[no-untyped-def]
    routes = dict(
        http.routes(
            timeline=Timeline(engine), token=SecretStr(token) if token is not None else None
        )
    )

    async def asgi(scope, receive, send):  # type: ignore[no-untyped-def]
        await routes[scope["path"]](scope, receive, send)

    return asgi


async def test_the_timeline_is_closed_without_a_configured_token(engine: AsyncEngine) -> None:
    closed = app(engine, token=None)
    assert (await get(closed, "/timeline?shop=s&order=o", token=""))[0] == 401
    assert (await get(closed, "/timeline?shop=s&order=o", token="None"))[0] == 401


async def test_the_timeline_asks_for_shop_and_order(engine: AsyncEngine) -> None:
    assert (await get(app(engine), "/timeline?shop=s", token="t0ken"))[0] == 400
