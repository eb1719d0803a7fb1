"""The timeline's door."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from orderpulse_devkit.asgi import get
from orderpulse_kit.database import connect
from orderpulse_status_tracker import http
from orderpulse_status_tracker.settings import Settings
from orderpulse_status_tracker.tables import metadata, orders
from orderpulse_status_tracker.timeline import Timeline


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = connect(f"sqlite+aiosqlite:///{tmp_path / 'tracker.db'}")
    yield engine
    await engine.dispose()


def app(  # type: ignore[no-untyped-def]
    engine: AsyncEngine, token: str | None = "t0ken", shop_tokens: dict[str, str] | None = None
):
    routes = dict(
        http.routes(
            timeline=Timeline(engine),
            token=SecretStr(token) if token is not None else None,
            shop_tokens={shop: SecretStr(t) for shop, t in (shop_tokens or {}).items()},
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


@pytest.fixture
async def two_shops(engine: AsyncEngine) -> AsyncEngine:
    """One order in each of shops `a` and `b`, and a shop `c` with no token of its own."""
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
        await conn.execute(
            sa.insert(orders),
            [
                {
                    "shop_id": shop,
                    "order_id": "o1",
                    "version": 1,
                    "state": {"order_number": f"{shop}-1", "status": "accepted"},
                }
                for shop in ("a", "b", "c")
            ],
        )
    return engine


SHOP_TOKENS = {"a": "token-of-a", "b": "token-of-b"}


async def test_a_shops_token_reads_its_own_orders(two_shops: AsyncEngine) -> None:
    door = app(two_shops, token="global", shop_tokens=SHOP_TOKENS)
    status, body = await get(door, "/timeline?shop=a&order=o1", token="token-of-a")
    assert status == 200
    assert (body["shop_id"], body["order_number"]) == ("a", "a-1")
    assert (await get(door, "/timeline?shop=a&order=nope", token="token-of-a"))[0] == 404
    assert (await get(door, "/timeline?shop=a", token="token-of-a"))[0] == 400


async def test_a_shops_token_does_not_open_another_shops_orders(two_shops: AsyncEngine) -> None:
    door = app(two_shops, token="global", shop_tokens=SHOP_TOKENS)
    refused = await get(door, "/timeline?shop=b&order=o1", token="token-of-a")
    unknown = await get(door, "/timeline?shop=b&order=nope", token="token-of-a")
    wrong = await get(door, "/timeline?shop=b&order=o1", token="wrong")
    assert refused == unknown == wrong == (401, {"error": "a valid bearer token is required"})
    assert (await get(door, "/timeline?shop=b&order=o1", token="token-of-b"))[0] == 200


async def test_the_global_token_reads_every_shop(two_shops: AsyncEngine) -> None:
    door = app(two_shops, token="global", shop_tokens=SHOP_TOKENS)
    for shop in ("a", "b", "c"):
        status, body = await get(door, f"/timeline?shop={shop}&order=o1", token="global")
        assert (status, body["shop_id"]) == (200, shop)


async def test_a_shop_without_a_token_is_open_only_to_the_global_token(
    two_shops: AsyncEngine,
) -> None:
    door = app(two_shops, token="global", shop_tokens={**SHOP_TOKENS, "c": ""})
    for token in ("token-of-a", "token-of-b", "", "Bearer "):
        assert (await get(door, "/timeline?shop=c&order=o1", token=token))[0] == 401
    assert (await get(door, "/timeline?shop=c&order=o1", token="global"))[0] == 200


async def test_shop_tokens_alone_open_only_their_shops(two_shops: AsyncEngine) -> None:
    door = app(two_shops, token=None, shop_tokens=SHOP_TOKENS)
    assert (await get(door, "/timeline?shop=a&order=o1", token="token-of-a"))[0] == 200
    assert (await get(door, "/timeline?shop=c&order=o1", token="token-of-a"))[0] == 401
    assert (await get(door, "/timeline?shop=c&order=o1", token="None"))[0] == 401


def test_shop_tokens_come_from_a_json_object_in_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRACKER_SUPPORT_TOKENS", '{"a": "token-of-a", "b": "token-of-b"}')
    tokens = Settings().support_tokens
    assert {shop: t.get_secret_value() for shop, t in tokens.items()} == SHOP_TOKENS
    assert "token-of-a" not in repr(tokens)  # secret: not in logs or reprs
