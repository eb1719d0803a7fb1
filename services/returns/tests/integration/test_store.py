"""The returns store on SQLite and on PostgreSQL."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from orderpulse_returns.store import SqlReturnsStore, orders, returns


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(database_url)
    await SqlReturnsStore(engine).create_schema()
    yield engine
    await engine.dispose()


async def test_the_latest_status_of_an_order_is_kept_once_per_event(engine: AsyncEngine) -> None:
    store = SqlReturnsStore(engine)
    day1, day2 = datetime(2026, 11, 23, tzinfo=UTC), datetime(2026, 11, 25, tzinfo=UTC)
    assert await store.record_order_status("s", "e1", "o-1", "accepted", day1)
    assert await store.record_order_status("s", "e2", "o-1", "delivered", day2)
    assert not await store.record_order_status("s", "e2", "o-1", "delivered", day2)

    async with engine.connect() as conn:
        rows = (await conn.execute(sa.select(orders.c.order_id, orders.c.status))).all()
    assert [tuple(row) for row in rows] == [("o-1", "delivered")]


async def test_each_return_keeps_its_latest_step(engine: AsyncEngine) -> None:
    store = SqlReturnsStore(engine)
    now = datetime(2026, 12, 1, tzinfo=UTC)
    await store.record_return_step("s", "e1", "r-1", "o-1", "return.requested", now)
    await store.record_return_step("s", "e2", "r-1", "o-1", "return.received", now)
    await store.record_return_step("s", "e3", "r-2", "o-1", "return.requested", now)

    async with engine.connect() as conn:
        rows = (await conn.execute(sa.select(returns.c.return_id, returns.c.step))).all()
    assert sorted(tuple(row) for row in rows) == [
        ("r-1", "return.received"),
        ("r-2", "return.requested"),
    ]
