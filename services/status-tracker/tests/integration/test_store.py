"""The tracker's store on SQLite and on PostgreSQL."""

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from orderpulse_schemas import examples
from orderpulse_schemas.orders import OrderAccepted
from orderpulse_status_tracker.lifecycle import Topics, decide
from orderpulse_status_tracker.store import SqlTrackerStore

TOPICS = Topics("status", "requests")


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[SqlTrackerStore]:
    engine = create_async_engine(database_url)
    store = SqlTrackerStore(engine)
    await store.create_schema()
    yield store
    await engine.dispose()


async def test_a_recorded_event_keeps_its_order_and_its_messages(store: SqlTrackerStore) -> None:
    event = OrderAccepted.model_validate(examples.load("orders.v1", "order.accepted"))
    decision = decide(None, event, TOPICS)

    assert await store.outgoing_of(event.shopid, event.id) is None
    assert await store.record(event.shopid, event.id, decision) is True

    assert await store.order(event.shopid, event.subject) == decision.order
    assert await store.outgoing_of(event.shopid, event.id) == decision.outgoing


async def test_recording_the_same_event_twice_is_refused(store: SqlTrackerStore) -> None:
    event = OrderAccepted.model_validate(examples.load("orders.v1", "order.accepted"))
    decision = decide(None, event, TOPICS)
    assert await store.record(event.shopid, event.id, decision) is True
    assert await store.record(event.shopid, event.id, decision) is False


async def test_orders_of_different_shops_do_not_mix(store: SqlTrackerStore) -> None:
    event = OrderAccepted.model_validate(examples.load("orders.v1", "order.accepted"))
    await store.record(event.shopid, event.id, decide(None, event, TOPICS))
    assert await store.order("another-shop", event.subject) is None
