"""The delivery store on SQLite and on PostgreSQL."""

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from orderpulse_notifier.ports import Delivery, DeliveryStatus
from orderpulse_notifier.store import SqlDeliveryStore


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[SqlDeliveryStore]:
    engine = create_async_engine(database_url)
    store = SqlDeliveryStore(engine)
    await store.create_schema()
    await store.create_schema()  # idempotent, as on every start
    yield store
    await engine.dispose()


async def test_a_new_delivery_is_claimed_as_pending(store: SqlDeliveryStore) -> None:
    assert await store.claim("n-1:email") == Delivery(DeliveryStatus.PENDING)


async def test_an_unfinished_claim_stays_pending_so_a_redelivery_sends_it(
    store: SqlDeliveryStore,
) -> None:
    await store.claim("n-1:email")
    assert (await store.claim("n-1:email")).status is DeliveryStatus.PENDING


async def test_a_finished_delivery_is_reported_as_it_ended(store: SqlDeliveryStore) -> None:
    await store.claim("n-1:email")
    await store.claim("n-1:sms")
    await store.finish("n-1:email", Delivery(DeliveryStatus.SENT, "outbox", "a/b.eml"))
    await store.finish("n-1:sms", Delivery(DeliveryStatus.FAILED, "outbox", reason="no number"))

    assert await store.claim("n-1:email") == Delivery(DeliveryStatus.SENT, "outbox", "a/b.eml")
    assert await store.claim("n-1:sms") == Delivery(
        DeliveryStatus.FAILED, "outbox", reason="no number"
    )
