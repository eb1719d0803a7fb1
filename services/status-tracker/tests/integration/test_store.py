"""The tracker's store on SQLite and on PostgreSQL: one read and one write per poll."""

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from orderpulse_kit.batch import Received
from orderpulse_kit.database import connect
from orderpulse_status_tracker.clock import SystemClock
from orderpulse_status_tracker.facts import Fact
from orderpulse_status_tracker.messages import Outgoing, Topics
from orderpulse_status_tracker.migrate import MIGRATIONS
from orderpulse_status_tracker.policy import ShopPolicy
from orderpulse_status_tracker.poll import decide_poll
from orderpulse_status_tracker.service import Tracker
from orderpulse_status_tracker.store import ConcurrentUpdate, Effects, SqlTrackerStore
from orderpulse_status_tracker.tables import orders

from ..stories import event, fact

SHOP, ORDER = "kvetinac-cz", "ord-10045"
KEY = (SHOP, ORDER)
NOW = datetime(2026, 11, 30, tzinfo=UTC)
TOPICS = Topics("s", "n")
JOURNEY = (
    "order.accepted",
    "shipment.dispatched",
    "shipment.in_transit",
    "shipment.out_for_delivery",
    "shipment.delivered",
)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = connect(database_url)
    await MIGRATIONS.upgrade(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def store(engine: AsyncEngine) -> SqlTrackerStore:
    return SqlTrackerStore(engine)


async def poll(store: SqlTrackerStore, *facts: object) -> Effects:
    """Load, decide and apply one poll of `facts`, as the tracker does."""
    keys = {(f.shopid, f.subject) for f in facts}  # type: ignore[attr-defined]
    events = {(f.shopid, f.id) for f in facts}  # type: ignore[attr-defined]
    loaded = await store.load(keys, events)
    effects = decide_poll(loaded, list(facts), [], {}, TOPICS)  # type: ignore[arg-type]
    await store.apply(effects)
    return effects


async def test_an_order_round_trips_with_its_customer(store: SqlTrackerStore) -> None:
    accepted = fact("order.accepted")
    effects = await poll(store, accepted)
    loaded = await store.load([KEY], [(SHOP, accepted.id), (SHOP, "unseen")])
    assert loaded.orders[KEY].order == effects.orders[KEY][1]
    assert loaded.orders[KEY].version == 1
    assert loaded.processed == {(SHOP, accepted.id)}
    assert [m for _, m in await store.outbox()] == effects.outgoing


async def test_the_same_event_is_saved_once(store: SqlTrackerStore) -> None:
    accepted = fact("order.accepted")
    first = await poll(store, accepted)
    again = await poll(store, accepted)
    assert first.outgoing and again.outgoing == [] and again.processed == []
    assert len(await store.outbox()) == len(first.outgoing)


async def test_the_same_event_twice_in_one_poll_counts_once(store: SqlTrackerStore) -> None:
    accepted = fact("order.accepted")
    effects = await poll(store, accepted, accepted)
    assert effects.processed == [(SHOP, accepted.id)]


async def test_a_writer_with_a_stale_version_is_refused(store: SqlTrackerStore) -> None:
    await poll(store, fact("order.accepted"))
    stale = await store.load([KEY], [])
    dispatched = fact("shipment.dispatched")
    await poll(store, dispatched)  # another writer moves the order on
    late = decide_poll(stale, [fact("shipment.delivered")], [], {}, TOPICS)
    with pytest.raises(ConcurrentUpdate):
        await store.apply(late)
    loaded = await store.load([KEY], [(SHOP, fact("shipment.delivered").id)])
    assert loaded.processed == set()  # rolled back with the refusal
    assert loaded.orders[KEY].version == 2


async def test_published_messages_leave_the_outbox(store: SqlTrackerStore) -> None:
    await poll(store, fact("order.accepted"))
    waiting = await store.outbox()
    assert waiting
    await store.published([row for row, _ in waiting])
    assert await store.outbox() == []


async def test_timers_come_due_by_time(store: SqlTrackerStore) -> None:
    await poll(store, fact("order.accepted"))
    assert await store.due_timers(datetime(2026, 11, 2, 12, tzinfo=UTC)) == []
    due = await store.due_timers(datetime(2026, 11, 3, tzinfo=UTC))
    assert [(t.kind, t.due_at) for t in due] == [
        ("dispatch_overdue", datetime(2026, 11, 2, 23, tzinfo=UTC))
    ]


async def test_only_changed_timers_are_written(store: SqlTrackerStore) -> None:
    await poll(store, fact("order.accepted"))
    effects = await poll(store, fact("shipment.in_transit"))
    assert effects.timers_dropped == [(SHOP, ORDER, "dispatch_overdue")]
    assert effects.timers_set == {}  # the delivery's timer stands as it was
    due = await store.due_timers(datetime(2030, 1, 1, tzinfo=UTC))
    assert [t.kind for t in due] == ["delivery_overdue"]


async def test_early_facts_wait_for_their_order(store: SqlTrackerStore) -> None:
    early = fact("shipment.dispatched")
    await poll(store, early)
    await poll(store, early)  # redelivered
    loaded = await store.load([KEY], [(SHOP, early.id)])
    assert [event["id"] for _, event in loaded.orders[KEY].early] == [early.id]
    assert loaded.processed == {(SHOP, early.id)}
    assert (loaded.orders[KEY].order, loaded.orders[KEY].version) == (None, 1)
    effects = await poll(store, fact("order.accepted"))
    assert "dispatched" in [m.value["data"].get("status") for m in effects.outgoing]
    assert (await store.load([KEY], [])).orders[KEY].early == []


async def test_an_early_fact_and_its_order_saved_at_once_cannot_both_pass_unseen(
    store: SqlTrackerStore,
) -> None:
    """Two replicas: one keeps a courier fact, one saves the order, both having seen nothing."""
    nothing = await store.load([KEY], [])
    await poll(store, fact("order.accepted"))
    keeping = decide_poll(nothing, [fact("shipment.dispatched")], [], {}, TOPICS)
    with pytest.raises(ConcurrentUpdate):  # must reload: the order is known now
        await store.apply(keeping)


async def test_one_poll_through_the_tracker_is_one_write_transaction(engine: AsyncEngine) -> None:
    """500 events of 100 orders: one transaction for every effect, one to forget the outbox."""
    published: list[Outgoing] = []

    async def publish(messages: Sequence[Outgoing]) -> None:
        published.extend(messages)

    async def dead_letter(what: object, reason: str) -> None:
        raise AssertionError(f"dead-lettered: {reason}")

    tracker = Tracker(
        SqlTrackerStore(engine),
        topics=TOPICS,
        policies={"kvetinac-cz": ShopPolicy()},
        publish=publish,
        dead_letter=dead_letter,
        set_aside=dead_letter,
        clock=SystemClock(),
    )
    poll = []
    for n in range(100):
        for kind in JOURNEY:
            base = fact(kind)
            changed = base.model_copy(update={"subject": f"ord-{n}", "id": f"{base.id}-{n}"})
            poll.append(Received(None, changed))
    committed: list[object] = []

    def count(connection: object) -> None:
        committed.append(connection)

    sa.event.listen(engine.sync_engine, "commit", count)
    try:
        await tracker.handle(poll)
    finally:
        sa.event.remove(engine.sync_engine, "commit", count)
    assert len(committed) == 2
    assert len(published) == 100 * 5 * 2 - 100  # each event's status change and notice, less
    assert await SqlTrackerStore(engine).outbox() == []


async def test_erasure_removes_the_customer_and_what_was_not_sent(store: SqlTrackerStore) -> None:
    await poll(store, fact("order.accepted"))
    assert await store.erase(SHOP, "petr.novak@example.cz", None, [], NOW) == 1
    order = (await store.load([KEY], [])).orders[KEY].order
    assert order is not None and order.customer is None
    assert await store.outbox() == []
    assert await store.due_timers(datetime(2030, 1, 1, tzinfo=UTC)) == []
    assert await store.erase(SHOP, "someone.else@example.cz", None, [], NOW) == 0


def accepted_from(email: str) -> Fact:
    """The accepted order, its customer having written `email` at checkout."""
    customer = event("order.accepted")["data"]["customer"] | {"email": email}
    return fact("order.accepted", data={"customer": customer})


@pytest.mark.parametrize(
    ("written", "asked"),
    [
        ("Petr.Novak@Example.CZ", "petr.novak@example.cz"),
        ("petr.novak@example.cz", "PETR.Novak@Example.cz"),
    ],
)
async def test_erasure_finds_the_customer_s_email_in_any_case(
    store: SqlTrackerStore, written: str, asked: str
) -> None:
    await poll(store, accepted_from(written))
    order = (await store.load([KEY], [])).orders[KEY].order
    assert order is not None and order.customer is not None
    assert order.customer.email == written.split("@")[0] + "@example.cz"  # as written, shown so

    assert await store.erase(SHOP, asked, None, [], NOW) == 1
    order = (await store.load([KEY], [])).orders[KEY].order
    assert order is not None and order.customer is None


async def test_orders_written_before_the_email_keys_are_found_in_any_case_too(
    store: SqlTrackerStore, engine: AsyncEngine
) -> None:
    """The migration keys the stored addresses, page by page, past the first thousand."""
    await MIGRATIONS.downgrade(engine, "c8bd3e8d5fa6")  # the revision before the email keys
    others = [
        {"shop_id": shop, "order_id": f"ord-{n}", "version": 1, "customer_email": f"Jana{n}@x.cz"}
        for shop in ("a-shop", "z-shop")
        for n in range(1200)
    ]
    async with engine.begin() as conn:
        await conn.execute(orders.insert(), others)
    await poll(store, accepted_from("Petr.Novak@Example.CZ"))
    async with engine.begin() as conn:  # as the code wrote it before: the address as given
        await conn.execute(
            orders.update()
            .where(orders.c.shop_id == SHOP, orders.c.order_id == ORDER)
            .values(customer_email="Petr.Novak@example.cz")
        )

    await MIGRATIONS.upgrade(engine)

    assert await store.erase(SHOP, "petr.novak@example.cz", None, [], NOW) == 1
    async with engine.connect() as conn:
        emails = set(await conn.scalars(sa.select(orders.c.customer_email)))
    assert emails == {None} | {f"jana{n}@x.cz" for n in range(1200)}
    assert await store.erase("z-shop", "JANA1199@X.CZ", None, [], NOW) == 1


async def test_a_load_returns_only_the_keys_asked_for(store: SqlTrackerStore) -> None:
    """Another shop's order and event with the same ids are not mistaken for these."""
    accepted = fact("order.accepted")
    await poll(store, accepted)
    other = accepted.model_copy(update={"shopid": "other-shop"})
    await poll(store, other)
    events = [("other-shop", "evt-x"), (SHOP, accepted.id)]
    loaded = await store.load([("other-shop", "ord-1"), KEY], events)
    assert list(loaded.orders) == [KEY]
    assert loaded.processed == {(SHOP, accepted.id)}
