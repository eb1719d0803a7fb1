"""The returns store on SQLite and on PostgreSQL."""

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from orderpulse_returns.lifecycle import ReturnsOrder
from orderpulse_returns.migrate import MIGRATIONS
from orderpulse_returns.store import ConcurrentUpdate, Effects, SqlReturnsStore, _row, orders
from orderpulse_schemas import examples
from orderpulse_schemas.values import Customer

PRAGUE = ZoneInfo("Europe/Prague")
ERASED_AT = datetime(2026, 11, 30, tzinfo=UTC)
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


async def loaded_order(store: SqlReturnsStore, order_id: str) -> ReturnsOrder | None:
    return (await store.load([("s", order_id)], [])).orders.get(("s", order_id))


async def waiting_events(store: SqlReturnsStore, order_id: str) -> list[object]:
    return [
        e for _, e in (await store.load([("s", order_id)], [])).waiting.get(("s", order_id), [])
    ]


async def test_an_order_comes_back_as_it_was_saved(store: SqlReturnsStore) -> None:
    saved = order(
        steps={"r-1": ["return.requested"]},
        requested_at={"r-1": datetime(2026, 11, 28, 19, 5, 33, tzinfo=PRAGUE)},
    )
    await store.apply(Effects(seen=[("s", "e-1")], received=[saved]))
    loaded = await store.load([("s", "o-1"), ("s", "o-2")], [("s", "e-1"), ("s", "e-2")])
    assert loaded.orders == {("s", "o-1"): saved}
    assert loaded.seen == {("s", "e-1")}


async def test_changed_orders_are_written_together(store: SqlReturnsStore) -> None:
    await store.apply(Effects(received=[order("o-1"), order("o-2")]))
    changed = [order("o-1", remind_at=None), order("o-2", steps={"r-1": ["return.requested"]})]
    await store.apply(Effects(changed=changed))
    loaded = await store.load([("s", "o-1"), ("s", "o-2")], [])
    assert loaded.orders == {("s", "o-1"): changed[0], ("s", "o-2"): changed[1]}


async def test_an_event_is_saved_once(store: SqlReturnsStore) -> None:
    await store.apply(Effects(seen=[("s", "e-1")], received=[order()]))
    with pytest.raises(ConcurrentUpdate):
        await store.apply(
            Effects(seen=[("s", "e-1")], changed=[order(steps={"r-1": ["return.requested"]})])
        )
    loaded = await loaded_order(store, "o-1")
    assert loaded is not None and loaded.steps == {}


async def test_an_order_is_received_once(store: SqlReturnsStore) -> None:
    await store.apply(Effects(seen=[("s", "e-1")], received=[order()]))
    with pytest.raises(ConcurrentUpdate):
        await store.apply(Effects(seen=[("s", "e-2")], received=[order(remind_at=None)]))
    loaded = await store.load([("s", "o-1")], [("s", "e-2")])
    assert loaded.seen == set()
    assert loaded.orders[("s", "o-1")].remind_at is not None


async def test_reminders_come_due_by_the_clock_in_any_time_zone(store: SqlReturnsStore) -> None:
    await store.apply(Effects(received=[order("o-1"), order("o-2", remind_at=None)]))
    # 09:00 in Prague is 08:00 UTC.
    assert await store.due_reminders(datetime(2026, 12, 8, 7, 59, tzinfo=UTC)) == []
    assert await store.due_reminders(datetime(2026, 12, 8, 8, 0, tzinfo=UTC)) == [("s", "o-1")]


async def test_events_wait_for_their_order_and_go_once_it_takes_them_in(
    store: SqlReturnsStore,
) -> None:
    await store.apply(
        Effects(
            seen=[("s", "e-1"), ("s", "e-2")],
            kept=[(("s", "o-1"), {"n": 1}), (("s", "o-1"), {"n": 2})],
        )
    )
    with pytest.raises(ConcurrentUpdate):
        await store.apply(Effects(seen=[("s", "e-2")], kept=[(("s", "o-1"), {"n": 2})]))
    loaded = await store.load([("s", "o-1")], [])
    assert [e for _, e in loaded.waiting[("s", "o-1")]] == [{"n": 1}, {"n": 2}]

    consumed = [row_id for row_id, _ in loaded.waiting[("s", "o-1")]]
    await store.apply(Effects(seen=[("s", "e-3")], received=[order()], consumed=consumed))
    assert await waiting_events(store, "o-1") == []


async def test_erasure_forgets_the_customer_and_the_reminder(store: SqlReturnsStore) -> None:
    await store.apply(
        Effects(
            received=[
                order("o-1"),
                order("o-2", customer=CUSTOMER.model_copy(update={"email": "x@example.cz"})),
            ],
            seen=[("s", "e-1")],
            kept=[(("s", "o-3"), {"n": 1})],
        )
    )

    erased = await store.erase("s", CUSTOMER.email, None, ["o-3"], ERASED_AT)

    assert erased == 1
    forgotten = await loaded_order(store, "o-1")
    assert forgotten is not None and forgotten.customer is None and forgotten.remind_at is None
    kept = await loaded_order(store, "o-2")
    assert kept is not None and kept.customer is not None
    assert await waiting_events(store, "o-3") == []
    assert await store.due_reminders(datetime(2027, 1, 1, tzinfo=UTC)) == [("s", "o-2")]


def written_as(email: str) -> ReturnsOrder:
    """The order, its customer having written `email` at checkout."""
    return order("o-1", customer=CUSTOMER.model_copy(update={"email": email}))


@pytest.mark.parametrize(
    ("written", "asked"),
    [
        ("Petr.Novak@Example.CZ", "petr.novak@example.cz"),
        ("petr.novak@example.cz", "PETR.Novak@Example.cz"),
    ],
)
async def test_erasure_finds_the_customer_s_email_in_any_case(
    store: SqlReturnsStore, written: str, asked: str
) -> None:
    await store.apply(Effects(received=[written_as(written)]))
    shown = await loaded_order(store, "o-1")
    assert shown is not None and shown.customer is not None and shown.customer.email == written

    assert await store.erase("s", asked, None, [], ERASED_AT) == 1

    forgotten = await loaded_order(store, "o-1")
    assert forgotten is not None and forgotten.customer is None and forgotten.remind_at is None


async def test_orders_written_before_the_email_keys_are_found_in_any_case_too(
    store: SqlReturnsStore, database_url: str
) -> None:
    engine = create_async_engine(database_url)
    try:
        await MIGRATIONS.downgrade(engine, "8c77c0b505fb")  # the revision before the email keys
        row = _row(written_as("Petr.Novak@example.cz"))
        del row["review_at"]  # the code of that revision had no review timers either
        row["customer_email"] = "Petr.Novak@example.cz"  # as it was written: the address as given
        async with engine.begin() as conn:
            await conn.execute(orders.insert(), [row])

        await MIGRATIONS.upgrade(engine)

        async with engine.connect() as conn:
            assert await conn.scalar(sa.select(orders.c.customer_email)) == "petr.novak@example.cz"
    finally:
        await engine.dispose()
    assert await store.erase("s", "petr.novak@EXAMPLE.cz", None, [], ERASED_AT) == 1
