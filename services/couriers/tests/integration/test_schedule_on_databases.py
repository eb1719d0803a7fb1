"""The poller's schedule on SQLite and PostgreSQL: due parcels are taken most overdue first and
leased, times come back in UTC whatever the database keeps, and on PostgreSQL two replicas
taking parcels at once never take the same one."""

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from orderpulse_couriers.migrate import MIGRATIONS
from orderpulse_couriers.parcels import Followed
from orderpulse_couriers.poll_queue import SqlPollQueue
from orderpulse_couriers.polling import Next
from orderpulse_couriers.store import Effects, SqlParcelStore
from orderpulse_kit.database import connect

PRAGUE = ZoneInfo("Europe/Prague")
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=PRAGUE)
PACKETS = [
    Followed(shop_id="shop", order_id=f"o-{n}", carrier="packeta", tracking_number=f"Z{n:010}")
    for n in range(40)
]


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = connect(database_url)
    await MIGRATIONS.upgrade(engine)
    yield engine
    await engine.dispose()


async def test_due_parcels_are_taken_in_turn_and_leased(engine: AsyncEngine) -> None:
    queue = SqlPollQueue(engine)
    await SqlParcelStore(engine).apply(Effects(followed=PACKETS[:3]), NOW)
    await queue.reschedule(
        [Next(p.key, NOW + timedelta(minutes=5 - n), n) for n, p in enumerate(PACKETS[:3])]
    )
    later = NOW + timedelta(hours=1)

    taken = await queue.due("packeta", ["shop"], later, limit=2, lease=later + timedelta(hours=1))

    assert [d.parcel.tracking_number for d in taken] == ["Z0000000002", "Z0000000001"]
    assert [d.followed_at for d in taken] == [NOW, NOW]
    assert taken[0].followed_at.utcoffset() == timedelta(0)
    rest = await queue.due("packeta", ["shop"], later, limit=10, lease=later)
    assert [d.parcel.tracking_number for d in rest] == ["Z0000000000"]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # SQLite: one process
async def test_replicas_never_take_the_same_parcel(engine: AsyncEngine, database_url: str) -> None:
    await SqlParcelStore(engine).apply(Effects(followed=PACKETS), NOW)
    replicas = [connect(database_url) for _ in range(4)]
    try:
        for replica in replicas:  # connected before the race, so that they do race
            async with replica.connect() as conn:
                await conn.execute(sa.text("SELECT 1"))
        lease = NOW + timedelta(minutes=10)
        rounds = await asyncio.gather(
            *(
                SqlPollQueue(replica).due("packeta", ["shop"], NOW, limit=10, lease=lease)
                for replica in replicas
            )
        )
    finally:
        for replica in replicas:
            await replica.dispose()

    numbers = [d.parcel.tracking_number for taken in rounds for d in taken]
    assert sorted(numbers) == sorted(p.tracking_number for p in PACKETS)  # each once
