"""The delivery store on SQLite and on PostgreSQL: claims, leases, deferral, receipts, retention."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from orderpulse_notifier.migrate import MIGRATIONS
from orderpulse_notifier.ports import Delivery, DeliveryStatus, Due, Target
from orderpulse_notifier.store import SqlDeliveryStore
from orderpulse_schemas.outcomes import Channel

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
LEASE = NOW + timedelta(minutes=5)
EMAIL = Target("n-1", Channel.EMAIL, "shop", "ord-1", "order_accepted")
SMS = Target("n-1", Channel.SMS, "shop", "ord-1", "out_for_delivery")


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[SqlDeliveryStore]:
    engine = create_async_engine(database_url)
    store = SqlDeliveryStore(engine)
    await MIGRATIONS.upgrade(engine)
    yield store
    await engine.dispose()


async def test_a_new_delivery_is_claimed_by_its_first_caller_only(
    store: SqlDeliveryStore,
) -> None:
    assert await store.claim(EMAIL, NOW, LEASE) is None
    assert await store.claim(EMAIL, NOW, LEASE) == Delivery(DeliveryStatus.PENDING)


async def test_a_lease_that_ran_out_is_taken_over_and_a_released_claim_at_once(
    store: SqlDeliveryStore,
) -> None:
    await store.claim(EMAIL, NOW, LEASE)
    assert await store.claim(EMAIL, LEASE - timedelta(seconds=1), LEASE) is not None
    assert await store.claim(EMAIL, LEASE, LEASE + timedelta(minutes=5)) is None

    await store.claim(SMS, NOW, LEASE)
    await store.release(SMS, NOW)
    assert await store.claim(SMS, NOW, LEASE) is None


async def test_a_finished_delivery_is_reported_as_it_ended(store: SqlDeliveryStore) -> None:
    await store.claim(EMAIL, NOW, LEASE)
    await store.claim(SMS, NOW, LEASE)
    await store.finish(EMAIL, Delivery(DeliveryStatus.SENT, "ses", "0100-abc"))
    await store.finish(SMS, Delivery(DeliveryStatus.FAILED, "twilio", reason="twilio 400"))

    assert await store.claim(EMAIL, LEASE, LEASE) == Delivery(
        DeliveryStatus.SENT, "ses", "0100-abc"
    )
    assert await store.claim(SMS, LEASE, LEASE) == Delivery(
        DeliveryStatus.FAILED, "twilio", reason="twilio 400"
    )


async def test_a_deferred_delivery_comes_due_once_even_with_two_workers(
    store: SqlDeliveryStore,
) -> None:
    await store.claim(SMS, NOW, LEASE)
    await store.defer(SMS, NOW + timedelta(hours=8), '{"request": 1}')

    assert await store.take_due(NOW + timedelta(hours=7), LEASE, 10) == []
    morning = NOW + timedelta(hours=8)
    lease = morning + timedelta(minutes=5)
    assert await store.take_due(morning, lease, 10) == [Due(SMS, '{"request": 1}')]
    assert await store.take_due(morning, lease, 10) == []  # the other worker gets nothing
    # The taker died without finishing: it comes due again when its lease runs out.
    assert await store.take_due(lease, lease + timedelta(minutes=5), 10) == [
        Due(SMS, '{"request": 1}')
    ]


async def test_an_arrival_fails_the_orders_waiting_texts_of_the_given_kinds_only(
    store: SqlDeliveryStore,
) -> None:
    other_kind = Target("n-2", Channel.SMS, "shop", "ord-1", "order_accepted")
    other_order = Target("n-3", Channel.SMS, "shop", "ord-2", "out_for_delivery")
    for target in (SMS, other_kind, other_order):
        await store.claim(target, NOW, LEASE)
        await store.defer(target, NOW + timedelta(hours=8), "{}")

    moot = await store.make_moot("shop", "ord-1", frozenset({"out_for_delivery"}), "moot")

    assert moot == [SMS]
    assert await store.claim(SMS, NOW, LEASE) == Delivery(DeliveryStatus.FAILED, reason="moot")
    due = await store.take_due(NOW + timedelta(hours=8), LEASE, 10)
    assert sorted(d.target.notification_id for d in due) == ["n-2", "n-3"]


async def test_a_receipt_moves_a_sent_delivery_once_and_hands_back_the_kept_request(
    store: SqlDeliveryStore,
) -> None:
    await store.claim(SMS, NOW, LEASE)
    await store.finish(SMS, Delivery(DeliveryStatus.SENT, "twilio", "SM1"), keep='{"kept": 1}')
    undelivered = Delivery(DeliveryStatus.FAILED, reason="undelivered")

    receipted = await store.record_receipt("twilio", "SM1", undelivered)

    assert receipted is not None
    assert (receipted.target, receipted.request) == (SMS, '{"kept": 1}')
    assert receipted.delivery == Delivery(DeliveryStatus.FAILED, "twilio", "SM1", "undelivered")
    assert await store.record_receipt("twilio", "SM1", undelivered) is None
    assert await store.record_receipt("twilio", "SM-unknown", undelivered) is None


async def test_kept_requests_are_forgotten_after_a_while(store: SqlDeliveryStore) -> None:
    await store.claim(SMS, NOW, LEASE)
    await store.finish(SMS, Delivery(DeliveryStatus.SENT, "twilio", "SM1"), keep='{"kept": 1}')

    assert await store.forget_requests(datetime.now(UTC) - timedelta(days=3)) == 0
    assert await store.forget_requests(datetime.now(UTC) + timedelta(seconds=1)) == 1
    receipted = await store.record_receipt("twilio", "SM1", Delivery(DeliveryStatus.DELIVERED))
    assert receipted is not None and receipted.request is None
