"""The delivery store on SQLite and on PostgreSQL: claims, leases, deferral, receipts, retention,
erasure."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from orderpulse_notifier.migrate import MIGRATIONS
from orderpulse_notifier.ports import (
    Claimant,
    Delivery,
    DeliveryStatus,
    Due,
    Ends,
    Erased,
    Kept,
    Moot,
    Target,
)
from orderpulse_notifier.store import SqlDeliveryStore, deliveries
from orderpulse_schemas.outcomes import Channel

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
LEASE = NOW + timedelta(minutes=5)
EMAIL = Target("n-1", Channel.EMAIL, "shop", "ord-1", "order_accepted")
SMS = Target("n-1", Channel.SMS, "shop", "ord-1", "out_for_delivery")
PETR = Kept('{"request": "petr"}', "petr@example.cz", "+420601123456")
WORKER = Claimant("worker", NOW + timedelta(days=1))  # alive throughout, unless a test says


def kept(request: str) -> Kept:
    return Kept(request, None, None)


async def claim(
    store: SqlDeliveryStore,
    target: Target,
    now: datetime,
    lease_until: datetime,
    by: Claimant = WORKER,
) -> Delivery | None:
    [found] = await store.claim_all([target], now, lease_until, by)
    return found


async def finish(
    store: SqlDeliveryStore, target: Target, delivery: Delivery, keep: Kept | None = None
) -> None:
    await store.settle(Ends(finished=[(target, delivery, keep)]), datetime.now(UTC))


async def defer(store: SqlDeliveryStore, target: Target, due_at: datetime, keep: Kept) -> None:
    await store.settle(Ends(deferred=[(target, due_at, keep)]), datetime.now(UTC))


async def release(store: SqlDeliveryStore, target: Target, now: datetime) -> None:
    await store.settle(Ends(released=[target]), now)


async def make_moot(
    store: SqlDeliveryStore, shop_id: str, order_id: str, kinds: frozenset[str], reason: str
) -> list[Target]:
    return await store.settle(Ends(moot=Moot([(shop_id, order_id)], kinds, reason)), NOW)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def store(engine: AsyncEngine) -> SqlDeliveryStore:
    await MIGRATIONS.upgrade(engine)
    return SqlDeliveryStore(engine)


async def personal_data(engine: AsyncEngine, target: Target) -> tuple[str | None, ...]:
    """What the row of `target` holds of the customer: request, email, phone."""
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                sa.select(
                    deliveries.c.request, deliveries.c.customer_email, deliveries.c.customer_phone
                ).where(deliveries.c.delivery_id == target.delivery_id)
            )
        ).one()
    return tuple(row)


async def test_a_new_delivery_is_claimed_by_its_first_caller_only(
    store: SqlDeliveryStore,
) -> None:
    assert await claim(store, EMAIL, NOW, LEASE) is None
    assert await claim(store, EMAIL, NOW, LEASE) == Delivery(DeliveryStatus.PENDING)


async def test_a_lease_that_ran_out_is_taken_over_and_a_released_claim_at_once(
    store: SqlDeliveryStore,
) -> None:
    await claim(store, EMAIL, NOW, LEASE)
    assert await claim(store, EMAIL, LEASE - timedelta(seconds=1), LEASE) is not None
    assert await claim(store, EMAIL, LEASE, LEASE + timedelta(minutes=5)) is None

    await claim(store, SMS, NOW, LEASE)
    await release(store, SMS, NOW)
    assert await claim(store, SMS, NOW, LEASE) is None


async def test_a_silent_owner_s_claims_are_taken_over_at_once_a_live_one_s_stand(
    store: SqlDeliveryStore,
) -> None:
    killed = Claimant("killed", NOW + timedelta(seconds=30))
    alive = Claimant("alive", NOW + timedelta(seconds=30))
    await claim(store, EMAIL, NOW, LEASE, killed)
    await claim(store, SMS, NOW, LEASE, alive)
    later = NOW + timedelta(seconds=31)  # both past their word; one says it again
    await store.keep_alive(Claimant("alive", later + timedelta(seconds=30)), later)

    successor = Claimant("successor", later + timedelta(seconds=30))
    assert await claim(store, EMAIL, later, LEASE, successor) is None
    assert await claim(store, SMS, later, LEASE, successor) == Delivery(DeliveryStatus.PENDING)
    assert await claim(store, EMAIL, later, LEASE, alive) == Delivery(DeliveryStatus.PENDING)


async def test_a_retired_owner_s_claims_are_free_at_once(store: SqlDeliveryStore) -> None:
    stopping = Claimant("stopping", NOW + timedelta(seconds=30))
    await claim(store, EMAIL, NOW, LEASE, stopping)
    await store.retire("stopping")

    assert await claim(store, EMAIL, NOW, LEASE) is None


async def test_a_claim_without_an_owner_waits_for_its_lease(
    store: SqlDeliveryStore, engine: AsyncEngine
) -> None:
    await claim(store, EMAIL, NOW, LEASE)
    async with engine.begin() as conn:  # claimed before claims named their owner
        await conn.execute(deliveries.update().values(owner=None))

    assert await claim(store, EMAIL, NOW, LEASE) == Delivery(DeliveryStatus.PENDING)
    assert await claim(store, EMAIL, LEASE, LEASE + timedelta(minutes=5)) is None


async def test_a_finished_delivery_is_reported_as_it_ended(store: SqlDeliveryStore) -> None:
    await claim(store, EMAIL, NOW, LEASE)
    await claim(store, SMS, NOW, LEASE)
    await finish(store, EMAIL, Delivery(DeliveryStatus.SENT, "ses", "0100-abc"))
    await finish(store, SMS, Delivery(DeliveryStatus.FAILED, "twilio", reason="twilio 400"))

    assert await claim(store, EMAIL, LEASE, LEASE) == Delivery(
        DeliveryStatus.SENT, "ses", "0100-abc"
    )
    assert await claim(store, SMS, LEASE, LEASE) == Delivery(
        DeliveryStatus.FAILED, "twilio", reason="twilio 400"
    )


async def test_a_deferred_delivery_comes_due_once_even_with_two_workers(
    store: SqlDeliveryStore,
) -> None:
    await claim(store, SMS, NOW, LEASE)
    await defer(store, SMS, NOW + timedelta(hours=8), kept('{"request": 1}'))

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
        await claim(store, target, NOW, LEASE)
        await defer(store, target, NOW + timedelta(hours=8), kept("{}"))

    moot = await make_moot(store, "shop", "ord-1", frozenset({"out_for_delivery"}), "moot")

    assert moot == [SMS]
    assert await claim(store, SMS, NOW, LEASE) == Delivery(DeliveryStatus.FAILED, reason="moot")
    due = await store.take_due(NOW + timedelta(hours=8), LEASE, 10)
    assert sorted(d.target.notification_id for d in due) == ["n-2", "n-3"]


async def test_a_receipt_moves_a_sent_delivery_once_and_hands_back_the_kept_request(
    store: SqlDeliveryStore,
) -> None:
    await claim(store, SMS, NOW, LEASE)
    await finish(
        store, SMS, Delivery(DeliveryStatus.SENT, "twilio", "SM1"), keep=kept('{"kept": 1}')
    )
    undelivered = Delivery(DeliveryStatus.FAILED, reason="undelivered")

    receipted = await store.record_receipt("twilio", "SM1", undelivered)

    assert receipted is not None
    assert (receipted.target, receipted.request) == (SMS, '{"kept": 1}')
    assert receipted.delivery == Delivery(DeliveryStatus.FAILED, "twilio", "SM1", "undelivered")
    assert await store.record_receipt("twilio", "SM1", undelivered) is None
    assert await store.record_receipt("twilio", "SM-unknown", undelivered) is None


async def test_kept_requests_are_forgotten_after_a_while(
    store: SqlDeliveryStore, engine: AsyncEngine
) -> None:
    await claim(store, SMS, NOW, LEASE)
    await finish(store, SMS, Delivery(DeliveryStatus.SENT, "twilio", "SM1"), keep=PETR)
    assert await personal_data(engine, SMS) == PETR

    assert await store.forget_requests(datetime.now(UTC) - timedelta(days=3)) == 0
    assert await store.forget_requests(datetime.now(UTC) + timedelta(seconds=1)) == 1
    assert await personal_data(engine, SMS) == (None, None, None)
    receipted = await store.record_receipt("twilio", "SM1", Delivery(DeliveryStatus.DELIVERED))
    assert receipted is not None and receipted.request is None


async def test_a_receipt_and_a_moot_arrival_forget_the_customer_with_the_request(
    store: SqlDeliveryStore, engine: AsyncEngine
) -> None:
    await claim(store, SMS, NOW, LEASE)
    await finish(store, SMS, Delivery(DeliveryStatus.SENT, "twilio", "SM1"), keep=PETR)
    await claim(store, EMAIL, NOW, LEASE)
    await defer(store, EMAIL, NOW + timedelta(hours=8), PETR)

    await store.record_receipt("twilio", "SM1", Delivery(DeliveryStatus.DELIVERED))
    await make_moot(store, "shop", "ord-1", frozenset({"order_accepted"}), "moot")

    assert await personal_data(engine, SMS) == (None, None, None)
    assert await personal_data(engine, EMAIL) == (None, None, None)


async def test_erasure_forgets_the_customer_s_kept_requests_and_fails_the_deferred_ones(
    store: SqlDeliveryStore, engine: AsyncEngine
) -> None:
    waiting = Target("n-1", Channel.SMS, "shop", "ord-1", "out_for_delivery")
    by_phone = Target("n-2", Channel.SMS, "shop", "ord-2", "order_dispatched")
    by_order = Target("n-3", Channel.SMS, "shop", "ord-3", "order_dispatched")
    someone_else = Target("n-4", Channel.SMS, "shop", "ord-4", "out_for_delivery")
    other_shop = Target("n-5", Channel.SMS, "other-shop", "ord-1", "out_for_delivery")
    jana = Kept('{"request": "jana"}', "jana@example.cz", "+420602000000")
    for target, customer in [
        (waiting, PETR),
        (by_order, jana),
        (someone_else, jana),
        (other_shop, PETR),
    ]:
        await claim(store, target, NOW, LEASE)
        await defer(store, target, NOW + timedelta(hours=8), customer)
    await claim(store, by_phone, NOW, LEASE)
    receipt_may_come = Kept('{"request": "petr"}', None, PETR.phone)
    await finish(store, by_phone, Delivery(DeliveryStatus.SENT, "twilio", "SM1"), receipt_may_come)

    erased = await store.erase("shop", PETR.email, PETR.phone, ["ord-3"], "customer erased", NOW)

    assert erased == Erased(3, [waiting, by_order])
    for target in (waiting, by_phone, by_order):
        assert await personal_data(engine, target) == (None, None, None)
    assert await personal_data(engine, someone_else) == jana
    assert await personal_data(engine, other_shop) == PETR
    assert await claim(store, waiting, NOW, LEASE) == Delivery(
        DeliveryStatus.FAILED, reason="customer erased"
    )
    assert await claim(store, by_phone, NOW, LEASE) == Delivery(
        DeliveryStatus.SENT, "twilio", "SM1"
    )
    due = await store.take_due(NOW + timedelta(hours=8), LEASE, 10)
    assert sorted(d.target for d in due) == [someone_else, other_shop]
    assert await store.erase("shop", PETR.email, PETR.phone, ["ord-3"], "again", NOW) == Erased(
        0, []
    )


async def test_erasure_by_email_alone_and_by_phone_alone(
    store: SqlDeliveryStore, engine: AsyncEngine
) -> None:
    email_only = Kept('{"request": "e"}', "petr@example.cz", None)
    phone_only = Kept('{"request": "p"}', None, "+420601123456")
    texted = Target("n-1", Channel.SMS, "shop", "ord-1", "order_dispatched")
    emailed = Target("n-2", Channel.EMAIL, "shop", "ord-2", "order_accepted")
    for target, customer in [(texted, phone_only), (emailed, email_only)]:
        await claim(store, target, NOW, LEASE)
        await defer(store, target, NOW + timedelta(hours=8), customer)

    assert await store.erase("shop", None, "+420601123456", [], "erased", NOW) == Erased(
        1, [texted]
    )
    assert await personal_data(engine, emailed) == email_only
    assert await store.erase("shop", "petr@example.cz", None, [], "erased", NOW) == Erased(
        1, [emailed]
    )


@pytest.mark.parametrize(
    ("written", "asked"),
    [
        ("Petr.Novak@Example.CZ", "petr.novak@example.cz"),
        ("petr.novak@example.cz", "PETR.Novak@Example.cz"),
    ],
)
async def test_erasure_finds_the_customer_s_email_in_any_case(
    store: SqlDeliveryStore, engine: AsyncEngine, written: str, asked: str
) -> None:
    waiting = Kept('{"request": "petr"}', written, None)
    await claim(store, SMS, NOW, LEASE)
    await defer(store, SMS, NOW + timedelta(hours=8), waiting)

    assert await store.erase("shop", asked, None, [], "erased", NOW) == Erased(1, [SMS])
    assert await personal_data(engine, SMS) == (None, None, None)


async def test_requests_kept_before_the_email_keys_are_found_in_any_case_too(
    engine: AsyncEngine,
) -> None:
    await MIGRATIONS.upgrade(engine)
    await MIGRATIONS.downgrade(engine, "c3d7a91e5b20")  # the revision before the email keys
    store = SqlDeliveryStore(engine)
    await claim(store, SMS, NOW, LEASE)
    await defer(store, SMS, NOW + timedelta(hours=8), PETR._replace(email="Petr@Example.cz"))
    async with engine.begin() as conn:  # as the code wrote it before: the address as given
        await conn.execute(deliveries.update().values(customer_email="Petr@Example.cz"))

    await MIGRATIONS.upgrade(engine)

    assert await personal_data(engine, SMS) == (PETR.request, "petr@example.cz", PETR.phone)
    assert await store.erase("shop", "PETR@example.cz", None, [], "erased", NOW) == Erased(1, [SMS])


async def test_a_send_under_way_when_its_customer_was_erased_keeps_nothing_again(
    store: SqlDeliveryStore, engine: AsyncEngine
) -> None:
    await claim(store, SMS, NOW, LEASE)
    await defer(store, SMS, NOW, PETR)
    assert [due.target for due in await store.take_due(NOW, LEASE, 10)] == [SMS]  # sending

    await store.erase("shop", PETR.email, None, [], "customer erased", NOW)
    await defer(store, SMS, NOW + timedelta(minutes=10), PETR)  # it gave up: would wait again
    await finish(store, SMS, Delivery(DeliveryStatus.SENT, "twilio", "SM1"), keep=PETR)

    assert await personal_data(engine, SMS) == (None, None, None)
    assert await store.take_due(NOW + timedelta(days=1), LEASE, 10) == []
    assert await claim(store, SMS, NOW, LEASE) == Delivery(
        DeliveryStatus.FAILED, reason="customer erased"
    )


async def test_requests_kept_before_the_customer_columns_existed_get_them(
    engine: AsyncEngine,
) -> None:
    await MIGRATIONS.upgrade(engine)
    await MIGRATIONS.downgrade(engine, "6a61007f9e71")  # the first revision, without the columns
    store = SqlDeliveryStore(engine)
    request = '{"data": {"customer": {"email": "petr@example.cz", "phone": "+420601123456"}}}'
    first_table = sa.table(
        "notifier_deliveries",
        *(sa.column(c.name, c.type) for c in deliveries.c if not c.name.startswith("customer_")),
    )
    async with engine.begin() as conn:
        await conn.execute(
            first_table.insert(),
            [
                {
                    "delivery_id": SMS.delivery_id,
                    "notification_id": SMS.notification_id,
                    "channel": "sms",
                    "shop_id": "shop",
                    "order_id": "ord-1",
                    "kind": SMS.kind,
                    "status": "deferred",
                    "due_at": NOW,
                    "request": request,
                    "updated_at": NOW,
                },
                {
                    "delivery_id": EMAIL.delivery_id,
                    "notification_id": EMAIL.notification_id,
                    "channel": "email",
                    "shop_id": "shop",
                    "order_id": "ord-1",
                    "kind": EMAIL.kind,
                    "status": "sent",
                    "due_at": None,
                    "request": None,
                    "updated_at": NOW,
                },
            ],
        )

    await MIGRATIONS.upgrade(engine)

    assert await personal_data(engine, SMS) == (request, "petr@example.cz", "+420601123456")
    assert await personal_data(engine, EMAIL) == (None, None, None)
    assert await store.erase("shop", None, "+420601123456", [], "erased", NOW) == Erased(1, [SMS])


async def test_a_poll_claims_all_its_channels_at_once_new_held_lapsed_and_ended(
    store: SqlDeliveryStore,
) -> None:
    held = Target("n-2", Channel.EMAIL, "shop", "ord-2", "order_accepted")
    lapsed = Target("n-3", Channel.EMAIL, "shop", "ord-3", "order_accepted")
    ended = Target("n-4", Channel.EMAIL, "shop", "ord-4", "order_accepted")
    await claim(store, held, NOW, LEASE)
    await claim(store, lapsed, NOW - timedelta(minutes=10), NOW - timedelta(minutes=5))
    await claim(store, ended, NOW, LEASE)
    await finish(store, ended, Delivery(DeliveryStatus.SENT, "ses", "0100-abc"))

    found = await store.claim_all([EMAIL, held, lapsed, ended, SMS], NOW, LEASE, WORKER)

    assert found == [
        None,
        Delivery(DeliveryStatus.PENDING),
        None,
        Delivery(DeliveryStatus.SENT, "ses", "0100-abc"),
        None,
    ]


async def test_a_round_settles_in_one_call_and_moots_only_the_orders_that_arrived(
    store: SqlDeliveryStore,
) -> None:
    waiting = Target("n-2", Channel.SMS, "shop", "ord-2", "out_for_delivery")
    same_order_elsewhere = Target("n-3", Channel.SMS, "other-shop", "ord-2", "out_for_delivery")
    unsent = Target("n-4", Channel.EMAIL, "shop", "ord-4", "order_accepted")
    for target in (waiting, same_order_elsewhere):
        await claim(store, target, NOW, LEASE)
        await defer(store, target, NOW + timedelta(hours=8), kept("{}"))
    await store.claim_all([EMAIL, SMS, unsent], NOW, LEASE, WORKER)

    moot = await store.settle(
        Ends(
            finished=[(EMAIL, Delivery(DeliveryStatus.SENT, "ses", "0100-abc"), None)],
            deferred=[(SMS, NOW + timedelta(hours=8), PETR)],
            released=[unsent],
            moot=Moot([("shop", "ord-2")], frozenset({"out_for_delivery"}), "moot"),
        ),
        NOW,
    )

    assert moot == [waiting]
    assert await claim(store, EMAIL, NOW, LEASE) == Delivery(DeliveryStatus.SENT, "ses", "0100-abc")
    assert await claim(store, unsent, NOW, LEASE) is None  # released: taken again at once
    assert await claim(store, waiting, NOW, LEASE) == Delivery(DeliveryStatus.FAILED, reason="moot")
    due = await store.take_due(NOW + timedelta(hours=8), LEASE, 10)
    assert [d.target for d in due] == [SMS, same_order_elsewhere]
