"""The returns store on SQLite and on PostgreSQL."""

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from orderpulse_returns.lifecycle import ReturnsOrder
from orderpulse_returns.migrate import MIGRATIONS
from orderpulse_returns.store import AlreadySeen, SqlReturnsStore
from orderpulse_schemas import examples
from orderpulse_schemas.values import Customer

PRAGUE = ZoneInfo("Europe/Prague")
CUSTOMER = Customer.model_validate(examples.load("orders.v1", "order.accepted")["data"]["customer"])


def order(order_id: str = "o-1", **changes: object) -> ReturnsOrder:
    values: dict[str, object] = {
        "shop_id": "s",
        "order_id": order_id,
        "order_number": order_id.upper(),
        "customer": CUSTOMER,
        "received_at": datetime(2026, 11, 27, 10, 21, tzinfo=PRAGUE),
        "withdrawal_deadline": date(2026, 12, 11),
        "remind_at": datetime(2026, 12, 8, 9, 0, tzinfo=PRAGUE),
        **changes,
    }
    return ReturnsOrder.model_validate(values)


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[SqlReturnsStore]:
    engine: AsyncEngine = create_async_engine(database_url)
    store = SqlReturnsStore(engine)
    await MIGRATIONS.upgrade(engine)
    yield store
    await engine.dispose()


async def test_an_order_comes_back_as_it_was_saved(store: SqlReturnsStore) -> None:
    saved = order(steps={"r-1": ["return.requested"]})
    await store.save(saved, "e-1")
    assert await store.load("s", "o-1") == saved
    assert await store.load("s", "o-2") is None
    assert await store.seen("s", "e-1")
    assert not await store.seen("s", "e-2")


async def test_an_event_is_saved_once(store: SqlReturnsStore) -> None:
    await store.save(order(), "e-1")
    with pytest.raises(AlreadySeen):
        await store.save(order(steps={"r-1": ["return.requested"]}), "e-1")
    loaded = await store.load("s", "o-1")
    assert loaded is not None and loaded.steps == {}


async def test_reminders_come_due_by_the_clock_in_any_time_zone(store: SqlReturnsStore) -> None:
    await store.save(order("o-1"))
    await store.save(order("o-2", remind_at=None))
    # 09:00 in Prague is 08:00 UTC.
    assert await store.due_reminders(datetime(2026, 12, 8, 7, 59, tzinfo=UTC)) == []
    assert await store.due_reminders(datetime(2026, 12, 8, 8, 0, tzinfo=UTC)) == [("s", "o-1")]


async def test_events_wait_for_their_order_and_go_once_it_is_saved(
    store: SqlReturnsStore,
) -> None:
    await store.keep_waiting("s", "o-1", "e-1", {"n": 1})
    await store.keep_waiting("s", "o-1", "e-2", {"n": 2})
    with pytest.raises(AlreadySeen):
        await store.keep_waiting("s", "o-1", "e-2", {"n": 2})
    assert await store.waiting_events("s", "o-1") == [{"n": 1}, {"n": 2}]

    await store.save(order(), "e-3")
    assert await store.waiting_events("s", "o-1") == []


async def test_erasure_forgets_the_customer_and_the_reminder(store: SqlReturnsStore) -> None:
    await store.save(order("o-1"))
    await store.save(order("o-2", customer=CUSTOMER.model_copy(update={"email": "x@example.cz"})))
    await store.keep_waiting("s", "o-3", "e-1", {"n": 1})

    erased = await store.erase("s", CUSTOMER.email, None, ["o-3"])

    assert erased == 1
    forgotten = await store.load("s", "o-1")
    assert forgotten is not None and forgotten.customer is None and forgotten.remind_at is None
    kept = await store.load("s", "o-2")
    assert kept is not None and kept.customer is not None
    assert await store.waiting_events("s", "o-3") == []
    assert await store.due_reminders(datetime(2027, 1, 1, tzinfo=UTC)) == [("s", "o-2")]
