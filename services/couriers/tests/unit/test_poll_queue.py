"""The poll queue on SQLite: a followed parcel is due at once, the most overdue are taken first
and leased, and a parcel rescheduled to never is never due again."""

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from orderpulse_couriers.migrate import MIGRATIONS
from orderpulse_couriers.parcels import Followed
from orderpulse_couriers.poll_queue import SqlPollQueue
from orderpulse_couriers.polling import Due, Next
from orderpulse_couriers.store import Effects, SqlParcelStore

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=ZoneInfo("Europe/Warsaw"))
PARCEL = Followed(
    shop_id="shop", order_id="o-1", carrier="inpost", tracking_number="602677439331630337653846"
)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'couriers.db'}")
    await MIGRATIONS.upgrade(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def store(engine: AsyncEngine) -> SqlParcelStore:
    return SqlParcelStore(engine)


@pytest.fixture
def queue(engine: AsyncEngine) -> SqlPollQueue:
    return SqlPollQueue(engine)


async def test_a_followed_parcel_is_due_at_once_and_leased_when_taken(
    store: SqlParcelStore,
    queue: SqlPollQueue,
) -> None:
    packet = replace(PARCEL, carrier="packeta", tracking_number="Z1")
    other_shop = replace(packet, shop_id="no-password", tracking_number="Z2")
    await store.apply(Effects(followed=[PARCEL, packet, other_shop]), NOW)
    lease = NOW + timedelta(minutes=10)

    assert (
        await queue.due("packeta", ["shop"], NOW - timedelta(seconds=1), limit=10, lease=lease)
        == []
    )
    taken = await queue.due("packeta", ["shop"], NOW, limit=10, lease=lease)

    assert taken == [Due(packet, 0, NOW)]  # not InPost's, not a shop without credentials
    assert await queue.due("packeta", ["shop"], NOW, limit=10, lease=lease) == []  # leased
    assert await queue.due("packeta", ["shop"], lease, limit=10, lease=lease) == taken


async def test_the_most_overdue_parcels_are_taken_first(
    store: SqlParcelStore, queue: SqlPollQueue
) -> None:
    packets = [replace(PARCEL, carrier="packeta", tracking_number=f"Z{n}") for n in range(3)]
    await store.apply(Effects(followed=packets), NOW)
    await queue.reschedule(
        [Next(p.key, NOW + timedelta(minutes=3 - n), n) for n, p in enumerate(packets)]
    )

    later = NOW + timedelta(hours=1)
    taken = await queue.due("packeta", ["shop"], later, limit=2, lease=later)

    assert [(d.parcel.tracking_number, d.unchanged_polls) for d in taken] == [("Z2", 2), ("Z1", 1)]


async def test_a_parcel_rescheduled_to_never_is_never_due(
    store: SqlParcelStore, queue: SqlPollQueue
) -> None:
    packet = replace(PARCEL, carrier="packeta", tracking_number="Z1")
    await store.apply(Effects(followed=[packet]), NOW)

    await queue.reschedule([Next(packet.key, None, 0)])

    far = NOW + timedelta(days=400)
    assert await queue.due("packeta", ["shop"], far, limit=10, lease=far) == []
