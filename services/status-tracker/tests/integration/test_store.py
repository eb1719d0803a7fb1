"""The tracker's store on SQLite and on PostgreSQL."""

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from orderpulse_kit.database import connect
from orderpulse_status_tracker.lifecycle import decide
from orderpulse_status_tracker.messages import Topics
from orderpulse_status_tracker.migrate import MIGRATIONS
from orderpulse_status_tracker.policy import ShopPolicy
from orderpulse_status_tracker.store import Change, ConcurrentUpdate, SqlTrackerStore
from orderpulse_status_tracker.timers import timers_for

from ..stories import fact

SHOP, ORDER = "kvetinac-cz", "ord-10045"


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[SqlTrackerStore]:
    engine = connect(database_url)
    store = SqlTrackerStore(engine)
    await MIGRATIONS.upgrade(engine)
    yield store
    await engine.dispose()


def accepted_change(version: int = 0, event_id: str = "evt-kc-10045-accepted") -> Change:
    decision = decide(None, fact("order.accepted"), ShopPolicy(), Topics("s", "n"))
    assert decision.order is not None
    return Change(
        shop_id=SHOP,
        order_id=ORDER,
        event_id=event_id,
        version=version,
        order=decision.order,
        outgoing=decision.outgoing if version == 0 else [],
        timers=timers_for(decision.order, ShopPolicy()),
    )


async def test_an_order_round_trips_with_its_customer(store: SqlTrackerStore) -> None:
    change = accepted_change()
    assert await store.save(change) is True
    order, version = await store.load_unless_processed(SHOP, ORDER, "unseen")
    assert (order, version) == (change.order, 1)
    assert await store.load_unless_processed(SHOP, ORDER, change.event_id) is None
    assert [m for _, m in await store.outbox_of(SHOP, ORDER)] == change.outgoing


async def test_the_same_event_is_saved_once(store: SqlTrackerStore) -> None:
    assert await store.save(accepted_change()) is True
    assert await store.save(accepted_change(version=1)) is False


async def test_a_writer_with_a_stale_version_is_refused(store: SqlTrackerStore) -> None:
    await store.save(accepted_change())
    await store.save(accepted_change(version=1, event_id="evt-a"))
    with pytest.raises(ConcurrentUpdate):
        await store.save(accepted_change(version=1, event_id="evt-b"))
    assert (
        await store.load_unless_processed(SHOP, ORDER, "evt-b") is not None
    )  # rolled back with the refusal


async def test_published_messages_leave_the_outbox(store: SqlTrackerStore) -> None:
    await store.save(accepted_change())
    assert await store.orders_with_outbox() == [(SHOP, ORDER)]
    await store.published([row for row, _ in await store.outbox_of(SHOP, ORDER)])
    assert await store.outbox_of(SHOP, ORDER) == []


async def test_timers_come_due_by_time(store: SqlTrackerStore) -> None:
    await store.save(accepted_change())
    assert await store.due_timers(datetime(2026, 11, 23, 12, tzinfo=UTC)) == []
    due = await store.due_timers(datetime(2026, 11, 24, tzinfo=UTC))
    assert [(t.kind, t.due_at) for t in due] == [
        ("dispatch_overdue", datetime(2026, 11, 23, 23, tzinfo=UTC))
    ]


async def test_early_facts_wait_for_their_order(store: SqlTrackerStore) -> None:
    early = fact("shipment.dispatched")
    await store.keep_early(SHOP, ORDER, 0, early.model_dump(mode="json"))
    await store.keep_early(SHOP, ORDER, 1, early.model_dump(mode="json"))  # redelivered
    kept = await store.early_facts(SHOP, ORDER)
    assert [event["id"] for _, event in kept] == [early.id]
    assert await store.load_unless_processed(SHOP, ORDER, early.id) is None
    assert await store.load_unless_processed(SHOP, ORDER, "unseen") == (
        None,
        1,
    )  # known to exist, not yet what it is


async def test_an_early_fact_and_its_order_saved_at_once_cannot_both_pass_unseen(
    store: SqlTrackerStore,
) -> None:
    """Two replicas: one keeps a courier fact, one saves the order, both having seen nothing."""
    early = fact("shipment.dispatched").model_dump(mode="json")
    assert await store.save(accepted_change(version=0))
    with pytest.raises(ConcurrentUpdate):
        await store.keep_early(SHOP, ORDER, 0, early)  # must reload: the order is known now
    assert await store.load_unless_processed(SHOP, ORDER, early["id"]) is not None

    other = "ord-10046"
    await store.keep_early(SHOP, other, 0, {**early, "id": "evt-x", "subject": other})
    with pytest.raises(ConcurrentUpdate):  # must reload: it has an early fact to apply
        await store.save(replace(accepted_change(version=0), order_id=other, event_id="evt-y"))


async def test_erasure_removes_the_customer_and_what_was_not_sent(store: SqlTrackerStore) -> None:
    await store.save(accepted_change())
    assert await store.erase(SHOP, "petr.novak@example.cz", None, []) == 1
    order, _ = await store.load_unless_processed(SHOP, ORDER, "unseen")
    assert order is not None and order.customer is None
    assert await store.outbox_of(SHOP, ORDER) == []
    assert await store.due_timers(datetime(2030, 1, 1, tzinfo=UTC)) == []
    assert await store.erase(SHOP, "someone.else@example.cz", None, []) == 0
